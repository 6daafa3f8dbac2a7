"""Figures for the dashboard: matplotlib with the Agg backend, returned as inline SVG images.

Text in the SVG is drawn as paths, so Korean shows in any browser without fonts.  Korean
labels need a CJK font in matplotlib (Noto Sans CJK, Debian package fonts-noto-cjk); when
none is found the figures use English labels only.  No pyplot: figures are plain objects,
safe to build in the server's threads (one build at a time, see serve.py).
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import math
from functools import lru_cache

CJK_FAMILIES = ("Noto Sans CJK KR", "Noto Sans CJK JP")

COLORS = {"bar": "#3b6fb6", "mean": "#c0392b", "due": "#b9770e", "grid": "#d9dde3"}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of a CJK font matplotlib can use, registering the system's Noto CJK if needed."""
    from matplotlib import font_manager as fm
    names = {f.name for f in fm.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    # matplotlib's font cache may predate the font package: add the files themselves
    for path in fm.findSystemFonts():
        if "NotoSansCJK" in path.replace(" ", "") and "Regular" in path:
            try:
                fm.fontManager.addfont(path)
            except Exception:
                continue
    names = {f.name for f in fm.fontManager.ttflist}
    return next((f for f in CJK_FAMILIES if f in names), None)


def label(ko: str, en: str) -> str:
    """Bilingual axis text when a CJK font is there, English alone otherwise."""
    return f"{ko} ({en})" if cjk_font() else en


def _style():
    import matplotlib
    matplotlib.use("Agg", force=False)
    family = cjk_font()
    return {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
            "font.size": 9, "svg.fonttype": "path", "svg.hashsalt": "dlcourse-dashboard",
            "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
            "axes.unicode_minus": False}


def _to_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _bins(max_score: float) -> list[float]:
    if max_score <= 0:
        return [0.0, 1.0]
    if float(max_score).is_integer() and max_score <= 20:
        n = int(max_score)
    else:
        n = 10
    return [max_score * i / n for i in range(n + 1)]


def distribution(scores: list[float], max_score: float) -> str | None:
    """Histogram of one assignment's scores (points), with the mean marked; None without scores."""
    if not scores:
        return None
    import matplotlib
    from matplotlib.figure import Figure
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(4.4, 2.5))
        ax = fig.add_subplot()
        ax.hist(scores, bins=_bins(max_score), color=COLORS["bar"], edgecolor="white", linewidth=0.6)
        mean = sum(scores) / len(scores)
        ax.axvline(mean, color=COLORS["mean"], linewidth=1.4, linestyle="--")
        left = mean < 0.6 * max_score
        text = f"{label('평균', 'mean')} {mean:.3g}"
        ax.text(mean, 1.02, f"  {text}" if left else f"{text}  ", color=COLORS["mean"], fontsize=8,
                transform=ax.get_xaxis_transform(), va="bottom", ha="left" if left else "right")
        ax.set_xlim(0, max_score or 1)
        ax.set_xlabel(label("점수", "points") + f" / {max_score:g}")
        ax.set_ylabel(label("학생 수", "students"))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", color=COLORS["grid"], linewidth=0.6)
        ax.set_axisbelow(True)
        return _to_data_uri(fig)


def timeline(per_day: list[tuple[dt.date, int]], dues: list[tuple[str, dt.datetime]]) -> str | None:
    """Submissions per day as bars spanning their day; each due date (local time) a dashed line."""
    if not per_day:
        return None
    import matplotlib
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    starts = [dt.datetime.combine(d, dt.time()) for d, _ in per_day]
    first = min(starts + [t for _, t in dues])
    last = max([s + dt.timedelta(days=1) for s in starts] + [t for _, t in dues])
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(8.8, 3.0))
        ax = fig.add_subplot()
        ax.bar(starts, [n for _, n in per_day], width=0.9, align="edge", color=COLORS["bar"])
        top = max(n for _, n in per_day) or 1
        for name, when in dues:
            ax.axvline(when, color=COLORS["due"], linewidth=1.1, linestyle="--")
            ax.text(when, 0.98, f"{name} ", color=COLORS["due"], fontsize=7.5, rotation=90, ha="right", va="top",
                    transform=ax.get_xaxis_transform(),
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        ax.set_ylim(0, top * 1.05)
        ax.set_xlim(first - dt.timedelta(hours=12), last + dt.timedelta(hours=12))
        span = (last - first).days + 1
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil(span / 14))))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        ax.set_ylabel(label("제출 수", "submissions"))
        ax.set_xlabel(label("날짜", "date"))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", color=COLORS["grid"], linewidth=0.6)
        ax.set_axisbelow(True)
        return _to_data_uri(fig)
