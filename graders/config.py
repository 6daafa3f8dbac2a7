"""Load and validate `course_config.py`.

Every entry point goes through :func:`load_config`.  Anything wrong — the file
raises, a value has the wrong type or is out of range, a key is misspelled —
becomes a :class:`ConfigError` whose message names the setting and what to fix.
"""
from __future__ import annotations

import importlib.util
import os
import re
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
    due_utc: object = None          # `due` read once, as nbgrader reads it: a naive UTC datetime
    due_zone: object = None         # the time zone `due` was written in (times are shown in it)
    visibility: dict = field(default_factory=dict)   # check (or "*": every other) -> a VISIBILITY_POLICIES entry

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
    disk_mb: int = 2048
    max_pids: int = 512
    warm_parents: bool = True


@dataclass(frozen=True)
class Gpu:
    kernels_per_gpu: int = 1      # grader processes (each with its kernel and scoring sandbox) sharing one GPU


@dataclass(frozen=True)
class LatePolicy:
    penalty_per_day: float = 0.0        # fraction of the notebook's score taken off per started day late
    max_days_late: int | None = None    # later than this many days: the score becomes 0 (None: never)
    grace_minutes: float = 0.0          # this long after the due date still counts as on time


VISIBILITY_POLICIES = ("visible", "answer_after_due", "after_due", "hidden")
DEFAULT_VISIBILITY = {"hidden_accuracy": "after_due"}     # every other check: its own default (graders/course.py):
#                     "answer_after_due" for a check whose message gives the answer (quiz questions), else "visible"
EVERY_CHECK = "*"     # in ASSIGNMENTS[name]['visibility']: the policy of every check the entry does not name


@dataclass(frozen=True)
class Watch:
    """WATCH: the grade-on-submit service (`python -m graders watch`, graders/watch/)."""
    workers: int = 1                    # grader processes of the service
    scheduler: str | None = None        # a Dask scheduler address: the kernels run there
    poll_seconds: float = 2.0           # how often the exchange (and the LMS drop folder) is looked at
    max_per_hour: int | None = 6        # graded submissions per student and assignment in any hour (None: no limit)
    lms_drop: Path | None = None        # <lms_drop>/<assignment>/<download>.zip|folder: imported and graded
    stop_grace_s: float = 60.0          # on SIGTERM: wait this long for gradings under way, then stop them
    feedback_timeout_s: float = 120.0   # one submission's feedback is made within this, or a short page says so


DEFAULT_LMS_PATTERN = r"^(?P<student>[A-Za-z0-9.-]+)(?:_|$)"


@dataclass(frozen=True)
class Lms:
    filename_pattern: str = DEFAULT_LMS_PATTERN   # matched against a file's name without .ipynb, or a folder's name
    manifest: str = "submissions.csv"             # optional CSV in the download: student,submitted_at[,file]
    timezone: str = "Asia/Seoul"                  # for LMS times without a UTC offset (manifest, zip entries)


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


_ASSIGNMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_KNOWN_TOP = {"COURSE_ID", "LANGUAGE", "ASSIGNMENTS", "DATA", "DEVICE", "DB_URL", "SANDBOX", "EXCHANGE_DIR",
              "LMS", "LATE_POLICY", "EXTENSIONS", "VISIBILITY", "WATCH", "GPU"}
