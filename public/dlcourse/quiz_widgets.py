"""Answer closed quiz questions by clicking, under the answer cell (JupyterLab).

Running an answer cell (``quiz.answer("q01", "")``) shows, under it, radio buttons (one choice,
code questions with options), check boxes (several choices), O / X, one drop-down per matching
item, a line picker (code questions without options) or a number field, preselected from the
answer the cell holds.  A click

1. records the answer in the kernel at once, through ``Quiz.answer`` itself (the same format check
   and the same ✅/⚠️ message as typing), and
2. rewrites the answer literal in that same cell's source (``quiz.answer("q01", "B")``), so the
   notebook file carries the choice: save, Restart & Run All, submit, a fetch elsewhere and the
   grader all see an ordinary typed answer.  Nothing else reaches the grader.

Step 2 needs JupyterLab's app object (``window.jupyterapp``: the course starts JupyterLab with
``--LabApp.expose_app_in_browser=True``).  Where it is missing (another front-end), the click is still
recorded in the kernel and the widget shows the exact line to put in the cell.

Whatever comes back from the browser is untrusted: a choice is checked against this question's own
letters, categories or line numbers before it is recorded, and the source written is built from the
checked value by a serializer (``repr``, or JSON's double quotes where that reads back to the very
same value) and parsed again before it is sent — never pasted text.  The cell source the browser
sends is only searched for this question's ``.answer("qNN", …)`` call, whose argument is replaced.

The widgets are not shown in a grading run (``DLCOURSE_ARTIFACTS`` set) or outside a Jupyter kernel;
``DLCOURSE_QUIZ_WIDGETS=0`` turns them off, ``=1`` forces them on.
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import os
import re

from ._lang import pick
from .quiz import LETTERS, parse

MAX_SOURCE = 20_000        # characters of cell source read back from the browser
MAX_NUMBER_TEXT = 32       # characters of a typed number
_NUMBER = re.compile(r"[-+]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})(?:[eE][-+]?\d{1,3})?")

_BLANK_NOTE = re.compile(r"[ \t]*#[ \t]*None 대신 숫자[ \t]*(?=\r\n|\r|\n|\Z)")   # graders/quiz/render.py's blank
_quiet = 0                 # > 0 while a click is being recorded: Quiz.answer must not show a new widget
_shown: dict = {}          # (quiz name, qid) -> the widget shown last (closed when the cell runs again)
_widget_class = None


# ── when to show ────────────────────────────────────────────────────────────
def enabled() -> bool:
    flag = os.environ.get("DLCOURSE_QUIZ_WIDGETS", "").strip()
    if flag == "0":
        return False
    if flag != "1" and os.environ.get("DLCOURSE_ARTIFACTS"):     # a grading run: no one clicks there
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def ui_kind(question: dict) -> str | None:
    """Which control a question gets; None for questions answered only by typing (short answers)."""
    kind = question.get("type")
    if kind == "single" or (kind == "code" and question.get("options")):
        return "choice"
    if kind == "multiple":
        return "multi"
    if kind in ("truefalse", "matching"):
        return kind
    if kind == "code":
        return "line"
    if kind == "numeric":
        return "number"
    return None


def offer(quiz, qid: str) -> None:
    """Called by ``Quiz.answer``: show the widget under the answer cell (never raises)."""
    if _quiet or not enabled():
        return
    try:
        question = quiz._question(qid)
        if ui_kind(question) is None:
            return
        widget = make_widget(quiz, qid)
        old = _shown.pop((quiz.name, qid), None)
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        _shown[(quiz.name, qid)] = widget
        from IPython.display import display
        display(widget)
    except Exception as exc:  # typing keeps working whatever happens here
        print(pick(f"(클릭용 답 칸을 띄우지 못했습니다: {type(exc).__name__}. 답을 직접 적어 주세요.)",
                   f"(Could not show the click-to-answer box: {type(exc).__name__}. Type the answer instead.)"))


# ── what the student sees ───────────────────────────────────────────────────
def spec(quiz, qid: str) -> dict:
    """Labels from this student's own paper (option and item order, language)."""
    q = quiz._question(qid)
    kind = ui_kind(q)
    out = {"qid": qid, "kind": kind, "t": texts(qid)}
    if kind in ("choice", "multi"):
        order = quiz._order(q, "options")
        out["options"] = [{"letter": LETTERS[i], "text": quiz._text(q["options"][j])} for i, j in enumerate(order)]
    elif kind == "matching":
        order = quiz._order(q, "items")
        out["items"] = [{"n": i, "text": quiz._text(q["items"][j])} for i, j in enumerate(order, 1)]
        out["categories"] = [{"id": c["id"], "text": quiz._text(c)} for c in q["categories"]]
    elif kind == "line":
        out["lines"] = [{"n": i, "text": line} for i, line in enumerate(q["code"].splitlines(), 1)]
    elif kind == "number":
        out["form"] = q.get("form", "number")
    return out


