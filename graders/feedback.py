"""Feedback HTML for students (`python -m graders feedback`, or plain `nbgrader generate_feedback`).

nbgrader's own feedback would show hidden test source and tracebacks from hidden
code.  The course configures GenerateFeedback with nbgrader's `ClearHiddenTests`
and `HideGraderOutputs` below, so the HTML holds points, the check messages
(expected, found, hint) and the student's own cells — nothing from the grader zone.

Outputs are data, never code (`SafeOutputs`, also in front of formgrader's exporter):
HTML and markdown from a notebook (outputs, markdown/raw cells, comments) pass an allowlist
sanitizer (bleach: no script, no event handlers, no javascript: URLs, images only as data:
PNG/JPEG/GIF), JavaScript and widget outputs are dropped with a text notice, SVG is shown only
as an <img> (scripts in it never run).  The feedback page also carries a Content-Security-Policy
that allows no script at all.  `FeedbackOutputs` shows no output of the grading run besides
the check messages (every cell of a graded kernel could read the hidden inputs) and cuts
hidden-input text out of what is left.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbgrader
from jinja2 import FileSystemLoader, PrefixLoader
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode, default

from .farm.sanitize import HiddenText

MOBILE_TEMPLATE = Path(__file__).resolve().parent / "templates" / "feedback_mobile"
NBGRADER_FEEDBACK = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates" / "feedback"


# the page may load nothing and run nothing: styles are inline, images are data: URIs
FEEDBACK_CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
                "img-src data:; font-src data:; base-uri 'none'; form-action 'none'")


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback exporter with our page head in front of nbgrader's `feedback` template:
    a phone-width viewport, wrapping messages, no MathJax fetched from a CDN, a CSP without script.
    Only GenerateFeedback uses it (formgrader's own pages keep their templates)."""

    @default("sanitize_html")
    def _sanitize_default(self):
        return True

    @default("skip_svg_encoding")
    def _svg_default(self):
        return False        # SVG only as <img src="data:...">: scripts in it never run

    def _init_resources(self, resources):
        resources = super()._init_resources(resources)
        resources["dlcourse_csp"] = FEEDBACK_CSP
        return resources

    def _extra_loaders_default(self):
        # ours answers for "index.html.j2"; it extends nbgrader's page, reached under its own prefix
        return [FileSystemLoader(str(MOBILE_TEMPLATE)),
                PrefixLoader({"nbgrader_feedback": FileSystemLoader(str(NBGRADER_FEEDBACK))})]


class HideGraderOutputs(NbGraderPreprocessor):
    """Keep only the check messages in graded cells; drop errors and tracebacks there."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            cell.outputs = [o for o in cell.get("outputs", [])
                            if o.get("output_type") == "stream" and o.get("name") == "stdout"]
            for o in cell.outputs:
                o.pop("traceback", None)
        return cell, resources


# ── outputs are data ────────────────────────────────────────────────────────
SAFE_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
             "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
             "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
             "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_SAFE_HREF = re.compile(r"^(https?://|mailto:|#)", re.I)
_TAG_OK = re.compile(r"^[\w-]{1,64}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
SAFE_MIMES = {"text/plain", "text/latex", "image/png", "image/jpeg", "image/svg+xml"}
NOT_SHOWN = {"ko": "[{what} 출력은 보여 주지 않습니다]", "en": "[{what} output not shown]"}

# ── what is rendered is bounded ─────────────────────────────────────────────
# An HTML sanitizer (bleach/html5lib here, and nbconvert's own pass after ours) spends time that grows
# with the number of tags times how deep they nest: a 200 kB markdown cell of unclosed <div>s took 87 s,
# and formgrader renders in its server's event loop.  So every piece that would be rendered (a markdown or
# raw cell, an output's text, a code cell's source) is measured first, in one linear pass, and a piece
# over these bounds is shown as a short notice instead; so is everything past the notebook's budget.
MAX_PIECE_CHARS = 100_000            # one cell's source, one output's text or markup
MAX_PIECE_DEPTH = 256                # tags open at once, as counted by _markup_cost (an upper bound)
MAX_IMAGE_CHARS = 4_000_000          # one base64 image
MAX_NOTEBOOK_CHARS = 6_000_000       # everything shown of one notebook
MAX_NOTEBOOK_WORK = 20_000_000       # sum over pieces of tags × depth (about 3 s of sanitizing)
TOO_BIG = {"ko": "[{what} 너무 커서 여기에는 보여 주지 않습니다 ({why}). 노트북 파일을 열어 확인하세요.]",
           "en": "[{what} is too big to show here ({why}). Open the notebook file to see it.]"}
WHAT = {"markdown": {"ko": "이 마크다운 셀은", "en": "This markdown cell"},
        "raw": {"ko": "이 셀은", "en": "This cell"},
        "output": {"ko": "이 출력은", "en": "This output"},
        "code": {"ko": "이 코드 셀의 나머지 부분은", "en": "The rest of this code cell"}}
WHY = {"chars": {"ko": "{n:,}자, 최대 {limit:,}자", "en": "{n:,} characters, at most {limit:,}"},
       "depth": {"ko": "태그가 {n:,}단계로 겹침, 최대 {limit:,}단계", "en": "tags nested {n:,} deep, at most {limit:,}"},
       "budget": {"ko": "노트북 전체에서 보여 줄 수 있는 양을 넘음", "en": "past what one notebook may show"}}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*?(/?)>|<(/?)([A-Za-z][A-Za-z0-9-]*)")


def _markup_cost(text: str) -> tuple[int, int]:
    """(tags, deepest nesting) of markup, in one linear pass.  Every tag that is not void counts as
    open until a closing tag of any name: never less than what an HTML parser builds."""
    tags = depth = deepest = 0
    for m in _TAG.finditer(text):
        closing, name = (m.group(1), m.group(2)) if m.group(2) else (m.group(4), m.group(5))
        tags += 1
        if closing:
            depth = max(0, depth - 1)
        elif name.lower() not in _VOID and not m.group(3):
            depth += 1
            deepest = max(deepest, depth)
    return tags, deepest


class RenderBudget:
    """What one notebook's page may still render (see the bounds above)."""

    def __init__(self, lang: str = "ko"):
        self.lang, self.chars, self.work = lang, MAX_NOTEBOOK_CHARS, MAX_NOTEBOOK_WORK

    def notice(self, what: str, why: str, **kw) -> str:
        pick = lambda table: table.get(self.lang, table["en"])      # noqa: E731
        return pick(TOO_BIG).format(what=pick(WHAT[what]), why=pick(WHY[why]).format(**kw))

    def take(self, text: str, what: str, markup: bool = False, limit: int = MAX_PIECE_CHARS) -> str | None:
        """None when `text` may be rendered (and it is charged to the budget), else the notice to show."""
        n = len(text)
        if n > limit:
            return self.notice(what, "chars", n=n, limit=limit)
        work = 0
        if markup:
            tags, deepest = _markup_cost(text)
            if deepest > MAX_PIECE_DEPTH:
                return self.notice(what, "depth", n=deepest, limit=MAX_PIECE_DEPTH)
            work = tags * max(deepest, 1)
        if n > self.chars or work > self.work:
            return self.notice(what, "budget")
        self.chars -= n
        self.work -= work
        return None


