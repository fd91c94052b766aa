"""Batch mode: `clean`, `build`, `exec` shell commands in the work dir.

A stage given as ``*`` is worked out from the files in the work dir, the way
Backend.AI's kernel runners do (the real ``backend.ai run`` sends ``*`` when
no --build/--exec is given): the driver config's ``batch`` rules, per
language, name the file each command needs (``main.c`` -> compile every
``*.c`` into ``./main``; ``main.py`` -> ``python3 main.py`` ...). A
``Makefile`` makes ``*`` build with ``make``. No matching file: a build or
exec that has rules fails with 127 and says what it looked for; a clean, or
a stage without rules (python's build), is skipped.
"""

import glob
import os
import signal

from bai_proc import _signal_group, run_child
from bai_stdin import StdinFeed

_feed = None

# Build rules every language shares, tried before the recipe's own.
_COMMON = {"build": [{"when": "Makefile", "run": "make"}]}
EXIT_NOT_FOUND = 127


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


def _exists(home, pattern):
    return bool(glob.glob(os.path.join(home, pattern), recursive=True))


def heuristic(stage, conf, home):
    """What `*` means for `stage` here: (command, None), or (None, why not).

    (None, None) when the language has nothing to do for the stage.
    """
    own = list(((conf or {}).get("batch") or {}).get(stage) or [])
    rules = _COMMON.get(stage, []) + own
    for rule in rules:
        when = rule.get("when")
        if when is None or _exists(home, when):
            return "shopt -s globstar nullglob\n" + rule["run"], None
    if not own or stage == "clean":
        return None, None  # nothing to do (cleaning is optional)
    wanted = " or ".join(r["when"] for r in rules if r.get("when"))
    return None, "%s '*': found no %s in %s\n" % (stage, wanted, home)


def _stage(run, stage, cmd, conf, home, holder):
    """Runs one stage's command (``*`` resolved); returns its exit code."""
    cmd = (cmd or "").strip()
    if not cmd:
        return 0
    if cmd == "*":
        cmd, why = heuristic(stage, conf, home)
        if why:
            run.out("stderr", why)
            return EXIT_NOT_FOUND
        if cmd is None:
            return 0
    return run_child(run, cmd, home, holder)


def run_batch(run, opts, home, conf=None):
    holder = run.holder = _Holder()
    for stage in ("clean", "build"):
        rc = _stage(run, stage, opts.get(stage), conf, home, holder)
        run.send({"ev": "stage", "stage": stage + "-finished", "exitCode": rc})
        if rc != 0 or run.status != "finished":
            return rc
    return _stage(run, "exec", opts.get("exec"), conf, home, holder)