def texts(qid: str) -> dict:
    return {
        "title": pick("클릭해서 답하기", "Answer by clicking"),
        "hint": pick("고르면 바로 기록되고, 이 셀의 답도 그 값으로 바뀝니다. 직접 적어도 됩니다.",
                     "A click records the answer and writes it into this cell. Typing works too."),
        "hint_number": pick("숫자를 적고 확인(또는 Enter)을 누르면 바로 기록되고, 이 셀의 답도 그 값으로 바뀝니다.",
                            "Type the number and press OK (or Enter): it is recorded and written into this cell."),
        "true": pick("O (맞다)", "O (true)"),
        "false": pick("X (틀리다)", "X (false)"),
        "choose": pick("— 고르세요 —", "— choose —"),
        "line": pick("번 줄", ""),
        "line_prefix": pick("", "line "),
        "number": pick("숫자", "number"),
        "ok": pick("확인", "OK"),
        "saving": pick("기록하는 중…", "Recording…"),
        "no_kernel": pick("커널이 응답하지 않습니다. 이 셀을 다시 실행한 뒤 고르세요.",
                          "The kernel does not answer. Run this cell again, then choose."),
        "rewritten": pick("✏️ 답 셀을 고쳤습니다:", "✏️ The answer cell now reads:"),
        "save_note": pick("파일을 저장(Ctrl+S)해야 제출에 들어갑니다.", "Save the file (Ctrl+S) before you submit."),
        "manual": pick("이 화면에서는 셀을 자동으로 고칠 수 없습니다. 답 셀을 아래 줄로 바꿔 적고 실행한 뒤 저장하세요 "
                       "(바꾸지 않으면 제출에 들어가지 않습니다):",
                       "This page cannot edit the cell for you. Replace the answer cell with the line below, run it "
                       "and save (otherwise the click is not submitted):"),
        "copy": pick("복사", "Copy"),
        "copied": pick("복사했습니다", "Copied"),
    }


def current(quiz, qid: str):
    """The answer the kernel holds for `qid`, in the form the widget preselects (None: nothing)."""
    q = quiz._question(qid)
    kind = ui_kind(q)
    raw = quiz.answers.get(qid)
    value, problem = _parse(quiz, q, raw)
    if problem is None:
        if kind == "truefalse":
            return "O" if value else "X"
        if kind == "number":
            return _number_text(raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else value)
        return value
    if kind == "matching" and isinstance(raw, dict):        # partly answered: keep the items already chosen
        ids = {c["id"] for c in q["categories"]}
        return {str(k): v for k, v in raw.items()
                if isinstance(k, (int, str)) and not isinstance(k, bool) and str(k).isdigit()
                and isinstance(v, str) and v in ids}
    return None


def _parse(quiz, q: dict, raw):
    """The notebook's own reading of `raw` (on this student's paper where the reader takes the order)."""
    try:
        return parse(q, raw, quiz._order(q, "options") if q.get("options") else None)
    except TypeError:           # a reader without the order argument
        return parse(q, raw)


