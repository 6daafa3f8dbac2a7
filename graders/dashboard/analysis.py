"""What the page shows, computed from GradebookData: plain numbers, no HTML.

  matrix        student × assignment: score/max and state (submitted, late, missing)
  check rates   per assignment, each check's failure rate, worst first (what to re-teach)
  at risk       missing work past its due date, or a total below the threshold, with the reasons
  per day       submissions per day in the course's time zone, due dates alongside
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from .data import AssignmentInfo, CheckRow, GradebookData, Submission

AT_RISK_PERCENT = 60.0      # a total below this share of the points counted so far puts a student at risk

SUBMITTED, LATE, MISSING = "submitted", "late", "missing"


@dataclass(frozen=True)
class Cell:
    student: str
    assignment: str
    state: str                      # submitted | late | missing
    score: float | None             # None when missing
    max_score: float
    due_passed: bool
    submission: Submission | None = None

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100.0 * self.score / self.max_score


@dataclass
class StudentRow:
    student: str
    cells: list[Cell]
    total: float                    # points over the counted assignments
    total_max: float                # their max: assignments submitted or past their due date
    percent: float | None           # None when nothing counts yet


@dataclass(frozen=True)
class CheckRate:
    assignment: str
    notebook: str
    grade_cell: str
    check: str
    position: int
    n: int                          # submissions with this check
    failed: int                     # of them, below full points
    mean_score: float
    max_score: float

    @property
    def rate(self) -> float:
        return 100.0 * self.failed / self.n if self.n else 0.0


@dataclass(frozen=True)
class Reason:
    kind: str                       # "missing" | "low_total"
    assignment: str | None = None
    due: dt.datetime | None = None
    percent: float | None = None


@dataclass
class AtRisk:
    student: str
    percent: float | None
    reasons: list[Reason]


@dataclass
class AssignmentSummary:
    info: AssignmentInfo
    submitted: int                  # on time + late
    late: int
    missing: int                    # not submitted, due date passed
    not_yet: int                    # not submitted, due date still ahead (or none)
    graded: int
    mean_percent: float | None
    median_percent: float | None
    scores: list[float]             # of graded submissions, for the distribution plot
    rates: list[CheckRate]
    level: str                      # "check", "cell" (fallback from graded cells) or "none"
    due_passed: bool


@dataclass
class Dashboard:
    data: GradebookData
    now: dt.datetime                # naive UTC
    threshold: float
    rows: list[StudentRow]
    summaries: list[AssignmentSummary]
    at_risk: list[AtRisk]
    per_day: list[tuple[dt.date, int]]
    n_submissions: int
    n_late: int
    n_missing: int
    extra: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.n_submissions == 0


def _due_passed(a: AssignmentInfo, now: dt.datetime) -> bool:
    return a.due is not None and a.due < now


def matrix(data: GradebookData, now: dt.datetime) -> list[StudentRow]:
    rows = []
    for student in data.students:
        cells, total, total_max = [], 0.0, 0.0
        for a in data.assignments:
            sub = data.submissions.get((student, a.name))
            passed = _due_passed(a, now)
            if sub is None:
                cells.append(Cell(student, a.name, MISSING, None, a.max_score, passed))
            else:
                cells.append(Cell(student, a.name, LATE if sub.late else SUBMITTED, sub.score, a.max_score,
                                  passed, sub))
            if sub is not None or passed:       # future work does not pull a total down
                total += sub.score if sub is not None else 0.0
                total_max += a.max_score
        rows.append(StudentRow(student, cells, total, total_max,
                               100.0 * total / total_max if total_max else None))
    return rows


def check_rates(rows: list[CheckRow]) -> list[CheckRate]:
    """Each check's failure rate over the submissions that have it, worst first."""
    groups: dict[tuple, list[CheckRow]] = {}
    for r in rows:
        groups.setdefault((r.notebook, r.grade_cell, r.check), []).append(r)
    out = []
    for (notebook, cell, check), rs in groups.items():
        out.append(CheckRate(assignment=rs[0].assignment, notebook=notebook, grade_cell=cell, check=check,
                             position=min(r.position for r in rs), n=len(rs),
                             failed=sum(1 for r in rs if not r.passed),
                             mean_score=sum(r.score for r in rs) / len(rs), max_score=max(r.max_score for r in rs)))
    out.sort(key=lambda c: (-c.rate, c.mean_score / c.max_score if c.max_score else 1.0, c.notebook, c.position,
                            c.check))
    return out


