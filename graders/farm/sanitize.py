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

from ..config import load_config


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
