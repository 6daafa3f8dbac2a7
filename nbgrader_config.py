"""nbgrader settings for this course, derived from course_config.py.

Plain `nbgrader ...` in this folder reads this file, so it grades exactly like
`python -m graders ...`.  nbgrader would log and ignore a config file that raises
and then run on its defaults; this file instead stops the command (exit 2) with
the message that says what to fix in course_config.py.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

try:
    from graders.config import ConfigError
    from graders.course import load_config
    from graders.nbgrader_settings import apply_settings
    _cfg = load_config(os.path.join(_here, "course_config.py"))
    apply_settings(get_config(), _cfg, argv=sys.argv)  # noqa: F821 (given by traitlets)
except ConfigError as _exc:
    sys.stderr.write(f"\n[course config] {_exc}\n\n")
    sys.stderr.flush()
    os._exit(2)
