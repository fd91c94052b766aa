"""Frame channel and per-run bookkeeping shared by all drivers.

Why one lock around the raw stdout fd: the reader thread answers pings and
file ops while the main thread streams a run's output; frames must never
interleave mid-frame.
"""

import json
import queue
import struct
import threading

DEFAULT_MAX_OUTPUT = 1024 * 1024
INTERRUPT_GRACE_S = 2.0
EXIT_INTERRUPTED = 130
EXIT_TIMEOUT = 124


class Channel:
    """Writes length-prefixed JSON frames to the agent."""

    def __init__(self, raw, diag):
        self._raw = raw
        self._lock = threading.Lock()
        self.diag = diag

    def send(self, obj):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8", "replace")
        with self._lock:
            self._raw.write(struct.pack(">I", len(body)) + body)


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
        """Sends an `out` frame unless the run's output budget is spent."""
        if not data:
            return
        with self._olock:
            if self._cut:
                return
            raw = data.encode("utf-8", "replace")
            if len(raw) > self._left:
                head = raw[: self._left].decode("utf-8", "ignore")
                self._left = 0
                self._cut = True
                if head:
                    self.chan.send({"ev": "out", "id": self.id, "stream": stream, "data": head})
                self.chan.send({
                    "ev": "out", "id": self.id, "stream": "stderr",
                    "data": "\n[output truncated: more than %d bytes]\n"
                    % int(self.opts.get("maxOutputBytes") or DEFAULT_MAX_OUTPUT),
                })
                return
            self._left -= len(raw)
        self.chan.send({"ev": "out", "id": self.id, "stream": stream, "data": data})

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
