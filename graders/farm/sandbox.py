"""The student zone: a bubblewrap sandbox around the student's Jupyter kernel.

What the kernel sees:
- the system (/usr, /etc, ...) and the Python it runs on, read-only;
- the public helper `dlcourse` (/opt/dlcourse) and the public data (/opt/dlcourse-data), read-only;
- while grading, the unlabeled hidden inputs some exercises run on (/opt/dlcourse-grading), read-only;
- its scratch folder (/submission, the notebook's working directory) and the
  artifacts folder (/artifacts), the only places it may write besides its own tmpfs;
- the kernel's runtime folder (connection file and ipc sockets).

What it does not see: the course root, source notebooks, the gradebook, secret
data, other submissions, the host's environment.  It runs as uid 65534 in a new
user namespace with no capabilities, no network (private loopback only), its own
PID namespace, cgroups per kernel (processes; resident memory, see ProcessCage) and rlimits on
address space (a backstop where the memory cgroup holds, the memory limit where none can be made) and
CPU time (prlimit).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import devices

SANDBOX_UID = 65534
SCRATCH = "/submission"
ARTIFACTS = "/artifacts"
PUBLIC_CODE = "/opt/dlcourse"
PUBLIC_DATA = "/opt/dlcourse-data"
HOME = "/home/student"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create the namespaces it needs."""


@dataclass
class Limits:
    memory_gb: float = 8      # resident memory + swap of the whole sandbox (memory cgroup; else address space)
    cpu_seconds: int = 900
    threads: int = 1
    disk_mb: int = 2048        # largest file, size of /tmp and $HOME, and (watched by execute.py) scratch + artifacts
    max_pids: int = 256        # processes and threads of the whole sandbox (pids cgroup, where one can be made)


@dataclass
class SandboxSpec:
    """Everything needed to wrap one kernel command."""
    scratch: Path                 # host folder seen as /submission (rw)
    artifacts: Path               # host folder seen as /artifacts (rw)
    runtime: Path                 # host folder for the connection file and sockets (rw, same path)
    public_code: Path             # host folder holding the `dlcourse` package
    public_data: Path             # host folder with public data files
    limits: Limits = field(default_factory=Limits)
    language: str = "ko"
    gpu: bool = False
    gpu_devices: str | None = None     # CUDA_VISIBLE_DEVICES with the GPU (None: this process's GPUs)
    extra_env: dict = field(default_factory=dict)
    hide: tuple = ()                  # folders of the Python installation covered by an empty tmpfs (data in packages)
    cgroup_procs: list | str | None = None   # cgroup.procs files of the kernel's cages (ProcessCage): bwrap starts in them
    memory_caged: bool = False        # a memory cgroup holds memory_gb: RLIMIT_AS is then only a backstop
    admin_cap: bool = False           # a warm parent (farm/warm): CAP_SYS_ADMIN inside its own user namespace only
    ro_binds: tuple = ()              # (host folder, path inside) pairs bound read-only (the warm parent's code)


def python_roots() -> list[Path]:
    """The Python installation's folders as the sandbox binds them (a warm child binds them back, farm/warm)."""
    return _python_roots()


def _python_roots() -> list[Path]:
    """Folders the kernel's Python needs: the venv and the base installation."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    return sorted(roots, key=lambda p: len(str(p)))


# Only what programs need from /etc: not shadow files, keys or host secrets.
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "passwd", "group", "nsswitch.conf",
        "hosts", "localtime", "timezone", "fonts", "ssl", "mime.types", "matplotlibrc")


def _system_binds() -> list[str]:
    args = []
    if os.path.isdir("/usr"):
        args += ["--ro-bind", "/usr", "/usr"]
    for name in _ETC:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for d in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    return args


def scratch_folders(public_data: Path) -> list[str]:
    """The folders of the public data that get a writable tmpfs in the sandbox (its `.writable` list)."""
    return [args[-1] for args in zip(*[iter(_scratch_binds(public_data, "1"))] * 4)]


def _scratch_binds(public_data: Path, size: str) -> list[str]:
    """A tmpfs over each folder of the public data listed in its `.writable` (see graders/assets.py)."""
    args = []
    try:
        listed = (Path(public_data) / ".writable").read_text().split()
    except OSError:
        return args
    for rel in listed[:16]:
        if ".." in Path(rel).parts or rel.startswith("/"):
            continue
        if (Path(public_data) / rel).is_dir():
            args += ["--size", size, "--tmpfs", f"{PUBLIC_DATA}/{rel}"]
    return args


def kernel_env(spec: SandboxSpec, sandboxed: bool = True) -> dict:
    """The only environment the student's kernel gets (no secrets from the host)."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": HOME if sandboxed else str(spec.scratch),
        "TMPDIR": "/tmp" if sandboxed else str(spec.scratch),
        "LANG": "C.UTF-8",
        "PYTHONPATH": PUBLIC_CODE if sandboxed else str(spec.public_code),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DLCOURSE_DATA": PUBLIC_DATA if sandboxed else str(spec.public_data),
        "DLCOURSE_ARTIFACTS": ARTIFACTS if sandboxed else str(spec.artifacts),
        "DLCOURSE_LANG": spec.language,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "KERAS_BACKEND": "tensorflow",
        "CUDA_VISIBLE_DEVICES": _cuda_devices(spec),
    }
    if spec.gpu:
        # TensorFlow maps nearly all of a GPU's memory by default: kernels sharing one GPU
        # (GPU['kernels_per_gpu']) take what they use instead
        env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        library_path = devices.machine_library_path()
        if library_path:
            env["LD_LIBRARY_PATH"] = library_path
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[var] = str(spec.limits.threads)
    env.update(spec.extra_env)
    return env


def _cuda_devices(spec: SandboxSpec) -> str:
    """The kernel's CUDA_VISIBLE_DEVICES: '' (no GPU) unless the GPU is lent; then the GPU of this
    sandbox (a Dask worker's pick) or of this grader process (its slot, set by the batch runner)."""
    if not spec.gpu:
        return ""
    if spec.gpu_devices is not None:
        return spec.gpu_devices
    return ",".join(devices.visible_gpus())


