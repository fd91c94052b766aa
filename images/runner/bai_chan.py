"""Byte channels multiplexed over the runner connection (PROTOCOL.md "Channels").

The kernel has no network, so a terminal or a service port is reached
through the one connection the agent already has: frames carrying a
channel id. Each channel is a byte stream to something inside the container
(a pseudo-terminal, a TCP port on 127.0.0.1) pumped by two threads:

* the *reader* sends what the inside writes as `chan.data` (base64), never
  more than the agent's credit: it starts at the `window` given at open
  and grows by each `chan.credit` the agent sends as its consumer drains;
  with no credit left the reader stops reading, so a fast producer blocks
  on its own pipe instead of growing memory;
* the *writer* drains what the agent sent (`chan.data` ops, queued by the
  frame reader, which must never block) into the inside and hands the
  bytes back as `chan.credit` events. The agent may have at most IN_WINDOW
  bytes in flight; more is a protocol violation that closes the channel.

Every channel ends with exactly one `chan.closed` (reason, exit code).
"""

import base64
import queue
import socket
import threading

IN_WINDOW = 256 * 1024  # bytes the agent may send before credit comes back
DEFAULT_WINDOW = 256 * 1024  # output credit when `chan.open` gives none
MAX_WINDOW = 16 * 1024 * 1024
READ_MAX = 64 * 1024  # raw bytes per `chan.data`
MAX_CHANNELS = 32
_EOF = object()


class ChannelError(Exception):
    """A channel could not be opened or used (answered as `error`)."""


