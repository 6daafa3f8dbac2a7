"""The scoring sandbox: measure the student's saved model as its framework runs it.

The notebook's hidden cells save the model in the framework's own format (Keras
`.keras`, PyTorch `torch.export` `.pt2`, fastai's state_dict as safetensors).  Here a
second, fresh bubblewrap sandbox — same walls as the student's kernel, but the
student's code never ran in it — loads that file and runs it on grader inputs
(hidden images, the public test set) **without labels**.  It hands back predicted
classes and facts about the outputs as JSON; the labels and every comparison stay in
the grader zone (the checks).  Whatever code rides along in a saved model can only
change predictions.

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


def run(jobs: list, artifacts: Path, datasets: dict[str, np.ndarray], settings: Settings) -> dict:
    """Run every SavedModel (graders.checks.SavedModel) in one fresh scoring sandbox.

    Returns model name -> result dict (``error`` when it failed, ``missing`` when no file).
    """
    results: dict = {}
    work = Path(tempfile.mkdtemp(prefix="dlcourse-measure-", dir=settings.work_root))
    try:
        inbox, out, runtime = work / "in", work / "out", work / "runtime"
        for d in (inbox, out, runtime):
            d.mkdir()
        scratch = sb.SCRATCH if settings.sandbox else str(work)
        todo = []
        public = sb.PUBLIC_DATA if settings.sandbox else settings.public_data
        for i, job in enumerate(jobs):
            options = {k: (f"{public}/{v[len('@public/'):]}" if isinstance(v, str) and v.startswith("@public/") else v)
                       for k, v in dict(job.options).items()}
            if not job.file:             # code, not a file (e.g. the notebook's cells for the loop probe)
                todo.append({**options, "name": job.name, "kind": job.kind, "model": None,
                             "inputs": list(job.inputs), "describe": job.describe})
                continue
            local = f"model_{i}_{job.kind}" + (".keras" if job.kind == "keras" else "")
            reason = _copy_regular(Path(artifacts) / job.file, inbox / local, int(settings.max_model_mb * 2**20))
            if reason == "missing":
                results[job.name] = {"loaded": False, "missing": True}
                continue
            if reason:
                results[job.name] = {"loaded": False, "error": f"{job.file}: {reason}"}
                continue
            todo.append({**options, "name": job.name, "kind": job.kind, "model": f"{scratch}/in/{local}",
                         "inputs": list(job.inputs), "describe": job.describe})
        if not todo:
            return results
        needed = {n for j in todo for n in j["inputs"]}
        for name in needed:
            np.save(inbox / f"data_{name}.npy", np.ascontiguousarray(datasets[name]), allow_pickle=False)
        shutil.copy(RUNNER, work / "runner.py")
        out_dir = f"{scratch}/out" if settings.sandbox else str(out)
        spec = {"jobs": todo, "out": out_dir,
                "inputs": {n: f"{scratch}/in/data_{n}.npy" for n in needed},
                "max_unpacked": int(settings.max_model_mb * 8 * 2**20)}
        (work / "job.json").write_text(json.dumps(spec))
        cmd = [sys.executable, f"{scratch}/runner.py", f"{scratch}/job.json"]
        elapsed, timed_out, code, memory_exceeded = _execute(cmd, work, out, runtime, settings)
        found = _bounded_json(out / "result.json") or {}
        for job in todo:
            got = found.get(job["name"]) if isinstance(found, dict) else None
            if isinstance(got, dict):
                results[job["name"]] = got
            elif timed_out:
                results[job["name"]] = {"loaded": False, "error": f"timeout after {settings.wall_seconds} s",
                                        "limit": True}
            elif memory_exceeded:
                results[job["name"]] = {"loaded": False, "limit": True,
                                        "error": f"used more than the memory limit of {settings.memory_gb:g} GiB"}
            else:
                results[job["name"]] = {"loaded": False, "error": f"the scoring sandbox stopped (exit {code})",
                                        "limit": code in (-9, 137, -24, 152)}
        results["_seconds"] = round(elapsed, 2)
        device = found.get("_device") if isinstance(found, dict) else None
        if isinstance(device, dict):     # where the runner ran the models (a fact for staff, not a grade)
            results["_device"] = {k: str(v)[:200] for k, v in list(device.items())[:4] if k in ("torch", "tensorflow")}
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _execute(cmd, work: Path, out: Path, runtime: Path, settings: Settings):
    env = None
    cage = None
    if settings.sandbox:
        spec = sb.SandboxSpec(scratch=work, artifacts=out, runtime=runtime,
                              public_code=Path(settings.public_code), public_data=Path(settings.public_data),
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
