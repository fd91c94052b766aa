"""Drivers that run the user's code in child processes.

Every child gets its own process group (so interrupt/kill reach its whole
tree), the driver's StdinFeed pipe as stdin (bai_stdin: `waiting-input` when
it blocks reading it), and pipes pumped into `out` frames.
"""

import os
import signal
import subprocess
import threading
import uuid

from bai_stdin import StdinFeed

HOME = os.environ.get("HOME", "/home/work")
SCRATCH = os.path.join(HOME, ".kernel")


def _pump(pipe, run, stream):
    dec = _decoder()
    while True:
        chunk = os.read(pipe.fileno(), 65536)
        if not chunk:
            break
        run.out(stream, dec.decode(chunk))
    run.out(stream, dec.decode(b"", final=True))


def _decoder():
    import codecs
    return codecs.getincrementaldecoder("utf-8")("replace")


def _signal_group(proc, sig):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(run, cmd, cwd, holder):
    """Runs `cmd` (shell string) with bash in cwd; returns its exit code.

    holder is the driver; its `proc` attribute names the live child so that
    interrupt()/kill() can signal it, its `feed` is the child's stdin.
    """
    feed = holder.feed
    feed.drain()
    proc = subprocess.Popen(
        ["bash", "-c", cmd], cwd=cwd, stdin=feed.read_fd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    holder.proc = proc
    feed.watch(run, proc.pid)
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, run, "stdout"), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, run, "stderr"), daemon=True),
    ]
    for t in pumps:
        t.start()
    code = proc.wait()
    feed.unwatch()
    for t in pumps:
        t.join()
    proc.stdout.close()
    proc.stderr.close()
    holder.proc = None
    # A background child left in the group would keep pipes busy: reap it.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return 128 - code if code < 0 else code


class ChildDriver:
    """Shared parts: interrupt/kill of the current child, version, no-ops."""

    def __init__(self, chan, conf):
        self.chan = chan
        self.conf = conf
        self.lang = conf.get("lang", "unknown")
        self.proc = None
        self.feed = StdinFeed()

    def version(self):
        cmd = self.conf.get("versionCmd")
        if not cmd:
            return ""
        try:
            out = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=10, text=True)
            text = (out.stdout or out.stderr).strip().splitlines()
            return text[0] if text else ""
        except (OSError, subprocess.SubprocessError):
            return ""

    def interrupt(self, run):
        _signal_group(self.proc, signal.SIGINT)

    def kill(self, run):
        _signal_group(self.proc, signal.SIGKILL)

    def on_input(self, run, text):
        self.feed.write(text)

    def complete(self, code, opts):
        return []

    def flush(self, run):
        pass

    def close(self):
        self.kill(None)


class ScriptDriver(ChildDriver):
    """A fresh interpreter per cell: conf `ext` and `run` ("node {file}")."""

    def run_query(self, run, code):
        os.makedirs(SCRATCH, exist_ok=True)
        path = os.path.join(SCRATCH, "cell" + self.conf.get("ext", ""))
        with open(path, "w") as f:
            f.write(code)
        return run_child(run, self.conf["run"].replace("{file}", path), HOME, self)


class CompiledDriver(ChildDriver):
    """Compile then run a cell: conf `source`, `compile`, `run` (run in a scratch dir)."""

    def run_query(self, run, code):
        work = os.path.join(SCRATCH, "query")
        os.makedirs(work, exist_ok=True)
        with open(os.path.join(work, self.conf["source"]), "w") as f:
            f.write(code)
        rc = run_child(run, self.conf["compile"], work, self)
        if rc != 0 or run.status != "finished":
            return rc
        return run_child(run, "cd %s && %s" % (HOME, self.conf["run"].replace("{dir}", work)), work, self)


