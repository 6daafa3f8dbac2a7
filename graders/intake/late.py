"""Late penalties (LATE_POLICY in course_config.py) and the notice students see in their feedback.

Rule, per notebook: a submission later than its due date (extension included) by more than
`grace_minutes` is `days` late, counting every started day (1 minute late = day 1).  The penalty
is `penalty_per_day × days` of the score the notebook earned, at most all of it; more than
`max_days_late` days late: all of it (the notebook scores 0).  `penalty_per_day = 0` only marks
the submission late.  nbgrader's AssignLatePenalties stores the penalty per notebook
(`SubmittedNotebook.late_submission_penalty`); formgrader, `nbgrader export` and the feedback show it.
"""
from __future__ import annotations

import datetime as dt
import math

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Float, Int, Unicode

from ..messages import pick

DAY = 86400.0


def days_late(seconds_late: float, grace_minutes: float = 0.0) -> int:
    """Started days late; 0 when on time or within the grace period."""
    if seconds_late is None or seconds_late <= grace_minutes * 60:
        return 0
    return max(1, math.ceil(seconds_late / DAY))


def penalty_fraction(days: int, penalty_per_day: float, max_days_late: int | None) -> float:
    """The share of the notebook's score taken off for `days` started days late."""
    if days <= 0:
        return 0.0
    if max_days_late is not None and days > max_days_late:
        return 1.0
    return min(1.0, days * penalty_per_day)


class CourseLatePenalty(LateSubmissionPlugin):
    """nbgrader late-submission plugin for LATE_POLICY (set as AssignLatePenalties.plugin_class)."""

    penalty_per_day = Float(0.0, help="share of the notebook's score taken off per started day late").tag(config=True)
    max_days_late = Int(None, allow_none=True, help="later than this many days: the notebook scores 0").tag(config=True)
    grace_minutes = Float(0.0, help="minutes after the due date that still count as on time").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = days_late(total_seconds_late, self.grace_minutes)
        share = penalty_fraction(days, self.penalty_per_day, self.max_days_late)
        self.log.info("%s: %d day(s) late, penalty %.0f%% of %s", student_id, days, share * 100, score)
        if share <= 0:
            return None                 # on time, in the grace period, or a policy that only marks lateness
        return round(float(score or 0.0) * share, 6)


# ── what the student reads (feedback) ───────────────────────────────────────
NOTICE = {
    "title": {"ko": "### ⏰ 제출 기한", "en": "### ⏰ Due date"},
    "due": {"ko": "- 마감: {due}", "en": "- Due: {due}"},
    "extended": {"ko": " (연장된 마감)", "en": " (extended)"},
    "submitted": {"ko": "- 제출: {when}", "en": "- Submitted: {when}"},
    "on_time": {"ko": " — 기한 안에 제출했습니다.", "en": " — on time."},
    "grace": {"ko": " — 유예 시간 안이라 감점이 없습니다.", "en": " — within the grace period: no penalty."},
    "late": {"ko": " — {days}일째 늦은 제출입니다.", "en": " — {days} day(s) late."},
    "penalty": {"ko": "- 늦은 제출 감점: **−{points:g}점** ({rule})",
                "en": "- Late penalty: **−{points:g} points** ({rule})"},
    "rule": {"ko": "늦은 하루마다 점수의 {pct:g}%", "en": "{pct:g}% of the score per started day late"},
    "rule_max": {"ko": ", {max}일이 지나면 0점", "en": ", 0 points after {max} days"},
    "flag_only": {"ko": "- 늦은 제출로 기록되었습니다 (감점 없음).", "en": "- Recorded as late (no penalty)."},
}


def _t(lang: str, key: str, **values) -> str:
    return pick(NOTICE, key, lang, **values)


def _local(when: dt.datetime, offset_minutes: int | None) -> str:
    """A naive-UTC gradebook time shown in the course's zone (the offset of the configured due date)."""
    tz = dt.timezone(dt.timedelta(minutes=offset_minutes or 0))
    local = when.replace(tzinfo=dt.timezone.utc).astimezone(tz)
    sign = "+" if (offset_minutes or 0) >= 0 else "-"
    m = abs(offset_minutes or 0)
    return f"{local:%Y-%m-%d %H:%M} (UTC{sign}{m // 60:02d}:{m % 60:02d})"


def notice_markdown(lang: str, *, due, submitted, extended: bool, seconds_late: float, penalty: float | None,
                    penalty_per_day: float, max_days_late: int | None, grace_minutes: float,
                    offset_minutes: int | None) -> str:
    lines = [_t(lang, "title"), _t(lang, "due", due=_local(due, offset_minutes))
             + (_t(lang, "extended") if extended else "")]
    days = days_late(seconds_late, grace_minutes)
    if seconds_late <= 0:
        state = _t(lang, "on_time")
    elif days == 0:
        state = _t(lang, "grace")
    else:
        state = _t(lang, "late", days=days)
    lines.append(_t(lang, "submitted", when=_local(submitted, offset_minutes)) + state)
    if days > 0 and penalty:
        rule = _t(lang, "rule", pct=round(penalty_per_day * 100, 2))
        if max_days_late is not None:
            rule += _t(lang, "rule_max", max=max_days_late)
        lines.append(_t(lang, "penalty", points=round(penalty, 2), rule=rule))
    elif days > 0:
        lines.append(_t(lang, "flag_only"))
    return "\n".join(lines)


class LateNotice(NbGraderPreprocessor):
    """Feedback: a short note at the top on the due date, the submission time and any late penalty.

    Shown only when the submission was late or had an extension; runs after GetGrades."""

    language = Unicode("ko").tag(config=True)
    policy = Dict(help="LATE_POLICY values: penalty_per_day, max_days_late, grace_minutes").tag(config=True)
    offsets = Dict(help="assignment -> UTC offset of its due date in minutes (for showing times)").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat
        from nbgrader.api import Gradebook, MissingEntry

        info = resources["nbgrader"]
        try:
            with Gradebook(info["db_url"]) as gb:
                sub = gb.find_submission(info["assignment"], info["student"])
                notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                due, submitted, extended = sub.duedate, sub.timestamp, sub.extension is not None
                seconds, penalty = sub.total_seconds_late, notebook.late_submission_penalty
        except MissingEntry:
            return nb, resources
        if due is None or submitted is None or (seconds <= 0 and not extended):
            return nb, resources
        text = notice_markdown(
            self.language, due=due, submitted=submitted, extended=extended, seconds_late=seconds, penalty=penalty,
            penalty_per_day=float(self.policy.get("penalty_per_day", 0.0)),
            max_days_late=self.policy.get("max_days_late"), grace_minutes=float(self.policy.get("grace_minutes", 0.0)),
            offset_minutes=self.offsets.get(info["assignment"]))
        cell = nbformat.v4.new_markdown_cell(text)
        cell.metadata["dlcourse"] = {"late_notice": True}
        nb.cells.insert(0, cell)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources
