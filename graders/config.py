"""Load and validate `course_config.py`.

Every entry point goes through :func:`read_config` (commands: `graders.course.load_config`).  The settings
are declared once, in graders/config_schema.py; anything wrong there (the file raises, a value has the
wrong type or is out of range, a key is misspelled) becomes a :class:`ConfigError` whose message names the
setting, what is wrong and the fix.
"""
from __future__ import annotations

import difflib
import importlib.util
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args, get_origin

from pydantic import ValidationError

from .config_schema import (DEFAULT_LMS_PATTERN, DEFAULT_VISIBILITY, EVERY_CHECK, MEMORY_RESERVE_GB,  # noqa: F401
                            MIN_MEMORY_GB, VISIBILITY_POLICIES, Assignment, Bad, CourseSettings, Gpu, LatePolicy,
                            Lms, Sandbox, Section, Watch, _model, lms_timezone, parse_time)

COURSE_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "DLCOURSE_CONFIG"


class ConfigError(Exception):
    """course_config.py cannot be used as it is."""


@dataclass(frozen=True)
class CourseConfig:
    """The validated settings as commands read them (the sections are graders.config_schema models)."""
    path: Path
    root: Path
    course_id: str
    language: str
    assignments: dict
    mnist_source: str
    cache_dir: Path
    split: dict
    device: str
    db_url: str
    sandbox: Sandbox
    exchange_dir: Path = Path("/srv/nbgrader/exchange")
    late_policy: LatePolicy | None = None
    extensions: dict = field(default_factory=dict)     # student -> assignment -> new due date (ISO, with offset)
    lms: Lms = field(default_factory=Lms)
    gpu: Gpu = field(default_factory=Gpu)
    visibility: dict = field(default_factory=lambda: dict(DEFAULT_VISIBILITY))   # course-wide: check -> policy
    watch: Watch = field(default_factory=Watch)
    extra: dict = field(default_factory=dict)
    # assignment -> Scorer, filled by graders.course.load_config (the join of config and exercises)
    scorers: dict = field(default_factory=dict, repr=False, compare=False)

    def scorer(self, name: str):
        """The Scorer of a configured assignment (graders.course.load_config fills them)."""
        self.assignment(name)
        try:
            return self.scorers[name]
        except KeyError:
            raise ConfigError(f"{self.path}: the scorers were not joined to the config. "
                              "Fix: load it with graders.course.load_config") from None

    @property
    def public_data_dir(self) -> Path:
        return self.cache_dir / "public"

    @property
    def grading_inputs_dir(self) -> Path:
        """Unlabeled hidden inputs: lent read-only to the sandbox during grading only."""
        return self.cache_dir / "grading"

    @property
    def secret_dir(self) -> Path:
        return self.cache_dir / "secret"

    def assignment(self, name: str) -> Assignment:
        try:
            return self.assignments[name]
        except KeyError:
            known = ", ".join(sorted(self.assignments)) or "(none)"
            raise ConfigError(
                f"Unknown assignment '{name}'. Assignments in {self.path.name}: {known}."
            ) from None


def read_config(path: str | os.PathLike | None = None) -> CourseConfig:
    """Read and validate course_config.py (default: $DLCOURSE_CONFIG or the course root), on its own.

    Commands use `graders.course.load_config`, which also joins each assignment to its scorer."""
    path = Path(path or os.environ.get(CONFIG_ENV) or COURSE_ROOT / "course_config.py").resolve()
    try:
        s = CourseSettings.model_validate(_read_module(path), context={"root": path.parent})
    except ValidationError as exc:
        raise ConfigError(_message(path, exc)) from None
    return CourseConfig(
        path=path, root=path.parent, course_id=s.COURSE_ID, language=s.LANGUAGE, assignments=dict(s.ASSIGNMENTS),
        mnist_source=s.DATA.mnist_source, cache_dir=s.DATA.cache_dir, split=s.DATA.split.model_dump(),
        device=s.DEVICE, db_url=s.DB_URL, sandbox=s.SANDBOX, exchange_dir=s.EXCHANGE_DIR, late_policy=s.LATE_POLICY,
        extensions=s.EXTENSIONS, lms=s.LMS, visibility=dict(s.VISIBILITY), watch=s.WATCH, gpu=s.GPU)