def _number_text(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# ── what comes back from the browser ───────────────────────────────────────
def checked(question: dict, value):
    """The clicked value, checked against this question: the Python value to record, or None."""
    kind = ui_kind(question)
    if kind == "choice":
        n = len(question["options"])
        return value if isinstance(value, str) and len(value) == 1 and value in LETTERS[:n] else None
    if kind == "multi":
        n = len(question["options"])
        if not isinstance(value, list) or len(value) > n:
            return None
        if not all(isinstance(v, str) and len(v) == 1 and v in LETTERS[:n] for v in value) or len(set(value)) != len(value):
            return None
        return ", ".join(sorted(value))
    if kind == "truefalse":
        return value if value in ("O", "X") and isinstance(value, str) else None
    if kind == "matching":
        n = len(question["items"])
        ids = {c["id"] for c in question["categories"]}
        if not isinstance(value, dict) or len(value) != n or set(value) != {str(i) for i in range(1, n + 1)}:
            return None
        if not all(isinstance(v, str) and (v == "" or v in ids) for v in value.values()):
            return None
        return {i: value[str(i)] for i in range(1, n + 1)}
    if kind == "line":
        n = len(question["code"].splitlines())
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= n:
            return value
        return None
    if kind == "number":
        if not isinstance(value, str) or len(value) > MAX_NUMBER_TEXT:
            return None
        text = value.strip().replace(",", "") if re.fullmatch(r"\s*[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*", value) \
            else value.strip()
        if not _NUMBER.fullmatch(text):
            return None
        if re.fullmatch(r"[-+]?\d{1,15}", text):
            return int(text)
        number = float(text)
        return number if math.isfinite(number) else None
    return None


def literal(value) -> str:
    """The Python literal of a checked value (str, int, float or a dict of int -> str)."""
    if isinstance(value, str):
        pretty = json.dumps(value, ensure_ascii=False)      # "B" rather than 'B', where it reads back the same
        return pretty if _reads_back(pretty, value) else repr(value)
    if isinstance(value, bool):
        raise TypeError("no bool answers from a click")
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, dict) and all(isinstance(k, int) and not isinstance(k, bool) for k in value):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a click answer: {type(value).__name__}")


def _reads_back(text: str, value) -> bool:
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return type(back) is type(value) and back == value


def answer_line(qid: str, value) -> str:
    return f"quiz.answer({literal(qid)}, {literal(value)})"


def _answer_args(tree, qid: str) -> list:
    """The argument nodes holding the answer in every `<x>.answer("<qid>", <answer>)` call."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "answer"):
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant) or node.args[0].value != qid:
            continue
        if len(node.args) >= 2:
            found.append(node.args[1])
        else:
            found += [kw.value for kw in node.keywords if kw.arg == "raw"]
    return found


def rewrite_source(source, qid: str, value) -> str | None:
    """`source` with the answer of every `.answer(qid, …)` call replaced by `value`'s literal, or None
    (not a string, too long, not Python, no such call, or the result would not read back as `value`)."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        return None
    try:
        args = _answer_args(ast.parse(source), qid)
        if not args:
            return None
        starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]

        def offset(lineno: int, col: int) -> int:          # ast columns count UTF-8 bytes
            begin = starts[lineno - 1]
            end = starts[lineno] if lineno < len(starts) else len(source)
            return begin + len(source[begin:end].encode("utf-8")[:col].decode("utf-8"))

        spans = sorted((offset(a.lineno, a.col_offset), offset(a.end_lineno, a.end_col_offset)) for a in args)
        if any(b[0] < a[1] for a, b in zip(spans, spans[1:])):
            return None
        new, text = source, literal(value)
        for begin, end in reversed(spans):
            new = new[:begin] + text + new[end:]
        new = re.sub(_BLANK_NOTE, "", new)          # the blank's "None 대신 숫자" note, once a number is there
        again = _answer_args(ast.parse(new), qid)
        ok = len(again) == len(args) and all(_reads_back(ast.get_source_segment(new, a) or "", value) for a in again)
        return new if ok else None
    except (SyntaxError, ValueError, UnicodeError, MemoryError, RecursionError, TypeError, IndexError):
        return None


