"""Compatibility: ``dlcourse.models`` for notebooks fetched before each exercise had its own package.

Models and model paths now live in ``dlcourse.exercises.<assignment>.models`` (only exercises
that need one have it); a notebook imports its own (``from dlcourse.exercises.<assignment>.models
import ...``).  A name asked of this module is found in the exercise package that defines it (see
``dlcourse.exercises.find``).
"""
from dlcourse.exercises import shim as _shim

__getattr__, __dir__ = _shim("models", ())
