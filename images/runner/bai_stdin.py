"""Standard input for child processes, and noticing when they wait on it.

Why /proc polling: a child reading a pipe gives no signal to the writer.
Linux does show what a process is blocked in (/proc/PID/syscall: syscall
number and arguments), so a watcher thread looks, every 50 ms, for a process
of the run's process group blocked in read() on our pipe while the pipe is
empty; that is the moment to send `waiting-input`. The line the agent
answers is written to the pipe with a newline. This covers any program that
does a blocking read of fd 0 (bash `read`, C scanf/fgets, Lua io.read, PHP
fgets(STDIN), a python3 child's input()); programs that poll stdin through
epoll (Node's process.stdin) are not seen.
"""

import fcntl
import os
import platform
import struct
import termios
import threading

# read, pread64, readv, preadv per architecture (x86_64 / aarch64).
_READS = {
    "x86_64": {0, 17, 19, 295},
    "aarch64": {63, 67, 65, 69},
}.get(platform.machine(), {0, 17, 19, 295})
_POLL_S = 0.05


def _pgrp_members(pgid):
    """The pids whose process group is pgid."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[2]) == pgid:
                pids.append(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _blocked_read_fd(pid):
    """The fd pid is blocked reading, or None."""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            parts = f.read().split()
        if len(parts) < 2 or not parts[0].isdigit() or int(parts[0]) not in _READS:
            return None
        return int(parts[1], 16)
    except (OSError, ValueError):
        return None


class StdinFeed:
    """A pipe given to children as stdin; the runner writes input lines to it."""

    def __init__(self):
        self.read_fd, self.write_fd = os.pipe()
        os.set_inheritable(self.read_fd, False)
        os.set_inheritable(self.write_fd, False)
        self.link = os.readlink("/proc/self/fd/%d" % self.read_fd)
        self._waiting = False
        self._stop = None

    def pending(self):
        """Bytes written but not read yet."""
        buf = fcntl.ioctl(self.write_fd, termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]

    def drain(self):
        """Drops input a previous run left unread."""
        os.set_blocking(self.read_fd, False)
        try:
            while os.read(self.read_fd, 65536):
                pass
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(self.read_fd, True)

    def write(self, text):
        self._waiting = False
        try:
            os.write(self.write_fd, (text + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    def _reading(self, pgid):
        for pid in _pgrp_members(pgid):
            fd = _blocked_read_fd(pid)
            if fd is None:
                continue
            try:
                if os.readlink("/proc/%d/fd/%d" % (pid, fd)) == self.link:
                    return True
            except OSError:
                continue
        return False

    def watch(self, run, pgid):
        """Starts watching process group pgid for run; stop with unwatch()."""
        self.unwatch()
        self._waiting = False
        stop = self._stop = threading.Event()

        def loop():
            # Two sightings in a row: the output pumps get a poll period to
            # forward what the program printed before it blocked (its prompt).
            seen = 0
            while not stop.wait(_POLL_S):
                if self._waiting or run.status != "finished":
                    seen = 0
                    continue
                if self._reading(pgid) and self.pending() == 0:
                    seen += 1
                else:
                    seen = 0
                if seen >= 2:
                    seen = 0
                    self._waiting = True
                    run.send({"ev": "waiting-input", "prompt": "", "password": False})

        threading.Thread(target=loop, name="bai-stdin", daemon=True).start()

    def unwatch(self):
        if self._stop is not None:
            self._stop.set()
            self._stop = None
