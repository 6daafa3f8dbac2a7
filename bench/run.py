"""`make bench`: our farm against plain execution and stock nbgrader, on one batch of submissions.

The batch is the simulated class of several exercises (at least 16 submissions).  Printed:
  plain   the sum of `jupyter nbconvert --execute` times, one notebook after another, unsandboxed
  ours/1  `python -m graders autograde ... --workers 1` (sandboxed, scored, recorded)
  ours/N  the same with N grader processes (N = CPU count unless --workers)
  ours/1 and ours/N without prestarted kernels (what starting kernels ahead of need saves)
  nbgrader  stock `nbgrader autograde`, serial and unsandboxed, on the same submissions
The last line is exactly `speedup_vs_nbgrader=X efficiency=Y` with
X = nbgrader wall / ours(N) wall and Y = Σ plain / (N × ours(N) wall).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graders import PUBLIC_DIR, demo  # noqa: E402
from graders.course import load_config  # noqa: E402

# who is in the batch: every mistake of Keras, and a spread of the other exercises
BATCH = {
    "keras_mnist": None,                                         # all 8
    "pytorch_mnist": ["ref", "softmax_before_ce", "missing_zero_grad", "not_trained"],
    "transformers_pipeline": ["ref", "wrong_task", "returns_scores", "threshold_reversed"],
    "fastai_transfer": ["ref"],
    "concepts_quiz": ["ref", "partial_credit"],
}


def sh(cmd, cwd, env=None, check=True) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    took = time.perf_counter() - start
    if check and proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


def prepare(out: Path):
    root = demo.copy_course(out / "course", "import os as _os\n"
                            "SANDBOX = {**SANDBOX, 'prestart': _os.environ.get('BENCH_PRESTART', '1') == '1'}\n")
    cfg = load_config(root / "course_config.py")
    py = [sys.executable, "-m", "graders", "--config", str(root / "course_config.py")]
    env = {"PYTHONPATH": str(REPO)}
    jobs = []
    for assignment, who in BATCH.items():
        sh(py + ["release", assignment], root, env)
        everyone = demo.students(assignment)
        chosen = {s: everyone[s] for s in (who or everyone)}
        demo.submit(cfg, assignment, who=chosen)
        jobs += [(assignment, s) for s in chosen]
    return cfg, py, env, jobs


def plain_nbconvert(cfg, jobs, out: Path) -> float:
    total = 0.0
    jupyter = str(Path(sys.executable).parent / "jupyter")
    for assignment, student in jobs:
        work = out / "plain" / student / assignment
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        nb = cfg.root / "submitted" / student / assignment / f"{assignment}.ipynb"
        env = {"PYTHONPATH": str(PUBLIC_DIR), "DLCOURSE_DATA": str(cfg.public_data_dir),
               "DLCOURSE_ARTIFACTS": str(work / ".artifacts"),
               "DLCOURSE_STUDENT": student, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "1",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        total += sh([jupyter, "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                     "--ExecutePreprocessor.timeout=600", "--output-dir", str(work), str(nb)], work, env)
    return total


def ours(cfg, py, env, workers: int, prestart: bool) -> float:
    names = list(BATCH)
    return sh(py + ["autograde", *names, "--workers", str(workers), "--force", "--quiet"], cfg.root,
              {**env, "BENCH_PRESTART": "1" if prestart else "0"})


def stock_nbgrader(cfg, jobs, out: Path) -> float:
    """Stock nbgrader in its own course folder: its Execute and SaveAutoGrades, no sandbox, serial."""
    root = out / "stock"
    shutil.rmtree(root, ignore_errors=True)
    (root / "source").mkdir(parents=True)
    for assignment in BATCH:
        shutil.copytree(cfg.root / "source" / assignment, root / "source" / assignment,
                        ignore=shutil.ignore_patterns("quiz_bank.yaml"))
        for _, student in [j for j in jobs if j[0] == assignment]:
            shutil.copytree(cfg.root / "submitted" / student / assignment, root / "submitted" / student / assignment)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.Execute.timeout = 600\n")
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    env = {"PYTHONPATH": str(PUBLIC_DIR), "DLCOURSE_DATA": str(cfg.public_data_dir),
           "DLCOURSE_ARTIFACTS": str(root / ".artifacts"),
           "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    for assignment in BATCH:
        sh([nbgrader, "generate_assignment", assignment, "--force"], root, env)
    start = time.perf_counter()
    for assignment in BATCH:
        sh([nbgrader, "autograde", assignment, "--force"], root, env, check=False)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--out", default=str(REPO / "bench" / "out"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = args.workers

    cfg, py, env, jobs = prepare(out)
    print(f"batch: {len(jobs)} submissions of {len(BATCH)} exercises; N = {n} workers; {os.cpu_count()} CPUs")
    ours(cfg, py, env, n, True)                       # warm-up: caches, ledger timings for longest-first
    plain = plain_nbconvert(cfg, jobs, out)
    print(f"plain nbconvert --execute, sum: {plain:7.1f} s")
    one = ours(cfg, py, env, 1, True)
    print(f"ours, 1 worker:                 {one:7.1f} s")
    one_cold = ours(cfg, py, env, 1, False)
    print(f"ours, 1 worker, no prestart:    {one_cold:7.1f} s  (prestarted kernels save {one_cold - one:.1f} s, "
          f"{100 * (one_cold - one) / one_cold:.0f} %)")
    many = ours(cfg, py, env, n, True)
    print(f"ours, {n} workers:                {many:7.1f} s")
    cold = ours(cfg, py, env, n, False)
    print(f"ours, {n} workers, no prestart:   {cold:7.1f} s  (prestarted kernels save {cold - many:.1f} s, "
          f"{100 * (cold - many) / cold:.0f} %)")
    stock = stock_nbgrader(cfg, jobs, out)
    print(f"nbgrader autograde, serial:     {stock:7.1f} s")
    print(f"speedup_vs_nbgrader={stock / many:.2f} efficiency={plain / (n * many):.2f}")


if __name__ == "__main__":
    main()
