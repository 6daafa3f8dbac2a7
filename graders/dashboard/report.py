"""Render the dashboard: GradebookData → analysis → one self-contained HTML page (Jinja2).

Both languages are in the page; a button switches them (the default comes from
course_config LANGUAGE or --lang).  No external URLs: CSS and the small script are
inline, plots are SVG data URIs.  Numbers carry data-* attributes for tests and tools.

Student bytes (ids, names, assignment names) are escaped by Jinja's autoescape, and the page's
Content-Security-Policy (a meta tag here; a header too in serve.py) lets only our one script run,
named by its SHA-256: inline script anyone slipped into the page would not run.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

from . import DashboardError
from .analysis import AT_RISK_PERCENT, Dashboard, build
from .data import GradebookData, load

TEMPLATES = Path(__file__).resolve().parent / "templates"

# the page's only script: the language button
LANG_TOGGLE_JS = """
(function () {
  var root = document.documentElement, button = document.getElementById("lang-toggle");
  button.addEventListener("click", function () {
    var en = !root.classList.contains("show-en");
    root.classList.toggle("show-en", en);
    root.lang = en ? "en" : "ko";
    button.setAttribute("aria-pressed", en ? "true" : "false");
  });
})();
"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(LANG_TOGGLE_JS.encode("utf-8")).digest()).decode("ascii")
CSP = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src '{SCRIPT_HASH}'; "
       "object-src 'none'; base-uri 'none'; form-action 'none'")


def num(x: float | None, digits: int = 2) -> str:
    """Shown numbers: at most `digits` decimals, no trailing zeros ('10', '2.14', '45.2')."""
    if x is None:
        return "—"
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def raw(x: float | None) -> str:
    """data-* values: the full number (repr), empty for none."""
    return "" if x is None else repr(float(x))


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = num
    env.filters["raw"] = raw
    return env


def render(board: Dashboard, lang: str = "ko", extra_links: dict | None = None) -> str:
    from . import plots

    data = board.data
    tz = data.display_tz

    def local(t: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if t is None:
            return "—"
        return t.replace(tzinfo=dt.timezone.utc).astimezone(tz).strftime(fmt)

    dues = [(a.name, a.due.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None))
            for a in data.assignments if a.due is not None]
    figures = {s.info.name: plots.distribution(s.scores, s.info.max_score) for s in board.summaries}
    offset = dt.datetime.now(tz).strftime("%z")
    from .analysis import watch_summary
    watch = watch_summary(data.extra.get("watch"), board.now)
    from markupsafe import Markup
    return _env().get_template("dashboard.html.j2").render(
        script=Markup(LANG_TOGGLE_JS), csp=CSP, b=board, d=data, lang=lang, local=local, tz_name=f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC",
        figures=figures, timeline=plots.timeline(board.per_day, dues), cjk=plots.cjk_font() is not None,
        links=extra_links or {}, watch=watch)


def build_html(cfg, lang: str | None = None, now: dt.datetime | None = None,
               threshold: float = AT_RISK_PERCENT, data: GradebookData | None = None) -> str:
    """The whole page for the gradebook at cfg.db_url.  `now` is naive UTC (default: now)."""
    lang = lang or cfg.language
    if lang not in ("ko", "en"):
        raise DashboardError(f"--lang {lang!r}: Fix: use 'ko' or 'en'")
    data = data if data is not None else load(cfg)
    return render(build(data, now=now, threshold=threshold), lang=lang)


def write(html: str, out: Path) -> Path:
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if out.is_dir():
            raise IsADirectoryError(21, "is a folder")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)                # readers (serve, a browser) never see half a file
    except OSError as exc:
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        raise DashboardError(f"cannot write {out}: {exc.strerror or exc}. "
                             "Fix: give --out a path in a folder you can write to") from None
    return out
