"""Where student code may run: the DEVICE policy, GPU shares per grader process, the sandbox's GPU binds.

Every decision here is a plain function of what it is given (the environment, a /dev folder,
library folders, `ldconfig -p` text), so tests can ask it about a machine with four GPUs on one
without any.  The callers pass the real machine:

- `visible_gpus`: the GPUs this process may use: the NVIDIA device nodes in /dev
  (``/dev/nvidia0``, ``/dev/nvidia1``, ...), narrowed by ``CUDA_VISIBLE_DEVICES`` when it is set
  (``""`` or ``-1``: none).
- `gpu_wanted`: the DEVICE policy.  ``cpu``: never.  ``auto``: when a GPU is visible.  ``cuda``: a
  GPU must be visible, or every command that would run student code stops with `gpu_missing_message`.
- `slot_devices`: which GPU each grader process gets (its ``CUDA_VISIBLE_DEVICES``): round robin,
  at most ``kernels_per_gpu`` processes per GPU.  Processes past that share run on the CPU
  (``auto``) or stop the batch with a clear error (``cuda``).
- `dask_resources`: what one grading asks of a Dask worker: one ``grading`` slot and, for the GPU,
  ``1 / kernels_per_gpu`` of the worker's ``GPU`` resource (a worker offers ``GPU=<its GPUs>``).
- `gpu_binds`: the bubblewrap arguments that lend the GPU to a sandbox: the NVIDIA device nodes (the
  run's private copies, see `copy_nodes`) and the driver libraries outside /usr, read-only; none at all
  when the GPU is not wanted.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

POLICIES = ("auto", "cpu", "cuda")
_GPU_NODE = re.compile(r"^nvidia(\d+)$")
# the nodes CUDA opens besides one per GPU: control, unified memory, MIG capabilities, modeset (display)
_SHARED_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
_CAPS_DIR = "nvidia-caps"
# user-space driver libraries (libcuda and the libraries it loads; nvidia-smi's libnvidia-ml)
_DRIVER_LIB = re.compile(r"^(libcuda\.so|libcudadebugger\.so|libnvidia-[a-z0-9-]+\.so|libnvcuvid\.so)(\.[0-9.]*)?$")
# where drivers put them outside the dynamic linker's cache (containers, cloud images, WSL)
DRIVER_DIRS = ("/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib", "/run/nvidia/driver/usr/lib64",
               "/usr/lib64/nvidia", "/usr/lib/x86_64-linux-gnu/nvidia/current")
_NO_DEVICES = ("", "-1", "none", "nodevfiles", "void")

_MESSAGES = {
    "gpu_missing": {
        "ko": "{path}: DEVICE가 'cuda'인데 이 컴퓨터에서 보이는 NVIDIA GPU가 없습니다 ({why}). "
              "Fix: GPU가 있는 채점 서버에서 실행하거나 DEVICE = 'auto' 또는 'cpu'로 바꾸세요. "
              "(DEVICE is 'cuda' but no NVIDIA GPU is visible here.)",
        "en": "{path}: setting DEVICE: 'cuda' but no NVIDIA GPU is visible here ({why}). "
              "Fix: run on a GPU machine, or use DEVICE = 'auto' or 'cpu'",
    },
    "gpu_share": {
        "ko": "{path}: DEVICE가 'cuda'인데 채점 프로세스 {workers}개에 GPU 자리가 {slots}개뿐입니다 "
              "(GPU {gpus}개 × GPU['kernels_per_gpu'] {share}). Fix: --workers를 {slots} 이하로 줄이거나 "
              "GPU['kernels_per_gpu']를 늘리세요. (more grader processes than GPU slots)",
        "en": "{path}: setting DEVICE: 'cuda' with {workers} grader processes but only {slots} GPU slots "
              "({gpus} GPUs × GPU['kernels_per_gpu'] {share}). Fix: give --workers {slots} or fewer, or raise "
              "GPU['kernels_per_gpu']",
    },
}


def message(key: str, language: str = "ko", **values) -> str:
    table = _MESSAGES[key]
    return table.get(language, table["en"]).format(**values)


# ── which GPUs ──────────────────────────────────────────────────────────────
def gpu_nodes(dev: str | os.PathLike = "/dev") -> list[str]:
    """The per-GPU device nodes' numbers in `dev` ('0', '1', ...), in numeric order."""
    try:
        names = os.listdir(dev)
    except OSError:
        return []
    found = [m.group(1) for m in map(_GPU_NODE.match, names) if m]
    return sorted(found, key=int)