def on_click(quiz, qid: str, content) -> dict:
    """Handle one message from the browser: the reply to send back (never raises)."""
    reply = {"kind": "result", "qid": qid, "ok": False, "message": "", "line": None, "source": None, "value": None}
    if not isinstance(content, dict) or content.get("kind") != "choose":
        return reply
    nonce = content.get("nonce")
    reply["nonce"] = nonce if isinstance(nonce, str) and len(nonce) <= 40 else None
    question = quiz._question(qid)
    value = checked(question, content.get("value"))
    if value is None:
        reply["message"] = "⚠️ " + pick("이 선택은 이 문항의 보기가 아니어서 기록하지 않았습니다.",
                                        "That choice is not one of this question's options; nothing was recorded.")
        return reply
    global _quiet
    out = io.StringIO()
    _quiet += 1
    try:
        with contextlib.redirect_stdout(out):
            quiz.answer(qid, value)            # the very check and message of a typed answer
    finally:
        _quiet -= 1
    reply.update(ok=True, message=out.getvalue().strip()[:2000], line=answer_line(qid, value),
                 source=rewrite_source(content.get("source"), qid, value), value=current(quiz, qid))
    return reply


# ── the widget ──────────────────────────────────────────────────────────────
def make_widget(quiz, qid: str):
    cls = widget_class()
    widget = cls(spec=spec(quiz, qid), value=current(quiz, qid))
    widget._dlq_line = None
    raw = quiz.answers.get(qid)
    q = quiz._question(qid)
    if _parse(quiz, q, raw)[1] is None:
        with contextlib.suppress(TypeError):
            widget._dlq_line = answer_line(qid, checked(q, _ui_value(q, current(quiz, qid))))

    def handle(_widget, content, _buffers):
        reply = on_click(quiz, qid, content)
        if reply["ok"]:
            widget.value = reply["value"]
            widget._dlq_line = reply["line"]
        widget.send(reply)

    widget.on_msg(handle)
    return widget


def _ui_value(question, value):
    """The value the browser would send for a preselection (used only for the text fallback)."""
    kind = ui_kind(question)
    if kind == "matching" and isinstance(value, dict):
        return {str(i): value.get(str(i), "") for i in range(1, len(question["items"]) + 1)}
    if kind == "line" and isinstance(value, int):
        return str(value)
    return value


def widget_class():
    global _widget_class
    if _widget_class is None:
        import anywidget
        import traitlets

        class QuizAnswerWidget(anywidget.AnyWidget):
            _esm = ESM
            _css = CSS
            spec = traitlets.Dict().tag(sync=True)
            value = traitlets.Any(None, allow_none=True).tag(sync=True)

            def __repr__(self) -> str:      # what a front-end without widgets shows instead
                qid = self.spec.get("qid", "")
                line = getattr(self, "_dlq_line", None) or f'quiz.answer("{qid}", ...)'
                return pick(f"[{qid}: 클릭해서 답하는 칸은 JupyterLab에서 보입니다. 답 셀에 직접 적어도 됩니다: {line}]",
                            f"[{qid}: the click-to-answer box shows in JupyterLab. You can type instead: {line}]")

        _widget_class = QuizAnswerWidget
    return _widget_class