def wrap(cmd: list[str], spec: SandboxSpec) -> list[str]:
    """Return ``cmd`` wrapped in bwrap + prlimit."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    args = [bwrap,
            "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox",
            "--die-with-parent", "--disable-userns", "--cap-drop", "ALL",
            "--clearenv"]
    if spec.admin_cap:
        # the warm parent's children build their own mount namespaces with it, then drop every capability
        # (SETPCAP: from the bounding set too) before any job code runs (farm/warm/walls.py); capabilities
        # of this user namespace only
        args += ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"]
    args += _system_binds()
    # tmpfs first: binds made after it stay visible even when they live under /tmp or /home
    size = str(int(spec.limits.disk_mb) * 2**20)
    args += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/home",
             "--dir", HOME]
    for root in _python_roots():
        args += ["--ro-bind", str(root), str(root)]
    for folder in spec.hide:
        if Path(folder).is_dir():
            args += ["--size", "4096", "--tmpfs", str(folder)]
    args += ["--ro-bind", str(spec.public_code), PUBLIC_CODE,
             "--ro-bind", str(spec.public_data), PUBLIC_DATA,
             "--bind", str(spec.scratch), SCRATCH,
             "--bind", str(spec.artifacts), ARTIFACTS,
             "--bind", str(spec.runtime), str(spec.runtime),
             "--chdir", SCRATCH]
    for host, inside in spec.ro_binds:
        args += ["--ro-bind", str(host), str(inside)]
    args += _scratch_binds(spec.public_data, size)
    # no hidden input is ever bound here: the student's functions meet hidden inputs only in a scoring
    # sandbox of their own (measure.py), whose channel back is numeric arrays
    # the GPU only when the DEVICE policy lends it: the NVIDIA nodes (private copies) and driver libraries
    args += devices.machine_gpu_binds(spec.gpu, private=spec.runtime)[0]
    for key, value in kernel_env(spec).items():
        args += ["--setenv", key, value]
    args += ["--remount-ro", "/"]        # bwrap's root is a tmpfs: read-only, or it could fill the host's memory
    address_space = int(address_space_gb(spec.limits.memory_gb, spec.memory_caged) * 2**30)
    limits = ["prlimit", f"--as={address_space}",
              f"--cpu={int(spec.limits.cpu_seconds)}", f"--fsize={int(spec.limits.disk_mb) * 2**20}", "--core=0", "--"]
    args = args + ["--"] + limits + cmd
    procs = [spec.cgroup_procs] if isinstance(spec.cgroup_procs, str) else list(spec.cgroup_procs or ())
    return join_cgroups(procs) + args if procs else args


def join_cgroups(procs: list[str]) -> list[str]:
    """A command prefix: a tiny shell joins every cage (each `cgroup.procs` in `procs`: pids, memory), then
    becomes the command, so everything the kernel spawns stays in them.  A cage it cannot join stops the
    start (exit 125) rather than run the kernel unlimited.  (Not a preexec_fn: Python code between fork
    and exec can deadlock in a threaded grader.)"""
    join = ('n=$0; while [ "$n" -gt 0 ]; do echo $$ > "$1" || { echo "dlcourse: cannot join cgroup $1" >&2; '
            'exit 125; }; shift; n=$((n - 1)); done; exec "$@"')
    return ["/bin/sh", "-c", join, str(len(procs)), *procs]


def probe(timeout: float = 20) -> None:
    """Raise SandboxUnavailable with the reason if bwrap cannot start a sandbox here."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dlcourse-probe-") as tmp:
        t = Path(tmp)
        for sub in ("s", "a", "r", "c", "d"):
            (t / sub).mkdir()
        spec = SandboxSpec(scratch=t / "s", artifacts=t / "a", runtime=t / "r", public_code=t / "c", public_data=t / "d")
        try:
            cmd = wrap([sys.executable, "-c", "import os; print(os.getuid())"], spec)
        except SandboxUnavailable:
            raise
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"bwrap could not start: {exc}") from None
        if out.returncode != 0 or out.stdout.strip() != str(SANDBOX_UID):
            raise SandboxUnavailable(f"bwrap failed (exit {out.returncode}): {out.stderr.strip()[:300]}")


# ── cgroups per kernel: a pids cage (fork bombs, leftovers) and a memory cage (resident memory) ──
# v1: one hierarchy per controller; v2: the unified tree, where the controller must be handed down
# (listed in `cgroup.subtree_control`).  Tests point these at folders of their own.
_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")        # pids: v1 `pids` hierarchy, or v2
_MEMORY_ROOTS = ("/sys/fs/cgroup/memory", "/sys/fs/cgroup")      # memory: v1 `memory` hierarchy, or v2
_PROC_SELF_CGROUP = "/proc/self/cgroup"
_GROUP = "dlcourse"                                              # every cage lives in <base>/dlcourse/<name>

log = logging.getLogger("dlcourse.sandbox")
_memory_warned = False


def address_space_gb(memory_gb: float, memory_caged: bool) -> float:
    """RLIMIT_AS of a sandbox, in GiB.

    Without a memory cgroup the address-space limit is the only memory limit: ``memory_gb``.
    With one, the cgroup caps what is resident; RLIMIT_AS stays only as a high backstop, so that one
    absurd reservation (``np.empty`` of 100 GiB) fails at once with a MemoryError the student can read
    instead of an OOM kill later, while address space that never becomes resident stays allowed:
    importing torch (CUDA build) reserves about 4 GiB, the transformers fine-tune about 8 GiB, and every
    thread's malloc arena 64 MiB more.  ``memory_gb + 8`` keeps small limits usable (4 GiB of memory
    still lets the fine-tune reserve its 8 GiB); ``2 × memory_gb`` keeps the same room, in proportion,
    for large ones.
    """
    if not memory_caged:
        return memory_gb
    return max(2 * memory_gb, memory_gb + 8)