_SANDBOX_KEYS = {
    "enabled": bool, "memory_gb": (int, float), "cpu_seconds": int,
    "cell_timeout_s": int, "notebook_timeout_s": int, "max_artifact_mb": (int, float), "threads": int,
    "prestart": bool, "disk_mb": int, "max_pids": int, "warm_parents": bool,
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


def read_config(path: str | os.PathLike | None = None) -> CourseConfig:
    """Read and validate course_config.py (default: $DLCOURSE_CONFIG or the course root), on its own.

    Commands use `graders.course.load_config`, which also joins each assignment to its scorer."""
    path = Path(path or os.environ.get(CONFIG_ENV) or COURSE_ROOT / "course_config.py").resolve()
    values = _read_module(path)
    root = path.parent

    core = _read_course(path, values)
    assignments = _read_assignments(path, values["ASSIGNMENTS"])
    return CourseConfig(
        path=path, root=root, **core, assignments=assignments, **_read_data(path, values.get("DATA", {})),
        sandbox=_read_sandbox(path, values.get("SANDBOX", {})), exchange_dir=_read_exchange(path, values),
        late_policy=_read_late_policy(path, values.get("LATE_POLICY")),
        extensions=_read_extensions(path, values.get("EXTENSIONS", {}), assignments),
        lms=_read_lms(path, values.get("LMS", {})),
        visibility=_read_visibility(path, "VISIBILITY", values.get("VISIBILITY", DEFAULT_VISIBILITY)),
        watch=_read_watch(path, values.get("WATCH", {})),
        gpu=_read_gpu(path, values.get("GPU", {})),
    )


def _read_course(path: Path, values: dict) -> dict:
    """The settings every command needs first: no unknown or missing ones, the course, language, device,
    database."""
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

    return {"course_id": course_id, "language": language, "device": device, "db_url": db_url}


def _read_data(path: Path, data) -> dict:
    """DATA: where MNIST comes from, the cache folder, the split."""
    root = path.parent
    data = _require(path, "DATA", data, dict, "a dict with mnist_source, cache_dir and split")
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

    return {"mnist_source": mnist_source, "cache_dir": cache_dir, "split": dict(split)}


def _read_sandbox(path: Path, sandbox_raw) -> Sandbox:
    """SANDBOX: limits of the student's kernel, each a positive number (or a switch)."""
    sandbox_raw = _require(path, "SANDBOX", sandbox_raw, dict, "a dict of sandbox limits")
    defaults = dict(enabled=True, memory_gb=8, cpu_seconds=900, cell_timeout_s=300,
                    notebook_timeout_s=900, max_artifact_mb=64, threads=1, prestart=True,
                    disk_mb=2048, max_pids=512, warm_parents=True)
    for key in sandbox_raw:
        if key not in _SANDBOX_KEYS:
            _fail(path, f"SANDBOX['{key}']", "unknown key", f"use one of {', '.join(_SANDBOX_KEYS)}")
    merged = {**defaults, **sandbox_raw}
    for key, types in _SANDBOX_KEYS.items():
        value = merged[key]
        if key in ("enabled", "prestart", "warm_parents"):
            if not isinstance(value, bool):
                _fail(path, f"SANDBOX['{key}']", f"got {value!r}", "True or False")
            continue
        if isinstance(value, bool) or not isinstance(value, types) or value <= 0:
            _fail(path, f"SANDBOX['{key}']", f"got {value!r}", "a positive number")
    if merged["memory_gb"] < MIN_MEMORY_GB:
        _fail(path, "SANDBOX['memory_gb']", f"{merged['memory_gb']} GiB is too small",
              "use at least 4: importing torch reserves about 4 GiB of address space")
    if merged["cell_timeout_s"] > merged["notebook_timeout_s"]:
        _fail(path, "SANDBOX['cell_timeout_s']", "is longer than notebook_timeout_s",
              "make the whole-notebook timeout at least as long as one cell's")

    return Sandbox(**merged)


def _read_gpu(path: Path, raw) -> Gpu:
    """GPU: how many grader processes share one GPU (graders/farm/devices.py)."""
    raw = _require(path, "GPU", raw, dict, "a dict such as {'kernels_per_gpu': 1}")
    for key in raw:
        if key != "kernels_per_gpu":
            _fail(path, f"GPU['{key}']", "unknown key", "use kernels_per_gpu")
    share = raw.get("kernels_per_gpu", 1)
    if isinstance(share, bool) or not isinstance(share, int) or not 1 <= share <= 64:
        _fail(path, "GPU['kernels_per_gpu']", f"got {share!r}", "a whole number from 1 to 64")
    return Gpu(kernels_per_gpu=share)


def _read_exchange(path: Path, values: dict) -> Path:
    root = path.parent
    exchange_dir = Path(_require(path, "EXCHANGE_DIR", values.get("EXCHANGE_DIR", "/srv/nbgrader/exchange"), str,
                                 "a folder path shared by staff and students, e.g. '/srv/nbgrader/exchange'"))
    if not exchange_dir.is_absolute():
        exchange_dir = root / exchange_dir

    return exchange_dir


MEMORY_RESERVE_GB = 2.0            # kept for the grader and the system: at least this, or 10 % of the machine
MIN_MEMORY_GB = 4                  # the smallest SANDBOX['memory_gb'] (importing torch)


def _read_due(path: Path, where: str, due: str | None):
    """(naive UTC, time zone written) of a due string; a string nbgrader cannot read stops here."""
    if not due:
        return None, None
    import datetime as dt

    import dateutil.tz
    from nbgrader.utils import parse_utc
    try:
        utc = parse_utc(due)
    except (ValueError, OverflowError):
        _fail(path, where, f"cannot read {due!r} as a date", "a date with its UTC offset, e.g. '2026-12-04 23:59:00+09:00'")
    parts = due.split(" ")
    if len(parts) == 3 and parts[2][:1] not in ("+", "-"):
        zone = dateutil.tz.gettz(parts[2])                   # a zone name such as Asia/Seoul
    else:
        import dateutil.parser
        aware = dateutil.parser.parse(due)
        zone = dt.timezone(aware.utcoffset()) if aware.tzinfo is not None else None
    return utc, zone


def parse_time(text: str):
    """A time with its UTC offset ('2026-12-06 23:59:00+09:00') as an aware datetime; None if it is not one."""
    import datetime as dt
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    return when if when.tzinfo is not None else None


def _read_late_policy(path: Path, raw):
    if raw is None:
        return None
    example = "{'penalty_per_day': 0.1, 'max_days_late': 3}"
    _require(path, "LATE_POLICY", raw, dict, f"a dict like {example}, or None for no penalty")
    keys = {"penalty_per_day", "max_days_late", "grace_minutes"}
    for key in raw:
        if key not in keys:
            _fail(path, f"LATE_POLICY['{key}']", "unknown key", f"use {', '.join(sorted(keys))}")
    rate = raw.get("penalty_per_day", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        _fail(path, "LATE_POLICY['penalty_per_day']", f"got {rate!r}",
              "a fraction from 0 to 1 of the notebook's score taken off per started day late "
              "(0.1 = 10 % a day; 0 = only mark the submission late)")
    days = raw.get("max_days_late")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
        _fail(path, "LATE_POLICY['max_days_late']", f"got {days!r}",
              "a whole number of days (0 or more) after which a late notebook scores 0, or None for no limit")
    grace = raw.get("grace_minutes", 0)
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        _fail(path, "LATE_POLICY['grace_minutes']", f"got {grace!r}",
              "minutes (0 or more) after the due date that still count as on time")
    return LatePolicy(penalty_per_day=float(rate), max_days_late=days, grace_minutes=float(grace))


def _read_extensions(path: Path, raw, assignments: dict) -> dict:
    from nbgrader.utils import parse_utc

    first = next(iter(assignments), "hw1")
    example = f"{{'kim01': {{'{first}': '2026-12-06 23:59:00+09:00'}}}}"
    _require(path, "EXTENSIONS", raw, dict, f"a dict: student id -> {{assignment: new due date}}, e.g. {example}")
    out = {}
    for student, per in raw.items():
        if not isinstance(student, str) or not student.strip() or "/" in student or "+" in student:
            _fail(path, f"EXTENSIONS[{student!r}]", "is not a student id", "use the student's id as a string")
        where = f"EXTENSIONS['{student}']"
        _require(path, where, per, dict, f"a dict: assignment -> new due date, e.g. {example}")
        for name, due in per.items():
            at = f"{where}['{name}']"
            if name not in assignments:
                _fail(path, at, "no such assignment", f"use one of {', '.join(sorted(assignments))}")
            when = parse_time(due) if isinstance(due, str) else None
            if when is None:
                _fail(path, at, f"got {due!r}", "the new due date with its UTC offset, e.g. '2026-12-06 23:59:00+09:00'")
            original, original_utc = assignments[name].due, assignments[name].due_utc
            if original_utc is None:
                _fail(path, at, f"assignment '{name}' has no due date to extend",
                      f"set ASSIGNMENTS['{name}']['due'] first")
            if parse_utc(when) <= original_utc:
                _fail(path, at, f"{due} is not after the assignment's due date {original}",
                      "an extension moves the due date later: give a later date, or remove the entry")
            out.setdefault(student, {})[name] = when.isoformat(sep=" ")
    return out


def _read_lms(path: Path, raw) -> Lms:
    import re
    _require(path, "LMS", raw, dict, "a dict with filename_pattern, manifest and timezone")
    defaults = Lms()
    for key in raw:
        if key not in ("filename_pattern", "manifest", "timezone"):
            _fail(path, f"LMS['{key}']", "unknown key", "use filename_pattern, manifest or timezone")
    pattern = raw.get("filename_pattern", defaults.filename_pattern)
    _require(path, "LMS['filename_pattern']", pattern, str, f"a regular expression such as r'{DEFAULT_LMS_PATTERN}'")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        _fail(path, "LMS['filename_pattern']", f"is not a regular expression ({exc})",
              f"write a valid regular expression, e.g. r'{DEFAULT_LMS_PATTERN}'")
    if "student" not in compiled.groupindex:
        _fail(path, "LMS['filename_pattern']", "has no (?P<student>...) group",
              f"mark the student id part of the file name with (?P<student>...), e.g. r'{DEFAULT_LMS_PATTERN}'")
    manifest = raw.get("manifest", defaults.manifest)
    if manifest is not None:
        _require(path, "LMS['manifest']", manifest, str, "a file name such as 'submissions.csv', or None")
        if not manifest.strip() or "/" in manifest:
            _fail(path, "LMS['manifest']", f"got {manifest!r}", "a plain file name such as 'submissions.csv'")
    tz = raw.get("timezone", defaults.timezone)
    _require(path, "LMS['timezone']", tz, str, "a time zone such as 'Asia/Seoul' or '+09:00'")
    if lms_timezone(tz) is None:
        _fail(path, "LMS['timezone']", f"{tz!r} is not a time zone", "use a name such as 'Asia/Seoul' or an offset such as '+09:00'")
    return Lms(filename_pattern=pattern, manifest=manifest, timezone=tz)


def _read_visibility(path: Path, where: str, raw, every: bool = False) -> dict:
    """check name -> a policy of VISIBILITY_POLICIES (whether the names exist: graders/course.py);
    `every`: the key "*" (every check not named) is allowed too (an assignment's own entry)."""
    policies = ", ".join(repr(p) for p in VISIBILITY_POLICIES)
    _require(path, where, raw, dict, f"a dict: check name -> one of {policies}")
    for check, policy in raw.items():
        if not isinstance(check, str) or not check:
            _fail(path, where, f"key {check!r} is not a check name", "use the check names of the points dict")
        if check == EVERY_CHECK and not every:
            _fail(path, f"{where}['{check}']", "'*' (every check) is for one assignment only",
                  "write it in that assignment's entry: ASSIGNMENTS[name]['visibility'] = {'*': ...}")
        if policy not in VISIBILITY_POLICIES:
            _fail(path, f"{where}['{check}']", f"got {policy!r}", f"one of {policies}")
    return dict(raw)


def _read_watch(path: Path, raw) -> Watch:
    _require(path, "WATCH", raw, dict, "a dict of grade-on-submit settings (see the README, 'Grade on submit')")
    defaults = Watch()
    known = ("workers", "scheduler", "poll_seconds", "max_per_hour", "lms_drop", "stop_grace_s", "feedback_timeout_s")
    for key in raw:
        if key not in known:
            _fail(path, f"WATCH['{key}']", "unknown key", f"use one of {', '.join(known)}")
    workers = raw.get("workers", defaults.workers)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
        _fail(path, "WATCH['workers']", f"got {workers!r}", "a whole number of grader processes, 1 or more")
    scheduler = raw.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        _fail(path, "WATCH['scheduler']", f"got {scheduler!r}", "a Dask address such as 'tcp://host:8786', or None")
    for key in ("poll_seconds", "stop_grace_s", "feedback_timeout_s"):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
            _fail(path, f"WATCH['{key}']", f"got {value!r}", "a number of seconds above 0 (at most 3600)")
    per_hour = raw.get("max_per_hour", defaults.max_per_hour)
    if per_hour is not None and (isinstance(per_hour, bool) or not isinstance(per_hour, int) or per_hour < 1):
        _fail(path, "WATCH['max_per_hour']", f"got {per_hour!r}", "a whole number of gradings per hour (1 or more), or None")
    drop = raw.get("lms_drop")
    if drop is not None:
        _require(path, "WATCH['lms_drop']", drop, str, "a folder path, or None")
        drop = Path(drop) if Path(drop).is_absolute() else path.parent / drop
    return Watch(workers=workers, scheduler=scheduler, poll_seconds=float(raw.get("poll_seconds", defaults.poll_seconds)),
                 max_per_hour=per_hour, lms_drop=drop,
                 stop_grace_s=float(raw.get("stop_grace_s", defaults.stop_grace_s)),
                 feedback_timeout_s=float(raw.get("feedback_timeout_s", defaults.feedback_timeout_s)))


def lms_timezone(name: str):
    """'Asia/Seoul' or '+09:00' as a tzinfo; None if it is neither."""
    import datetime as dt
    import re
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        if minutes >= 24 * 60:
            return None
        return dt.timezone(dt.timedelta(minutes=minutes if m.group(1) == "+" else -minutes))
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:
        return None


def _read_assignments(path: Path, raw) -> dict:
    """The assignments as written: their shape only.  Whether the points and thresholds fit the
    assignment's scorer is the join of the two, in graders.course (this module imports no scorer)."""
    _require(path, "ASSIGNMENTS", raw, dict, "a dict: assignment name -> settings")
    out = {}
    for name, spec in raw.items():
        where = f"ASSIGNMENTS['{name}']"
        if not isinstance(name, str) or not _ASSIGNMENT_NAME.match(name):
            _fail(path, where, "not a usable assignment name", "lower-case letters, digits and '_', starting with a letter")
        _require(path, where, spec, dict, "a dict with title, notebooks, points, thresholds")
        kind = spec.get("kind", "exercise")
        if kind not in ("exercise", "quiz"):
            _fail(path, f"{where}['kind']", f"got {kind!r}", "'exercise' (default) or 'quiz'")
        notebooks = spec.get("notebooks", [name])
        if not isinstance(notebooks, (list, tuple)) or not all(isinstance(n, str) for n in notebooks):
            _fail(path, f"{where}['notebooks']", f"got {notebooks!r}", "a list of notebook names without .ipynb")
        points = spec.get("points", {})
        _require(path, f"{where}['points']", points, dict, "a dict: check name -> points")
        for check, value in points.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                _fail(path, f"{where}['points']['{check}']", f"got {value!r}", "a number >= 0")
        thresholds = spec.get("thresholds", {})
        _require(path, f"{where}['thresholds']", thresholds, dict, "a dict of numbers")
        for key, value in thresholds.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _fail(path, f"{where}['thresholds']['{key}']", f"got {value!r}", "a number")
        due = spec.get("due")
        if due is not None and not isinstance(due, str):
            _fail(path, f"{where}['due']", f"got {due!r}", "a date string like '2026-12-04 23:59:00+09:00'")
        due_utc, due_zone = _read_due(path, f"{where}['due']", due)
        visibility = _read_visibility(path, f"{where}['visibility']", spec.get("visibility", {}), every=True)
        out[name] = Assignment(name=name, title=str(spec.get("title", name)), notebooks=tuple(notebooks),
                               due=due, points=dict(points), thresholds=dict(thresholds), kind=kind,
                               due_utc=due_utc, due_zone=due_zone, visibility=visibility)
    return out