def _text_of(value) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def _notice_output(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text + "\n")


def _notice_markdown(text: str) -> str:
    return '<div class="dl-safe-md dl-too-big"><p>' + html.escape(text, quote=True) + "</p></div>"


def bound_outputs(outputs: list, budget: RenderBudget) -> list:
    """Outputs with every piece over the bounds replaced by a notice (before any of it is parsed)."""
    kept = []
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream":
            refused = budget.take(_text_of(out.get("text", "")), "output")
        elif kind == "error":
            refused = budget.take(_text_of(out.get("traceback", "")) + str(out.get("evalue", "")), "output")
        else:
            refused = None
            for mime, value in (out.get("data") or {}).items():
                text = _text_of(value)
                image = mime in ("image/png", "image/jpeg")
                refused = budget.take(text, "output", markup=mime in ("text/html", "text/markdown", "image/svg+xml"),
                                      limit=MAX_IMAGE_CHARS if image else MAX_PIECE_CHARS)
                if refused:
                    break
        kept.append(_notice_output(refused) if refused else out)
    return kept


def _attribute_ok(tag: str, name: str, value: str) -> bool:
    if name in ("title", "align", "colspan", "rowspan", "scope", "lang", "dir", "open"):
        return True
    if name in ("width", "height"):
        return value.strip().rstrip("%").isdigit()
    if tag == "a" and name == "href":
        return bool(_SAFE_HREF.match(value.strip()))
    if tag == "img" and name == "src":
        return bool(_DATA_IMAGE.match(value.strip()))
    if tag == "img" and name == "alt":
        return True
    return False


def safe_html(text) -> str:
    """Student HTML as harmless markup: an allowlist of tags and attributes, everything else escaped."""
    import bleach
    if isinstance(text, list):
        text = "".join(text)
    text = str(text)
    return bleach.clean(text, tags=SAFE_TAGS, attributes=_attribute_ok, protocols=["http", "https", "mailto", "data"],
                        strip=False, strip_comments=True)


def safe_markdown(source) -> str:
    """Markdown rendered, sanitized, and wrapped as one HTML block a template's markdown2html passes
    through as it is (one line: no newline ends the block; &#10; keeps line breaks inside <pre>)."""
    from nbconvert.filters import markdown2html
    if isinstance(source, list):
        source = "".join(source)
    return _safe_block(markdown2html(str(source)))


def _safe_block(rendered: str) -> str:
    rendered = safe_html(rendered)
    return '<div class="dl-safe-md">' + rendered.replace("\r", "").replace("\n", "&#10;") + "</div>"


def plain_markdown(text: str) -> str:
    """Text that markdown2html shows as written: no HTML, no links."""
    text = html.escape(str(text), quote=True)
    for ch, ent in (("[", "&#91;"), ("]", "&#93;"), ("`", "&#96;"), ("!", "&#33;")):
        text = text.replace(ch, ent)
    return text


