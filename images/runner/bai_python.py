"""Python query mode: a persistent namespace in the runner's own process.

Why in-process, user code on the main thread: Python delivers SIGINT as
KeyboardInterrupt to the main thread even inside `while True: pass` or
time.sleep(), so an interrupt stops the cell and the namespace survives.
The reader thread keeps answering frames meanwhile.

fds 1 and 2 are pipes pumped into `out` frames, so output of C extensions
and subprocesses (os.system) reaches the run instead of the protocol.
"""

import ast
import builtins
import codecs
import getpass
import io
import linecache
import os
import queue
import select
import signal
import sys
import threading
import traceback

os.environ.setdefault("MPLBACKEND", "Agg")


class _Lines:
    """Output of a run's sys.stdout/sys.stderr, sent a line at a time.

    `print(x)` writes `x` and then the newline: unbuffered, that was two
    `out` frames (and two messages through agent and manager) per print.
    Text waits here until a newline, 8 KiB, the other stream writing (the
    order of the two streams is kept), a flush, input() or the run's end.
    """

    LIMIT = 8192

    def __init__(self, driver):
        self._driver = driver
        self._stream = None
        self._parts = []
        self._size = 0
        self._lock = threading.Lock()

    def write(self, stream, s):
        with self._lock:
            if self._stream is not None and stream != self._stream:
                self._send()
            self._stream = stream
            self._parts.append(s)
            self._size += len(s)
            if "\n" in s or self._size >= self.LIMIT:
                self._send()

    def flush(self):
        with self._lock:
            self._send()

    def _send(self):
        if self._parts:
            run = self._driver.current
            if run is not None:
                run.out(self._stream, "".join(self._parts))
        self._parts = []
        self._size = 0
        self._stream = None


class _Proxy(io.TextIOBase):
    """sys.stdout/sys.stderr during a run: writes become `out` frames (a line at a time)."""

    def __init__(self, driver, stream):
        self._driver = driver
        self._stream = stream

    def writable(self):
        return True

    def write(self, s):
        if self._driver.current is not None and s:
            self._driver.lines.write(self._stream, s)
        return len(s)

    def flush(self):
        self._driver.lines.flush()

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"


class _FdPump:
    """Forwards what lands on a raw fd (1 or 2) to the current run.

    The pipe's read end is non-blocking and read under a lock, by the pump
    thread when poll() says there is data, and by drain() at the end of a
    run: drain() takes what is there itself instead of waking the thread
    and waiting for it (two thread handoffs per pump and run, the larger
    part of a `print(1)` run's cost here).
    """

    def __init__(self, driver, fd, stream):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        os.set_blocking(r, False)
        self._r = r
        self._driver = driver
        self._stream = stream
        self._lock = threading.Lock()
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        poller = select.poll()
        poller.register(self._r, select.POLLIN)
        while True:
            poller.poll()
            with self._lock:
                if not self._take():
                    return

    def _take(self):
        """Emits what the pipe holds now (the lock is held); False at EOF."""
        while True:
            try:
                chunk = os.read(self._r, 65536)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self._emit(self._dec.decode(chunk))

    def _emit(self, text):
        run = self._driver.current
        if run is not None and text:
            run.out(self._stream, text)

    def drain(self):
        """Forwards everything written to the fd so far."""
        with self._lock:
            self._take()


_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))


def _runner_frame(filename):
    """A frame of the runner itself (its modules), not of the user's code."""
    return os.path.dirname(os.path.abspath(filename)) in (_RUNNER_DIR, os.path.dirname(_RUNNER_DIR)) \
        and os.path.basename(filename).startswith(("bai_", "runner"))


def _drop_runner_frames(te, seen):
    """Removes the runner's frames from a TracebackException and its chain.

    A user's traceback then reads like `python3 -c`'s: only cell frames and
    the library frames the cell called into (``input()`` is the runner's own
    function, so its frames go too).
    """
    if id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if not _runner_frame(f.filename)])
    for nxt in (te.__cause__, te.__context__):
        if nxt is not None:
            _drop_runner_frames(nxt, seen)
    for sub in getattr(te, "exceptions", None) or []:
        _drop_runner_frames(sub, seen)


class PythonDriver:
    lang = "python"

    def __init__(self, chan, conf):
        self.chan = chan
        self.conf = conf
        self.current = None
        self.active = False
        self.cells = 0
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        # As in `python3 -c`: modules in the work dir (the cwd) import, so an
        # uploaded helper.py is importable from query cells.
        if "" not in sys.path:
            sys.path.insert(0, "")
        self.main_ident = threading.main_thread().ident
        self.lines = _Lines(self)
        self.pumps = [_FdPump(self, 1, "stdout"), _FdPump(self, 2, "stderr")]
        sys.stdout = _Proxy(self, "stdout")
        sys.stderr = _Proxy(self, "stderr")
        sys.stdin = open(os.devnull)
        builtins.input = self._input
        getpass.getpass = lambda prompt="Password: ", stream=None: self._input(prompt, True)
        signal.signal(signal.SIGINT, self._on_sigint)
        # Warm the cell path once (parse, compile, eval of an expression):
        # a fresh kernel's first run would pay it, and a warm-pool kernel's
        # first run is its session's first query. Leaves no trace.
        eval(compile(ast.Expression(ast.parse("1", mode="eval").body), "<warm-up>", "eval"), {})

    def version(self):
        return sys.version.split()[0]

    # -- interrupt ---------------------------------------------------------
    def _on_sigint(self, signum, frame):
        if self.active:
            raise KeyboardInterrupt

    def interrupt(self, run):
        # pthread_kill, not kill: a process-directed signal may land on the
        # reader thread and would not wake the main thread from a blocking
        # call such as time.sleep().
        if self.active:
            signal.pthread_kill(self.main_ident, signal.SIGINT)

    def kill(self, run):
        # Cannot kill ourselves; keep interrupting (covers code that swallows one).
        self.interrupt(run)

    # -- input -------------------------------------------------------------
    def _input(self, prompt="", password=False):
        run = self.current
        if run is None:
            raise EOFError("no input available")
        self.lines.flush()
        for p in self.pumps:
            p.drain()
        run.send({"ev": "waiting-input", "prompt": str(prompt), "password": bool(password)})
        while True:
            try:
                return run.inputs.get(timeout=0.5)
            except queue.Empty:
                continue

    def on_input(self, run, text):
        pass

    # -- run ---------------------------------------------------------------
    def run_query(self, run, code):
        self.cells += 1
        name = "<cell-%d>" % self.cells
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        self.current = run
        pid = os.getpid()
        try:
            return self._run_cell(run, code, name)
        finally:
            # A cell that forked (os.fork, multiprocessing with fork) must not
            # let the child fall back into the runner's loop and read frames.
            if os.getpid() != pid:
                os._exit(0)

    def _run_cell(self, run, code, name):
        try:
            try:
                tree = ast.parse(code, name, "exec")
                last = None
                if tree.body and isinstance(tree.body[-1], ast.Expr):
                    last = ast.Expression(tree.body.pop().value)
                body = compile(tree, name, "exec")
                tail = compile(last, name, "eval") if last is not None else None
            except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
                # Compiling failed: nothing of the user's ran, so no frames
                # at all (`python3 -c` shows only the caret and the message).
                self._print_exc(frames=False)
                return 1
            self.active = True
            try:
                exec(body, self.ns)
                if tail is not None:
                    value = eval(tail, self.ns)
                    if value is not None:
                        self.ns["_"] = value
                        # What the cell wrote (print, fd 1: os.system, C
                        # code) comes before the value it ends with.
                        self.lines.flush()
                        for p in self.pumps:
                            p.drain()
                        run.out("stdout", repr(value) + "\n")
            finally:
                self.active = False
            return 0
        except SystemExit as e:
            self.active = False
            if e.code is None or isinstance(e.code, int):
                return int(e.code or 0)
            self.lines.flush()
            run.out("stderr", str(e.code) + "\n")
            return 1
        except KeyboardInterrupt:
            self.active = False
            self.lines.flush()
            run.out("stderr", "KeyboardInterrupt\n")
            return 130
        except BaseException:
            self.active = False
            self._print_exc()
            return 1

    def _print_exc(self, frames=True):
        """The current exception as plain Python shows it, minus the runner's frames."""
        etype, value, tb = sys.exc_info()
        if frames:
            te = traceback.TracebackException(etype, value, tb, compact=True)
            _drop_runner_frames(te, set())
            text = "".join(te.format())
        else:
            text = "".join(traceback.format_exception_only(etype, value))
        if self.current is not None:
            self.lines.flush()
            self.current.out("stderr", text)

    def flush(self, run):
        try:
            sys.stdout.flush()
            for p in self.pumps:
                p.drain()
            self._figures(run)
        finally:
            self.current = None

    def _figures(self, run):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        import base64
        for num in plt.get_fignums():
            buf = io.BytesIO()
            plt.figure(num).savefig(buf, format="png")
            run.media("image/png", base64.b64encode(buf.getvalue()).decode())
        plt.close("all")

    def complete(self, code, opts):
        import re
        import rlcompleter
        m = re.search(r"[\w.]*$", code)
        text = m.group(0) if m else ""
        comp = rlcompleter.Completer(self.ns)
        items = []
        for i in range(200):
            try:
                c = comp.complete(text, i)
            except Exception:
                break
            if c is None:
                break
            c = c.rstrip(" ")
            if c not in items:
                items.append(c)
        return items

    def close(self):
        pass