class Chan:
    """One channel; subclasses provide read/write/shutdown_write/end."""

    kind = "chan"

    def __init__(self, registry, cid, window):
        self.reg = registry
        self.id = cid
        self._credit = max(0, min(int(window or DEFAULT_WINDOW), MAX_WINDOW))
        self._cond = threading.Condition()
        self._inq = queue.Queue()
        self._in_flight = 0
        self._closed = False
        self._read_done = False
        self._write_done = False

    # -- lifecycle ------------------------------------------------------------
    def start(self):
        threading.Thread(target=self._reader, name="chan-r-" + self.id, daemon=True).start()
        threading.Thread(target=self._writer, name="chan-w-" + self.id, daemon=True).start()

    def close(self, reason, exit_code=None):
        """Ends the channel once: stops the inside, sends `chan.closed`."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._inq.put(_EOF)
        try:
            code = self.end()
        except OSError:
            code = None
        self.reg.forget(self)
        frame = {"ev": "chan.closed", "chan": self.id, "reason": reason}
        code = exit_code if exit_code is not None else code
        if code is not None:
            frame["exitCode"] = code
        self.reg.send(frame)

    @property
    def closed(self):
        return self._closed

    # -- agent -> inside --------------------------------------------------------
    def feed(self, data):
        """Queues bytes for the inside (called on the frame reader: never blocks)."""
        if self._closed:
            return
        with self._cond:
            over = self._in_flight + len(data) > IN_WINDOW
            if not over:
                self._in_flight += len(data)
        if over:
            threading.Thread(target=self.close, args=(
                "flow control violated: more than %d bytes sent without credit" % IN_WINDOW,), daemon=True).start()
            return
        self._inq.put(data)

    def feed_eof(self):
        if not self._closed:
            self._inq.put(_EOF)

    def credit(self, n):
        with self._cond:
            self._credit = min(self._credit + max(0, int(n)), MAX_WINDOW)
            self._cond.notify_all()

    def resize(self, rows, cols):
        pass

    def _writer(self):
        while True:
            item = self._inq.get()
            if self._closed:
                return
            if item is _EOF:
                try:
                    self.shutdown_write()
                except OSError:
                    pass
                self._write_done = True
                self._maybe_done()
                return
            try:
                self.write(item)
            except OSError as e:
                self.close("write failed: %s" % e)
                return
            with self._cond:
                self._in_flight -= len(item)
            self.reg.send({"ev": "chan.credit", "chan": self.id, "bytes": len(item)})

    # -- inside -> agent -------------------------------------------------------
    def _reader(self):
        while True:
            with self._cond:
                while self._credit <= 0 and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                n = min(READ_MAX, self._credit)
            try:
                data = self.read(n)
            except OSError:
                data = b""
            if self._closed:
                return
            if not data:
                self.reg.send({"ev": "chan.eof", "chan": self.id})
                self._read_done = True
                self.on_read_eof()
                return
            with self._cond:
                self._credit -= len(data)
            self.reg.send({"ev": "chan.data", "chan": self.id, "data": base64.b64encode(data).decode("ascii")})

    def on_read_eof(self):
        self._maybe_done()

    def _maybe_done(self):
        if self._read_done and self._write_done:
            self.close("eof")


class TcpChan(Chan):
    """A stream to 127.0.0.1:port inside the container (loopback works with --network none)."""

    kind = "tcp"

    def __init__(self, registry, cid, window, port, connect_timeout=5.0):
        super().__init__(registry, cid, window)
        self.port = port
        try:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=connect_timeout)
        except OSError as e:
            raise ChannelError("cannot connect to 127.0.0.1:%d in the kernel: %s" % (port, e.strerror or e))
        self.sock.settimeout(None)
        # Small writes go out at once, and every segment is acked at once: an
        # app that writes its headers and body apart (http.server, Tornado)
        # would otherwise wait ~40 ms for a delayed ACK (Nagle).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._quickack()

    def _quickack(self):
        quickack = getattr(socket, "TCP_QUICKACK", None)
        if quickack is not None:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
            except OSError:
                pass

    def read(self, n):
        data = self.sock.recv(n)
        # Linux turns quick ACKs off again after a while: renew per read.
        self._quickack()
        return data

    def write(self, data):
        self.sock.sendall(data)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def end(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        return None


class Channels:
    """The open channels of this runner, by id, and the frames that drive them."""

    def __init__(self, chan, apps=None):
        self._chan = chan
        self._lock = threading.Lock()
        self._open = {}
        self._opening = set()
        self.apps = apps

    def send(self, frame):
        self._chan.send(frame)

    def forget(self, ch):
        with self._lock:
            if self._open.get(ch.id) is ch:
                del self._open[ch.id]

    def get(self, cid):
        with self._lock:
            return self._open.get(cid)

    def open(self, msg):
        """Handles `chan.open` off the frame reader (an app may take seconds to start)."""
        cid = str(msg.get("chan") or "")
        rid = msg.get("id", "")
        with self._lock:
            if not cid or cid in self._open or cid in self._opening:
                self.send({"ev": "error", "id": rid, "msg": "bad or duplicate channel id: %r" % cid})
                return
            if len(self._open) + len(self._opening) >= MAX_CHANNELS:
                self.send({"ev": "error", "id": rid, "msg": "too many channels (at most %d)" % MAX_CHANNELS})
                return
            self._opening.add(cid)
        threading.Thread(target=self._open_now, args=(msg, cid, rid), daemon=True).start()

    def _open_now(self, msg, cid, rid):
        try:
            ch, extra = self._make(msg, cid)
        except (ChannelError, OSError, ValueError) as e:
            with self._lock:
                self._opening.discard(cid)
            self.send({"ev": "error", "id": rid, "msg": str(e)})
            return
        with self._lock:
            self._opening.discard(cid)
            self._open[cid] = ch
        frame = {"ev": "chan.opened", "id": rid, "chan": cid, "kind": ch.kind, "window": IN_WINDOW}
        frame.update(extra)
        self.send(frame)
        ch.start()

    def _make(self, msg, cid):
        kind = msg.get("kind")
        window = msg.get("window")
        if kind == "tcp":
            port = _port(msg.get("port"))
            return TcpChan(self, cid, window, port), {"port": port}
        if kind == "pty":
            import bai_pty
            return bai_pty.PtyChan(self, cid, window, msg), {}
        if kind == "app":
            if self.apps is None:
                raise ChannelError("this image declares no service ports")
            return self.apps.open(self, cid, window, msg)
        raise ChannelError("unknown channel kind: %r" % kind)

    def op(self, msg):
        """chan.data / chan.credit / chan.eof / chan.resize / chan.close (no answers)."""
        op = msg.get("op")
        ch = self.get(str(msg.get("chan") or ""))
        if ch is None:
            return  # closed meanwhile: its `chan.closed` is on the way
        if op == "chan.data":
            ch.feed(base64.b64decode(msg.get("data") or ""))
        elif op == "chan.credit":
            ch.credit(msg.get("bytes") or 0)
        elif op == "chan.eof":
            ch.feed_eof()
        elif op == "chan.resize":
            ch.resize(int(msg.get("rows") or 24), int(msg.get("cols") or 80))
        elif op == "chan.close":
            threading.Thread(target=ch.close, args=("closed by the agent",), daemon=True).start()

    def close_all(self, reason):
        with self._lock:
            chans = list(self._open.values())
        for ch in chans:
            ch.close(reason)


def _port(value):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ChannelError("bad port: %r" % (value,))
    if not 0 < port < 65536:
        raise ChannelError("port out of range: %d" % port)
    return port
