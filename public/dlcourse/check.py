"""Compatibility: ``dlcourse.check`` for notebooks fetched before each exercise had its own package.

The self-checks now live in ``dlcourse.exercises.<assignment>.check``; a notebook imports its own
(``from dlcourse.exercises.<assignment> import check``).  A name asked of this module is found in
``dlcourse.selfcheck`` or in the exercise package that defines it (see ``dlcourse.exercises.find``).
"""
from dlcourse.exercises import find as _find, names as _names

_SHARED = ("dlcourse.selfcheck",)


def __getattr__(name):
    return _find(name, "check", _SHARED)


def __dir__():
    return _names("check", _SHARED)