# The front-end: plain ES module, no build step.  Text goes in with textContent only (never innerHTML).
ESM = r"""
function findCell(el) {
  const app = window.jupyterapp;
  const node = el.closest(".jp-CodeCell");
  if (!app || !app.shell || !node) return null;
  try {
    for (const w of app.shell.widgets("main")) {
      const nb = w && w.content;
      if (!nb || !nb.widgets || !nb.node || !nb.node.contains(node)) continue;
      for (const c of nb.widgets) {
        if (c.node === node && c.model && c.model.type === "code" && c.model.sharedModel) return c;
      }
    }
  } catch (e) { /* another front-end: no cell to edit */ }
  return null;
}

function replaceMessage(cell, qid, text) {
  // the answer cell's printed ✅/⚠️ line, now out of date: the new message in its place
  try {
    const outs = cell.model.outputs;
    for (let i = 0; i < outs.length; i++) {
      const o = outs.get(i).toJSON();
      if (o.output_type !== "stream") continue;
      const t = (Array.isArray(o.text) ? o.text.join("") : String(o.text || "")).trim();
      if ((t.startsWith("⚠️ " + qid + ":") || t.startsWith("✅ " + qid + ":")) && !t.includes("\n")) {
        outs.set(i, { output_type: "stream", name: o.name, text: text + "\n" });
        return true;
      }
    }
  } catch (e) { /* leave the outputs as they are */ }
  return false;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function richText(text) {
  // `code` in option texts shown as code; everything else as plain text
  const span = el("span", "dlq-text");
  String(text).split("`").forEach((part, i) => { if (part) span.appendChild(el(i % 2 ? "code" : "span", null, part)); });
  return span;
}

function render({ model, el: host }) {
  const spec = model.get("spec") || {};
  const t = spec.t || {};
  const group = "dlq-" + Math.random().toString(36).slice(2);
  const root = el("div", "dlq");
  root.dataset.qid = spec.qid;
  root.dataset.kind = spec.kind;
  root.appendChild(el("div", "dlq-head", "👆 " + t.title));
  const body = el("div", "dlq-body");
  const status = el("div", "dlq-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.appendChild(el("span", "dlq-hint", spec.kind === "number" ? t.hint_number : t.hint));
  root.append(body, status);
  host.appendChild(root);

  let pending = null, timer = null;
  const inputs = [];

  function send(value) {
    const cell = findCell(host);
    const nonce = Math.random().toString(36).slice(2, 14);
    pending = { nonce, cell, source: cell ? cell.model.sharedModel.getSource() : null };
    model.send({ kind: "choose", nonce, value, source: pending.source });
    status.replaceChildren(el("span", "dlq-busy", t.saving));
    root.dataset.state = "busy";
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (pending && pending.nonce === nonce) { status.replaceChildren(el("span", "dlq-warn", t.no_kernel)); root.dataset.state = "timeout"; }
    }, 20000);
  }

  function option(type, value, label, text) {
    const lab = el("label", "dlq-opt");
    const input = el("input");
    input.type = type; input.name = group; input.value = value;
    lab.append(input);
    if (label) lab.append(el("b", "dlq-letter", label));
    lab.append(richText(text));
    inputs.push(input);
    return lab;
  }

  function mark() { for (const i of inputs) if (i.closest) { const l = i.closest(".dlq-opt"); if (l) l.classList.toggle("on", !!i.checked); } }

  let select;    // (value) -> void: show a value
  const kind = spec.kind;
  if (kind === "choice" || kind === "multi") {
    const list = el("div", "dlq-list");
    for (const o of spec.options || []) list.append(option(kind === "choice" ? "radio" : "checkbox", o.letter, o.letter + ".", o.text));
    body.append(list);
    list.addEventListener("change", () => {
      mark();
      if (kind === "choice") { const on = inputs.find(i => i.checked); if (on) send(on.value); }
      else send(inputs.filter(i => i.checked).map(i => i.value));
    });
    select = (v) => { const set = new Set(Array.isArray(v) ? v : [v]); for (const i of inputs) i.checked = set.has(i.value); mark(); };
  } else if (kind === "truefalse") {
    const list = el("div", "dlq-list dlq-tf");
    list.append(option("radio", "O", null, t.true), option("radio", "X", null, t.false));
    body.append(list);
    list.addEventListener("change", () => { mark(); const on = inputs.find(i => i.checked); if (on) send(on.value); });
    select = (v) => { for (const i of inputs) i.checked = i.value === v; mark(); };
  } else if (kind === "matching") {
    const rows = el("div", "dlq-match");
    const selects = [];
    for (const item of spec.items || []) {
      const row = el("label", "dlq-row");
      const name = el("span", "dlq-item");
      name.append(el("b", "dlq-letter", item.n + "."), richText(item.text));
      const s = el("select", "dlq-select");
      s.dataset.item = String(item.n);
      s.append(el("option", null, t.choose));
      s.options[0].value = "";
      for (const c of spec.categories || []) { const o = el("option", null, c.id + " — " + c.text); o.value = c.id; s.append(o); }
      row.append(name, s);
      rows.append(row);
      selects.push(s);
    }
    body.append(rows);
    rows.addEventListener("change", () => {
      const value = {};
      for (const s of selects) value[s.dataset.item] = s.value;
      send(value);
    });
    select = (v) => { for (const s of selects) s.value = (v && typeof v === "object" && v[s.dataset.item]) || ""; };
  } else if (kind === "line") {
    const s = el("select", "dlq-select dlq-lines");
    s.append(el("option", null, t.choose));
    s.options[0].value = "";
    for (const l of spec.lines || []) {
      const text = l.text.length > 60 ? l.text.slice(0, 59) + "…" : l.text;
      const o = el("option", null, t.line_prefix + l.n + t.line + ":  " + text.trim());
      o.value = String(l.n);
      s.append(o);
    }
    body.append(s);
    s.addEventListener("change", () => { if (s.value) send(s.value); });
    select = (v) => { s.value = v === null || v === undefined ? "" : String(v); };
  } else if (kind === "number") {
    const row = el("div", "dlq-num");
    const input = el("input", "dlq-input");
    input.type = "text"; input.inputMode = "decimal"; input.placeholder = t.number; input.maxLength = 32;
    input.setAttribute("aria-label", t.number);
    const button = el("button", "dlq-button", t.ok);
    button.type = "button";
    row.append(input, button);
    body.append(row);
    const go = () => { if (input.value.trim()) send(input.value.trim()); };
    button.addEventListener("click", go);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); go(); } });
    select = (v) => { input.value = v === null || v === undefined ? "" : String(v); };
  } else {
    select = () => {};
  }
  select(model.get("value"));

  function onMsg(msg) {
    if (!msg || msg.kind !== "result" || msg.qid !== spec.qid) return;
    if (msg.ok) select(msg.value);
    if (!pending || msg.nonce !== pending.nonce) return;      // another view's click
    clearTimeout(timer);
    const p = pending;
    pending = null;
    const parts = [];
    if (!msg.ok) {
      parts.push(el("div", "dlq-warn", msg.message));
      root.dataset.state = "refused";
    } else {
      let rewritten = false, replaced = false;
      if (typeof msg.source === "string" && p.cell && !p.cell.isDisposed && p.cell.model.sharedModel.getSource() === p.source) {
        p.cell.model.sharedModel.setSource(msg.source);
        rewritten = true;
        replaced = replaceMessage(p.cell, spec.qid, msg.message);
      }
      if (!replaced) parts.push(el("div", "dlq-msg", msg.message));
      if (rewritten) {
        const line = el("div", "dlq-done");
        line.append(el("span", null, t.rewritten + " "), el("code", "dlq-line", msg.line), el("span", "dlq-note", " " + t.save_note));
        parts.push(line);
        root.dataset.state = "rewritten";
      } else {
        const box = el("div", "dlq-manual");
        box.append(el("div", null, t.manual));
        const row = el("div", "dlq-copyrow");
        const code = el("code", "dlq-line", msg.line);
        const copy = el("button", "dlq-button", t.copy);
        copy.type = "button";
        copy.addEventListener("click", async () => {
          try { await navigator.clipboard.writeText(msg.line); copy.textContent = t.copied; } catch (e) {
            const r = document.createRange(); r.selectNodeContents(code);
            const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
          }
        });
        row.append(code, copy);
        box.append(row);
        parts.push(box);
        root.dataset.state = "manual";
      }
    }
    status.replaceChildren(...parts);
  }
  model.on("msg:custom", onMsg);
  return () => { model.off("msg:custom", onMsg); clearTimeout(timer); };
}

export default { render };
"""

