"""Frame channel and per-run bookkeeping shared by all drivers.

Why one lock around the raw stdout fd: the reader thread answers pings and
file ops while the main thread streams a run's output; frames must never
interleave mid-frame.

Why output is cut into small events: the agent forwards each run event as
one cluster message, and a single large one (a 5 MiB print) must never be
what ends a kernel. Text goes out EVENT_CHARS at a time; media (base64) in
parts, every part but the last marked ``more: true``.
"""

import json
import queue
import struct
import threading

DEFAULT_MAX_OUTPUT = 1024 * 1024
INTERRUPT_GRACE_S = 2.0
EXIT_INTERRUPTED = 130
EXIT_TIMEOUT = 124
# 32 Ki characters stay under 256 KiB of JSON even when every one is escaped.
EVENT_CHARS = 32 * 1024


class Channel:
    """Writes length-prefixed JSON frames to the agent."""

    def __init__(self, raw, diag, fallback=None):
        self._raw = raw
        # Where frames go when `raw` fails (the lane's socket ended: stdout).
        self._fallback = fallback
        self._lock = threading.Lock()
        self.diag = diag

    def send(self, obj):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8", "replace")
        frame = struct.pack(">I", len(body)) + body
        with self._lock:
            try:
                _write_all(self._raw, frame)
            except OSError:
                if self._fallback is None:
                    raise
                self._use_fallback()
                _write_all(self._raw, frame)

    def write_raw(self, data):
        """Bytes outside any frame (a reset's token, bai_init.py)."""
        with self._lock:
            _write_all(self._raw, data)

    def fall_back(self):
        """From now on frames go to the fallback (bai_lane.py)."""
        with self._lock:
            if self._fallback is not None:
                self._use_fallback()

    def _use_fallback(self):
        old, self._raw, self._fallback = self._raw, self._fallback, None
        try:
            old.close()
        except OSError:
            pass


def _write_all(raw, data):
    # A raw write may be short (a signal such as an interrupt's SIGINT
    # landing mid-write); a frame must never be.
    view = memoryview(data)
    while view:
        view = view[raw.write(view):]


class Run:
    """One exec: its id, output budget, pending input lines and end status."""

    def __init__(self, chan, rid, opts):
        self.chan = chan
        self.id = rid
        self.opts = opts
        self.inputs = queue.Queue()
        self.status = "finished"
        self._left = int(opts.get("maxOutputBytes") or DEFAULT_MAX_OUTPUT)
        self._cut = False
        self._olock = threading.Lock()
        self._timer = None
        self._done = threading.Event()
        # Batch runs set this to an object with interrupt()/kill() for their child.
        self.holder = None

    def out(self, stream, data):
        """Sends `out` frames unless the run's output budget is spent.

        The budget counts UTF-8 bytes of text and base64 bytes of media.
        """
        if not data:
            return
        with self._olock:
            if self._cut:
                return
            raw = data.encode("utf-8", "replace")
            if len(raw) > self._left:
                data = raw[: self._left].decode("utf-8", "ignore")
                self._cut = True
            else:
                self._left -= len(raw)
            self._chunks("out", {"stream": stream}, data)
            if self._cut:
                self._notice()

    def media(self, mime, data):
        """Sends rich output (`data` is base64) in parts, within the budget."""
        with self._olock:
            if self._cut:
                return
            if len(data) > self._left:
                self._cut = True
                self._notice()
                return
            self._left -= len(data)
            self._chunks("media", {"mime": mime}, data, parts=True)

    def _notice(self):
        self._left = 0
        self.chan.send({
            "ev": "out", "id": self.id, "stream": "stderr",
            "data": "\n[output truncated: more than %d bytes]\n"
            % int(self.opts.get("maxOutputBytes") or DEFAULT_MAX_OUTPUT),
        })

    def _chunks(self, ev, fields, data, parts=False):
        n = len(data)
        if n == 0 and not parts:
            return
        for i in range(0, max(n, 1), EVENT_CHARS):
            frame = {"ev": ev, "id": self.id}
            frame.update(fields)
            frame["data"] = data[i:i + EVENT_CHARS]
            if parts and i + EVENT_CHARS < n:
                frame["more"] = True
            self.chan.send(frame)

    def send(self, obj):
        obj["id"] = self.id
        self.chan.send(obj)

    def start_timer(self, driver):
        ms = int(self.opts.get("timeoutMs") or 0)
        if ms > 0:
            self._timer = threading.Timer(ms / 1000.0, self.cancel, ("exec-timeout", driver))
            self._timer.daemon = True
            self._timer.start()

    def stop_timer(self):
        self._done.set()
        if self._timer is not None:
            self._timer.cancel()

    def cancel(self, status, driver):
        """Interrupt (SIGINT-like), escalating to the driver's kill every 2 s."""
        if self._done.is_set():
            return
        if self.status == "finished":
            self.status = status
        (self.holder or driver).interrupt(self)

        def escalate():
            while not self._done.wait(INTERRUPT_GRACE_S):
                (self.holder or driver).kill(self)

        threading.Thread(target=escalate, daemon=True).start()

    def final_code(self, code):
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        if self.status == "exec-timeout":
            return EXIT_TIMEOUT
        return int(code or 0)
