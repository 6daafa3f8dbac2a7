"""Load and validate `course_config.py`.

Every entry point goes through :func:`load_config`.  Anything wrong — the file
raises, a value has the wrong type or is out of range, a key is misspelled —
becomes a :class:`ConfigError` whose message names the setting and what to fix.
"""
from __future__ import annotations

import importlib.util
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "DLCOURSE_CONFIG"


class ConfigError(Exception):
    """course_config.py cannot be used as it is."""


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    notebooks: tuple
    due: str | None
    points: dict
    thresholds: dict
    kind: str = "exercise"          # "exercise" or "quiz" (questions from source/<name>/quiz_bank.yaml)

    @property
    def total_points(self) -> float:
        return float(sum(self.points.values()))


@dataclass(frozen=True)
class Sandbox:
    enabled: bool
    memory_gb: float
    cpu_seconds: int
    cell_timeout_s: int
    notebook_timeout_s: int
    max_artifact_mb: float
    threads: int = 1
    prestart: bool = True


@dataclass(frozen=True)
class CourseConfig:
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
    extra: dict = field(default_factory=dict)

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


_KNOWN_TOP = {"COURSE_ID", "LANGUAGE", "ASSIGNMENTS", "DATA", "DEVICE", "DB_URL", "SANDBOX", "EXCHANGE_DIR"}
_SANDBOX_KEYS = {
    "enabled": bool, "memory_gb": (int, float), "cpu_seconds": int,
    "cell_timeout_s": int, "notebook_timeout_s": int, "max_artifact_mb": (int, float), "threads": int,
    "prestart": bool,
}


def _fail(path: Path, setting: str, problem: str, fix: str) -> None:
    raise ConfigError(f"{path}: setting {setting}: {problem}. Fix: {fix}")


def _require(path, setting, value, types, fix):
    if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
        _fail(path, setting, f"got {value!r} of type {type(value).__name__}", fix)
    return value


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


def load_config(path: str | os.PathLike | None = None) -> CourseConfig:
    """Read and validate course_config.py (default: $DLCOURSE_CONFIG or the course root)."""
    path = Path(path or os.environ.get(CONFIG_ENV) or COURSE_ROOT / "course_config.py").resolve()
    values = _read_module(path)
    root = path.parent

    unknown = sorted(set(values) - _KNOWN_TOP)
    if unknown:
        _fail(path, unknown[0], "unknown setting", f"use one of {', '.join(sorted(_KNOWN_TOP))} (check the spelling)")
    for key in ("COURSE_ID", "ASSIGNMENTS"):
        if key not in values:
            _fail(path, key, "missing", f"define {key} (see the README, 'Configuration')")

    course_id = _require(path, "COURSE_ID", values["COURSE_ID"], str, "a short name such as 'dl-bootcamp'")
    if not course_id.strip() or " " in course_id:
        _fail(path, "COURSE_ID", f"{course_id!r} is empty or has spaces", "use letters, digits, '-' or '_'")

    language = values.get("LANGUAGE", "ko")
    if language not in ("ko", "en"):
        _fail(path, "LANGUAGE", f"{language!r} is not supported", "use 'ko' or 'en'")

    device = values.get("DEVICE", "auto")
    if device not in ("auto", "cpu", "cuda"):
        _fail(path, "DEVICE", f"{device!r} is not a device policy", "use 'auto', 'cpu' or 'cuda'")

    db_url = _require(path, "DB_URL", values.get("DB_URL", "sqlite:///gradebook.db"), str,
                      "a SQLAlchemy URL such as 'sqlite:///gradebook.db' or 'postgresql://user@host/db'")
    if "://" not in db_url:
        _fail(path, "DB_URL", f"{db_url!r} is not a database URL", "use e.g. 'sqlite:///gradebook.db'")
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        db_url = "sqlite:///" + str(root / db_url[len("sqlite:///"):])

    assignments = _read_assignments(path, values["ASSIGNMENTS"])

    data = _require(path, "DATA", values.get("DATA", {}), dict, "a dict with mnist_source, cache_dir and split")
    mnist_source = data.get("mnist_source", "offline")
    if mnist_source not in ("offline", "online"):
        _fail(path, "DATA['mnist_source']", f"{mnist_source!r}", "use 'offline' (default) or 'online'")
    cache_dir = Path(_require(path, "DATA['cache_dir']", data.get("cache_dir", ".cache/course"), str, "a folder path"))
    if not cache_dir.is_absolute():
        cache_dir = root / cache_dir
    split = _require(path, "DATA['split']", data.get("split", {"train": 3500, "test": 500, "hidden": 1000}), dict,
                     "a dict like {'train': 3500, 'test': 500, 'hidden': 1000}")
    for part in ("train", "test", "hidden"):
        n = split.get(part)
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            _fail(path, f"DATA['split']['{part}']", f"got {n!r}", "a positive whole number of images")
    if mnist_source == "offline" and sum(split[p] for p in ("train", "test", "hidden")) > 5000:
        _fail(path, "DATA['split']", f"train+test+hidden = {sum(split.values())} > 5000",
              "the offline set has 5,000 digits; make the parts smaller")

    sandbox_raw = _require(path, "SANDBOX", values.get("SANDBOX", {}), dict, "a dict of sandbox limits")
    defaults = dict(enabled=True, memory_gb=8, cpu_seconds=900, cell_timeout_s=300,
                    notebook_timeout_s=900, max_artifact_mb=64, threads=1, prestart=True)
    for key in sandbox_raw:
        if key not in _SANDBOX_KEYS:
            _fail(path, f"SANDBOX['{key}']", "unknown key", f"use one of {', '.join(_SANDBOX_KEYS)}")
    merged = {**defaults, **sandbox_raw}
    for key, types in _SANDBOX_KEYS.items():
        value = merged[key]
        if key in ("enabled", "prestart"):
            if not isinstance(value, bool):
                _fail(path, f"SANDBOX['{key}']", f"got {value!r}", "True or False")
            continue
        if isinstance(value, bool) or not isinstance(value, types) or value <= 0:
            _fail(path, f"SANDBOX['{key}']", f"got {value!r}", "a positive number")
    if merged["memory_gb"] < 4:
        _fail(path, "SANDBOX['memory_gb']", f"{merged['memory_gb']} GiB is too small",
              "use at least 4: importing torch reserves about 4 GiB of address space")
    if merged["cell_timeout_s"] > merged["notebook_timeout_s"]:
        _fail(path, "SANDBOX['cell_timeout_s']", "is longer than notebook_timeout_s",
              "make the whole-notebook timeout at least as long as one cell's")

    exchange_dir = Path(_require(path, "EXCHANGE_DIR", values.get("EXCHANGE_DIR", "/srv/nbgrader/exchange"), str,
                                 "a folder path shared by staff and students, e.g. '/srv/nbgrader/exchange'"))
    if not exchange_dir.is_absolute():
        exchange_dir = root / exchange_dir

    return CourseConfig(
        path=path, root=root, course_id=course_id, language=language, assignments=assignments,
        mnist_source=mnist_source, cache_dir=cache_dir, split=dict(split), device=device,
        db_url=db_url, sandbox=Sandbox(**merged), exchange_dir=exchange_dir,
    )


