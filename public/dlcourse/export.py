"""Compatibility: ``dlcourse.export`` for notebooks fetched before each exercise had its own package.

The artifact exports now live in ``dlcourse.exercises.<assignment>.export``; a notebook imports its own
(``from dlcourse.exercises.<assignment> import export``).  A name asked of this module is found in
``dlcourse.artifacts`` or in the exercise package that defines it (see ``dlcourse.exercises.find``).
"""
from dlcourse.exercises import find as _find, names as _names

_SHARED = ("dlcourse.artifacts",)


def __getattr__(name):
    return _find(name, "export", _SHARED)


def __dir__():
    return _names("export", _SHARED)