def _read(path) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _own_cgroup(controller: str, v2: bool) -> str:
    """This process's group in the hierarchy of `controller` (v1) or in the unified tree (v2)."""
    for line in _read(_PROC_SELF_CGROUP).splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if (v2 and hierarchy == "0" and not controllers) or (not v2 and controller in controllers.split(",")):
            return path.strip()
    return "/"


def _bases(root: Path, controller: str, v2: bool) -> list[Path]:
    """Where a kernel's group may be made, best first: under this process's own group (so a limit put on
    the grader — a systemd unit, a container — covers its kernels too), and at the top of the hierarchy.
    v2 forbids controllers below a group that holds processes, so there the own group's parent (a
    delegated subtree whose grader runs in a leaf) is tried too."""
    own = _own_cgroup(controller, v2).strip("/")
    out = []
    if own and ".." not in own.split("/"):
        out.append(root / own)
        if v2 and "/" in own:
            out.append(root / own.rsplit("/", 1)[0])
    out.append(root)
    return out


def _rmdir(path: Path | None) -> bool:
    if path is None:
        return True
    try:
        path.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:
        path.parent.rmdir()        # dlcourse/ itself, once its last cage is gone (EBUSY while others live)
    except OSError:
        pass
    return True


def _make_group(root: Path, controller: str, name: str, files: dict, optional: tuple = ()) -> Path | None:
    """Make <base>/dlcourse/<name> in the first base that takes it and write its limit files (`optional`
    ones only where they exist); None where no group of `controller` can be made."""
    if not (root / "cgroup.procs").exists():
        return None
    v2 = (root / "cgroup.controllers").exists()
    if not v2 and root.name != controller:
        return None                  # a v1 hierarchy of another controller
    for base in _bases(root, controller, v2):
        if v2 and controller not in _read(base / "cgroup.subtree_control").split():
            continue
        for _attempt in range(3):    # another grader process may remove an empty dlcourse/ meanwhile
            path, made = None, False
            try:
                parent = base / _GROUP
                parent.mkdir(exist_ok=True)
                if v2 and controller not in _read(parent / "cgroup.subtree_control").split():
                    (parent / "cgroup.subtree_control").write_text(f"+{controller}")
                path = parent / name
                made = not path.exists()
                path.mkdir(exist_ok=True)   # v2: pids and memory share one group
                for fname, value in files.items():
                    target = path / fname
                    if fname in optional:
                        if not target.exists():
                            continue       # not on this kernel (no swap accounting)
                        try:
                            target.write_text(value)
                        except OSError:
                            log.info("cgroup %s: %s could not be set", path, fname)
                        continue
                    target.write_text(value)
                return path
            except FileNotFoundError:
                if made:
                    _rmdir(path)
                continue
            except OSError:
                if made:
                    _rmdir(path)
                break
    return None


def _warn_memory_once(memory_gb: float) -> None:
    global _memory_warned
    if _memory_warned:
        return
    _memory_warned = True
    log.warning("memory cgroup unavailable: SANDBOX['memory_gb'] is enforced only as an address-space limit "
                "(%g GiB of address space, not of resident memory). Fix: run the grader as root on cgroup v1, or "
                "delegate a cgroup v2 subtree with the memory controller in its cgroup.subtree_control.", memory_gb)


def _counter(text: str, key: str) -> int | None:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            try:
                return int(parts[1])
            except ValueError:
                return None
    return None


