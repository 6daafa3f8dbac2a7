"""Staff dashboard, CSV export and the token-protected server.

Fast tests use a crafted gradebook written through nbgrader's Gradebook API (and our
`record`, the farm's write path) with known submissions: on time, late, late with an
extension, missing after the due date, a manual score, a Korean student id.  The browser
test reads the dashboard of the whole simulated class (graded for real) from the DOM and
compares it with the gradebook.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest

from conftest import REPO, make_course, screenshot

# nbgrader's add_submission trips SQLAlchemy autoflush warnings: noise here
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

NOW = dt.datetime(2026, 12, 12, 12, 0)          # naive UTC: keras_mnist and pytorch_mnist are past due

# keras_mnist: points per check (course_config.py): layers 3, optimizer 1, loss 1, metrics 1, trained 1,
# hidden_accuracy 3, evaluated 2 = 12.  Checks not listed get full points.
KERAS = {
    "ontime": ("2026-12-01 10:00:00", {}),
    "late": ("2026-12-06 09:00:00", {"hidden_accuracy": 1.0, "evaluated": 0.0}),
    "low": ("2026-12-02 09:00:00", {"layers": 0.0, "loss": 0.0, "trained": 0.0, "hidden_accuracy": 0.0,
                                    "evaluated": 0.0}),
    "김민준": ("2026-12-03 09:00:00", {}),
    "extended": ("2026-12-06 09:00:00", {"hidden_accuracy": 2.0}),     # late by the date, but has 3 days' extension
    "manual": ("2026-12-04 10:00:00", {"layers": 0.0}),                # a TA then gives check_model 3 by hand
}
# pytorch_mnist: written as plain graded cells without check rows (an older gradebook); fraction per cell
PYTORCH = {
    "ontime": ("2026-12-10 10:00:00", 1.0),
    "late": ("2026-12-10 11:00:00", 1.0),
    "absent": ("2026-12-09 11:00:00", 1.0),
    "low": ("2026-12-10 12:00:00", 0.0),
    "extended": ("2026-12-10 13:00:00", 1.0),
    "manual": ("2026-12-10 14:00:00", 0.5),
}
ROSTER = sorted({*KERAS, *PYTORCH, "never"})    # `never` submits nothing at all


def _results(assignment: str, points: dict, scores: dict):
    from graders.exercises import scorer as exercise_scorer
    out = {}
    for cell in exercise_scorer(assignment).cells:
        out[cell.grade_id] = [SimpleNamespace(name=c.name, score=float(scores.get(c.name, points[c.name])),
                                              max_score=float(points[c.name]),
                                              passed=scores.get(c.name, points[c.name]) >= points[c.name])
                              for c in cell.checks]
    return out


def craft_gradebook(cfg) -> dict:
    """The gradebook above at cfg.db_url; returns what each grade cell got, for the expectations."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    from graders.gradebook import record
    from graders.exercises import scorer as exercise_scorer

    with Gradebook(cfg.db_url, course_id=cfg.course_id) as gb:
        for name in ("keras_mnist", "pytorch_mnist"):
            a = cfg.assignment(name)
            gb.update_or_create_assignment(name, duedate=a.due, course_id=cfg.course_id)
            scorer = exercise_scorer(name)
            gb.update_or_create_notebook(scorer.notebook, name)
            for cell in scorer.cells:
                gb.update_or_create_grade_cell(cell.grade_id, scorer.notebook, name, cell_type="code",
                                               max_score=sum(a.points[c.name] for c in cell.checks))
        for s in ROSTER:
            gb.update_or_create_student(s)
        for s, (when, _) in KERAS.items():
            gb.add_submission("keras_mnist", s, timestamp=parse_utc(when + " +0900"))
        for s, (when, _) in PYTORCH.items():
            gb.add_submission("pytorch_mnist", s, timestamp=parse_utc(when + " +0900"))
        gb.grant_extension("keras_mnist", "extended", days=3)
        cells = {}
        keras = cfg.assignment("keras_mnist")
        for s, (_, scores) in KERAS.items():
            checks = _results("keras_mnist", keras.points, scores)
            cell_scores = {gid: sum(r.score for r in rs) for gid, rs in checks.items()}
            cells[(s, "keras_mnist")] = cell_scores
        torch = cfg.assignment("pytorch_mnist")
        for s, (_, share) in PYTORCH.items():
            for cell in exercise_scorer("pytorch_mnist").cells:
                grade = gb.find_grade(cell.grade_id, "pytorch_mnist", "pytorch_mnist", s)
                grade.auto_score = share * sum(torch.points[c.name] for c in cell.checks)
                grade.needs_manual_grade = False
                cells.setdefault((s, "pytorch_mnist"), {})[cell.grade_id] = grade.auto_score
        gb.db.commit()
    for s, (_, scores) in KERAS.items():          # the farm's write path: cell points and check rows
        checks = _results("keras_mnist", keras.points, scores)
        record(cfg.db_url, "keras_mnist", "keras_mnist", s,
               {gid: sum(r.score for r in rs) for gid, rs in checks.items()}, {}, checks=checks)
    with Gradebook(cfg.db_url) as gb:              # a TA's manual grade wins over the auto score
        gb.find_grade("check_model", "keras_mnist", "keras_mnist", "manual").manual_score = 3.0
        gb.db.commit()
    cells[("manual", "keras_mnist")]["check_model"] = 3.0
    return {key: sum(v.values()) for key, v in cells.items()}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    from graders.course import load_config
    root = tmp_path_factory.mktemp("dash")
    make_course(root, f"DB_URL = 'sqlite:///{root / 'gradebook.db'}'\n")
    cfg = load_config(root / "course_config.py")
    totals = craft_gradebook(cfg)
    return SimpleNamespace(cfg=cfg, totals=totals, root=root)