def visible_gpus(env: dict | None = None, dev: str | os.PathLike = "/dev") -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries: none without a device node;
    with CUDA_VISIBLE_DEVICES set, its entries (numbers or GPU-UUIDs, '' or -1: none); else every node."""
    env = os.environ if env is None else env
    nodes = gpu_nodes(dev)
    if not nodes:
        return []
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return nodes
    if listed.strip().lower() in _NO_DEVICES:
        return []
    out = []
    for entry in listed.split(","):
        entry = entry.strip()
        if not entry or entry == "-1":
            break                    # CUDA stops at the first invalid entry
        out.append(entry)
    return out


def why_no_gpu(env: dict | None = None, dev: str | os.PathLike = "/dev") -> str:
    env = os.environ if env is None else env
    if not gpu_nodes(dev):
        return f"no /dev/nvidia<N> device in {dev}"
    return f"CUDA_VISIBLE_DEVICES={env.get('CUDA_VISIBLE_DEVICES', '')!r} hides every GPU"


def gpu_wanted(device: str, *, path="course_config.py", language: str = "ko", env: dict | None = None,
               dev: str | os.PathLike = "/dev") -> bool:
    """The DEVICE policy: does student code (kernel and scoring sandbox) get the GPU here?
    'cuda' without a visible GPU raises ConfigError with `gpu_missing_message`."""
    from ..config import ConfigError

    if device not in POLICIES:
        raise ConfigError(f"{path}: setting DEVICE: {device!r} is not a device policy. Fix: use 'auto', 'cpu' or 'cuda'")
    if device == "cpu":
        return False
    has = bool(visible_gpus(env, dev))
    if device == "cuda" and not has:
        raise ConfigError(message("gpu_missing", language, path=path, why=why_no_gpu(env, dev)))
    return has


# ── one GPU (or a share of one) per grader process ─────────────────────────
def slot_devices(device: str, workers: int, gpus: list[str], kernels_per_gpu: int = 1, *,
                 path="course_config.py", language: str = "ko") -> list[str | None]:
    """CUDA_VISIBLE_DEVICES of each grader process slot: a GPU id, '' (the CPU: no GPU for this process)
    or None (policy 'cpu': leave the environment alone).

    GPUs are dealt round robin so that the load spreads before any GPU takes a second process; a GPU
    takes at most `kernels_per_gpu` processes.  Past that, 'auto' grades on the CPU and 'cuda' refuses."""
    from ..config import ConfigError

    if device == "cpu":
        return [None] * workers
    if not gpus:
        if device == "cuda":
            raise ConfigError(message("gpu_missing", language, path=path, why="no GPU to hand out"))
        return [None] * workers
    slots = len(gpus) * max(1, int(kernels_per_gpu))
    if device == "cuda" and workers > slots:
        raise ConfigError(message("gpu_share", language, path=path, workers=workers, slots=slots, gpus=len(gpus),
                                  share=kernels_per_gpu))
    return [gpus[i % len(gpus)] if i < slots else "" for i in range(workers)]


class GpuLedger:
    """On a Dask worker: which of its GPUs a grading uses, the least busy one, at most `kernels_per_gpu`
    at once each (the scheduler's fractional 'GPU' resource already keeps the total within that)."""

    def __init__(self, gpus: list[str]):
        import threading
        self.busy = {g: 0 for g in gpus}
        self._lock = threading.Lock()

    def take(self) -> str | None:
        with self._lock:
            if not self.busy:
                return None
            gpu = min(self.busy, key=lambda g: (self.busy[g], list(self.busy).index(g)))
            self.busy[gpu] += 1
            return gpu

    def give_back(self, gpu: str | None) -> None:
        with self._lock:
            if gpu in self.busy and self.busy[gpu] > 0:
                self.busy[gpu] -= 1


# ── Dask ────────────────────────────────────────────────────────────────────
SLOT = "grading"
GPU = "GPU"


def dask_resources(device: str, offered: dict, kernels_per_gpu: int = 1, where: str = "the cluster") -> dict:
    """What one grading asks of the cluster, given the resources its workers offer in total.
    Raises ValueError with the fix when the cluster cannot run it."""
    if not offered.get(SLOT):
        raise ValueError(f"no Dask worker at {where} offers '{SLOT}' slots. Fix: start workers with "
                         f"`dask worker {where} --resources \"{SLOT}=N\"`")
    wanted: dict = {SLOT: 1}
    if device == "cuda" or (device == "auto" and offered.get(GPU)):
        if not offered.get(GPU):
            raise ValueError(f"DEVICE is 'cuda' but no worker at {where} offers '{GPU}'. Fix: start GPU workers with "
                             f"--resources \"{SLOT}=N,{GPU}=<number of GPUs>\" or set DEVICE = 'auto'")
        wanted[GPU] = 1 / max(1, int(kernels_per_gpu))
    return wanted


# ── the sandbox's GPU ───────────────────────────────────────────────────────
def ldconfig_text() -> str:
    for exe in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            return subprocess.run([exe, "-p"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return ""


def driver_libraries(ldconfig: str = "", dirs=DRIVER_DIRS, env: dict | None = None) -> list[str]:
    """Paths of the NVIDIA user-space driver libraries: from `ldconfig -p` output, from known driver
    folders and from LD_LIBRARY_PATH's folders."""
    env = os.environ if env is None else env
    found: list[str] = []
    for line in ldconfig.splitlines():
        if "=>" not in line:
            continue
        name, target = line.split("=>", 1)
        name = name.strip().split(" ", 1)[0]
        if _DRIVER_LIB.match(name):
            found.append(target.strip())
    folders = list(dirs) + [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d]
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found += [os.path.join(folder, n) for n in names if _DRIVER_LIB.match(n)]
    return list(dict.fromkeys(p for p in found if os.path.exists(p)))


def _covered(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def gpu_node_names(dev: str | os.PathLike = "/dev") -> list[str]:
    """The NVIDIA nodes of `dev` a CUDA program opens: one per GPU, control, unified memory, modeset."""
    try:
        names = set(os.listdir(dev))
    except OSError:
        return []
    per_gpu = sorted((n for n in names if _GPU_NODE.match(n)), key=lambda n: int(n[6:]))
    return per_gpu + [n for n in _SHARED_NODES if n in names]


def copy_nodes(dev: str | os.PathLike, into: str | os.PathLike) -> Path | None:
    """Private copies of `dev`'s NVIDIA nodes (same device numbers and modes) in `into`, for one sandbox.

    Why copies: bubblewrap can bind a device node only read-write (its --remount-ro adds nodev, and the
    node then cannot be opened; measured), and inside the sandbox the host's root-owned files belong to
    the sandbox user, so a student could chmod or touch the host's /dev/nvidia0 through a direct bind.
    A copy lives in the run's own folder: whatever is done to it is gone with the run.  None where copies
    cannot be made (mknod needs root; a folder on a nodev mount cannot hold usable nodes): the caller
    then binds the host's nodes themselves."""
    import stat as st_

    into = Path(into)
    try:
        into.mkdir(exist_ok=True)
        if os.statvfs(into).f_flag & getattr(os, "ST_NODEV", 4):
            return None
        names = [(n, Path(dev) / n) for n in gpu_node_names(dev)]
        caps = Path(dev) / _CAPS_DIR
        if caps.is_dir():
            (into / _CAPS_DIR).mkdir(exist_ok=True)
            names += [(f"{_CAPS_DIR}/{c.name}", c) for c in sorted(caps.iterdir())]
        for name, src in names:
            info = os.stat(src)
            if not st_.S_ISCHR(info.st_mode):
                continue
            os.mknod(into / name, st_.S_IFCHR | 0o600, info.st_rdev)
            os.chmod(into / name, st_.S_IMODE(info.st_mode))
        return into
    except OSError:
        return None


def gpu_binds(wanted: bool, dev: str | os.PathLike = "/dev", libraries: list[str] | None = None,
              nodes_from: str | os.PathLike | None = None,
              bound=("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")) -> list[str]:
    """bubblewrap arguments lending the GPU to one sandbox; nothing at all when the GPU is not wanted.

    - each NVIDIA node of `dev` (one per GPU, nvidiactl, nvidia-uvm, ...) and the MIG capability folder
      at /dev/<name>, taken from `nodes_from` (the run's private copies, see copy_nodes) when given, else
      from `dev` itself; a device bind (a node must be opened read-write to drive the GPU);
    - each driver library outside the trees the sandbox already binds read-only (`bound`: /usr, /lib...)
      at its own path, read-only."""
    if not wanted:
        return []
    src = Path(nodes_from) if nodes_from is not None else Path(dev)
    args: list[str] = []
    for name in gpu_node_names(dev):
        if (src / name).exists():
            args += ["--dev-bind", str(src / name), f"/dev/{name}"]
    if (Path(dev) / _CAPS_DIR).is_dir() and (src / _CAPS_DIR).is_dir():
        args += ["--dev-bind", str(src / _CAPS_DIR), f"/dev/{_CAPS_DIR}"]
    for lib in libraries or ():
        if not _covered(lib, bound):
            args += ["--ro-bind", lib, lib]
    return args


def gpu_library_path(libraries: list[str] | None, bound=("/usr", "/lib", "/lib64", "/lib32")) -> str:
    """LD_LIBRARY_PATH for the sandboxed kernel: the folders of driver libraries the dynamic linker's cache
    may not know (those outside the system trees), '' when there are none."""
    folders = [os.path.dirname(p) for p in libraries or () if not _covered(p, bound)]
    return ":".join(dict.fromkeys(folders))


def _machine_libraries() -> tuple[list[str], str]:
    global _MACHINE
    if _MACHINE is None:
        libs = driver_libraries(ldconfig_text())
        _MACHINE = (libs, gpu_library_path(libs))
    return _MACHINE


def machine_library_path() -> str:
    """LD_LIBRARY_PATH for a kernel with the GPU: driver folders outside the system trees ('' if none)."""
    return _machine_libraries()[1]


def machine_gpu_binds(wanted: bool, private: str | os.PathLike | None = None) -> tuple[list[str], str]:
    """This machine's GPU binds for one sandbox (node copies in a new folder under the existing folder
    `private`, where they can be made) and the kernel's LD_LIBRARY_PATH; the driver libraries are looked
    up once per process."""
    if not wanted:
        return [], ""
    libs, path = _machine_libraries()
    copies = None
    if private is not None and gpu_node_names("/dev"):
        import tempfile
        try:
            copies = copy_nodes("/dev", tempfile.mkdtemp(prefix="gpu-nodes-", dir=private))
        except OSError:
            copies = None
    return gpu_binds(True, "/dev", libs, nodes_from=copies), path


_MACHINE: tuple | None = None


def gpu_names(timeout: float = 20) -> list[str]:
    """GPU names as nvidia-smi lists them (empty without nvidia-smi or a GPU)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []
