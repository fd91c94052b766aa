"""The runner protocol on the agent's unix socket (PROTOCOL.md "Lane").

Why: frames on the container's stdio are copied by dockerd and the
container's shim, both ways; on a socket of the kernel's own they go from
the runner to the agent directly (about a quarter of a query's CPU less).
The agent mounts the socket's dir read-only and names the socket in
BAI_LANE. The runner connects before it writes anything, so the agent
knows which way the protocol runs; without the variable, or when the
connect fails, the protocol stays on stdio.

When the socket ends (the agent restarted: a new one re-attaches to the
stdio, as it does for every kernel it adopts), the runner goes back to its
stdio: `Lane.read` then reads stdin and the channel writes stdout.
"""

import os
import socket


def connect(path=None):
    """A connected socket's fd, or None (no lane, or it refused)."""
    path = path or os.environ.get("BAI_LANE")
    if not path:
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None
    return s.detach()


class Switched(Exception):
    """The socket ended: the next frame starts on stdin (a frame it cut is lost with it)."""


class Lane:
    """The protocol's input: the socket while it lasts, then stdin.

    `chan` (bai_io.Channel) writes to the socket with stdout as its
    fallback; both switch together."""

    def __init__(self, fd, stdin, chan):
        self._sock = os.fdopen(fd, "rb", buffering=0)
        self._stdin = stdin
        self._chan = chan
        self.on_socket = True

    def read(self, n):
        if not self.on_socket:
            return self._stdin.read(n)
        try:
            data = self._sock.read(n)
        except OSError:
            data = b""
        if data:
            return data
        self.on_socket = False
        self._chan.fall_back()
        try:
            self._sock.close()
        except OSError:
            pass
        raise Switched()
