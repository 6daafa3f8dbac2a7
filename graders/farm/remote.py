"""Sandboxed kernels on a Dask cluster: the student-zone step of autograde, run elsewhere.

With ``--scheduler tcp://host:8786`` the grader processes still run nbgrader's
autograde, but `SandboxedExecute` sends the sanitized notebook to a Dask worker.
The worker runs it in its own sandbox (`run_notebook`) and sends back the executed
notebook and the artifacts as bytes.  Scoring, secrets and gradebook writes stay
on the grader side: workers never see hidden labels or the database.

Workers offer slots as Dask resources: ``--resources "grading=4"`` (four kernels at
once) and, on a GPU machine, ``"grading=4,GPU=4"`` so four small gradings share
one GPU.  A worker needs the course checkout (the venv, `public/`, the built public
data and unlabeled grading inputs) at the same path as the grader, e.g. the same
image or a shared file system.
"""
from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import nbformat

_CLIENTS: dict = {}
SLOT = "grading"
GPU = "GPU"


class ClusterProblem(RuntimeError):
    pass


def client(address: str):
    from distributed import Client

    if address not in _CLIENTS:
        try:
            _CLIENTS[address] = Client(address, timeout="20s", set_as_default=False)
        except OSError as exc:
            raise ClusterProblem(f"cannot reach the Dask scheduler at {address} ({exc}). Fix: start it with "
                                 "`dask scheduler` and check the address") from None
    return _CLIENTS[address]


def cluster_slots(address: str) -> dict[str, float]:
    """Total resources the cluster's workers offer, e.g. {'grading': 4, 'GPU': 2}."""
    info = client(address).scheduler_info()
    total: dict[str, float] = {}
    for worker in info.get("workers", {}).values():
        for name, n in (worker.get("resources") or {}).items():
            total[name] = total.get(name, 0) + n
    return total


def resources_for(address: str, device: str) -> dict[str, int]:
    slots = cluster_slots(address)
    if not slots.get(SLOT):
        raise ClusterProblem(f"no Dask worker at {address} offers '{SLOT}' slots. Fix: start workers with "
                             f"`dask worker {address} --resources \"{SLOT}=N\"`")
    wanted = {SLOT: 1}
    if device == "cuda" or (device == "auto" and slots.get(GPU)):
        if not slots.get(GPU):
            raise ClusterProblem(f"DEVICE is 'cuda' but no worker at {address} offers '{GPU}' slots. Fix: start "
                                 f"GPU workers with --resources \"{SLOT}=N,{GPU}=N\" or set DEVICE = 'auto'")
        wanted[GPU] = 1
    return wanted


def submit(address: str, payload: dict, device: str, timeout: float) -> dict:
    c = client(address)
    payload = {**payload, "gpu_slot": GPU in (wanted := resources_for(address, device))}
    future = c.submit(run_notebook, payload, resources=wanted, pure=False, retries=1)
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        future.cancel()
        raise ClusterProblem(f"no result from the Dask cluster within {timeout:.0f} s") from None


# ── on the worker ───────────────────────────────────────────────────────────
def _has_gpu() -> bool:
    return any(p.name[6:].isdigit() for p in Path("/dev").glob("nvidia*"))


def run_notebook(payload: dict) -> dict:
    """Execute one sanitized notebook in a sandbox on this worker; return it and its artifacts."""
    from .execute import SandboxedExecute

    settings = dict(payload["settings"])
    settings["gpu"] = bool(payload.get("gpu_slot")) and _has_gpu()
    cap = int(payload.get("max_artifact_bytes", 64 * 2**20))
    nb = nbformat.reads(payload["nb"], as_version=4)
    with tempfile.TemporaryDirectory(prefix="dlcourse-remote-") as root:
        ex = SandboxedExecute(work_root=root, **settings)
        resources = {"nbgrader": {"student": payload.get("student", "")}, "metadata": {"path": root}}
        nb, resources = ex.preprocess(nb, resources)
        run = resources["dlcourse"]
        artifacts = {}
        for path in sorted(Path(run["artifacts"]).iterdir()):
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= cap:
                artifacts[path.name] = path.read_bytes()
        return {"nb": nbformat.writes(nb), "artifacts": artifacts, "status": run["status"],
                "worker": _worker_name(), "gpu": settings["gpu"]}


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()