@pytest.fixture(scope="module")
def crafted_html(crafted):
    from graders.dashboard.report import build_html
    return build_html(crafted.cfg, now=NOW)


def _soup(html):
    from bs4 import BeautifulSoup
    return BeautifulSoup(html, "html.parser")


def _gradebook_totals(db_url) -> dict:
    from graders.gradebook import scores
    totals = {}
    for r in scores(db_url):
        key = (r["student"], r["assignment"])
        totals[key] = totals.get(key, 0.0) + r["score"]
    return totals


# ── the page, parsed ─────────────────────────────────────────────────────────
def test_matrix_numbers_and_states_equal_the_gradebook(crafted, crafted_html):
    soup = _soup(crafted_html)
    gradebook = _gradebook_totals(crafted.cfg.db_url)
    assert gradebook == pytest.approx(crafted.totals)          # the crafted data is what we think it is
    assert gradebook[("manual", "keras_mnist")] == pytest.approx(12.0)   # manual 3 replaced the auto 0
    cells = {(td["data-student"], td["data-assignment"]): td for td in soup.select("#matrix td.cell")}
    assert {s for s, _ in cells} == set(ROSTER)
    assert len(cells) == len(ROSTER) * len(crafted.cfg.assignments)
    for (student, assignment), td in cells.items():
        if (student, assignment) in gradebook:
            assert float(td["data-score"]) == pytest.approx(gradebook[(student, assignment)]), (student, assignment)
            shown = td.select_one(".score").get_text()
            assert float(shown) == pytest.approx(gradebook[(student, assignment)], abs=0.005)
        else:
            assert td["data-state"] == "missing" and td["data-score"] == ""
    state = {k: td["data-state"] for k, td in cells.items()}
    assert state[("ontime", "keras_mnist")] == "submitted"
    assert state[("late", "keras_mnist")] == "late"
    assert state[("extended", "keras_mnist")] == "submitted"           # the extension moves its due date
    assert state[("absent", "keras_mnist")] == "missing"
    assert cells[("absent", "keras_mnist")]["data-due-passed"] == "true"
    assert cells[("ontime", "fastai_transfer")]["data-due-passed"] == "false"   # not due yet on NOW
    # the state is written out, not only a colour
    assert "지각" in cells[("late", "keras_mnist")].get_text() and "late" in cells[("late", "keras_mnist")].get_text()
    assert "미제출" in cells[("absent", "keras_mnist")].get_text()
    assert cells[("ontime", "fastai_transfer")].select_one(".state").get_text(" ").split() == ["마감", "전", "not", "due", "yet"]
    # max scores from the gradebook's grade cells
    assert float(cells[("ontime", "keras_mnist")]["data-max"]) == 12.0
    assert float(cells[("ontime", "pytorch_mnist")]["data-max"]) == 15.0


