"""Quiz answers clicked in JupyterLab are the answers graded (issue 23 §1).

A student's JupyterLab (`python -m graders lab --student`, in its hub-like container) opens the
fetched quiz, runs it, and answers one question of every closed type by clicking the widget under
the answer cell: radio buttons (single choice, code with options), check boxes (multiple choice),
O/X, one drop-down per matching item, the line list (code without options) and the number field.
Each click must rewrite that cell's answer literal; Restart & Run All must show the same choices
again; the saved file is submitted through the Assignment List, and staff's collect + autograde
give every clicked question the points its click deserves (one deliberately wrong click: 0).

Controls: a click made after the last save is not in the file and scores 0 although the kernel
holds it (the grade comes from the submitted notebook only); a click in a front-end without
JupyterLab's app object leaves the cell alone and shows the line to type, and also scores 0.
Typed answers elsewhere in the notebook stay as they were.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, run_cli, screenshot
from test_lab import _start_lab, _stop, _wait_ready, lab_course  # noqa: F401 — lab_course is a fixture

STUDENT = "lee"
NOTEBOOK = "concepts_quiz/concepts_quiz.ipynb"

# what the student clicks, in the bank's terms (option ids / item ids); the letters come from the paper
RIGHT = {
    "q01": "a",                                                     # single choice
    "q05": ["a", "b", "d"],                                         # multiple choice
    "q02": False,                                                   # O/X
    "q09": {"face_unlock": "IMG", "translator": "NLP", "dictation": "SPEECH", "self_driving": "DRIVE"},  # matching
    "q32": "a",                                                     # code reading, with options
    "q33": 8,                                                       # code reading, a line number
    "q35": 784,                                                     # numeric
}
WRONG = {"q22": "b"}                                                # TensorFlow's maker: a wrong click scores 0
NOT_SAVED = {"q13": "a"}                                            # right, clicked after the last save
NO_APP = {"q19": "a"}                                               # right, clicked where the cell cannot be edited

# JavaScript run in the page: the notebook's answer cell for a question, through the app object
_PANEL = """() => {
  const app = window.jupyterapp || window.__dlqApp;
  for (const w of app.shell.widgets("main")) if (w.context && w.context.path.endsWith("concepts_quiz.ipynb")) return w;
  return null;
}"""
_CELL = "(qid) => { const p = (" + _PANEL + ")(); const re = new RegExp('\\\\.answer\\\\(\"' + qid + '\"');" \
        " return p.content.widgets.find(c => c.model.type === 'code' && re.test(c.model.sharedModel.getSource())); }"
_SOURCE = "(qid) => { const c = (" + _CELL + ")(qid); return c ? c.model.sharedModel.getSource() : null; }"
# the printed lines under an answer cell (its stream outputs), as the notebook model holds them
_PRINTED = "(qid) => { const c = (" + _CELL + ")(qid); const out = []; for (let i = 0; i < c.model.outputs.length; i++) " \
           "{ const o = c.model.outputs.get(i).toJSON(); if (o.output_type === 'stream') out.push([].concat(o.text).join('')); }" \
           " return out.join(''); }"
_PRINTED_LAST = "() => { const cells = (" + _PANEL + ")().content.widgets; const c = cells[cells.length - 1]; " \
                "const out = []; for (let i = 0; i < c.model.outputs.length; i++) { const o = c.model.outputs.get(i)" \
                ".toJSON(); if (o.output_type === 'stream') out.push([].concat(o.text).join('')); } return out.join(''); }"


def _bank():
    from graders.quiz import bank_path, load_bank
    return load_bank(bank_path(REPO, "concepts_quiz"))


def _variant(bank, qid):
    from graders.checks.quiz import _Variant
    return _Variant(bank.quiz, bank.shuffle, STUDENT, bank.question(qid))


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def _expected_line(bank, qid: str, answer) -> str:
    """The answer cell the click must leave (letters and item numbers of this student's paper)."""
    q, v = bank.question(qid), _variant(bank, qid)
    if q["type"] == "multiple":
        lit = json.dumps(", ".join(sorted(v.letter(a) for a in answer)))
    elif q["type"] == "truefalse":
        lit = '"O"' if answer else '"X"'
    elif q["type"] == "matching":
        lit = "{" + ", ".join(f'{n}: "{cat}"' for n, cat in
                              sorted((v.number(item), cat) for item, cat in answer.items())) + "}"
    elif isinstance(answer, int):
        lit = repr(answer)
    else:
        lit = json.dumps(v.letter(answer))
    return f'quiz.answer("{qid}", {lit})'


def _widget(page, qid: str):
    return page.locator(f".dlq[data-qid='{qid}']")


def _click(page, bank, qid: str, answer) -> None:
    """Answer `qid` by clicking (or picking / typing a number) in its widget, as a student reads the paper."""
    q, w = bank.question(qid), _widget(page, qid)
    w.scroll_into_view_if_needed()
    kind = q["type"]
    if kind == "truefalse":
        w.locator(f"input[value='{'O' if answer else 'X'}']").check()
    elif kind == "matching":
        for item, cat in answer.items():
            text = _plain(next(i["ko"] for i in q["items"] if i["id"] == item))
            row = w.locator(".dlq-row").filter(has=page.locator(".dlq-text", has_text=re.compile(
                "^" + re.escape(text) + "$")))
            row.locator("select").select_option(cat)
    elif kind == "numeric":
        w.locator("input.dlq-input").fill(str(answer))
        w.locator("button.dlq-button").click()
    elif kind == "code" and not q.get("options"):
        w.locator("select").select_option(str(answer))
    else:                                           # one or several options, found by their text
        for option_id in answer if isinstance(answer, list) else [answer]:
            text = _plain(next(o["ko"] for o in q["options"] if o["id"] == option_id))
            w.locator(".dlq-opt").filter(has=page.locator(".dlq-text", has_text=re.compile(
                "^" + re.escape(text) + "$"))).locator("input").check()


def _bring_into_view(page, qid: str) -> None:
    """Scroll the widget into the viewport (again while cells above it are still being laid out)."""
    w, height = _widget(page, qid), page.viewport_size["height"]
    for _ in range(20):
        w.scroll_into_view_if_needed()
        box = w.bounding_box()
        if box and 0 <= box["y"] < height - 60:
            return
        page.wait_for_timeout(250)


def _wait_state(page, qid: str, state: str, timeout: float = 120_000) -> None:
    try:
        page.wait_for_selector(f".dlq[data-qid='{qid}'][data-state='{state}']", timeout=timeout)
    except Exception as exc:
        w = _widget(page, qid)
        raise AssertionError(f"{qid}: state {w.get_attribute('data-state')!r}, not {state!r}:\n"
                             f"{w.text_content()}") from exc


def _answer_cells(path: Path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    out = {}
    for cell in nb.cells:
        m = re.search(r'\.answer\("(q\d+)"', cell.source)
        if cell.cell_type == "code" and m and "nbgrader" not in cell.metadata:
            out[m.group(1)] = cell.source
    return out


def _n_closed(bank) -> int:
    return sum(q["type"] != "short" for q in bank.questions)


def _run_all_and_wait(page, bank, done: int, restart: bool) -> None:
    """Run every cell (after a kernel restart when asked); wait until every widget is back and
    quiz.progress() reports `done` answers in a valid format."""
    page.evaluate("() => window.jupyterapp.shell.activateById((" + _PANEL + ")().id)")   # the commands act on it
    if restart:
        # not awaited here: the command waits for the dialog's answer
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:restart-run-all'); }")
        page.click(".jp-Dialog .jp-mod-accept")
    else:
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    try:
        page.wait_for_function(
            "([n, done]) => document.querySelectorAll('.dlq').length === n && (" + _PRINTED_LAST + ")()"
            ".includes('형식이 맞는 답: ' + done + '/')",
            arg=[_n_closed(bank), done], timeout=600_000)
    except Exception as exc:
        state = page.evaluate("() => [document.querySelectorAll('.dlq').length, document.querySelectorAll("
                              "'.jp-OutputArea-output').length, window.jupyterapp.shell.currentWidget.title.label]")
        raise AssertionError(f"run all did not finish: (widgets, outputs, current tab) = {state}") from exc


def test_clicked_answers_are_graded_as_clicked(lab_course, page, tmp_path):  # noqa: F811
    from graders import gradebook
    from graders.course import load_config
    from test_lab import _open_nbgrader_panel

    root, exchange = lab_course
    cfg = load_config(root / "course_config.py")
    bank = _bank()
    # autosave off: what reaches the file is what the student saved (the unsaved click below must stay unsaved);
    # no news pop-up over the screenshots
    settings = root / ".lab" / STUDENT / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    for plugin, value in (("docmanager-extension/plugin", {"autosave": False}),
                          ("apputils-extension/notification", {"fetchNews": "false"})):
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{plugin}.jupyterlab-settings").write_text(json.dumps(value))
    lab, base, token = _start_lab(root, "--student", STUDENT, log=tmp_path / "student.log")
    try:
        _wait_ready(lab, base, token, tmp_path / "student.log")
        _open_nbgrader_panel(page, base, token, "Assignment List")
        page.wait_for_selector("#released_assignments_list .list_item:has-text('concepts_quiz') button:has-text('Fetch')").click()
        page.wait_for_selector("#fetched_assignments_list .list_item:has-text('concepts_quiz')")
        fetched = root / ".lab" / STUDENT / NOTEBOOK
        assert fetched.is_file()
        before = _answer_cells(fetched)

        # ── open, run, click ────────────────────────────────────────────────
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        page.wait_for_function("() => window.jupyterapp && (" + _PANEL + ")() !== null", timeout=90_000)
        page.wait_for_function("() => { const p = (" + _PANEL + ")(); return p.sessionContext.session && "
                               "p.sessionContext.session.kernel && p.sessionContext.session.kernel.status === 'idle'; }",
                               timeout=120_000)
        _run_all_and_wait(page, bank, done=0, restart=False)
        # every closed question has its widget, labelled from this student's paper; short answers have none
        assert _widget(page, "q04").count() == 0
        for qid, answer in {**RIGHT, **WRONG}.items():
            _click(page, bank, qid, answer)
            _wait_state(page, qid, "rewritten")
            src = page.evaluate(_SOURCE, qid)
            assert src == _expected_line(bank, qid, answer), (qid, src)
        # the kernel got the same answers, with the typed answers' own ✅ message
        for qid in RIGHT:
            assert page.evaluate(_PRINTED, qid).startswith(f"✅ {qid}:"), (qid, page.evaluate(_PRINTED, qid))
        _bring_into_view(page, "q05")
        shot = screenshot(page, "quiz_widgets_1280")
        _bring_into_view(page, "q09")
        screenshot(page, "quiz_widgets_1280_matching")

        # ── Restart & Run All: the cells now carry the clicks, and the widgets show them ──
        _run_all_and_wait(page, bank, done=len(RIGHT) + len(WRONG), restart=True)
        for qid in ("q01", "q32", "q22"):
            letter = _variant(bank, qid).letter({**RIGHT, **WRONG}[qid])
            assert _widget(page, qid).locator(f"input[value='{letter}']").is_checked(), qid
        v5 = _variant(bank, "q05")
        checked = _widget(page, "q05").locator("input:checked")
        assert sorted(checked.evaluate_all("l => l.map(i => i.value)")) == sorted(v5.letter(a) for a in RIGHT["q05"])
        assert _widget(page, "q02").locator("input[value='X']").is_checked()
        v9 = _variant(bank, "q09")
        for item, cat in RIGHT["q09"].items():
            assert _widget(page, "q09").locator(f"select[data-item='{v9.number(item)}']").input_value() == cat
        assert _widget(page, "q33").locator("select").input_value() == "8"
        assert _widget(page, "q35").locator("input").input_value() == "784"
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.monotonic() + 60
        want = {qid: _expected_line(bank, qid, a) for qid, a in {**RIGHT, **WRONG}.items()}
        while True:
            on_disk = _answer_cells(fetched)
            if all(on_disk[q] == line for q, line in want.items()):
                break
            assert time.monotonic() < deadline, f"the saved notebook lacks the clicks: {on_disk}"
            time.sleep(0.3)
        # nothing else changed: the other answer cells are as fetched
        assert {q: s for q, s in on_disk.items() if q not in want} == {q: s for q, s in before.items() if q not in want}

        # ── controls: a click after the save, and a click where the cell cannot be edited ──
        (qid, answer), = NOT_SAVED.items()
        _click(page, bank, qid, answer)
        _wait_state(page, qid, "rewritten")
        assert page.evaluate(_SOURCE, qid).startswith(_expected_line(bank, qid, answer))
        (qid, answer), = NO_APP.items()
        page.evaluate("() => { window.__dlqApp = window.jupyterapp; window.jupyterapp = undefined; }")
        _click(page, bank, qid, answer)
        _wait_state(page, qid, "manual")
        assert _expected_line(bank, qid, answer) in _widget(page, qid).inner_text()
        assert f"✅ {qid}:" in _widget(page, qid).inner_text()          # recorded in the kernel all the same
        assert page.evaluate(_SOURCE, qid) == before[qid]               # ... but the cell is untouched
        _bring_into_view(page, qid)
        screenshot(page, "quiz_widgets_1280_no_app")
        page.evaluate("() => { window.jupyterapp = window.__dlqApp; }")
        assert _answer_cells(fetched)[qid] == before[qid] and _answer_cells(fetched)["q13"] == before["q13"]

        # ── a phone ─────────────────────────────────────────────────────────
        page.set_viewport_size({"width": 360, "height": 780})
        # as JupyterLab opens on a phone: one document, side bars closed
        page.evaluate("() => { const s = window.jupyterapp.shell; s.mode = 'single-document'; s.collapseLeft(); "
                      "s.collapseRight(); }")
        for qid in ("q05", "q09", "q35"):
            _bring_into_view(page, qid)
            box = _widget(page, qid).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360 + 1, (qid, box)
            screenshot(page, f"quiz_widgets_360_{qid}")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate("() => { window.jupyterapp.shell.mode = 'multiple-document'; }")

        # ── submit what is saved, through the Assignment List ─────────────────
        page.locator("#jp-MainMenu").get_by_text("Nbgrader", exact=True).click()
        page.locator("#jp-mainmenu-nbgrader").get_by_text("Assignment List", exact=True).click()
        page.click("#fetched_assignments_list button:has-text('Submit')")
        page.wait_for_selector("#submitted_assignments_list .list_item:has-text('concepts_quiz')")
    finally:
        _stop(lab)

    # ── staff: collect, autograde; the points follow the clicks ─────────────
    run_cli(["exchange", "collect", "concepts_quiz"], root)
    submitted = root / "submitted" / STUDENT / "concepts_quiz" / "concepts_quiz.ipynb"
    cells = _answer_cells(submitted)
    assert cells["q13"] == before["q13"] and cells["q19"] == before["q19"]
    run_cli(["autograde", "concepts_quiz", "--quiet"], root)
    grades = {r["cell"]: r for r in gradebook.scores(cfg.db_url, assignment="concepts_quiz", student=STUDENT)}
    for qid in RIGHT:
        g = grades[f"grade_{qid}"]
        assert g["score"] == pytest.approx(g["max_score"]) and g["max_score"] > 0, (qid, g)
    for qid in (*WRONG, *NOT_SAVED, *NO_APP):
        assert grades[f"grade_{qid}"]["score"] == 0, (qid, grades[f"grade_{qid}"])
    total = sum(g["score"] for g in grades.values())
    assert total == pytest.approx(sum(grades[f"grade_{q}"]["max_score"] for q in RIGHT))
    assert shot.is_file()


def test_widgets_in_a_grading_kernel_are_harmless(course, tmp_path):
    """The sandboxed grading kernel has no front-end: the answer is recorded and exported as typed; no widget
    is shown there, and one forced on (DLCOURSE_QUIZ_WIDGETS=1) imports and displays without an error."""
    from conftest import run_cells

    nb, _ = run_cells(course, tmp_path, [
        'from dlcourse.quiz import Quiz\nquiz = Quiz("concepts_quiz", student="lee")\nquiz.answer("q01", "B")',
        'import os\nos.environ["DLCOURSE_QUIZ_WIDGETS"] = "1"\nimport anywidget, ipywidgets\nquiz.answer("q05", "A, C")',
        'from dlcourse import artifacts\nartifacts.quiz_answer(quiz, "q05")\n'
        'print(open(os.path.join(os.environ["DLCOURSE_ARTIFACTS"], "quiz_q05.json")).read())',
    ])
    outputs = [c.outputs for c in nb.cells]
    assert not any(o.output_type == "error" for out in outputs for o in out), outputs
    widget = "application/vnd.jupyter.widget-view+json"
    assert [o.output_type for o in outputs[0]] == ["stream"] and "✅ q01" in outputs[0][0].text
    assert "✅ q05" in outputs[1][0].text and any(widget in o.get("data", {}) for o in outputs[1])
    assert json.loads(outputs[2][0].text)["raw"] == "A, C"
