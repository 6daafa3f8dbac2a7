"""`make gpu-check`: grade every exercise on the GPU and on the CPU, and prove the GPU did the work.

For each exercise (the quiz runs no model: left out unless --only names it) the reference student and the
first two mistake students of graders/exercises/<name>/students.py are graded through the real CLI
(`python -m graders autograde`, sandboxed) in two throw-away courses: DEVICE = "cuda" and DEVICE = "cpu".
The two batches of an exercise run side by side.  Printed per exercise:

  GPU       the GPU's name (nvidia-smi; else what torch/TensorFlow in the scoring sandbox reported)
  used      the evidence that student code ran on it: every graded run had the GPU lent (checks.json
            run.gpu, CUDA_VISIBLE_DEVICES), and nvidia-smi, sampled while the cuda batch ran, saw GPU
            memory rise or compute processes
  grades    each student's points on cuda and on cpu (must be equal, check by check)
  time      wall time of each batch, and Σ of kernel + scoring seconds of its submissions

Exit status: 0 when every exercise's grades are equal and the GPU was used for each; 1 otherwise; 2 at once
when no GPU is visible (nothing to check) or TensorFlow/torch cannot see it (run `make gpu` first).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graders import demo  # noqa: E402
from graders.course import load_config  # noqa: E402
from graders.farm import devices  # noqa: E402

STUDENTS = 3                      # the reference and the first two mistakes
MEMORY_RISE_MB = 64               # GPU memory above the idle level that counts as use (a CUDA context: ≥ 250 MB)


# ── what the machine has ────────────────────────────────────────────────────
def framework_gpus() -> dict:
    """What torch and TensorFlow in this venv see (a fresh process: the grader's own stays off the GPU)."""
    code = ("import json, os\nout = {}\n"
            "try:\n import torch\n out['torch'] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ''\n"
            "except Exception as e:\n out['torch_error'] = repr(e)[:300]\n"
            "try:\n import tensorflow as tf\n out['tensorflow'] = [d.name for d in tf.config.list_physical_devices('GPU')]\n"
            " out['tf_cuda_build'] = tf.test.is_built_with_cuda()\n"
            "except Exception as e:\n out['tensorflow_error'] = repr(e)[:300]\n"
            "print(json.dumps(out))\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": proc.stderr[-500:]}


class GpuSampler:
    """nvidia-smi every half second while a batch runs: peak memory above the level before, peak
    utilisation, compute processes seen."""

    def __init__(self):
        self.base = self._memory()
        self.peak_mb = 0
        self.peak_util = 0
        self.apps: set = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _query(args) -> list[list[str]]:
        try:
            out = subprocess.run(["nvidia-smi", *args, "--format=csv,noheader,nounits"], capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return []
        return [[c.strip() for c in line.split(",")] for line in out.stdout.splitlines() if line.strip()]

    def _memory(self) -> dict:
        rows = self._query(["--query-gpu=index,memory.used,utilization.gpu"])
        return {r[0]: (int(float(r[1])), int(float(r[2]))) for r in rows if len(r) == 3 and r[1].replace(".", "").isdigit()}

    def _run(self):
        while not self._stop.wait(0.5):
            for gpu, (mem, util) in self._memory().items():
                self.peak_mb = max(self.peak_mb, mem - self.base.get(gpu, (0, 0))[0])
                self.peak_util = max(self.peak_util, util)
            for row in self._query(["--query-compute-apps=pid,process_name,used_memory"]):
                if len(row) == 3:
                    self.apps.add(os.path.basename(row[1]))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def used(self) -> bool:
        return self.peak_mb >= MEMORY_RISE_MB or bool(self.apps)

    def describe(self) -> str:
        apps = f", processes: {', '.join(sorted(self.apps))[:60]}" if self.apps else ""
        return f"+{self.peak_mb} MiB, util ≤ {self.peak_util} %{apps}"


# ── one course per device ───────────────────────────────────────────────────
def make_course(out: Path, device: str, exercises: list[str], workers: int):
    extra = (f"DEVICE = {device!r}\n"
             f"GPU = {{'kernels_per_gpu': {workers}}}\n"     # all of one batch's grader processes on one GPU
             "SANDBOX = {**SANDBOX, 'prestart': False}\n")
    root = demo.copy_course(out / device, extra)
    cfg = load_config(root / "course_config.py")
    chosen = {}
    for name in exercises:
        subprocess.run(cli(root) + ["release", name], cwd=root, check=True, capture_output=True, env=_env())
        everyone = demo.students(name)
        who = list(everyone)[:STUDENTS]
        demo.submit(cfg, name, who={s: everyone[s] for s in who})
        chosen[name] = who
    return cfg, chosen


def cli(root: Path) -> list[str]:
    return [sys.executable, "-m", "graders", "--config", str(root / "course_config.py")]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def grade(cfg, exercise: str, workers: int) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(cli(cfg.root) + ["autograde", exercise, "--workers", str(workers), "--quiet", "--force"],
                          cwd=cfg.root, capture_output=True, text=True, env=_env())
    wall = time.perf_counter() - start
    results, runs = {}, {}
    for path in sorted((cfg.root / "autograded").glob(f"*/{exercise}/*.checks.json")):
        data = json.loads(path.read_text())
        results[data["student"]] = {r["check"]: r.get("score") for cell in data["cells"].values() for r in cell}
        runs[data["student"]] = data.get("run") or {}
    seconds = sum((r.get("seconds") or 0) + (r.get("measure_seconds") or 0) for r in runs.values())
    return {"rc": proc.returncode, "stderr": proc.stderr[-1500:], "wall": wall, "seconds": seconds,
            "points": results, "runs": runs}


def compare(a: dict, b: dict, students: list[str]) -> list[str]:
    """Differences in points, check by check (a student missing on one side is a difference too)."""
    out = []
    for s in students:
        pa, pb = a["points"].get(s), b["points"].get(s)
        if pa is None or pb is None:
            out.append(f"{s}: not graded on {'the first' if pa is None else 'the second'} device")
            continue
        for check in sorted(set(pa) | set(pb)):
            if pa.get(check) != pb.get(check):
                out.append(f"{s}.{check}: {pa.get(check)} vs {pb.get(check)}")
    return out


def total(points: dict | None) -> str:
    if not points:
        return "—"
    return f"{sum(v or 0 for v in points.values()):g}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", action="append", help="an exercise (repeat); default: every exercise but the quiz")
    p.add_argument("--workers", type=int, default=STUDENTS, help="grader processes per batch (default 3)")
    p.add_argument("--devices", default="cuda,cpu",
                   help="the two DEVICE policies compared (default cuda,cpu; 'auto,cpu' checks this script on a "
                        "machine without a GPU: it then ends with 'GPU not used')")
    p.add_argument("--keep", type=Path, help="keep the two courses in this folder")
    p.add_argument("--frameworks", action="store_true",
                   help="only say whether torch and TensorFlow see a GPU (exit 0 when both do; make gpu runs it)")
    args = p.parse_args(argv)
    if args.frameworks:
        seen = framework_gpus()
        print(f"torch: {seen.get('torch') or seen.get('torch_error') or 'no GPU'} | TensorFlow: "
              f"{seen.get('tensorflow') or seen.get('tensorflow_error') or 'no GPU'} "
              f"(built with CUDA: {seen.get('tf_cuda_build')})")
        return 0 if seen.get("torch") and seen.get("tensorflow") else 1
    first, second = args.devices.split(",")
    started = time.perf_counter()

    gpus = devices.visible_gpus()
    names = devices.gpu_names()
    if first == "cuda" or second == "cuda":
        if not gpus:
            print(f"gpu-check: no NVIDIA GPU is visible here ({devices.why_no_gpu()}); nothing to check. "
                  "Run it on a GPU machine (make gpu-check).", file=sys.stderr)
            return 2
        seen = framework_gpus()
        print(f"GPUs: {', '.join(names) or gpus}  | torch: {seen.get('torch') or seen.get('torch_error') or 'no GPU'}"
              f"  | TensorFlow: {seen.get('tensorflow') or seen.get('tensorflow_error') or 'no GPU'}")
        if not seen.get("torch") or not seen.get("tensorflow"):
            print("gpu-check: torch or TensorFlow does not see the GPU. Fix: make gpu (installs the TensorFlow "
                  "with CUDA next to torch; see docs/gpu.md)", file=sys.stderr)
            return 2

    cfg0 = load_config(REPO / "course_config.py")
    exercises = args.only or [n for n, a in cfg0.assignments.items() if a.kind != "quiz" and n in demo.CLASSES]
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dlcourse-gpu-check-"))
    out.mkdir(parents=True, exist_ok=True)
    cfg_a, chosen = make_course(out, first, exercises, args.workers)
    cfg_b, _ = make_course(out, second, exercises, args.workers)
    print(f"set-up: {time.perf_counter() - started:.0f} s; courses in {out}")

    failed = []
    rows = []
    for name in exercises:
        got = {}

        def run(key, cfg):
            got[key] = grade(cfg, name, args.workers)

        other = threading.Thread(target=run, args=("b", cfg_b))
        with GpuSampler() as sampler:
            other.start()
            run("a", cfg_a)
            other.join()
        a, b = got["a"], got["b"]
        diffs = compare(a, b, chosen[name])
        lent = [r.get("gpu") is True and r.get("cuda_visible_devices") not in ("", None) for r in a["runs"].values()]
        measured = {k: v for r in a["runs"].values() for k, v in ((r.get("measure_device") or {}).items()) if k != "gpu"}
        gpu_name = names[0] if names else next((v for v in measured.values() if v and v != "cpu"), "—")
        used = bool(lent) and all(lent) and sampler.used()
        for key, res in (("a", a), ("b", b)):
            if res["rc"] not in (0, 1):
                failed.append(f"{name}: autograde on {first if key == 'a' else second} exited {res['rc']}: "
                              f"{res['stderr'][-300:]}")
        if diffs:
            failed.append(f"{name}: grades differ between {first} and {second}: " + "; ".join(diffs[:8]))
        if not used:
            failed.append(f"{name}: the GPU was not used on {first} (lent to {sum(lent)}/{len(lent)} runs; "
                          f"nvidia-smi: {sampler.describe()})")
        rows.append((name, gpu_name, "yes" if used else "NO", sampler.describe(), measured,
                     {s: (total(a["points"].get(s)), total(b["points"].get(s))) for s in chosen[name]},
                     (a["wall"], a["seconds"]), (b["wall"], b["seconds"]), "equal" if not diffs else "DIFFER"))

    print()
    for name, gpu_name, used, evidence, measured, grades, ta, tb, same in rows:
        print(f"{name}")
        print(f"  GPU: {gpu_name}   used on {first}: {used} ({evidence})   scoring sandbox: {measured or '—'}")
        print("  grades " + "  ".join(f"{s} {x}/{y}" for s, (x, y) in grades.items()) + f"  ({first}/{second}): {same}")
        print(f"  time  {first}: {ta[0]:.1f} s wall, Σ {ta[1]:.1f} s per submission   "
              f"{second}: {tb[0]:.1f} s wall, Σ {tb[1]:.1f} s per submission")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if not args.keep:
        import shutil
        shutil.rmtree(out, ignore_errors=True)
    if failed:
        print("\ngpu-check FAILED:", file=sys.stderr)
        for line in failed:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print("gpu-check passed: equal grades on both devices, and the GPU did the work")
    return 0


if __name__ == "__main__":
    sys.exit(main())