def test_headline_numbers(crafted, crafted_html):
    soup = _soup(crafted_html)
    assert soup.select_one("#n-students")["data-value"] == str(len(ROSTER))
    assert soup.select_one("#n-submissions")["data-value"] == str(len(KERAS) + len(PYTORCH))
    assert soup.select_one("#n-late")["data-value"] == "1"           # only `late`: `extended` has its extension
    # missing after the due date: keras (absent, never), pytorch (김민준, never)
    assert soup.select_one("#n-missing")["data-value"] == "4"
    gradebook = _gradebook_totals(crafted.cfg.db_url)
    for name, max_score in (("keras_mnist", 12), ("pytorch_mnist", 15)):
        row = soup.select_one(f'#assignments tr[data-assignment="{name}"]')
        pcts = [100 * v / max_score for (s, a), v in gradebook.items() if a == name]
        assert float(row["data-mean-percent"]) == pytest.approx(sum(pcts) / len(pcts))
    assert soup.select_one('#assignments tr[data-assignment="fastai_transfer"]')["data-mean-percent"] == ""


def test_totals_and_at_risk_with_reasons(crafted, crafted_html):
    soup = _soup(crafted_html)
    gradebook = _gradebook_totals(crafted.cfg.db_url)
    counted_max = 12 + 15                       # the two assignments past due on NOW; later ones do not count yet
    for td in soup.select("#matrix td.total"):
        s = td["data-student"]
        total = sum(v for (st, _), v in gradebook.items() if st == s)
        assert float(td["data-total"]) == pytest.approx(total)
        assert float(td["data-total-max"]) == counted_max
        assert float(td["data-percent"]) == pytest.approx(100 * total / counted_max)
    risk = {tr["data-student"]: {(li["data-reason"], li.get("data-assignment")) for li in tr.select("li")}
            for tr in soup.select("#at-risk tbody tr")}
    assert risk == {
        "absent": {("missing", "keras_mnist"), ("low_total", None)},            # 15/27 = 55.6 %
        "김민준": {("missing", "pytorch_mnist"), ("low_total", None)},           # 12/27
        "never": {("missing", "keras_mnist"), ("missing", "pytorch_mnist"), ("low_total", None)},
        "low": {("low_total", None)},                                            # 2/12 + 0/15
    }
    assert "미제출" in soup.select_one('#at-risk tr[data-student="never"]').get_text()
    # a lower threshold leaves only the missing work
    from graders.dashboard.report import build_html
    soup = _soup(build_html(crafted.cfg, now=NOW, threshold=5))
    risk = {tr["data-student"] for tr in soup.select("#at-risk tbody tr")}
    assert risk == {"absent", "김민준", "never"}


def test_failure_rates_per_check_worst_first_with_cell_fallback(crafted, crafted_html):
    soup = _soup(crafted_html)
    keras = soup.select_one("#checks-keras_mnist")
    assert keras["data-level"] == "check"
    rows = keras.select("tr[data-check]")
    points = crafted.cfg.assignment("keras_mnist").points
    assert {r["data-check"] for r in rows} == set(points)
    expected = {c: sum(1 for _, scores in KERAS.values() if scores.get(c, points[c]) < points[c]) for c in points}
    got = {r["data-check"]: int(r["data-failed"]) for r in rows}
    assert got == expected
    assert all(r["data-n"] == str(len(KERAS)) for r in rows)
    rates = [float(r["data-fail-rate"]) for r in rows]
    assert rates == sorted(rates, reverse=True)
    assert rows[0]["data-check"] == "hidden_accuracy" and rows[0]["data-failed"] == "3"
    # pytorch has no check rows: one row per graded cell, failed when below its max
    torch = soup.select_one("#checks-pytorch_mnist")
    assert torch["data-level"] == "cell"
    from graders.exercises import scorer as exercise_scorer
    cell_ids = {c.grade_id for c in exercise_scorer("pytorch_mnist").cells}
    assert {r["data-check"] for r in torch.select("tr[data-check]")} == cell_ids
    failing = 2                                              # `low` (0) and `manual` (half) in every cell
    assert {int(r["data-failed"]) for r in torch.select("tr[data-check]")} == {failing}
    assert soup.select_one("#checks-fastai_transfer")["data-level"] == "none"


