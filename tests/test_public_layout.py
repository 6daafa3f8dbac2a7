"""The public helper's layout: one package per exercise under ``dlcourse.exercises``.

- every exercise package has an importable ``check`` and ``export``;
- the old flat modules (``dlcourse.check`` / ``export`` / ``models``), kept for notebooks fetched
  before the split, still serve every name they had;
- the shared modules (everything outside ``dlcourse/exercises``) name no assignment, and no exercise module imports another exercise;
- every ``check.<name>`` / ``_export.<name>`` a source notebook calls exists where it imports it from.

No grading here: these only import the public package and read files.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

PUBLIC = Path(__file__).resolve().parent.parent / "public"
if str(PUBLIC) not in sys.path:
    sys.path.insert(0, str(PUBLIC))

PKG = PUBLIC / "dlcourse"
EXERCISES_DIR = PKG / "exercises"
SOURCE = PUBLIC.parent / "source"
ASSIGNMENTS = ("keras_mnist", "pytorch_mnist", "fastai_transfer", "transformers_pipeline", "concepts_quiz")
EXERCISE_PACKAGES = ("keras_mnist", "pytorch_mnist", "fastai_transfer", "transformers_pipeline")
SHARED_REQUIRED = ("artifacts.py", "selfcheck.py", "check.py", "export.py", "models.py", "__init__.py")
# every module outside dlcourse/exercises is shared; quiz.py's docstring shows a call with the quiz's name
SHARED_EXEMPT = ("quiz.py",)
SHARED_FILES = sorted({*SHARED_REQUIRED,
                       *(str(p.relative_to(PKG)) for p in [*PKG.glob("*.py"), *PKG.glob("datasets/*.py")]
                         if p.name not in SHARED_EXEMPT)})

# Every top-level name of the flat modules before the split (git show <before>:public/dlcourse/<m>.py).
OLD_NAMES = {
    "export": [
        "artifacts_dir", "_plain", "write_json", "_guarded", "_missing", "KERAS_DEF", "KERAS_TRAINED", "TORCH_DEF",
        "TORCH_TRAINED", "MNIST_SHAPE", "_keras_loss_name", "_act_name", "_keras_layers", "_keras_ready",
        "_keras_save", "_keras_model", "keras_model", "_keras_compile", "keras_compile", "_numbers",
        "_history_dict", "_keras_training", "keras_training", "value", "_TORCH_ACTIVATIONS", "_TORCH_LAYOUTS",
        "_torch_modules", "_torch_export", "_torch_model", "torch_model", "torch_forward", "_torch_setup",
        "torch_setup", "_probe_model", "_torch_loop_probe", "torch_loop_probe", "_torch_training",
        "torch_training", "RATIO_CASES", "THRESHOLDS", "grading_texts", "_describe", "_sentiment_structure",
        "sentiment_structure", "_short_item", "_sentiment_predictions", "sentiment_predictions", "_ratio_cases",
        "ratio_cases", "_kept_item", "_confident_cases", "confident_cases", "_fastai_data", "fastai_data",
        "_body_conv_weights", "_phase_recorder", "_fastai_learner", "fastai_learner", "_fastai_training",
        "fastai_training", "_quiz_answer", "quiz_answer",
    ],
    "check": [
        "_EXPECTED_KERAS", "_report", "_problem", "_defined", "keras_model", "keras_compile", "keras_history",
        "accuracy", "torch_model", "torch_loop", "losses", "_LABELS", "sentiment_classifier", "sentiment_labels",
        "positive_ratio", "confident_only", "_DIGIT_VOCAB", "fastai_dls", "fastai_learner",
    ],
    "models": [
        "WEIGHTS_FILE", "IMAGES_DIR", "LAYERS", "MIX", "digit_pets_path", "_block", "DigitBody", "digit_body",
        "sentiment_model_path",
    ],
}


def _exercise_packages() -> list[str]:
    return sorted(p.name for p in EXERCISES_DIR.iterdir() if (p / "__init__.py").is_file())


# ── (1) one package per exercise ─────────────────────────────────────────────
def test_every_exercise_package_has_check_and_export():
    found = _exercise_packages()
    assert set(EXERCISE_PACKAGES) <= set(found), found
    for name in found:
        for module in ("check", "export"):
            assert (EXERCISES_DIR / name / f"{module}.py").is_file(), f"{name} has no {module}.py"
            mod = importlib.import_module(f"dlcourse.exercises.{name}.{module}")
            assert mod.__name__ == f"dlcourse.exercises.{name}.{module}"


# ── (2) the compatibility shims serve every old name ─────────────────────────
@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_compat_shim_serves_every_old_name(module):
    shim = importlib.import_module(f"dlcourse.{module}")
    listed = set(dir(shim))
    for name in OLD_NAMES[module]:
        obj = getattr(shim, name)          # AttributeError here: a name notebooks fetched earlier may use is gone
        assert obj is not None, name
        assert name in listed, f"dir(dlcourse.{module}) lacks {name}"
        # the object is the one defined in its new home, not a copy
        home = getattr(obj, "__module__", None)
        if home and home.startswith("dlcourse."):      # (under its own name there: _act_name is an alias)
            assert getattr(importlib.import_module(home), getattr(obj, "__name__", name)) is obj
    with pytest.raises(AttributeError):
        getattr(shim, "no_such_name_anywhere")
    with pytest.raises(AttributeError):
        getattr(shim, "__no_such_dunder__")


def test_compat_shims_work_with_from_import():
    from dlcourse.check import accuracy, keras_model                # noqa: F401
    from dlcourse.export import RATIO_CASES, THRESHOLDS, _act_name, _torch_loop_probe, quiz_answer, write_json  # noqa: F401
    from dlcourse.models import IMAGES_DIR, WEIGHTS_FILE, DigitBody, digit_body, sentiment_model_path  # noqa: F401
    from dlcourse.exercises.transformers_pipeline.export import RATIO_CASES as new_cases

    assert RATIO_CASES is new_cases


# ── (3) shared modules name no assignment ────────────────────────────────────
def _assignments_named(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [a for a in ASSIGNMENTS if a in text]


@pytest.mark.parametrize("filename", SHARED_FILES)
def test_shared_module_names_no_assignment(filename):
    path = PKG / filename
    assert path.is_file(), path
    assert _assignments_named(path) == [], f"{filename} names an exercise: it belongs in dlcourse.exercises.<it>"


def test_assignment_grep_catches_a_name(tmp_path):
    """Negative control: the same check on a shared module with an exercise's name in it fails."""
    planted = tmp_path / "artifacts.py"
    planted.write_text((PKG / "artifacts.py").read_text(encoding="utf-8") + "\n# see keras_mnist\n", encoding="utf-8")
    assert _assignments_named(planted) == ["keras_mnist"]