CSS = r"""
.dlq { box-sizing: border-box; max-width: 46rem; margin: 4px 0 2px; padding: 8px 10px;
  border: 1px solid var(--jp-border-color2, #d0d7de); border-left: 4px solid var(--jp-brand-color1, #1976d2);
  border-radius: 6px; background: var(--jp-layout-color1, #fff); color: var(--jp-content-font-color1, #1f2328);
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: var(--jp-content-font-size1, 14px);
  line-height: 1.45; word-break: keep-all; overflow-wrap: anywhere; }
.dlq-head { font-weight: 600; font-size: 0.92em; margin-bottom: 4px; color: var(--jp-content-font-color2, #57606a); }
.dlq-list { display: flex; flex-direction: column; gap: 2px; }
.dlq-opt { display: flex; align-items: flex-start; gap: 8px; padding: 6px 8px; min-height: 24px; border-radius: 5px;
  cursor: pointer; border: 1px solid transparent; }
.dlq-opt:hover { background: var(--jp-layout-color2, #f3f4f6); }
.dlq-opt.on { background: var(--jp-brand-color3, #e3f2fd); border-color: var(--jp-brand-color2, #90caf9); }
.dlq-opt input { flex: none; width: 18px; height: 18px; margin: 2px 0 0; cursor: pointer; }
.dlq-letter { flex: none; min-width: 1.4em; }
.dlq-text { min-width: 0; }
.dlq code, .dlq-line { font-family: var(--jp-code-font-family, monospace); font-size: 0.92em;
  background: var(--jp-layout-color2, #f3f4f6); padding: 0 4px; border-radius: 3px; }
.dlq-tf { flex-direction: row; flex-wrap: wrap; gap: 8px; }
.dlq-tf .dlq-opt { flex: 1 1 8rem; max-width: 14rem; justify-content: center; border-color: var(--jp-border-color2, #d0d7de);
  font-weight: 600; padding: 8px; }
.dlq-match { display: flex; flex-direction: column; gap: 6px; }
.dlq-row { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; padding: 2px 0;
  border-bottom: 1px dashed var(--jp-border-color3, #eaeef2); }
.dlq-item { display: flex; gap: 6px; flex: 1 1 14rem; min-width: 0; }
.dlq-select { flex: 0 1 15rem; min-width: 10rem; max-width: 100%; min-height: 32px; font-size: inherit; padding: 2px 4px;
  color: inherit; background: var(--jp-layout-color0, #fff); border: 1px solid var(--jp-border-color1, #bbb); border-radius: 4px; }
.dlq-lines { width: 100%; max-width: 36rem; font-family: var(--jp-code-font-family, monospace); font-size: 0.9em; }
.dlq-num { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.dlq-input { flex: 1 1 6rem; width: 10rem; max-width: 12rem; min-height: 32px; box-sizing: border-box; font-size: inherit; padding: 2px 8px;
  color: inherit; background: var(--jp-layout-color0, #fff); border: 1px solid var(--jp-border-color1, #bbb); border-radius: 4px; }
.dlq-button { min-height: 32px; padding: 2px 14px; font-size: inherit; cursor: pointer; border-radius: 4px;
  border: 1px solid var(--jp-brand-color1, #1976d2); background: var(--jp-brand-color1, #1976d2); color: #fff; }
.dlq-status { margin-top: 6px; font-size: 0.9em; color: var(--jp-content-font-color2, #57606a); }
.dlq-status > div + div { margin-top: 4px; }
.dlq-msg, .dlq-done { color: var(--jp-content-font-color1, #1f2328); }
.dlq-warn { color: var(--jp-warn-color0, #b35900); }
.dlq-manual { padding: 6px 8px; border-radius: 4px; background: var(--jp-warn-color3, #fff4e5); color: var(--jp-content-font-color1, #1f2328); }
.dlq-copyrow { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 4px; }
.dlq-copyrow .dlq-line { word-break: break-all; }
@media (max-width: 600px) {
  .dlq { padding: 6px 6px 6px 8px; }
  .dlq-opt { padding: 6px 4px; gap: 6px; }
  .dlq-select { min-width: 0; flex-basis: 100%; }
}
"""
