"""Compatibility: ``dlcourse.check`` for notebooks fetched before each exercise had its own package.

The self-checks now live in ``dlcourse.exercises.<assignment>.check``; a notebook imports its own
(``from dlcourse.exercises.<assignment> import check``).  A name asked of this module is found in
``dlcourse.selfcheck`` or in the exercise package that defines it (see ``dlcourse.exercises.find``).
"""
from dlcourse.exercises import shim as _shim

__getattr__, __dir__ = _shim("check", ("dlcourse.selfcheck",))