def _read_module(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found. Fix: run the command from the course folder "
                          f"or set {CONFIG_ENV} to the path of course_config.py")
    spec = importlib.util.spec_from_file_location("_course_config", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the file itself is broken: show where
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"line {f.lineno}" for f in reversed(tb) if f.filename == str(path)), "")
        if isinstance(exc, SyntaxError):
            where = f"line {exc.lineno}"
        raise ConfigError(f"{path} {where}: the file raises {type(exc).__name__}: {exc}. "
                          f"Fix: correct that line; nothing was run.") from None
    return {k: v for k, v in vars(module).items() if k.isupper()}


_CONTAINERS = {"dict_type", "model_type", "string_type", "list_type", "tuple_type", "model_attributes_type"}


def _message(path: Path, exc: ValidationError) -> str:
    """The first of pydantic's errors as the course says it: '<file>: setting <where>: <problem>. Fix: <fix>'.
    Unknown top-level names come first, then missing ones, then the rest in the order of the declaration."""
    errors = sorted(exc.errors(), key=lambda e: (len(e["loc"]) > 1 or e["type"] != "extra_forbidden",
                                                 len(e["loc"]) > 1 or e["type"] != "missing"))
    error = errors[0]
    where, model, info, item = _walk(error["loc"])
    value, kind = error.get("input"), error["type"]
    bad = (error.get("ctx") or {}).get("error")
    if isinstance(bad, Bad):
        where, problem, fix = where + list(bad.at), bad.problem, bad.fix
    elif kind == "extra_forbidden":
        known = [k for k in model.model_fields if k not in model.internal]
        known = sorted(known) if len(where) == 1 else known
        near = difflib.get_close_matches(str(where[-1]), known, n=1)
        problem = "unknown setting" if len(where) == 1 else "unknown key"
        fix = f"use one of {', '.join(known)}" + (f" (did you mean {near[0]}?)" if near else " (check the spelling)")
    elif kind == "missing":
        problem = "missing"
        fix = f"define {where[0]} (see the README, 'Configuration')" if len(where) == 1 else info.get("fix", "")
    else:
        fix = info.get("item_fix" if item else "fix", "")
        shown = f"got {value!r}" + (f" of type {type(value).__name__}" if kind in _CONTAINERS else "")
        template = None if kind.endswith("_type") or item else info.get("problem")
        problem = template.format(value=value) if template else shown
    setting = str(where[0]) + "".join(f"[{k!r}]" for k in where[1:]) if where else "(the whole file)"
    return f"{path}: setting {setting}: {problem}. Fix: {fix}"


def _walk(loc: tuple) -> tuple[list, type[Section], dict, bool]:
    """(the setting's path, the model that holds its last key, the field's declared extras, whether the path
    ends at an entry of a dict-valued setting) of a pydantic error location."""
    model, info, item, where, annotation = CourseSettings, {}, False, [], None
    for part in loc:
        if part == "[key]":
            continue
        if model is not None and part in model.model_fields:         # a declared key
            field = model.model_fields[part]
            info, item, annotation = dict(field.json_schema_extra or {}), False, field.annotation
            model = _model(annotation)
        elif model is None and get_origin(annotation) is dict and not item:   # an entry of a dict
            item, annotation = True, get_args(annotation)[1]
            model = _model(annotation)
        elif model is None:
            continue                                                  # a union member's tag ('int', 'float')
        where.append(part)                                            # (else: an unknown key of `model`)
    return where, model or CourseSettings, info, item
