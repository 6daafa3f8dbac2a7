"""Hidden side of the course (grader zone): never released to students.

The public helper package `dlcourse` lives in ../public; it is put on the path
here so the graders and the students' notebooks use the same code.
"""
import sys
from pathlib import Path

PUBLIC_DIR = Path(__file__).resolve().parent.parent / "public"
if str(PUBLIC_DIR) not in sys.path:
    sys.path.insert(0, str(PUBLIC_DIR))

# nbgrader runs helper commands (e.g. `alembic` on a new gradebook) from PATH:
# make the interpreter's own bin folder visible even when the venv is not activated.
import os as _os

_bin = _os.path.dirname(sys.executable)
if _bin not in _os.environ.get("PATH", "").split(_os.pathsep):
    _os.environ["PATH"] = _bin + _os.pathsep + _os.environ.get("PATH", "")