def at_risk(rows: list[StudentRow], data: GradebookData, threshold: float) -> list[AtRisk]:
    out = []
    for row in rows:
        reasons = [Reason("missing", c.assignment, data.assignment(c.assignment).due)
                   for c in row.cells if c.state == MISSING and c.due_passed]
        if row.percent is not None and row.percent < threshold:
            reasons.append(Reason("low_total", percent=row.percent))
        if reasons:
            out.append(AtRisk(row.student, row.percent, reasons))
    # most reasons first, then the lowest total
    out.sort(key=lambda r: (-len(r.reasons), r.percent if r.percent is not None else -1.0, r.student))
    return out


def per_day(data: GradebookData) -> list[tuple[dt.date, int]]:
    """Submissions per calendar day in the course's time zone, every day of the span (zeros included)."""
    counts: dict[dt.date, int] = {}
    for sub in data.submissions.values():
        if sub.timestamp is None:
            continue
        day = sub.timestamp.replace(tzinfo=dt.timezone.utc).astimezone(data.display_tz).date()
        counts[day] = counts.get(day, 0) + 1
    if not counts:
        return []
    first, last = min(counts), max(counts)
    return [(first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0))
            for i in range((last - first).days + 1)]


def build(data: GradebookData, now: dt.datetime | None = None, threshold: float = AT_RISK_PERCENT) -> Dashboard:
    """`now` is naive UTC (default: the current time)."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = matrix(data, now)
    summaries = []
    for i, a in enumerate(data.assignments):
        cells = [row.cells[i] for row in rows]
        subs = [c.submission for c in cells if c.submission is not None]
        graded = [s for s in subs if s.graded]
        pcts = [100.0 * s.score / a.max_score for s in graded if a.max_score]
        passed = _due_passed(a, now)
        missing = sum(1 for c in cells if c.state == MISSING)
        summaries.append(AssignmentSummary(
            info=a, submitted=len(subs), late=sum(1 for s in subs if s.late),
            missing=missing if passed else 0, not_yet=0 if passed else missing, graded=len(graded),
            mean_percent=statistics.fmean(pcts) if pcts else None,
            median_percent=statistics.median(pcts) if pcts else None,
            scores=[s.score for s in graded], rates=check_rates(data.checks.get(a.name, [])),
            level=data.check_level.get(a.name, "none"), due_passed=passed))
    return Dashboard(
        data=data, now=now, threshold=threshold, rows=rows, summaries=summaries,
        at_risk=at_risk(rows, data, threshold), per_day=per_day(data),
        n_submissions=len(data.submissions), n_late=sum(1 for s in data.submissions.values() if s.late),
        n_missing=sum(s.missing for s in summaries))


# ── the grade-on-submit service ─────────────────────────────────────────────
@dataclass
class WatchSummary:
    counts: dict                    # state -> rows
    latency: dict                   # last hour, submit → feedback: n, p50, p95, max (s)
    failures: list                  # the newest failed rows (student, assignment, finished_at, error)
    service: dict | None            # host, pid, started_at, heartbeat_at, stopped_at
    running: bool                   # heartbeat within the last minute and not stopped
    waiting_oldest_s: float | None  # how long the oldest waiting submission has waited


def watch_summary(watch: dict | None, now: dt.datetime) -> WatchSummary | None:
    """What the dashboard shows of the service; `now` naive UTC."""
    if not watch:
        return None
    from ..watch.queue import latency_stats
    rows = watch["rows"]
    counts: dict = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    failed = sorted((r for r in rows if r["state"] == "failed"), key=lambda r: r.get("finished_at") or now,
                    reverse=True)[:10]
    svc = watch.get("service")
    running = bool(svc and svc.get("stopped_at") is None and (now - svc["heartbeat_at"]).total_seconds() < 60)
    waiting = [r["submitted_at"] for r in rows if r["state"] == "waiting"]
    return WatchSummary(counts=counts, latency=latency_stats(rows, now), running=running, service=svc,
                        failures=[{"student": r["student"], "assignment": r["assignment"],
                                   "finished_at": r.get("finished_at"), "error": (r.get("error") or "")[:300]}
                                  for r in failed],
                        waiting_oldest_s=(now - min(waiting)).total_seconds() if waiting else None)
