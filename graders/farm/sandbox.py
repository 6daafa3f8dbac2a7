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
PID namespace, and rlimits on address space and CPU time (prlimit).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_UID = 65534
SCRATCH = "/submission"
ARTIFACTS = "/artifacts"
PUBLIC_CODE = "/opt/dlcourse"
PUBLIC_DATA = "/opt/dlcourse-data"
GRADING_INPUTS = "/opt/dlcourse-grading"
HOME = "/home/student"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create the namespaces it needs."""


@dataclass
class Limits:
    memory_gb: float = 8
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
    grading_inputs: Path | None = None  # unlabeled hidden inputs, lent only while grading
    limits: Limits = field(default_factory=Limits)
    language: str = "ko"
    gpu: bool = False
    extra_env: dict = field(default_factory=dict)
    cgroup_procs: str | None = None   # the kernel's pids cgroup (ProcessCage): bwrap starts inside it


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


def _gpu_binds() -> list[str]:
    args = []
    for dev in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(dev), str(dev)]
    return args


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
        "DLCOURSE_GRADING": GRADING_INPUTS if sandboxed else str(spec.grading_inputs or ""),
        "DLCOURSE_LANG": spec.language,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "KERAS_BACKEND": "tensorflow",
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "") if spec.gpu else "",
    }
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[var] = str(spec.limits.threads)
    env.update(spec.extra_env)
    return env


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
    args += _system_binds()
    # tmpfs first: binds made after it stay visible even when they live under /tmp or /home
    size = str(int(spec.limits.disk_mb) * 2**20)
    args += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/home",
             "--dir", HOME]
    for root in _python_roots():
        args += ["--ro-bind", str(root), str(root)]
    args += ["--ro-bind", str(spec.public_code), PUBLIC_CODE,
             "--ro-bind", str(spec.public_data), PUBLIC_DATA,
             "--bind", str(spec.scratch), SCRATCH,
             "--bind", str(spec.artifacts), ARTIFACTS,
             "--bind", str(spec.runtime), str(spec.runtime),
             "--chdir", SCRATCH]
    args += _scratch_binds(spec.public_data, size)
    if spec.grading_inputs is not None and spec.grading_inputs.is_dir():
        args += ["--ro-bind", str(spec.grading_inputs), GRADING_INPUTS]
    if spec.gpu:
        args += _gpu_binds()
    for key, value in kernel_env(spec).items():
        args += ["--setenv", key, value]
    args += ["--remount-ro", "/"]        # bwrap's root is a tmpfs: read-only, or it could fill the host's memory
    limits = ["prlimit", f"--as={int(spec.limits.memory_gb * 2**30)}",
              f"--cpu={int(spec.limits.cpu_seconds)}", f"--fsize={int(spec.limits.disk_mb) * 2**20}", "--core=0", "--"]
    args = args + ["--"] + limits + cmd
    if spec.cgroup_procs:
        # a tiny shell joins the cgroup, then becomes bwrap: everything the kernel spawns stays in it.
        # (Not a preexec_fn: Python code between fork and exec can deadlock in a threaded grader.)
        args = ["/bin/sh", "-c", 'echo $$ > "$0" 2>/dev/null; exec "$@"', spec.cgroup_procs] + args
    return args


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


# ── a pids cgroup per kernel: caps fork bombs, and kills every process the kernel left behind ──
_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


def _v2_pids(base: Path) -> bool:
    """cgroup v2: the pids controller is handed down to child groups of `base`."""
    try:
        return "pids" in (base / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False


class ProcessCage:
    """A pids cgroup (v1 `pids` hierarchy or v2) holding one sandboxed kernel and all it spawns.

    ``pids.max`` stops a fork bomb; `kill_all` ends every process left in it (a background
    process that outlived its cell, a daemon that double-forked).  Where no cgroup can be made
    (no root, no delegation) `path` is None: bubblewrap's PID namespace still ends the processes
    with the kernel, but the number of processes is not capped.
    """

    def __init__(self, name: str, max_pids: int):
        self.path: Path | None = None
        for root in _CGROUP_ROOTS:
            base = Path(root)
            if not (base / "cgroup.procs").exists():
                continue
            if base.name != "pids" and not _v2_pids(base):        # v1: the `pids` hierarchy itself
                continue
            try:
                path = base / "dlcourse" / name
                path.mkdir(parents=True, exist_ok=True)
                (path / "pids.max").write_text(str(int(max_pids)))
                self.path = path
                break
            except OSError:
                continue

    def pids(self) -> list[int]:
        if self.path is None:
            return []
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self, wait: float = 5.0) -> int:
        """SIGKILL everything in the cage (repeatedly: a fork bomb forks while it is killed), remove it."""
        import signal
        import time
        if self.path is None:
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
        try:
            self.path.rmdir()
        except OSError:
            pass
        return killed