# ── (4) no exercise imports another exercise ─────────────────────────────────
def _imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved against `package`)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{alias.name}" for alias in node.names)   # `from pkg import submodule`
    return out


def _foreign_imports(path: Path, own: str) -> list[str]:
    package = f"dlcourse.exercises.{own}"
    bad = []
    for mod in sorted(_imported_modules(path, package)):
        m = re.match(r"dlcourse\.exercises\.([A-Za-z_0-9]+)", mod)
        if m and m.group(1) != own:
            bad.append(mod)
        if mod in ("dlcourse.check", "dlcourse.export", "dlcourse.models"):   # the shims reach every exercise
            bad.append(mod)
    return bad


@pytest.mark.parametrize("package", EXERCISE_PACKAGES)
def test_no_exercise_imports_another(package):
    files = sorted((EXERCISES_DIR / package).rglob("*.py"))
    assert files
    for path in files:
        assert _foreign_imports(path, package) == [], f"{path.relative_to(PUBLIC)} imports another exercise"


def test_foreign_import_check_catches_one(tmp_path):
    """Negative control: absolute, relative and `from dlcourse.exercises import <other>` imports are all seen."""
    planted = tmp_path / "export.py"
    planted.write_text("from dlcourse.exercises.keras_mnist.export import _act_name\n"
                       "from ..keras_mnist import check\n"
                       "from dlcourse.exercises import fastai_transfer\n"
                       "from dlcourse import export\n"
                       "from .check import accuracy\n"
                       "from dlcourse.artifacts import value\n")
    bad = _foreign_imports(planted, "pytorch_mnist")
    assert "dlcourse.exercises.keras_mnist.export" in bad
    assert "dlcourse.exercises.keras_mnist.check" in bad
    assert "dlcourse.exercises.fastai_transfer" in bad
    assert "dlcourse.export" in bad
    assert not any("pytorch_mnist" in b or "artifacts" in b for b in bad)


# ── (5) what the notebooks call exists where they import it from ─────────────
_IMPORT = re.compile(r"^from (dlcourse[\w.]*) import ([\w ,]+)$", re.M)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_calls_resolve(assignment):
    nb = json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert not re.search(r"^from dlcourse import (check|export|models)\b|^from dlcourse\.(check|export|models) import",
                         code, re.M), "the notebook still imports the old flat modules"
    bound = {}
    for module, names in _IMPORT.findall(code):
        if module.startswith("dlcourse.exercises."):
            assert module.split(".")[2] == assignment, f"{assignment} imports another exercise's {module}"
        parent = importlib.import_module(module)
        for piece in names.split(","):
            name, _, alias = (w.strip() for w in piece.partition(" as "))
            if importlib.util.find_spec(f"{module}.{name}") if hasattr(parent, "__path__") else False:
                bound[alias or name] = importlib.import_module(f"{module}.{name}")
            else:
                assert hasattr(parent, name), f"{assignment}: {module} has no {name}"
                bound[alias or name] = getattr(parent, name)
    for alias in ("check", "_export"):
        for attr in sorted(set(re.findall(rf"\b{alias}\.(\w+)\(", code))):
            assert alias in bound, f"{assignment} calls {alias}.{attr} without importing {alias}"
            assert callable(getattr(bound[alias], attr, None)), f"{bound[alias].__name__} has no {attr}"
