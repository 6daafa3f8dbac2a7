"""One package per exercise: ``dlcourse.exercises.<assignment>``.

Each holds ``check`` (the self-checks of its notebook), ``export`` (what its graded cells write
for the grader) and, where the exercise needs one, ``models``.  Exercise modules import shared
helpers from ``dlcourse.artifacts`` and ``dlcourse.selfcheck`` and nothing from another exercise.

``find`` and ``names`` serve the old flat modules ``dlcourse.check``, ``dlcourse.export`` and
``dlcourse.models``, kept for notebooks fetched before each exercise had its own package: a
name is looked up in the shared module, then in ``<each exercise>.<same module name>``.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil


def _modules(module: str):
    """``dlcourse.exercises.<pkg>.<module>`` of every exercise package that has one (by name order)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        full = f"{__name__}.{info.name}.{module}"
        if importlib.util.find_spec(full) is not None:
            yield importlib.import_module(full)


def find(name: str, module: str, shared: tuple = ()):
    """``name`` from the shared modules, else from the first exercise's ``module`` that defines it."""
    if not (name.startswith("__") and name.endswith("__")):     # dunders (__path__, __all__ …) are not served
        for mod in shared:
            m = importlib.import_module(mod)
            if hasattr(m, name):
                return getattr(m, name)
        for m in _modules(module):
            if hasattr(m, name):
                return getattr(m, name)
    raise AttributeError(f"module 'dlcourse.{module}' has no attribute {name!r}")


def names(module: str, shared: tuple = ()) -> list:
    """Every name ``find`` can serve for ``module`` (for ``dir()``)."""
    out = set()
    for m in [*(importlib.import_module(s) for s in shared), *_modules(module)]:
        out.update(n for n in vars(m) if not (n.startswith("__") and n.endswith("__")))
    return sorted(out)


def shim(module: str, shared: tuple = ()):
    """(__getattr__, __dir__) for an old flat module: ``dlcourse.<module>`` serves ``find``'s names."""
    return (lambda name: find(name, module, shared)), (lambda: names(module, shared))