def test_page_is_self_contained_and_has_both_languages(crafted_html):
    html = crafted_html
    assert "<link" not in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    soup = _soup(html)
    imgs = soup.select("img")
    assert len(imgs) == 5 + 1 - 3           # keras, pytorch distributions + the timeline (3 assignments without data)
    assert all(img["src"].startswith("data:image/svg+xml;base64,") for img in imgs)
    h = soup.select_one("#h-matrix")
    assert h.select_one(".i18n-ko").get_text() and h.select_one(".i18n-en").get_text()
    assert soup.html["lang"] == "ko"                          # course_config LANGUAGE
    per_day = {tr["data-day"]: int(tr["data-count"]) for tr in soup.select("#per-day tr[data-day]")}
    assert sum(per_day.values()) == len(KERAS) + len(PYTORCH)
    assert per_day["2026-12-06"] == 2 and per_day["2026-12-10"] == 5      # days in the course's zone (+09:00)


def test_plots_have_korean_labels_when_the_font_is_there():
    import base64

    from graders.dashboard import plots
    uri = plots.distribution([3.0, 7.5, 12.0], 12.0)
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert svg.startswith("<?xml") and "<path" in svg
    if plots.cjk_font():
        assert "Noto Sans CJK" in plots.cjk_font()
        # text is drawn as glyph paths: the Korean glyphs are defined in the SVG
        assert "uni" in svg.lower() or "Noto" in svg or "CJK" in svg
    assert plots.label("점수", "points") in ("점수 (points)", "points")


# ── records, empty and broken gradebooks ──────────────────────────────────────
def test_record_replaces_a_notebooks_check_rows(tmp_path):
    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, select

    from graders.gradebook import check_results, record
    url = f"sqlite:///{tmp_path / 'gb.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("a")
        gb.add_notebook("nb", "a")
        gb.add_grade_cell("g1", "nb", "a", max_score=3, cell_type="code")
        gb.add_student("s")
        gb.add_submission("a", "s")
    r = lambda name, score, mx: SimpleNamespace(name=name, score=score, max_score=mx, passed=score >= mx)
    record(url, "a", "nb", "s", {"g1": 1.0}, {}, checks={"g1": [r("x", 1.0, 1.0), r("y", 0.0, 2.0)]})
    record(url, "a", "nb", "s", {"g1": 3.0}, {}, checks={"g1": [r("x", 1.0, 1.0), r("z", 2.0, 2.0)]})
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(check_results.c.check_name, check_results.c.score, check_results.c.passed)
                            .order_by(check_results.c.position)).all()
    engine.dispose()
    assert [tuple(x) for x in rows] == [("x", 1.0, True), ("z", 2.0, True)]


def test_empty_gradebook_says_no_submissions_yet(tmp_path):
    from nbgrader.api import Gradebook

    from graders.course import load_config
    from graders.dashboard.export import table
    from graders.dashboard.data import load
    from graders.dashboard.report import build_html
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Gradebook(url).close()
    cfg = dataclasses.replace(load_config(), db_url=url)
    soup = _soup(build_html(cfg, lang="en"))
    assert soup.select_one("#empty") is not None
    assert soup.html["lang"] == "en" and "show-en" in soup.html["class"]
    assert soup.select_one("#n-submissions")["data-value"] == "0"
    assert table(load(cfg)) == [table(load(cfg))[0]]            # header only
    assert table(load(cfg))[0][0] == "student_id"