def safe_outputs(outputs: list, lang: str = "ko") -> list:
    """Outputs whose every shown form is harmless: see the module text."""
    kept = []
    for out in outputs or []:
        kind = out.get("output_type")
        if kind in ("stream", "error"):                     # shown escaped by every template
            kept.append(out)
            continue
        data = out.get("data") or {}
        clean, dropped = {}, []
        for mime, value in data.items():
            if mime == "text/html":
                clean[mime] = safe_html(value)
            elif mime == "text/markdown":
                clean.setdefault("text/html", safe_markdown(value))
            elif mime in ("image/png", "image/jpeg"):
                if isinstance(value, str) and _BASE64.match(value):
                    clean[mime] = value
                else:
                    dropped.append(mime)
            elif mime in SAFE_MIMES:
                clean[mime] = value if isinstance(value, str) else "".join(map(str, value))
            else:
                dropped.append(mime)
        if "text/html" in data and "text/markdown" in data:
            clean["text/html"] = safe_html(data["text/html"])
        if dropped and "text/plain" not in clean:
            what = "JavaScript" if any("javascript" in m for m in dropped) else ", ".join(sorted(dropped))[:80]
            clean["text/plain"] = NOT_SHOWN.get(lang, NOT_SHOWN["en"]).format(what=what)
        if not clean:
            continue
        meta = out.get("metadata") or {}
        safe_meta = {}
        for mime in ("image/png", "image/jpeg"):
            m = meta.get(mime)
            if isinstance(m, dict):
                safe_meta[mime] = {k: v for k, v in m.items() if k in ("width", "height")
                                   and isinstance(v, (int, float)) and not isinstance(v, bool)}
        node = NotebookNode(output_type=kind, data=NotebookNode(clean), metadata=NotebookNode(safe_meta))
        if kind == "execute_result":
            node["execution_count"] = out.get("execution_count")
        kept.append(node)
    return kept


def safe_cell(cell, lang: str = "ko", budget: RenderBudget | None = None):
    """A cell whose markup, outputs, tags and comment cannot run anything in a browser, and whose every
    piece is within the render bounds (`budget`, one per notebook) before anything parses it."""
    budget = budget or RenderBudget(lang)
    meta = cell.get("metadata", {})
    tags = meta.get("tags")
    if tags is not None:
        meta["tags"] = [t for t in tags if isinstance(t, str) and _TAG_OK.match(t)] if isinstance(tags, list) else []
    nbg = meta.get("nbgrader")
    if isinstance(nbg, dict) and isinstance(nbg.get("comment"), str):
        nbg["comment"] = plain_markdown(nbg["comment"])
    cell.pop("attachments", None)
    source = _text_of(cell.get("source", ""))
    if cell.cell_type == "markdown":
        from nbconvert.filters import markdown2html
        refused = budget.take(source, "markdown")
        rendered = None if refused else markdown2html(source)
        refused = refused or budget.take(rendered, "markdown", markup=True, limit=4 * MAX_PIECE_CHARS)
        cell.source = _notice_markdown(refused) if refused else _safe_block(rendered)
    elif cell.cell_type == "raw":
        refused = budget.take(source, "raw", markup=True)
        cell.source = html.escape(refused) if refused else safe_html(source)
    elif cell.cell_type == "code":
        refused = budget.take(source, "code")
        if refused:
            cell.source = source[:MAX_PIECE_CHARS // 10] + "\n# " + refused
        cell.outputs = safe_outputs(bound_outputs(cell.get("outputs", []), budget), lang)
    return cell


class SafeOutputs(Preprocessor):
    """Every view of a notebook we make or configure (formgrader, feedback): markup is data."""

    enabled = Bool(True).tag(config=True)
    language = Unicode("ko").tag(config=True)

    def preprocess(self, nb, resources):
        self._budget = RenderBudget(self.language)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        return safe_cell(cell, self.language, getattr(self, "_budget", None)), resources


class FeedbackOutputs(SafeOutputs):
    """The student's feedback: SafeOutputs, no output of the grading run besides the check messages
    (in graded cells), and text from the hidden inputs cut out of those messages and comments."""

    grading_inputs = Unicode("", help="the folder of hidden inputs lent to the kernel").tag(config=True)
    notice = {"ko": "[채점 실행의 출력은 피드백에 싣지 않습니다. 노트북을 직접 실행해 확인하세요.]",
              "en": "[Outputs of the grading run are not shown here. Run the notebook yourself to see them.]"}

    def preprocess(self, nb, resources):
        self._hidden = HiddenText(self.grading_inputs)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            messages = utils.is_grade(cell) and not utils.is_solution(cell)
            if not messages and cell.get("outputs"):
                cell.outputs = [NotebookNode(output_type="stream", name="stdout",
                                             text=self.notice.get(self.language, self.notice["en"]) + "\n")]
            for out in cell.get("outputs", []):
                self._hidden.redact_output(out)
        nbg = cell.get("metadata", {}).get("nbgrader")
        if isinstance(nbg, dict) and isinstance(nbg.get("comment"), str):
            nbg["comment"] = self._hidden.redact(nbg["comment"])
        return super().preprocess_cell(cell, resources, index)
