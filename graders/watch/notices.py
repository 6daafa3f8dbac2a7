"""A short page in the student's feedback slot while a submission waits (the rate limit).

nbgrader's Fetch Feedback finds a submission's feedback in `<exchange>/<course>/feedback/<hash>.html`,
the hash made from the submission's own secret and the notebook's name (nbgrader.utils.notebook_hash).
While a submission waits for the rate limit, that slot gets this page (why it waits, until when);
its real feedback replaces it once it is graded.  Every value shown is escaped (Jinja2 autoescape),
and the page runs no script (the same Content-Security-Policy as the feedback).
"""
from __future__ import annotations

import datetime as dt
import os
import secrets as _secrets
from pathlib import Path

from jinja2 import Environment

from ..feedback import FEEDBACK_CSP

TEXT = {
    "title": {"ko": "채점 대기 중", "en": "Waiting to be graded"},
    "rate_limit": {
        "ko": "제출을 받았습니다 ({submitted}). 과제마다 1시간에 최대 {n}번까지 채점합니다. "
              "이 제출은 {until} 이후에 채점되고, 그때 피드백이 이 자리에 나타납니다. "
              "그 사이에 다시 제출하면 가장 마지막 제출만 채점합니다. 제출 시각은 지금 시각 그대로 기록되어, "
              "마감 전에 낸 제출은 늦게 채점되어도 마감 전 제출로 처리됩니다.",
        "en": "Your submission was received ({submitted}). Each assignment is graded at most {n} times per hour. "
              "This submission will be graded after {until}, and its feedback will appear here then. "
              "If you submit again meanwhile, only your newest submission is graded. Its submission time is kept: "
              "handed in before the due date, it counts as on time however late it is graded.",
    },
    "no_feedback_title": {"ko": "채점 완료 · 피드백을 만들지 못했습니다", "en": "Graded · feedback could not be made"},
    "no_feedback": {
        "ko": "제출은 채점되었고 점수는 기록되었습니다. 다만 이 제출의 피드백 페이지를 정해진 시간({limit}초) 안에 "
              "만들지 못해 이 안내로 대신합니다. 조교에게 문의하면 채점 결과를 확인해 드립니다. 노트북에 아주 큰 "
              "출력이나 셀이 있다면 줄인 뒤 다시 제출해 보세요.",
        "en": "Your submission was graded and its score is recorded, but its feedback page could not be made within "
              "the time allowed ({limit} s), so this note stands in for it. Ask the teaching staff to see your results. "
              "If your notebook has very large outputs or cells, make them smaller and submit again.",
    },
    "hint": {"ko": "힌트: 제출하기 전에 노트북의 자가 점검 셀로 먼저 확인해 보세요.",
             "en": "Hint: check your work with the notebook's self-check cells before you submit."},
}

PAGE = Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} — {{ assignment }}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.6}</style>
</head><body data-dlcourse-notice="{{ kind }}">
<h1>{{ icon }} {{ title }}</h1>
<p><b>{{ assignment }}</b> / {{ notebook }}</p>
<p>{{ body }}</p>
<p>{{ hint }}</p>
</body></html>
""")


def _t(lang: str, key: str, **kw) -> str:
    from ..messages import pick
    return pick(TEXT, key, lang, **kw)


def rate_limit_page(lang: str, assignment: str, notebook: str, submitted: str, until: str, n: int) -> str:
    return PAGE.render(lang=lang, csp=FEEDBACK_CSP, title=_t(lang, "title"), assignment=assignment,
                       notebook=notebook, body=_t(lang, "rate_limit", submitted=submitted, until=until, n=n),
                       hint=_t(lang, "hint"), kind="rate_limit", icon="⏳")


def no_feedback_page(lang: str, assignment: str, notebook: str, limit_s: float) -> str:
    """The feedback slot of a graded submission whose feedback could not be made within its bounds."""
    return PAGE.render(lang=lang, csp=FEEDBACK_CSP, title=_t(lang, "no_feedback_title"), assignment=assignment,
                       notebook=notebook, body=_t(lang, "no_feedback", limit=f"{limit_s:g}"), hint="",
                       kind="no_feedback", icon="✓")


def place(feedback_dir: Path, secret: str, notebook: str, page: str) -> Path:
    """Write the page into the exchange's feedback folder under nbgrader's name for this submission."""
    from nbgrader.utils import notebook_hash
    feedback_dir.mkdir(mode=0o711, parents=True, exist_ok=True)
    target = feedback_dir / f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"
    tmp = feedback_dir / f".{_secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target


def local_time(cfg, assignment: str, when: dt.datetime) -> str:
    """A naive-UTC or aware time shown in the zone the assignment's due date was written in."""
    when = when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when
    zone = cfg.assignment(assignment).due_zone
    return (when.astimezone(zone) if zone is not None else when).strftime("%Y-%m-%d %H:%M") + \
        ("" if zone is not None else " UTC")
