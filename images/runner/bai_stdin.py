"""Standard input for child processes, and noticing when they wait on it.

Why /proc polling: a child reading a pipe gives no signal to the writer.
Linux does show what a process is blocked in (/proc/PID/syscall: syscall
number and arguments), so a watcher thread looks, every 50 ms, for a thread
of a process of the run's process group blocked in read() on our pipe while the pipe is
empty; that is the moment to send `waiting-input`. The line the agent
answers is written to the pipe with a newline. This covers any program that
does a blocking read of fd 0 (bash `read`, C scanf/fgets, Lua io.read, PHP
fgets(STDIN), a python3 child's input(), Java's System.in on its main
thread) or waits for it to be readable in poll()/epoll_wait() while idle
(GHC's threaded runtime, Node's process.stdin).
"""

import fcntl
import os
import platform
import struct
import termios
import threading

# Syscall numbers per architecture (x86_64 / aarch64): read, pread64, readv,
# preadv; poll, ppoll; epoll_wait, epoll_pwait, epoll_pwait2.
_ARCH = platform.machine()
_READS = {"aarch64": {63, 67, 65, 69}}.get(_ARCH, {0, 17, 19, 295})
_POLLS = {"aarch64": {73}}.get(_ARCH, {7, 271})
_EPOLLS = {"aarch64": {22, 441}}.get(_ARCH, {232, 281, 441})
_POLLIN = 0x1
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


def _polled_fds(pid, ptr, n):
    """The fds a poll() at address ptr (n entries) waits to read."""
    if n <= 0 or n > 256:
        return []
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(ptr)
        raw = f.read(8 * n)
    out = []
    for i in range(len(raw) // 8):
        fd, events, _ = struct.unpack_from("ihh", raw, 8 * i)
        if fd >= 0 and events & _POLLIN:
            out.append(fd)
    return out


def _epoll_fds(pid, epfd):
    """The fds registered for reading in epoll instance epfd of pid."""
    out = []
    with open("/proc/%d/fdinfo/%d" % (pid, epfd)) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "tfd:" and parts[2] == "events:":
                if int(parts[3], 16) & _POLLIN:
                    out.append(int(parts[1]))
    return out


def _blocked_read_fds(pid):
    """The fds that threads of pid are blocked reading (or waiting to read).

    Every thread counts: the JVM and Go read stdin on a thread other than the
    process's first one (whose /proc/PID/syscall shows only that thread).
    Besides plain read()s, a thread blocked in poll()/ppoll() (fds read from
    /proc/PID/mem) or epoll_wait() (fds from /proc/PID/fdinfo) counts for the
    fds it waits on: GHC's threaded runtime waits for stdin that way.
    """
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return []
    fds = []
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                parts = f.read().split()
            if len(parts) < 3 or not parts[0].isdigit():
                continue
            nr = int(parts[0])
            if nr in _READS:
                fds.append(int(parts[1], 16))
            elif nr in _POLLS:
                fds.extend(_polled_fds(pid, int(parts[1], 16), int(parts[2], 16)))
            elif nr in _EPOLLS:
                fds.extend(_epoll_fds(pid, int(parts[1], 16)))
        except (OSError, ValueError, OverflowError, struct.error):
            continue
    return fds


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
            for fd in _blocked_read_fds(pid):
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
