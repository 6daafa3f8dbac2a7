"""Sandboxed kernels on a Dask cluster: the student-zone step of autograde, run elsewhere.

With ``--scheduler tcp://host:8786`` the grader processes still run nbgrader's
autograde, but `SandboxedExecute` sends the sanitized notebook to a Dask worker.
The worker runs it in its own sandbox (`run_notebook`) and sends back the executed
notebook and the artifacts as bytes.  Scoring, secrets and gradebook writes stay
on the grader side: workers never see hidden labels or the database.

Workers offer slots as Dask resources: ``--resources "grading=4"`` (four kernels at
once) and, on a GPU machine, ``"grading=4,GPU=<its GPUs>"``: a grading asks for one
``grading`` slot and ``1 / GPU['kernels_per_gpu']`` of a ``GPU`` (course_config.py), so
with ``kernels_per_gpu = 4`` a worker with one GPU runs four small gradings on it at
once; the worker gives each the least busy of its GPUs (farm/devices.py).
A worker needs the course checkout (the venv, `public/`, the built public
data and unlabeled grading inputs) at the same path as the grader, e.g. the same
image or a shared file system.
"""
from __future__ import annotations

import socket
import tempfile
import threading
from pathlib import Path

import nbformat

from .devices import GPU, SLOT, GpuLedger, dask_resources, visible_gpus

_CLIENTS: dict = {}
_LEDGER: list = []          # this worker's GpuLedger, made on its first GPU grading
_LEDGER_LOCK = threading.Lock()


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


def resources_for(address: str, device: str, kernels_per_gpu: int = 1) -> dict[str, float]:
    try:
        return dask_resources(device, cluster_slots(address), kernels_per_gpu, where=address)
    except ValueError as exc:
        raise ClusterProblem(str(exc)) from None


def submit(address: str, payload: dict, device: str, timeout: float, kernels_per_gpu: int = 1) -> dict:
    c = client(address)
    wanted = resources_for(address, device, kernels_per_gpu)
    payload = {**payload, "gpu_slot": GPU in wanted, "device": device}
    future = c.submit(run_notebook, payload, resources=wanted, pure=False, retries=1)
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        future.cancel()
        raise ClusterProblem(f"no result from the Dask cluster within {timeout:.0f} s") from None


# ── on the worker ───────────────────────────────────────────────────────────
def _ledger() -> GpuLedger:
    with _LEDGER_LOCK:
        if not _LEDGER:
            _LEDGER.append(GpuLedger(visible_gpus()))
        return _LEDGER[0]


def run_notebook(payload: dict) -> dict:
    """Execute one sanitized notebook in a sandbox on this worker; return it and its artifacts."""
    gpu = _ledger().take() if payload.get("gpu_slot") else None
    if gpu is None and payload.get("gpu_slot") and payload.get("device") == "cuda":
        raise ClusterProblem(f"DEVICE is 'cuda' but the Dask worker {_worker_name()} offers '{GPU}' and sees no GPU. "
                             f"Fix: start it on a GPU machine, or without '{GPU}' in its --resources")
    try:
        return _run_notebook(payload, gpu)
    finally:
        _ledger().give_back(gpu)


def _run_notebook(payload: dict, gpu: str | None) -> dict:
    from .execute import SandboxedExecute

    settings = dict(payload["settings"])
    settings["gpu"] = gpu is not None
    settings["gpu_devices"] = gpu or ""
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
