#!/usr/bin/env python3
"""Kernel runner: the one long-lived process per container (images/PROTOCOL.md).

Why Python stdlib only: python3 is in the shared base image, so every kernel
image gets the same runner without extra packages. The language-specific part
is a *driver* chosen by /opt/kernel/driver.json (written at image build time
from the recipe):

* ``python``   - in-process persistent namespace (this interpreter).
* ``repl``     - a persistent interpreter child (bash, R, octave, node, lua,
                 php) fed one cell at a time, with a sentinel line carrying
                 the exit code.
* ``script``   - a fresh interpreter per cell (no state kept).
* ``compiled`` - write the cell to a source file, compile, run.

Batch mode (clean/build/exec shell commands) is shared by all drivers.
"""

import base64
import errno
import json
import os
import queue
import signal
import struct
import sys
import threading

_here = os.path.dirname(os.path.abspath(__file__))
# Installed as /opt/kernel/runner with its modules in /opt/kernel/lib.
sys.path[:0] = [os.path.join(_here, "lib"), _here]

from bai_io import Channel, Run  # noqa: E402
import bai_apps  # noqa: E402
import bai_batch  # noqa: E402
import bai_chan  # noqa: E402
import bai_files  # noqa: E402
import bai_guard  # noqa: E402
import bai_lane  # noqa: E402

HOME = os.environ.get("HOME", "/home/work")
DRIVER_CONF = os.environ.get("BAI_DRIVER_CONF", "/opt/kernel/driver.json")


def load_driver(chan):
    try:
        with open(DRIVER_CONF) as f:
            conf = json.load(f)
    except FileNotFoundError:
        conf = {"kind": "python", "lang": "python"}
    kind = conf.get("kind", "python")
    if kind == "python":
        import bai_python
        return bai_python.PythonDriver(chan, conf)
    import bai_proc
    if kind == "repl":
        return bai_proc.ReplDriver(chan, conf)
    if kind == "script":
        return bai_proc.ScriptDriver(chan, conf)
    if kind == "compiled":
        return bai_proc.CompiledDriver(chan, conf)
    raise SystemExit("unknown driver kind: %r" % kind)


class _AfterToken:
    """The runner's stdin from just past `token`: what a previous session
    left in the pipe before it (even half a frame) is skipped (bai_init.py)."""

    def __init__(self, raw, token):
        self._raw = raw
        buf = b""
        while True:
            chunk = raw.read(65536)
            if not chunk:
                raise EOFError
            buf += chunk
            at = buf.find(token)
            if at >= 0:
                self._rest = buf[at + len(token):]
                return
            buf = buf[-(len(token) - 1):]

    def read(self, n):
        if self._rest:
            out, self._rest = self._rest[:n], self._rest[n:]
            return out
        return self._raw.read(n)


def preload():
    """Imports what a runner needs, in pid 1 before it forks one (shared pages, a fast start)."""
    try:
        with open(DRIVER_CONF) as f:
            kind = json.load(f).get("kind", "python")
    except (OSError, ValueError):
        kind = "python"
    if kind == "python":
        import bai_python  # noqa: F401
    else:
        import bai_proc  # noqa: F401


