"""`make bench` (and `python bench/submit.py`): a deadline rush through the grade-on-submit service.

20 students hand in 40 notebooks over 60 s through the exchange (nbgrader's own ExchangeSubmit,
each student with a hub-like view of it: graders/watch/simulate.py): every student once at a random
moment of the first 40 s, and again 10–20 s later (a second try).  `python -m graders watch`
(--workers 2 by default) runs meanwhile as staff run it.  Measured, per submission, from the
moment `nbgrader submit` returned to the moment its feedback page is in the exchange (what the
student's Fetch Feedback would get).  Then the same 40 notebooks as one batch of
`autograde --workers 2`, for the throughput comparison.

Last line, exactly:
  submit_to_feedback_p50=… p95=… max=… lost=0 duplicates=0 throughput_vs_batch=…
  p50/p95/max   seconds over the submissions graded (a first try replaced by a second one before
                its grading started is superseded: never graded, by design, and not counted)
  first_feedback_p50   per student, from the first submission to the first feedback they can fetch
                (the median over students; printed on the line before)
  lost          submissions neither given feedback nor superseded by a newer one that was
  duplicates    gradings beyond one per submission (the queue's `graded` count)
  throughput_vs_batch   (graded / service busy time) / (40 / batch wall time)
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
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


def _first_then_second(assignment: str, n_students: int, rng: random.Random) -> list[tuple[float, str, str, str]]:
    """(second of the rush, student, which try, the simulated student whose answers it carries)."""
    kinds = list(demo.students(assignment))
    mistakes = [k for k in kinds if k != "ref"] or ["ref"]
    plan = []
    for i in range(n_students):
        student = f"s{i + 1:02d}"
        first = rng.uniform(0, 40)
        plan.append((first, student, "first", rng.choice(mistakes)))
        plan.append((first + rng.uniform(10, 20), student, "second", "ref"))
    return sorted(plan)


def _notebooks(cfg, assignment: str, student: str, kind: str) -> dict:
    import nbformat
    answers = demo.students(assignment)[kind]
    mod = demo.CLASSES[assignment]
    if hasattr(mod, "answers_for"):
        answers = mod.answers_for(student, answers)
    out = {}
    for nb in cfg.assignment(assignment).notebooks:
        release = nbformat.read(cfg.root / "release" / assignment / f"{nb}.ipynb", as_version=4)
        out[nb] = demo.fill(release, answers)
    return out


def _py(cfg):
    return [sys.executable, "-m", "graders", "--config", str(cfg.path)]


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


def rush(work: Path, assignment: str, workers: int, n_students: int, seed: int) -> dict:
    from nbgrader.utils import notebook_hash

    from graders.intake.exchange import course_paths, submission_secret
    from graders.watch.queue import Queue
    from graders.watch.simulate import SimStudent

    exchange = work / "exchange"
    root = demo.copy_course(work / "course", f"EXCHANGE_DIR = {str(exchange)!r}\n"
                            f"WATCH = {{**WATCH, 'workers': {workers}, 'poll_seconds': 1, 'max_per_hour': 6}}\n"
                            f"ASSIGNMENTS[{assignment!r}]['due'] = '2099-01-01 00:00:00+09:00'\n")
    cfg = load_config(root / "course_config.py")
    for args in (["release", assignment], ["exchange", "release", assignment]):
        subprocess.run(_py(cfg) + args, cwd=root, env=_env(), check=True, capture_output=True)
    plan = _first_then_second(assignment, n_students, random.Random(seed))
    students = {s: SimStudent(cfg, s, work / "homes" / s) for s in sorted({p[1] for p in plan})}
    prepared = {(s, which): _notebooks(cfg, assignment, s, kind) for _, s, which, kind in plan}
    feedback_dir = course_paths(cfg)["course"] / "feedback"
    notebook = cfg.assignment(assignment).notebooks[0]

    log = (work / "watch.log").open("w")
    service = subprocess.Popen(_py(cfg) + ["watch"], cwd=root, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while "watching" not in (work / "watch.log").read_text():
            if service.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start:\n{(work / 'watch.log').read_text()[-3000:]}")
            time.sleep(0.2)
        subs: list[dict] = []
        t0 = time.monotonic()
        for at, student, which, _ in plan:                        # the rush, on its schedule
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            entry = students[student].submit(assignment, prepared[(student, which)])
            secret = submission_secret(entry)
            subs.append({"student": student, "which": which, "entry": entry.name, "submitted": time.monotonic(),
                         "page": feedback_dir / f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"})
        # wait until the queue is empty, noting when each submission's feedback appears
        seen: dict[int, float] = {}
        q = Queue(cfg.db_url)
        stop = threading.Event()

        def watch_pages():
            while not stop.is_set():
                for i, s in enumerate(subs):
                    if i not in seen and s["page"].is_file() and "data-dlcourse-notice" not in s["page"].read_text("utf-8", "replace")[:4000]:
                        seen[i] = time.monotonic()
                time.sleep(0.1)

        watcher = threading.Thread(target=watch_pages, daemon=True)
        watcher.start()
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            counts = q.counts()
            if not counts.get("waiting") and not counts.get("grading") and sum(counts.values()) >= len(subs):
                break
            time.sleep(0.5)
        time.sleep(1.0)
        stop.set()
        watcher.join()
        rows = q.rows()
        q.close()
    finally:
        service.terminate()
        service.wait(timeout=120)
        log.close()

    by_entry = {r["entry"].split("/")[-1]: r for r in rows}
    graded = [s for s in subs if by_entry.get(s["entry"], {}).get("graded")]
    waits = {i: seen[i] - s["submitted"] for i, s in enumerate(subs) if i in seen and s in graded}
    superseded = {s["entry"] for s in subs if by_entry.get(s["entry"], {}).get("state") == "superseded"}
    lost = 0
    for i, s in enumerate(subs):
        if i in waits:
            continue
        newer_ok = any(j in waits for j, o in enumerate(subs) if o["student"] == s["student"] and o["submitted"] > s["submitted"])
        if not (s["entry"] in superseded and newer_ok):
            lost += 1
    duplicates = sum(max(0, r["graded"] - 1) for r in rows) + (len(rows) - len(by_entry))
    starts = [r["started_at"] for r in rows if r["started_at"]]
    ends = [r["finished_at"] for r in rows if r["graded"]]
    busy = (max(ends) - min(starts)).total_seconds() if starts and ends else float("nan")
    # what a student lives: from their first submission to the first feedback they can fetch (for
    # whichever of their submissions it is: a first try replaced before its turn is never graded)
    firsts = []
    for student in sorted({s["student"] for s in subs}):
        mine = [i for i, s in enumerate(subs) if s["student"] == student]
        got = [seen[i] for i in mine if i in waits]
        if got:
            firsts.append(min(got) - min(subs[i]["submitted"] for i in mine))
    firsts.sort()
    return {"waits": sorted(waits.values()), "first": firsts, "lost": lost, "duplicates": duplicates,
            "graded": len(graded), "superseded": len(superseded), "busy": busy, "cfg": cfg, "plan": plan,
            "prepared": prepared}


def batch(work: Path, assignment: str, workers: int, prepared: dict) -> float:
    """The same notebooks, each as its own submission, graded in one `autograde --workers N` batch."""
    import nbformat
    root = demo.copy_course(work / "batch", "")
    cfg = load_config(root / "course_config.py")
    subprocess.run(_py(cfg) + ["release", assignment], cwd=root, env=_env(), check=True, capture_output=True)
    when = dt.datetime.now(dt.timezone.utc)
    for (student, which), notebooks in prepared.items():
        folder = root / "submitted" / f"{student}{which[0]}" / assignment
        folder.mkdir(parents=True)
        for nb, node in notebooks.items():
            nbformat.write(node, folder / f"{nb}.ipynb")
        (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    start = time.monotonic()
    done = subprocess.run(_py(cfg) + ["autograde", assignment, "--workers", str(workers), "--quiet"], cwd=root,
                          env=_env(), capture_output=True, text=True)
    took = time.monotonic() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"batch autograde failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def pct(values: list[float], q: float) -> float:
    from graders.watch.queue import percentile
    return percentile(values, q) if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", default="pytorch_mnist")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None, help="the rush's schedule (default: a new one each run)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (its path is printed)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    work = Path(tempfile.mkdtemp(prefix="dlcourse-bench-submit-"))
    try:
        r = rush(work, args.assignment, args.workers, args.students, seed)
        batch_s = batch(work, args.assignment, args.workers, r["prepared"])
        n = len(r["plan"])
        throughput = (r["graded"] / r["busy"]) / (n / batch_s) if r["busy"] == r["busy"] and r["busy"] > 0 else float("nan")
        print(f"{args.assignment}: {n} submissions from {args.students} students over 60 s, seed {seed}, "
              f"--workers {args.workers}, {os.cpu_count()} cores; graded {r['graded']}, superseded {r['superseded']}; "
              f"service busy {r['busy']:.0f} s, batch of {n} {batch_s:.0f} s")
        print(f"first_feedback_p50={pct(r['first'], 50):.1f} first_feedback_max={max(r['first'], default=float('nan')):.1f}")
        print(f"submit_to_feedback_p50={pct(r['waits'], 50):.1f} p95={pct(r['waits'], 95):.1f} "
              f"max={max(r['waits'], default=float('nan')):.1f} lost={r['lost']} duplicates={r['duplicates']} "
              f"throughput_vs_batch={throughput:.2f}")
        return 0 if r["lost"] == 0 and r["duplicates"] == 0 else 1
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
