"""Compatibility: ``dlcourse.models`` for notebooks fetched before each exercise had its own package.

Models and model paths now live in ``dlcourse.exercises.<assignment>.models`` (only exercises
that need one have it); a notebook imports its own (``from dlcourse.exercises.<assignment>.models
import ...``).  A name asked of this module is found in the exercise package that defines it (see
``dlcourse.exercises.find``).
"""
from dlcourse.exercises import find as _find, names as _names

_SHARED = ()


def __getattr__(name):
    return _find(name, "models", _SHARED)


def __dir__():
    return _names("models", _SHARED)
