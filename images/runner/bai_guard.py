"""A seccomp filter the runner puts on itself: nothing it starts can trace pid 1.

Why: the container's pid 1 (the init that reaps zombies) runs as the same
user as the kernel's code, so ptrace(ATTACH, 1) succeeds under Docker's
default profile, and a frozen or rewritten pid 1 takes the container with
it. The filter is installed before the runner starts any thread or child,
so every thread, cell, batch command, terminal and app inherits it (filters
stack on Docker's profile; the stricter answer wins; no-new-privileges,
which Docker sets, allows an unprivileged process to add one).

Only pid 1 is refused (EPERM): ptrace and process_vm_readv/writev of any
other process, a user's gdb or strace of their own program, still work.
/proc/1/mem is not a syscall; it is closed by pid 1 (bai_init.py) making
itself not dumpable; see images/README.md ("Kernel edges").
"""

import ctypes
import errno
import platform

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JA = 0x05
_RET_K = 0x06
_ARG0 = 16  # offsetof(struct seccomp_data, args[0]); args are 8 bytes each

_X32 = 0x40000000
# arch -> [(syscall number, index of its pid argument)]:
# ptrace(request, pid), process_vm_readv/writev(pid, ...).
_TABLE = {
    "x86_64": [
        (0xC000003E, [(101, 1), (310, 0), (311, 0),
                      (_X32 | 521, 1), (_X32 | 539, 0), (_X32 | 540, 0)]),
        (0x40000003, [(26, 1), (347, 0), (348, 0)]),  # i386 binaries
    ],
    "aarch64": [(0xC00000B7, [(117, 1), (270, 0), (271, 0)])],
}


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def program(arches):
    """The BPF instructions (code, jt, jf, k) refusing the listed calls on pid 1."""
    # Label-based assembly; jumps are resolved to relative offsets at the end.
    ins, fix = [], []

    def emit(code, k=0, jt=None, jf=None):
        fix.append((len(ins), jt, jf))
        ins.append([code, 0, 0, k])

    labels = {}
    emit(_LD_W_ABS, 4)  # arch
    for a, (arch, calls) in enumerate(arches):
        emit(_JEQ_K, arch, jt="arch%d" % a, jf=None if a + 1 < len(arches) else "allow")
    for a, (arch, calls) in enumerate(arches):
        labels["arch%d" % a] = len(ins)
        emit(_LD_W_ABS, 0)  # nr
        for i, (nr, pid_arg) in enumerate(calls):
            emit(_JEQ_K, nr, jt="pid%d_%d" % (a, pid_arg), jf=None)
        emit(_JA, 0, jt="allow")
        for pid_arg in sorted({p for _, p in calls}):
            labels["pid%d_%d" % (a, pid_arg)] = len(ins)
            emit(_LD_W_ABS, _ARG0 + 8 * pid_arg)  # low 32 bits (little-endian)
            emit(_JEQ_K, 1, jt="deny", jf="allow")
    labels["allow"] = len(ins)
    emit(_RET_K, _RET_ALLOW)
    labels["deny"] = len(ins)
    emit(_RET_K, _RET_ERRNO | errno.EPERM)
    for idx, jt, jf in fix:
        code = ins[idx][0]
        if code == _JA:
            ins[idx][3] = labels[jt] - idx - 1
        elif code == _JEQ_K:
            ins[idx][1] = labels[jt] - idx - 1 if jt else 0
            ins[idx][2] = labels[jf] - idx - 1 if jf else 0
    for code, jt, jf, _ in ins:
        if not (0 <= jt < 256 and 0 <= jf < 256):
            raise ValueError("filter jump out of range")
    return [tuple(i) for i in ins]


def install():
    """Installs the filter on this thread (and all it starts later); None or why not."""
    arches = _TABLE.get(platform.machine())
    if not arches:
        return "no syscall table for %s" % platform.machine()
    prog = program(arches)
    arr = (_Filter * len(prog))(*[_Filter(c, jt, jf, k) for c, jt, jf, k in prog])
    fprog = _Prog(len(prog), ctypes.cast(arr, ctypes.POINTER(_Filter)))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        return "no_new_privs: %s" % errno.errorcode.get(ctypes.get_errno(), "?")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        return "seccomp: %s" % errno.errorcode.get(ctypes.get_errno(), "?")
    return None

