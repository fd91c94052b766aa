"""Batch mode: `clean`, `build`, `exec` shell commands in the work dir."""

import signal

from bai_proc import _signal_group, run_child
from bai_stdin import StdinFeed

_feed = None


class _Holder:
    """The batch run's current child, for interrupt/kill and its stdin."""

    proc = None

    def __init__(self):
        global _feed
        _feed = _feed or StdinFeed()
        self.feed = _feed

    def on_input(self, run, text):
        self.feed.write(text)

    def interrupt(self, run):
        _signal_group(self.proc, signal.SIGINT)

    def kill(self, run):
        _signal_group(self.proc, signal.SIGKILL)


def run_batch(run, opts, home):
    holder = run.holder = _Holder()
    for stage in ("clean", "build"):
        cmd = (opts.get(stage) or "").strip()
        rc = 0
        if cmd and cmd != "*":
            rc = run_child(run, cmd, home, holder)
        run.send({"ev": "stage", "stage": stage + "-finished", "exitCode": rc})
        if rc != 0 or run.status != "finished":
            return rc
    cmd = (opts.get("exec") or "").strip()
    return run_child(run, cmd, home, holder) if cmd else 0
