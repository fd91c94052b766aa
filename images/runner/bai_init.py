"""The container's pid 1: starts the runner, reaps orphans, and resets the
container between sessions so a warm container can serve the next one.

Why a process of our own as pid 1 (not Docker's init): the runner runs the
user's code in-process, so it can never be trusted after a session; the init
never runs user code, is not dumpable (no ptrace, no /proc/1/mem, even for
the same user) and, being the namespace's init, gets only the signals it
waits for. A reset is driven from outside the container (the agent, root on
the host) and checked from there:

1. SIGUSR1 from outside: kill every other process of the container (all of
   them are this user's; as init it is spared), reap them, empty the
   writable tmpfs dirs (/tmp, /dev/shm, /dev/mqueue) and System V IPC.
   The agent sees the container's cgroup hold only this process and the
   dirs empty, then empties /home/work itself and writes a fresh random
   token into /home/work/.bai-reset.
2. SIGUSR2 from outside: read and delete the token, fork a new runner with
   it. The runner writes the token before its `ready` and skips its stdin up
   to the token the agent sent, so bytes a previous session left in either
   pipe (a hostile runner can write anything) are never read as frames.

"Outside" is a signal whose siginfo says SI_USER from pid 0: a process in the
container is seen with its own pid, and one cannot forge SI_USER (the
kernel refuses rt_sigqueueinfo with si_code >= 0).
"""

import ctypes
import errno
import os
import signal
import stat

SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
           signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2}
TMP_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue")
TOKEN_FILE = "/home/work/.bai-reset"
_PR_SET_DUMPABLE = 4
_IPC_RMID = 0
_SI_USER = 0


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return libc


def set_dumpable(flag):
    _libc().prctl(_PR_SET_DUMPABLE, 1 if flag else 0, 0, 0, 0)


def from_outside(info):
    return info.si_code == _SI_USER and info.si_pid == 0


def kill_all():
    """SIGKILL to every process but this one, until none is left to reap."""
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _remove(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        try:
            os.chmod(path, 0o700)  # a dir its owner made unreadable
        except OSError:
            pass
        for name in os.listdir(path):
            _remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


def empty_dir(root):
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return
    for name in names:
        _remove(os.path.join(root, name))


def remove_ipc():
    """System V shared memory, semaphores and message queues of this IPC namespace."""
    libc = _libc()
    calls = {
        "shm": lambda i: libc.shmctl(i, _IPC_RMID, None),
        "sem": lambda i: libc.semctl(i, 0, _IPC_RMID),
        "msg": lambda i: libc.msgctl(i, _IPC_RMID, None),
    }
    for kind, rm in calls.items():
        try:
            with open("/proc/sysvipc/" + kind) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and rm(int(fields[1])) != 0:
                raise OSError(ctypes.get_errno(), "IPC_RMID %s %s" % (kind, fields[1]))


def reset():
    """Step 1: nothing of the last session left but /home/work (the agent's)."""
    kill_all()
    for d in TMP_DIRS:
        empty_dir(d)
    remove_ipc()


def take_token():
    # The agent emptied the work dir and set its mode; its extended
    # attributes only its owner can drop.
    home = os.path.dirname(TOKEN_FILE)
    try:
        names = os.listxattr(home)
    except OSError as e:
        if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        names = []  # a filesystem without them: none to drop
    for name in names:
        os.removexattr(home, name)
    with open(TOKEN_FILE, "rb") as f:
        token = f.read(256).strip()
    os.unlink(TOKEN_FILE)
    if len(token) < 32:
        raise ValueError("reset token too short")
    return token


def spawn(run, token):
    pid = os.fork()
    if pid == 0:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            set_dumpable(True)  # the user's own tools (gdb, core files) work on the runner as before
            run(token)
            os._exit(0)
        except SystemExit as e:
            os._exit(e.code if isinstance(e.code, int) else 1)
        except BaseException:
            os._exit(1)
    return pid


def _status_code(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main(run):
    """Runs as pid 1 until the runner ends on its own (the container ends with it)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    set_dumpable(False)
    child = spawn(run, None)
    resetting = False
    while True:
        info = signal.sigwaitinfo(SIGNALS)
        sig = info.si_signo
        if sig == signal.SIGCHLD:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                if pid == child and not resetting:
                    kill_all()
                    os._exit(_status_code(status))
            continue
        if not from_outside(info):
            continue  # a process of the container: only the agent drives pid 1
        if sig == signal.SIGUSR1 and not resetting:
            resetting = True
            try:
                reset()
            except OSError as e:
                os.write(2, ("bai-init: reset failed: %s\n" % e).encode())
                os._exit(3)
        elif sig == signal.SIGUSR2 and resetting:
            try:
                token = take_token()
            except (OSError, ValueError) as e:
                os.write(2, ("bai-init: no reset token: %s\n" % e).encode())
                os._exit(3)
            child = spawn(run, token)
            resetting = False
        elif sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
            kill_all()
            os._exit(0)
