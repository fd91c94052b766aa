"""PTY channels: a real pseudo-terminal running the image's shell.

The shell (bash where present, else sh) runs as the kernel's user, in the
work dir, with the kernel's environment, as the leader of its own session
with the pty as its controlling terminal (`setsid --ctty`), so the line
discipline does what a terminal does: Ctrl-C (0x03) sends SIGINT to the
foreground process group, a resize sends SIGWINCH, closing the master hangs
the session up (SIGHUP). The channel closes when the shell exits (its exit
code in `chan.closed`) or when the agent closes it (the shell's session is
hung up, then killed after a grace period).
"""

import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import termios
import threading

import bai_chan

HOME = os.environ.get("HOME", "/home/work")
HANGUP_GRACE_S = 2.0
# After the shell exits, background jobs that still hold the terminal get
# this long before the channel closes anyway.
DRAIN_S = 1.0
# Runner-private variables a terminal does not inherit.
_PRIVATE_ENV = ("BAI_DRIVER_CONF", "BAI_CMD_FD", "PYTHONUNBUFFERED", "MPLBACKEND")


def default_shell():
    for sh in ("/bin/bash", "/usr/bin/bash", "/bin/sh"):
        if os.path.exists(sh):
            return sh
    return "/bin/sh"


def _winsize(fd, rows, cols):
    rows = max(1, min(int(rows), 1000))
    cols = max(1, min(int(cols), 1000))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def child_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENV}
    env.setdefault("HOME", HOME)
    env["TERM"] = "xterm-256color"
    for k, v in (extra or {}).items():
        if isinstance(k, str) and isinstance(v, str) and "=" not in k and "\0" not in k + v:
            env[k] = v
    return env


class PtyChan(bai_chan.Chan):
    kind = "pty"

    def __init__(self, registry, cid, window, msg, argv=None):
        super().__init__(registry, cid, window)
        shell = default_shell()
        argv = argv or [shell, "-i"]
        env = child_env(msg.get("env") if isinstance(msg.get("env"), dict) else None)
        env["SHELL"] = shell
        self.master, slave = os.openpty()
        try:
            _winsize(self.master, msg.get("rows") or 24, msg.get("cols") or 80)
            setsid = shutil.which("setsid")
            # setsid --ctty: a new session whose controlling terminal is the pty
            # (job control, Ctrl-C). Without util-linux, a session without one.
            cmd = [setsid, "--ctty"] + argv if setsid else argv
            self.proc = subprocess.Popen(
                cmd, stdin=slave, stdout=slave, stderr=slave, cwd=HOME, env=env,
                close_fds=True, start_new_session=not setsid,
            )
        except OSError as e:
            os.close(self.master)
            raise bai_chan.ChannelError("cannot start a terminal: %s" % e)
        finally:
            os.close(slave)
        os.set_blocking(self.master, False)
        self._fd_lock = threading.Lock()
        self._exit = None
        threading.Thread(target=self._wait, daemon=True).start()

    def _wait(self):
        code = self.proc.wait()
        self._exit = 128 - code if code < 0 else code
        # The reader sees EIO once nothing holds the terminal; background
        # jobs may keep it open, so close after a short drain regardless.
        threading.Timer(DRAIN_S, self.close, ("shell exited", self._exit)).start()

    # The master is non-blocking and every syscall on it happens under a lock
    # that end() takes to close it: a reader or writer can then never touch
    # a reused fd number, and neither blocks end() for long.
    def read(self, n):
        while True:
            if self._closed:
                return b""
            ready, _, _ = select.select([self.master], [], [], 0.25)
            if not ready:
                continue
            with self._fd_lock:
                if self._closed:
                    return b""
                try:
                    return os.read(self.master, n)
                except BlockingIOError:
                    continue
                except OSError:  # EIO: the last holder of the terminal closed it
                    return b""

    def write(self, data):
        view = memoryview(data)
        while view:
            if self._closed:
                raise OSError("terminal closed")
            _, ready, _ = select.select([], [self.master], [], 0.25)
            if not ready:
                continue
            with self._fd_lock:
                if self._closed:
                    raise OSError("terminal closed")
                try:
                    view = view[os.write(self.master, view):]
                except BlockingIOError:
                    continue

    def shutdown_write(self):
        pass  # a terminal has no half-close; the shell reads ^D as EOF

    def resize(self, rows, cols):
        try:
            _winsize(self.master, rows, cols)  # the kernel sends SIGWINCH
        except OSError:
            pass

    def on_read_eof(self):
        # Wait for the shell's exit code (it is gone or going: EIO).
        try:
            code = self.proc.wait(timeout=DRAIN_S)
            self.close("shell exited", 128 - code if code < 0 else code)
        except subprocess.TimeoutExpired:
            self.close("terminal hung up")

    def end(self):
        with self._fd_lock:
            try:
                os.close(self.master)  # hangs up the session: SIGHUP
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGHUP)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=HANGUP_GRACE_S)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.proc.wait()
        code = self.proc.returncode
        return None if code is None else (128 - code if code < 0 else code)