class ReplDriver(ChildDriver):
    """A persistent interpreter (bash, R, octave, node, lua, php) fed one cell per run.

    Each cell is written to a file and sourced, then a sentinel line with a
    random token and the exit status is printed on stdout and the token on
    stderr; the pumps forward everything before the tokens. An interrupt
    SIGINTs the interpreter's group; a non-interactive bash dies of it, so the
    REPL restarts (its state is lost) and the run ends `interrupted`.

    With conf `cmdPipe`, the cell lines go to a separate pipe whose fd number
    replaces `{cmdfd}` in argv (and is in $BAI_CMD_FD), so the interpreter's
    stdin is the StdinFeed and user code can read input lines. Without it
    the cell lines are the interpreter's stdin (no input).
    """

    def __init__(self, chan, conf):
        super().__init__(chan, conf)
        self.token = "__BAI_%s__" % uuid.uuid4().hex
        self.run = None
        self.cmd = None
        self.ended = None
        self.rc = 0

    def _start(self):
        argv = self.conf.get("argv", ["bash", "--norc", "--noprofile"])
        if self.cmd is not None and self.conf.get("cmdPipe"):
            self.cmd.close()  # the previous (dead) interpreter's pipe
        self.cmd = None
        if self.conf.get("cmdPipe"):
            r, w = os.pipe()
            env = dict(os.environ, BAI_CMD_FD=str(r))
            try:
                self.proc = subprocess.Popen(
                    [a.replace("{cmdfd}", str(r)) for a in argv], cwd=HOME, env=env,
                    stdin=self.feed.read_fd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    pass_fds=(r,), start_new_session=True,
                )
            finally:
                os.close(r)
            self.cmd = os.fdopen(w, "wb", buffering=0)
        else:
            self.proc = subprocess.Popen(
                argv, cwd=HOME,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True,
            )
            self.cmd = self.proc.stdin
        self.ended = {"stdout": threading.Event(), "stderr": threading.Event()}
        self.eof = False
        for stream, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            threading.Thread(target=self._pump, args=(pipe, stream, self.ended[stream]), daemon=True).start()

    def _pump(self, pipe, stream, ended):
        token = self.token.encode()
        buf = b""
        dec = _decoder()
        while True:
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                if buf and self.run:
                    self.run.out(stream, dec.decode(buf, final=True))
                self.eof = True  # the interpreter is gone (or going): see run_query
                ended.set()
                return
            buf += chunk
            while True:
                i = buf.find(token)
                if i < 0:
                    break
                head, rest = buf[:i], buf[i + len(token):]
                if stream == "stdout":
                    nl = rest.find(b"\n")
                    if nl < 0:
                        break  # wait for the status digits
                    try:
                        self.rc = int(rest[:nl].strip() or b"0")
                    except ValueError:
                        self.rc = 1
                    rest = rest[nl + 1:]
                if self.run:
                    self.run.out(stream, dec.decode(head))
                buf = rest
                ended.set()
            # Hold back only a suffix that could be the start of the token.
            keep = 0
            for k in range(min(len(token) - 1, len(buf)), 0, -1):
                if token.startswith(buf[-k:]):
                    keep = k
                    break
            if token not in buf and len(buf) > keep:
                if self.run:
                    self.run.out(stream, dec.decode(buf[: len(buf) - keep]))
                buf = buf[len(buf) - keep:]

    def run_query(self, run, code):
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        os.makedirs("/tmp", exist_ok=True)
        cell = "/tmp/.bai-cell-%d" % os.getpid()
        with open(cell, "w") as f:
            f.write(code if code.endswith("\n") else code + "\n")
        for e in self.ended.values():
            e.clear()
        self.run = run
        tmpl = self.conf.get("cell", 'source {file}; printf "%s%d\\n" {token} $?; printf {token} >&2\n')
        self.feed.drain()
        if self.conf.get("cmdPipe"):
            self.feed.watch(run, self.proc.pid)
        try:
            self.cmd.write(tmpl.replace("{file}", cell).replace("{token}", self.token).encode())
            self.cmd.flush()
        except BrokenPipeError:
            pass
        self.ended["stdout"].wait()
        self.ended["stderr"].wait()
        self.feed.unwatch()
        self.run = None
        # The cell ended the interpreter (exit / signal). Its pipes close a
        # moment before its exit status can be read, so EOF means wait for it.
        if self.eof or self.proc.poll() is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                # A pipe closed by the cell (exec >&-), the interpreter still
                # up: it cannot answer cells any more, so it is replaced.
                _signal_group(self.proc, signal.SIGKILL)
                code = self.proc.wait()
            self.proc = None
            if run.status == "interrupted" or run.status == "exec-timeout":
                run.out("stderr", "[kernel state was reset by the interrupt]\n")
            return 128 - code if code < 0 else code
        return self.rc

    def close(self):
        if self.proc is not None:
            _signal_group(self.proc, signal.SIGKILL)
