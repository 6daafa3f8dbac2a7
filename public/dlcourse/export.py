"""Compatibility: ``dlcourse.export`` for notebooks fetched before each exercise had its own package.

The artifact exports now live in ``dlcourse.exercises.<assignment>.export``; a notebook imports its own
(``from dlcourse.exercises.<assignment> import export``).  A name asked of this module is found in
``dlcourse.artifacts`` or in the exercise package that defines it (see ``dlcourse.exercises.find``).
"""
from dlcourse.exercises import shim as _shim

__getattr__, __dir__ = _shim("export", ("dlcourse.artifacts",))
