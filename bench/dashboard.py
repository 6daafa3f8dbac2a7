"""`make bench-dashboard`: how long the staff dashboard and the CSV export take for a big class.

A temporary SQLite gradebook is filled with 300 students × the course's 5 assignments
(their real notebooks, graded cells and check names, points from course_config.py):
realistic random scores from a per-student ability and a per-check difficulty, some
submissions missing and some late, one check row per check.  Rows go in with bulk
INSERTs.  Then timed, each the median of --repeat runs:
  load      reading the gradebook into dataclasses
  build     the whole HTML page (load + analysis + plots + Jinja2 render)
  csv       the CSV export (load + write)
  cached    a `serve` request when nothing changed (load + fingerprint, no render)
The last line is exactly `dashboard_build_s=X csv_s=Y` for scripts.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graders.course import load_config  # noqa: E402


def _uuid() -> str:
    return uuid.uuid4().hex


def fill(cfg, db_url: str, n_students: int, seed: int = 6) -> dict:
    """Schema through nbgrader's Gradebook, then every submission, grade and check row in bulk."""
    from nbgrader.api import Gradebook, Grade, Student, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import insert

    from graders.gradebook import check_results, ensure_check_table

    rng = random.Random(seed)
    plan = {}                                    # assignment -> (due, notebook -> [(cell id, [(check, points)])])
    with Gradebook(db_url, course_id=cfg.course_id) as gb:
        for name, a in cfg.assignments.items():
            gb.update_or_create_assignment(name, duedate=a.due, course_id=cfg.course_id)
            scorer = cfg.scorer(name)
            gb.update_or_create_notebook(scorer.notebook, name)
            cells = []
            for cell in scorer.cells:
                checks = [(c.name, float(a.points[c.name])) for c in cell.checks]
                gb.update_or_create_grade_cell(cell.grade_id, scorer.notebook, name,
                                               max_score=sum(p for _, p in checks), cell_type="code")
                cells.append((cell.grade_id, checks))
            plan[name] = (gb.find_assignment(name), gb.find_notebook(scorer.notebook, name), cells)
        ids = {name: (asg.id, nb.id, nb.name, {c.name: c.id for c in nb.grade_cells})
               for name, (asg, nb, _) in plan.items()}
        engine = gb.engine
        ensure_check_table(engine)
        dues = {name: gb.find_assignment(name).duedate for name in plan}

    students = [f"s{i:04d}" for i in range(1, n_students + 1)]
    ability = {s: rng.betavariate(5, 2) for s in students}          # most students good, a tail struggling
    difficulty = {(name, check): rng.uniform(-0.25, 0.35)
                  for name, (_, _, cells) in plan.items() for _, checks in cells for check, _ in checks}
    rows = {"student": [{"id": s} for s in students], "sub": [], "nb": [], "grade": [], "check": []}
    recorded = dt.datetime(2026, 12, 21)
    for k, (name, (_, _, cells)) in enumerate(plan.items()):
        aid, nbid, nb_name, cell_ids = ids[name]
        for s in students:
            if rng.random() < 0.04 + 0.04 * k + (0.25 if ability[s] < 0.35 else 0):
                continue                                            # missing, more so later and for the weak
            late = rng.random() < 0.07
            offset = dt.timedelta(hours=rng.uniform(1, 72)) if late else -dt.timedelta(hours=rng.uniform(0.5, 240))
            sid, snid = _uuid(), _uuid()
            rows["sub"].append({"id": sid, "assignment_id": aid, "student_id": s, "timestamp": dues[name] + offset})
            rows["nb"].append({"id": snid, "assignment_id": sid, "notebook_id": nbid, "late_submission_penalty": 0.0})
            position = 0
            for grade_id, checks in cells:
                total = 0.0
                for check, points in checks:
                    p = 1 / (1 + math.exp(-8 * (ability[s] - 0.45 - difficulty[(name, check)])))
                    if rng.random() < p:
                        score = points
                    elif "accuracy" in check or "evaluated" in check:
                        score = round(points * rng.uniform(0, 0.9), 2)      # partial credit
                    else:
                        score = 0.0
                    total += score
                    rows["check"].append({"student": s, "assignment": name, "notebook": nb_name, "grade_cell": grade_id,
                                          "check_name": check, "position": position, "score": score,
                                          "max_score": points, "passed": score >= points, "recorded_at": recorded})
                    position += 1
                rows["grade"].append({"id": _uuid(), "notebook_id": snid, "cell_id": cell_ids[grade_id],
                                      "auto_score": total, "needs_manual_grade": False})
    with engine.begin() as conn:
        conn.execute(insert(Student.__table__), rows["student"])
        conn.execute(insert(SubmittedAssignment.__table__), rows["sub"])
        conn.execute(insert(SubmittedNotebook.__table__), rows["nb"])
        conn.execute(insert(Grade.__table__), rows["grade"])
        conn.execute(insert(check_results), rows["check"])
    return {k: len(v) for k, v in rows.items()} | {"last_due": max(dues.values())}


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=300)
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is printed)")
    p.add_argument("--keep", metavar="DIR", help="write the gradebook, page and CSV here and keep them")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")

    from graders.dashboard.analysis import build
    from graders.dashboard.data import load
    from graders.dashboard.export import write_csv
    from graders.dashboard.plots import cjk_font
    from graders.dashboard.report import build_html, render, write
    from graders.dashboard.serve import DashboardServer

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dlcourse-bench-dash-"))
    base.mkdir(parents=True, exist_ok=True)
    db = base / "gradebook.db"
    db.unlink(missing_ok=True)
    cfg = dataclasses.replace(load_config(), db_url=f"sqlite:///{db}")

    t0 = time.perf_counter()
    counts = fill(cfg, cfg.db_url, args.students)
    fill_s = time.perf_counter() - t0
    now = counts.pop("last_due") + dt.timedelta(days=2)          # every due date passed: missing work counts
    print(f"gradebook: {counts['student']} students × {len(cfg.assignments)} assignments, "
          f"{counts['sub']} submissions, {counts['grade']} graded cells, {counts['check']} check rows "
          f"(filled in {fill_s:.2f} s)" + (f" → {db}" if args.keep else ""))

    cjk_font()                                                    # font discovery once, not timed
    build_html(cfg, now=now)                                      # warm-up: imports, templates
    load_s, data = timed(lambda: load(cfg), args.repeat)
    analysis_s, board = timed(lambda: build(data, now=now), args.repeat)
    render_s, html = timed(lambda: render(board), args.repeat)
    build_s, html = timed(lambda: build_html(cfg, now=now), args.repeat)
    write(html, base / "index.html")
    csv_s, _ = timed(lambda: write_csv(cfg, base / "grades.csv"), args.repeat)

    server = DashboardServer(("127.0.0.1", 0), cfg, "bench", quiet=True)
    try:
        first_s, _ = timed(lambda: server.page("ko", {}), 1)
        cached_s, _ = timed(lambda: server.page("ko", {}), args.repeat)
    finally:
        server.server_close()

    print(f"load      {load_s:7.3f} s   gradebook → dataclasses")
    print(f"analysis  {analysis_s:7.3f} s   matrix, check rates, at-risk, per day")
    print(f"render    {render_s:7.3f} s   plots + Jinja2 ({len(html) / 1e6:.2f} MB page)")
    print(f"build     {build_s:7.3f} s   `report`: all of the above")
    print(f"csv       {csv_s:7.3f} s   `export --csv`")
    print(f"serve     {first_s:7.3f} s first request, {cached_s:.3f} s when the gradebook is unchanged")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print(f"dashboard_build_s={build_s:.3f} csv_s={csv_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