def main(token=None, supervised=False):
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # First, before any thread or child: nothing the runner starts may trace
    # the container's pid 1 (bai_guard.py).
    guard_failed = bai_guard.install()
    # Keep the protocol channel on private fds; user code and its children
    # see /dev/null as stdin and pipes (forwarded as `out`) as stdout/stderr.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    diag = os.fdopen(os.dup(2), "w", buffering=1)
    if guard_failed:
        diag.write("runner: no ptrace guard: %s\n" % guard_failed)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        os.chdir(HOME)
    except OSError:
        pass

    # The protocol on the agent's socket when it offers one (bai_lane.py),
    # with stdio to fall back on.
    lane_fd = bai_lane.connect()
    if lane_fd is None:
        chan = Channel(proto_out, diag)
    else:
        chan = Channel(os.fdopen(os.dup(lane_fd), "wb", buffering=0), diag, fallback=proto_out)
        proto_in = bai_lane.Lane(lane_fd, proto_in, chan)
    if token is not None:
        # A reset container: our token first, so the agent skips whatever a
        # previous runner wrote before it; then input from the agent's token.
        chan.write_raw(token)
        try:
            proto_in = _AfterToken(proto_in, token)
        except (EOFError, bai_lane.Switched):
            return
    driver = load_driver(chan)
    try:
        apps = bai_apps.load()
    except ValueError as e:  # a malformed label: no apps, but the kernel works
        diag.write("runner: %s\n" % e)
        apps = None
    channels = bai_chan.Channels(chan, apps)
    jobs = queue.Queue()
    state = {"run": None}
    lock = threading.Lock()

    def reader():
        try:
            while True:
                try:
                    msg = read_frame()
                except bai_lane.Switched:
                    continue  # now on stdin, at a frame's start
                if msg is None:
                    break
                if msg is not False:
                    handle(msg)
        except EOFError:
            pass
        except Exception as e:  # pragma: no cover - diagnostics only
            diag.write("runner: reader failed: %r\n" % e)
        jobs.put(None)

    def read_frame():
        """The next frame's message; None at EOF, False for a bad frame (skipped)."""
        head = proto_in.read(4)
        if not head:
            return None
        while len(head) < 4:
            more = proto_in.read(4 - len(head))
            if not more:
                raise EOFError
            head += more
        (n,) = struct.unpack(">I", head)
        if n > 16 * 1024 * 1024:
            diag.write("runner: frame of %d bytes exceeds 16 MiB\n" % n)
            os._exit(2)
        body = b""
        while len(body) < n:
            chunk = proto_in.read(n - len(body))
            if not chunk:
                raise EOFError
            body += chunk
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError as e:
            diag.write("runner: bad frame: %s\n" % e)
            return False

    def handle(msg):
        op = msg.get("op")
        mid = msg.get("id", "")
        try:
            if op == "exec":
                jobs.put(msg)
            elif op == "input":
                with lock:
                    run = state["run"]
                if run is not None:
                    run.inputs.put(msg.get("text", ""))
                    (run.holder or driver).on_input(run, msg.get("text", ""))
            elif op == "interrupt":
                with lock:
                    run = state["run"]
                if run is not None:
                    run.cancel("interrupted", driver)
            elif op == "ping":
                chan.send({"ev": "ok", "id": mid})
            elif op == "env":
                # A warm-pool container taken by a session gets the
                # session's environment here, before its first run.
                env = msg.get("env") or {}
                if not isinstance(env, dict) or not all(
                        isinstance(k, str) and k and isinstance(v, str) for k, v in env.items()):
                    raise ValueError("env: an object of strings expected")
                for k, v in env.items():
                    os.environ[k] = v
                chan.send({"ev": "ok", "id": mid})
            elif op == "complete":
                items = driver.complete(msg.get("code", ""), msg.get("opts") or {})
                chan.send({"ev": "completions", "id": mid, "items": items})
            elif op in ("chan.data", "chan.credit", "chan.eof", "chan.resize", "chan.close"):
                channels.op(msg)
            elif op == "chan.open":
                channels.open(msg)
            elif op == "apps":
                chan.send({"ev": "apps", "id": mid, "items": apps.list() if apps else []})
            elif op == "put":
                bai_files.put(HOME, msg["path"], base64.b64decode(msg.get("data", "")), msg.get("mode"), msg.get("offset"))
                chan.send({"ev": "ok", "id": mid})
            elif op == "get":
                data, size = bai_files.get(HOME, msg["path"], msg.get("offset"), msg.get("length"))
                offset = int(msg.get("offset") or 0)
                chan.send({
                    "ev": "file", "id": mid, "data": base64.b64encode(data).decode("ascii"),
                    "offset": offset, "size": size, "eof": offset + len(data) >= size,
                })
            elif op == "list":
                chan.send({"ev": "entries", "id": mid, "items": bai_files.listdir(HOME, msg.get("path", "."))})
            else:
                chan.send({"ev": "error", "id": mid, "msg": "unknown op: %r" % op})
        except (OSError, ValueError, KeyError, TypeError, bai_chan.ChannelError) as e:
            frame = {"ev": "error", "id": mid, "msg": str(e)}
            # The agent tells a full disk (ENOSPC, EDQUOT) from a bad request.
            if isinstance(e, OSError) and e.errno in errno.errorcode:
                frame["errno"] = errno.errorcode[e.errno]
            chan.send(frame)

    ready = {"ev": "ready", "lang": driver.lang, "version": driver.version(), "modes": ["query", "batch"]}
    if supervised:
        ready["resettable"] = True
    chan.send(ready)
    threading.Thread(target=reader, name="bai-reader", daemon=True).start()

    while True:
        msg = jobs.get()
        if msg is None:
            break
        opts = msg.get("opts") or {}
        # The run's W3C trace context (the agent's span of this run): user
        # code that is instrumented joins the caller's trace. Set for every
        # run, so a run without one never sees the previous run's.
        tp = opts.get("traceparent")
        if isinstance(tp, str) and len(tp) == 55:
            os.environ["TRACEPARENT"] = tp
        else:
            os.environ.pop("TRACEPARENT", None)
        run = Run(chan, msg.get("id", ""), opts)
        with lock:
            state["run"] = run
        try:
            run.start_timer(driver)
            if msg.get("mode") == "batch":
                code = bai_batch.run_batch(run, opts, HOME, driver.conf)
            else:
                code = driver.run_query(run, msg.get("code", ""))
        except KeyboardInterrupt:
            code = 130
        except Exception as e:  # a driver bug must not kill the kernel
            run.out("stderr", "runner: %r\n" % e)
            code = 1
        finally:
            run.stop_timer()
            with lock:
                state["run"] = None
        try:
            driver.flush(run)
        except KeyboardInterrupt:
            pass
        chan.send({"ev": "done", "id": run.id, "status": run.status, "exitCode": run.final_code(code)})
    channels.close_all("runner stopped")
    if apps is not None:
        apps.stop_all()
    driver.close()


if __name__ == "__main__":
    if os.getpid() == 1:
        # The container's init (no --init): reaps, resets between sessions.
        import bai_init
        preload()
        bai_init.main(lambda token: main(token, supervised=True))
    else:
        main()