def test_cli_errors_name_the_fix(crafted, tmp_path, capsys):
    from graders.cli import main
    config = str(crafted.root / "course_config.py")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["--config", config, "report", "--out", str(blocker / "index.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Fix:" in err and "--out" in err
    assert main(["--config", config, "export", "--csv", str(blocker / "g.csv")]) == 2
    assert "--csv" in capsys.readouterr().err
    missing = make_course(tmp_path / "c", f"DB_URL = 'sqlite:///{tmp_path / 'nothing.db'}'\n")
    assert main(["--config", str(missing / "course_config.py"), "report", "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "no gradebook" in err and "DB_URL" in err
    assert not (tmp_path / "nothing.db").exists()               # reading never creates a gradebook
    out = tmp_path / "ok" / "index.html"
    assert main(["--config", config, "report", "--out", str(out), "--lang", "en"]) == 0
    assert str(out) in capsys.readouterr().out
    assert 'class="show-en"' in out.read_text()


# ── CSV export ────────────────────────────────────────────────────────────────
def test_csv_export_equals_the_gradebook(crafted, tmp_path, capsys):
    from graders.cli import main
    out = tmp_path / "grades.csv"
    assert main(["--config", str(crafted.root / "course_config.py"), "export", "--csv", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                      # BOM: Excel reads UTF-8 Korean
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    cfg = crafted.cfg
    assert rows[0] == (["student_id"] + [f"{n} ({m:g})" for n, m in
                                          [("keras_mnist", 12), ("pytorch_mnist", 15), ("fastai_transfer", 10),
                                           ("transformers_pipeline", 9), ("concepts_quiz", 52)]] + ["total (98)"])
    body = {r[0]: r[1:] for r in rows[1:]}
    assert sorted(body) == sorted(ROSTER) and "김민준" in body
    gradebook = _gradebook_totals(cfg.db_url)
    for student, values in body.items():
        for name, value in zip(cfg.assignments, values):
            if (student, name) in gradebook:
                assert float(value) == pytest.approx(gradebook[(student, name)], abs=0.005)
            else:
                assert value == ""
        assert float(values[-1]) == pytest.approx(sum(v for (s, _), v in gradebook.items() if s == student),
                                                  abs=0.01)


# ── serve ─────────────────────────────────────────────────────────────────────
def _get(url, method="GET", headers=None, data=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def served(crafted):
    from graders.dashboard.serve import make_server
    server = make_server(crafted.cfg, "127.0.0.1", 0, token="s3cret-token", quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", server=server, token="s3cret-token")
    server.shutdown()
    server.server_close()


def test_serve_refuses_without_the_token_and_is_read_only(served):
    base = served.url
    for url, headers in [(f"{base}/", {}), (f"{base}/?token=wrong", {}), (f"{base}/?token=", {}),
                         (f"{base}/grades.csv", {}), (f"{base}/", {"Authorization": "token nope"}),
                         (f"{base}/", {"Authorization": "s3cret-token"})]:
        status, _, body = _get(url, headers=headers)
        assert status == 403, (url, headers)
        assert b"matrix" not in body and b"keras_mnist" not in body
    status, headers, body = _get(f"{base}/?token={served.token}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'id="matrix"' in body and headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    status, _, body = _get(f"{base}/", headers={"Authorization": f"token {served.token}"})
    assert status == 200 and b'id="matrix"' in body
    status, headers, body = _get(f"{base}/?token={served.token}", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 10_000
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = _get(f"{base}/?token={served.token}", method=method, data=b"x=1")
        assert status == 405 and headers["Allow"] == "GET, HEAD", method
        assert _get(f"{base}/", method=method, data=b"x=1")[0] == 403
    status, headers, body = _get(f"{base}/grades.csv", headers={"Authorization": f"Bearer {served.token}"})
    assert status == 200 and body.startswith(b"\xef\xbb\xbfstudent_id,")
    assert _get(f"{base}/../gradebook.db?token={served.token}")[0] == 404
    assert _get(f"{base}/?token={served.token}&lang=xx")[0] == 400


def test_serve_renders_again_only_when_the_gradebook_changed(served, crafted):
    from nbgrader.api import Gradebook
    url = f"{served.url}/?token={served.token}"
    _get(url)
    builds = served.server.builds
    status, _, first = _get(url)
    assert status == 200 and served.server.builds == builds        # unchanged: the cached page
    with Gradebook(crafted.cfg.db_url) as gb:                       # a TA changes a grade
        grade = gb.find_grade("check_model", "keras_mnist", "keras_mnist", "ontime")
        old = grade.manual_score
        grade.manual_score = 1.0
        gb.db.commit()
    try:
        status, _, body = _get(url)
        assert served.server.builds == builds + 1
        cell = _soup(body.decode()).select_one('td.cell[data-student="ontime"][data-assignment="keras_mnist"]')
        assert float(cell["data-score"]) == pytest.approx(12 - 3 + 1)
    finally:
        with Gradebook(crafted.cfg.db_url) as gb:
            gb.find_grade("check_model", "keras_mnist", "keras_mnist", "ontime").manual_score = old
            gb.db.commit()


def test_serve_command_prints_a_random_token(crafted):
    env_python = [sys.executable, "-m", "graders", "--config", str(crafted.root / "course_config.py"),
                  "serve", "--port", "0"]
    proc = subprocess.Popen(env_python, cwd=crafted.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
        assert m, f"no URL with a token in the first line: {line!r}"
        port, token = m.groups()
        assert len(token) >= 24
        assert _get(f"http://127.0.0.1:{port}/")[0] == 403
        assert _get(f"http://127.0.0.1:{port}/?token={token}")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


def test_served_page_in_the_browser(served, page):
    assert page.goto(f"{served.url}/").status == 403
    page.goto(f"{served.url}/?token={served.token}&lang=en")
    assert page.locator("#h-matrix").inner_text() == "Scores: student × assignment"
    page.click("#lang-toggle")          # our one script runs under the CSP (allowed by its hash)
    assert page.locator("#h-matrix").inner_text() != "Scores: student × assignment"
    page.click("#lang-toggle")
    late = page.locator('td.cell[data-student="late"][data-assignment="keras_mnist"]')
    assert "late" in late.inner_text()
    # the CSV link carries the token of the page's URL
    href = page.locator('nav a[href^="grades.csv"]').get_attribute("href")
    status, _, body = _get(f"{served.url}/{href}")
    assert status == 200 and "김민준".encode() in body


# ── the gradebook on PostgreSQL ───────────────────────────────────────────────
def test_check_table_and_dashboard_on_postgresql(postgres_url, tmp_path):
    from sqlalchemy import create_engine, text

    from graders.course import load_config
    from graders.dashboard.data import load
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:                    # an own database: the farm tests grade into theirs
        conn.execute(text("DROP DATABASE IF EXISTS dashboard_test"))
        conn.execute(text("CREATE DATABASE dashboard_test"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/dashboard_test"
    cfg = dataclasses.replace(load_config(), db_url=url)
    totals = craft_gradebook(cfg)
    data = load(cfg)
    assert data.check_level["keras_mnist"] == "check" and data.check_level["pytorch_mnist"] == "cell"
    assert {k: s.score for k, s in data.submissions.items()} == pytest.approx(totals)
    assert {r.check for r in data.checks["keras_mnist"]} == set(cfg.assignment("keras_mnist").points)
    assert data.submissions[("late", "keras_mnist")].late and not data.submissions[("extended", "keras_mnist")].late


# ── the whole simulated class, graded for real, in a browser ─────────────────
def test_dashboard_of_the_graded_class_in_a_browser(graded_class, page, tmp_path):
    from graders.dashboard.report import build_html, write
    cfg = graded_class["cfg"]
    out = write(build_html(cfg), tmp_path / "index.html")
    page.goto(out.as_uri())

    expected = _gradebook_totals(cfg.db_url)
    cells = page.eval_on_selector_all(
        "#matrix td.cell",
        "tds => tds.map(td => [td.dataset.student, td.dataset.assignment, td.dataset.state, td.dataset.score,"
        " td.querySelector('.score').innerText])")
    seen = {}
    for student, assignment, state, score, shown in cells:
        if state == "missing":
            assert (student, assignment) not in expected and score == "" and shown == "—"
            continue
        seen[(student, assignment)] = float(score)
        assert float(shown) == pytest.approx(float(score), abs=0.005)
    assert seen.keys() >= expected.keys()
    for key, total in expected.items():
        assert seen[key] == pytest.approx(total), key

    # the farm recorded the fine checks: the failure table agrees with the checks.json files
    for assignment, per_student in graded_class["all_checks"].items():     # the class and the variety cases
        assert page.get_attribute(f"#checks-{assignment}", "data-level") == "check"
        want = {}
        for results in per_student.values():
            for name, r in results.items():
                want[name] = want.get(name, 0) + (0 if r["passed"] else 1)
        got = dict(page.eval_on_selector_all(
            f"#checks-{assignment} tr[data-check]", "trs => trs.map(t => [t.dataset.check, +t.dataset.failed])"))
        assert got == want, assignment

    heading = page.locator("#h-matrix")
    assert heading.inner_text() == "학생 × 과제 점수"
    page.click("#lang-toggle")
    assert heading.inner_text() == "Scores: student × assignment"
    assert page.locator("#lang-toggle").inner_text() == "한국어"
    page.click("#lang-toggle")
    assert heading.inner_text() == "학생 × 과제 점수"
    screenshot(page, "dashboard")

    # a phone: the page does not scroll sideways; wide tables scroll inside their box
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.evaluate("(() => { const b = document.querySelector('#matrix').parentElement;"
                        " return [b.clientWidth, b.scrollWidth, getComputedStyle(b).overflowX]; })()")
    assert box[0] <= 390 and box[1] > box[0] and box[2] == "auto"
    screenshot(page, "dashboard-phone")


def test_csv_cells_never_start_a_formula():
    from graders.dashboard.export import to_text
    row = ["=HYPERLINK(\"http://x\")", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-3", "12.5", "김"]
    assert to_text([row]) == "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-1+1,'@SUM(A1),'\tx,\"'\rx\",-3,12.5,김\r\n"
