"""Step 1 of autograde (before nbgrader's OverwriteCells): the submission's nbgrader metadata is not trusted.

A student can edit a notebook's JSON: mark their own cell as a graded cell worth 100 points,
change a test cell's points or checksum, duplicate cells and ids, or delete the test cells.
`RestoreCells` takes every cell's nbgrader metadata from the instructor's source notebook:
a cell whose grade_id the source does not have becomes a plain cell (the student's own code),
a known one gets the source's metadata (kind, points, lock, checksum), and locked cells the
student deleted (test cells, setup) are put back after the cell that precedes them in the
source.  nbgrader's OverwriteCells then restores the source code of every locked cell.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..course import load_config


class RestoreCells(NbGraderPreprocessor):
    config_path = Unicode("", help="course_config.py to read (default: the course root)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        cfg = load_config(self.config_path or None)
        path = Path(cfg.root) / "source" / info["assignment"] / f"{info['notebook']}.ipynb"
        source = nbformat.read(path, as_version=4)
        order = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
        meta = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader for c in order}

        seen = set()
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id") if "nbgrader" in cell.metadata else None
            if gid in meta and gid not in seen:
                cell.metadata["nbgrader"] = copy.deepcopy(meta[gid])
                seen.add(gid)
            elif "nbgrader" in cell.metadata:
                self.log.warning("Cell %r is not in the source notebook: treated as the student's own", gid)
                del cell.metadata["nbgrader"]

        for i, src in enumerate(order):
            gid = src.metadata.nbgrader["grade_id"]
            if gid in seen or not src.metadata.nbgrader.get("locked"):
                continue
            self.log.warning("Locked cell %r was deleted: put back", gid)
            at = len(nb.cells)
            known = lambda c: bool(c.metadata.get("nbgrader", {}).get("grade_id"))
            for prev in reversed(order[:i]):
                pid = prev.metadata.nbgrader["grade_id"]
                idx = next((k for k, c in enumerate(nb.cells)
                            if c.metadata.get("nbgrader", {}).get("grade_id") == pid), None)
                if idx is not None:
                    # after the student's own cells that follow it (a quiz's answer cell): the test
                    # cell runs after the answer, as in the source
                    at = idx + 1
                    while at < len(nb.cells) and not known(nb.cells[at]):
                        at += 1
                    break
            else:
                at = 0
            restored = copy.deepcopy(src)
            restored.pop("id", None)
            if restored.cell_type == "code":
                restored.outputs, restored.execution_count = [], None
            nb.cells.insert(at, restored)
            seen.add(gid)
        return nb, resources


# ── hidden inputs are not echoed ───────────────────────────────────────────
# The kernel reads unlabeled hidden inputs (GRADING_INPUTS, e.g. the hidden reviews) while it is
# graded, so a student cell can print them.  Whatever came from there is cut out of every output of
# the graded notebook (RedactHiddenInputs, after scoring) and again of the feedback (feedback.py).
HIDDEN_MARK = "[숨김 / hidden]"
WINDOW = 20                  # a run of this many characters of a hidden text counts as the text
MAX_HIDDEN_BYTES = 16 * 2**20


def _strings(value, out: list, depth: int = 0) -> None:
    if depth > 32 or len(out) > 200_000:
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _strings(k, out, depth + 1)
            _strings(v, out, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out, depth + 1)


class HiddenText:
    """The texts of a grading-inputs folder (strings in its JSON files, its file names), found in
    outputs by exact text and by any WINDOW-character run, also in their JSON/repr/HTML spellings."""

    def __init__(self, folder: str | Path | None):
        import html
        import json
        texts: list[str] = []
        folder = Path(folder) if folder else None
        if folder is not None and folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_symlink() or not path.is_file():
                    continue
                texts.append(path.name)
                if path.suffix == ".json" and path.stat().st_size <= MAX_HIDDEN_BYTES:
                    try:
                        data = json.loads(path.read_text(encoding="utf-8"))
                    except (ValueError, OSError, RecursionError):
                        continue
                    _strings(data, texts)
        spellings = set()
        for t in texts:
            t = t.strip()
            if len(t) < 8:          # too short to tell from ordinary output
                continue
            for s in (t, json.dumps(t)[1:-1], json.dumps(t, ensure_ascii=False)[1:-1], repr(t)[1:-1],
                      html.escape(t), html.escape(t, quote=False)):
                spellings.add(s.lower())
        self.exact = sorted((s for s in spellings if len(s) < WINDOW), key=len, reverse=True)
        self.windows = {s[i:i + WINDOW] for s in spellings if len(s) >= WINDOW
                        for i in range(len(s) - WINDOW + 1)}

    def __bool__(self) -> bool:
        return bool(self.exact or self.windows)

    def redact(self, text):
        """`text` with every hidden run replaced by HIDDEN_MARK (non-strings are returned as they are)."""
        if not isinstance(text, str) or not self or not text:
            return text
        low = text.lower()
        hit = bytearray(len(text))
        if self.windows:
            win = self.windows
            for i in range(len(low) - WINDOW + 1):
                if low[i:i + WINDOW] in win:
                    hit[i:i + WINDOW] = b"\1" * WINDOW
        for s in self.exact:
            start = low.find(s)
            while start >= 0:
                hit[start:start + len(s)] = b"\1" * len(s)
                start = low.find(s, start + 1)
        if not any(hit):
            return text
        out, i = [], 0
        while i < len(text):
            if hit[i]:
                while i < len(text) and hit[i]:
                    i += 1
                out.append(HIDDEN_MARK)
            else:
                j = i
                while j < len(text) and not hit[j]:
                    j += 1
                out.append(text[i:j])
                i = j
        return "".join(out)

    def redact_output(self, output) -> None:
        """In place: stream text, every data value, error name/value/traceback."""
        if "text" in output:
            output["text"] = self.redact(output["text"])
        for key in ("ename", "evalue"):
            if key in output:
                output[key] = self.redact(output[key])
        if "traceback" in output:
            output["traceback"] = [self.redact(line) for line in output["traceback"]]
        data = output.get("data")
        if isinstance(data, dict):
            for mime, value in list(data.items()):
                if isinstance(value, str):
                    data[mime] = self.redact(value)
                elif isinstance(value, list):
                    data[mime] = [self.redact(v) for v in value]


class RedactHiddenInputs(NbGraderPreprocessor):
    """After scoring: hidden inputs printed by any cell are cut out of the graded notebook."""

    grading_inputs = Unicode("", help="the folder of hidden inputs lent to the kernel").tag(config=True)

    def preprocess(self, nb, resources):
        hidden = HiddenText(self.grading_inputs)
        if hidden:
            for cell in nb.cells:
                for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
                    hidden.redact_output(output)
        return nb, resources


# ── bounded parsing of submitted notebooks ──────────────────────────────────
MAX_JSON_DEPTH = 64          # a notebook saved by JupyterLab nests < 10 deep
_JSON_STRING = None


def json_depth(raw: str) -> int:
    """The deepest [ / { nesting of a JSON text, without recursion and without parsing it
    (strings are skipped, so brackets inside them do not count)."""
    global _JSON_STRING
    import re
    if _JSON_STRING is None:
        _JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
    brackets = re.sub(r"[^\[\]{}]+", "", _JSON_STRING.sub("", raw))
    if not brackets:
        return 0
    import numpy as np
    steps = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    delta = np.where((steps == ord("[")) | (steps == ord("{")), 1, -1).astype(np.int64)
    return int(np.cumsum(delta).max())


def notebook_shape_problem(raw: str, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a notebook's JSON text must not be handed to a parser (json/nbformat recurse), or None."""
    depth = json_depth(raw)
    if depth > max_depth:
        return f"its JSON nests {depth} levels deep (a notebook needs fewer than {max_depth})"
    return None
