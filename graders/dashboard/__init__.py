"""Staff dashboard: the gradebook as one self-contained HTML page, a CSV for the LMS, a live view.

  data.py      read nbgrader's gradebook (and our check table) into plain dataclasses
  analysis.py  matrix, failure rate per check, at-risk students, submissions per day
  plots.py     matplotlib (Agg) figures as inline SVG images
  report.py    render templates/dashboard.html.j2 with Jinja2
  export.py    grades as CSV an LMS gradebook imports
  serve.py     the same page live, read-only, behind a token
"""


class DashboardError(Exception):
    """The dashboard cannot be built or written: the message says what to fix."""