def _read_assignments(path: Path, raw) -> dict:
    _require(path, "ASSIGNMENTS", raw, dict, "a dict: assignment name -> settings")
    from .scorers import registry  # the checks each assignment's scorer defines

    out = {}
    for name, spec in raw.items():
        where = f"ASSIGNMENTS['{name}']"
        _require(path, where, spec, dict, "a dict with title, notebooks, points, thresholds")
        kind = spec.get("kind", "exercise")
        if kind not in ("exercise", "quiz"):
            _fail(path, f"{where}['kind']", f"got {kind!r}", "'exercise' (default) or 'quiz'")
        default_points = {}
        if kind == "quiz":
            # the bank is the quiz's scorer: its questions are the checks, with their points
            from .quiz import bank_path, load_bank, quiz_scorer
            bank = load_bank(bank_path(path.parent, name))
            if bank.quiz != name:
                _fail(path, where, f"the bank {bank.path.name} is for quiz {bank.quiz!r}",
                      f"set 'quiz: {name}' in the bank or rename the assignment")
            registry[name] = quiz_scorer(bank)
            default_points = bank.points
        scorer = registry.get(name)
        if scorer is None:
            _fail(path, where, "no scorer exists for this assignment",
                  f"use one of {', '.join(sorted(registry))} or add graders/scorers/{name}.py")
        notebooks = spec.get("notebooks", [name])
        if not isinstance(notebooks, (list, tuple)) or not all(isinstance(n, str) for n in notebooks):
            _fail(path, f"{where}['notebooks']", f"got {notebooks!r}", "a list of notebook names without .ipynb")
        points = spec.get("points", {})
        _require(path, f"{where}['points']", points, dict, "a dict: check name -> points")
        points = {**default_points, **points}   # a quiz's config may override single questions
        expected = set(scorer.check_names())
        for check in points:
            if check not in expected:
                _fail(path, f"{where}['points']['{check}']", "no such check",
                      f"the checks of {name} are: {', '.join(sorted(expected))}")
        for check in expected:
            value = points.get(check)
            if value is None:
                _fail(path, f"{where}['points']", f"check '{check}' has no points", "give every check its points")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                _fail(path, f"{where}['points']['{check}']", f"got {value!r}", "a number >= 0")
        thresholds = spec.get("thresholds", {})
        _require(path, f"{where}['thresholds']", thresholds, dict, "a dict of numbers")
        for key in scorer.threshold_names():
            value = thresholds.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _fail(path, f"{where}['thresholds']['{key}']", f"got {value!r}", "a number")
        for key in thresholds:
            if key not in scorer.threshold_names():
                _fail(path, f"{where}['thresholds']['{key}']", "unknown threshold",
                      f"use one of {', '.join(scorer.threshold_names())}")
        problem = scorer.check_thresholds(thresholds)
        if problem:
            _fail(path, f"{where}['thresholds']", problem, "correct the numbers")
        due = spec.get("due")
        if due is not None and not isinstance(due, str):
            _fail(path, f"{where}['due']", f"got {due!r}", "a date string like '2026-12-04 23:59:00 KST'")
        out[name] = Assignment(name=name, title=str(spec.get("title", name)), notebooks=tuple(notebooks),
                               due=due, points=dict(points), thresholds=dict(thresholds), kind=kind)
    return out