class ProcessCage:
    """The cgroups holding one sandboxed kernel and all it spawns: pids, and (with `memory_gb`) memory.

    ``pids.max`` stops a fork bomb; `kill_all` ends every process left in it (a background process that
    outlived its cell, a daemon that double-forked).  The memory group caps resident memory and swap of
    the whole process tree at ``memory_gb`` (v1 ``memory.limit_in_bytes``/``memory.memsw.limit_in_bytes``,
    v2 ``memory.max``/``memory.swap.max``); past it the kernel's OOM killer ends the biggest process —
    the student's kernel — and `memory_exceeded` says so.  Where no cgroup can be made (no root, no
    delegation) the path is None: bubblewrap's PID namespace still ends the processes with the kernel
    but their number is not capped, and memory is held only by the address-space limit (one warning
    per process says so).
    """

    def __init__(self, name: str, max_pids: int, memory_gb: float | None = None):
        self.name = name
        self.path: Path | None = None            # the pids group
        self.memory_path: Path | None = None     # the memory group (the same folder as `path` on v2)
        self.memory_limit: int | None = None     # bytes
        self._final: tuple | None = None         # (oom kills, peak bytes) read just before removal
        self._final_pids: int | None = None      # forks the pids limit refused, read just before removal
        for root in _CGROUP_ROOTS:
            self.path = _make_group(Path(root), "pids", name, {"pids.max": str(int(max_pids))})
            if self.path is not None:
                break
        if memory_gb:
            limit = int(memory_gb * 2**30)
            for root in _MEMORY_ROOTS:
                v2 = (Path(root) / "cgroup.controllers").exists()
                # swap is held too: memory + swap capped where the kernel accounts swap per group, and
                # (v1) swappiness 0, so that a group at its limit is not paged out to swap instead of
                # being stopped where swap accounting is off
                files = {"memory.max": str(limit), "memory.swap.max": "0"} if v2 else \
                    {"memory.limit_in_bytes": str(limit), "memory.memsw.limit_in_bytes": str(limit),
                     "memory.swappiness": "0"}
                self.memory_path = _make_group(Path(root), "memory", name, files,
                                               optional=("memory.swap.max", "memory.memsw.limit_in_bytes",
                                                         "memory.swappiness"))
                if self.memory_path is not None:
                    self.memory_limit = limit
                    break
            if self.memory_path is None:
                _warn_memory_once(memory_gb)

    def procs_files(self) -> list[str]:
        """The `cgroup.procs` file of every group: the kernel's starter joins each (sandbox.wrap)."""
        paths = [p for p in (self.path, self.memory_path) if p is not None]
        return list(dict.fromkeys(str(p / "cgroup.procs") for p in paths))

    def pids(self) -> list[int]:
        out = set()
        for path in (self.path, self.memory_path):
            if path is None:
                continue
            try:
                out.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(out)

    # ── memory ──────────────────────────────────────────────────────────────
    def _read_memory(self) -> tuple[int, int]:
        """(OOM kills in the group, peak resident bytes)."""
        path = self.memory_path
        if path is None:
            return 0, 0
        if (path / "memory.events").exists():                              # v2
            kills = _counter(_read(path / "memory.events"), "oom_kill") or 0
            peak = _read(path / "memory.peak").strip()
            return kills, int(peak) if peak.isdigit() else 0
        peak_text = _read(path / "memory.max_usage_in_bytes").strip()
        peak = int(peak_text) if peak_text.isdigit() else 0
        kills = _counter(_read(path / "memory.oom_control"), "oom_kill")
        if kills is None:         # kernels before 4.13: the limit was hit and usage reached it
            failcnt = _read(path / "memory.failcnt").strip()
            kills = int(failcnt.isdigit() and int(failcnt) > 0 and peak >= 0.98 * (self.memory_limit or 0))
        return kills, peak

    def oom_kills(self) -> int:
        """Processes the group's OOM killer ended so far (the kernel, or something it ran)."""
        return self._final[0] if self._final is not None else self._read_memory()[0]

    def memory_exceeded(self) -> bool:
        return self.oom_kills() > 0

    def memory_peak(self) -> int:
        return self._final[1] if self._final is not None else self._read_memory()[1]

    # ── processes ───────────────────────────────────────────────────────────
    def pids_refused(self) -> int:
        """How often the pids limit refused a fork or thread (pids.events `max`): a fork bomb was capped."""
        if self._final_pids is not None:
            return self._final_pids
        if self.path is None:
            return 0
        return _counter(_read(self.path / "pids.events"), "max") or 0

    # ── the end ─────────────────────────────────────────────────────────────
    def kill_all(self, wait: float = 5.0) -> int:
        """SIGKILL everything in the cage (repeatedly: a fork bomb forks while it is killed), remove it."""
        import signal
        import time
        if self.path is None and self.memory_path is None:
            return 0
        killed, deadline = 0, time.monotonic() + wait
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        self.remove(deadline)
        return killed

    def remove(self, deadline: float | None = None) -> None:
        """Read the memory counters one last time, then rmdir every group (and dlcourse/ when empty)."""
        import time
        if self._final is None and self.memory_path is not None:
            self._final = self._read_memory()
        if self._final_pids is None and self.path is not None:
            self._final_pids = self.pids_refused()
        deadline = deadline if deadline is not None else time.monotonic() + 2.0
        for path in dict.fromkeys(p for p in (self.path, self.memory_path) if p is not None):
            while not _rmdir(path) and time.monotonic() < deadline:
                time.sleep(0.05)       # a process that was just killed leaves the group a moment later


def machine_memory_bytes() -> int:
    """Memory the grader's kernels can share: the machine's, or less where the grader's own memory cgroup
    (a container, a systemd unit) has a lower limit.  0 when it cannot be read."""
    total = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            try:
                total = int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                total = 0
            break
    for root, name in ((Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"), (Path("/sys/fs/cgroup"), "memory.max")):
        v2 = name == "memory.max"
        own = _own_cgroup("memory", v2).strip("/")
        if not own or ".." in own.split("/"):
            continue
        value = _read(root / own / name).strip()
        if value.isdigit() and 0 < int(value) < (total or int(value) + 1):
            total = int(value)
    return total


def check_memory_budget(cfg, workers: int, total_bytes: int | None = None) -> None:
    """Refuse `workers` kernels of SANDBOX['memory_gb'] each that together need more than this machine's
    memory less a reserve: the cgroups would promise memory the machine does not have, and the machine's
    own OOM killer, not the per-kernel limit, would pick what dies (perhaps the grader)."""
    from ..config import MEMORY_RESERVE_GB, MIN_MEMORY_GB, ConfigError
    if total_bytes is None:
        total_bytes = machine_memory_bytes()
    if not total_bytes:
        return                         # unknown (no /proc/meminfo): nothing to compare with
    gib = 2**30
    total = total_bytes / gib
    reserve = max(MEMORY_RESERVE_GB, 0.10 * total)
    usable = total - reserve
    memory_gb = float(cfg.sandbox.memory_gb)
    need = max(1, int(workers)) * memory_gb
    if need <= usable:
        return
    fits = int(usable // memory_gb) if memory_gb > 0 else 0
    processes = "grader process" if workers == 1 else "grader processes"
    per_worker = usable / max(1, workers)
    fixes = [f"run at most {fits} --workers here"] if fits >= 1 else []
    if per_worker >= MIN_MEMORY_GB:
        fixes.append(f"lower SANDBOX['memory_gb'] to at most {per_worker:.1f}")
    fixes.append("grade on a machine with more memory" if fits < 1 else "")
    fix = ", or ".join(f for f in fixes if f)
    raise ConfigError(f"{cfg.path}: setting SANDBOX['memory_gb']: {workers} {processes} × {memory_gb:g} GiB = "
                      f"{need:g} GiB of kernel memory is more than this machine's {total:.1f} GiB less a reserve of "
                      f"{reserve:.1f} GiB for the grader and the system ({usable:.1f} GiB). Fix: {fix}")
