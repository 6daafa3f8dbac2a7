"""Notebooks downloaded from an LMS → submitted/<student>/<assignment>/<notebook>.ipynb + timestamp.txt.

The download is a zip or a folder, in one of two shapes (wrapper folders around it do not matter):

    kim01_hw1.ipynb, lee02_hw1 (1).ipynb, ...                 student id in the file name
    kim01/hw1.ipynb, lee02/hw1.ipynb                         one folder per student

LMS['filename_pattern'] (its `student` group; optionally a `notebook` group) is matched against a
file's name without `.ipynb`, or against the folder's name for files in a folder per student.  A
file named exactly like one of the assignment's notebooks carries no id: its folder gives it.  In a
student's folder (one per student, or a download that is one student's folder) the folder is the
student: a file in it whose name claims a classmate (an id of the roster, or without a roster an id
the download gives someone else) is refused and reported, never imported as either student's.

Submission times come from the LMS only, never from the student's files (notebook metadata
is never read for times):
  1. the manifest, if the download holds one at its top level (LMS['manifest'], default
     submissions.csv: columns student,submitted_at and optionally file) — the root of the
     download or inside the wrapper folder around everything; a file of that name inside a
     student's folder is the student's and never the manifest; or else
  2. a zip entry's date (written by the LMS when it built the zip; zip dates have no zone, so
     they are read in LMS['timezone']), or a file's modification time for a folder.

Files are data: in a folder download, links, FIFOs, sockets, devices and hard links are refused
without being opened, and files are read with O_NOFOLLOW and a size cap (safecopy.py); a zip
entry whose Unix mode says it is a link is refused too.  One bad file never stops an import: each file that cannot be placed gets its own error and the
rest are imported.  Importing is idempotent, and nothing collected is lost: a student's notebook
is replaced only by a newer upload of that same notebook, and nothing is ever deleted.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import nbformat

from ..config import CourseConfig, lms_timezone, parse_time
from . import IntakeError, safecopy, say

MAX_NOTEBOOK_MB = 100
STUDENT_ID = re.compile(r"^[\w][\w.@-]*$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"      # what nbgrader's exchange writes (in UTC)


@dataclass
class Upload:
    path: str                       # as in the download, '/'-separated
    entry_time: dt.datetime         # aware: the zip entry's date (LMS zone) or the file's mtime
    read: Callable[[], bytes | str]  # the bytes, or why the file is refused (a safecopy reason)
    size: int
    refused: str = ""               # a safecopy reason: a link, pipe, device, hard link — never read


@dataclass
class Placed:
    upload: Upload
    student: str
    notebook: str
    exact_name: bool                # the file is named exactly <notebook>.ipynb
    when: dt.datetime | None = None # aware, from the LMS
    time_source: str = ""           # "manifest" | "zip" | "mtime"
    data: bytes = b""


@dataclass
class Result:
    path: str
    student: str
    notebook: str
    when: dt.datetime
    time_source: str
    status: str                     # "new" | "updated" | "unchanged" | "kept"
    note: str = ""


@dataclass
class ImportReport:
    assignment: str
    source: str
    results: list[Result] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)     # (file in the download, message)
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def lines(self, language: str) -> list[str]:
        new, upd = self.count("new"), self.count("updated")
        out = [say(language, "lms_summary", a=self.assignment, source=self.source, n=new + upd, new=new, updated=upd,
                   same=self.count("unchanged"), kept=self.count("kept"), errors=len(self.errors))]
        marks = {"new": "+", "updated": "↻", "unchanged": "=", "kept": "·"}
        for r in sorted(self.results, key=lambda r: (r.student, r.notebook)):
            label = {"new": "lms_new", "updated": "lms_updated", "unchanged": "lms_unchanged"}.get(r.status)
            what = say(language, label) if label else r.note
            out.append(f"  {marks[r.status]} {r.student}/{r.notebook}.ipynb ← {r.path}  "
                       f"{r.when.isoformat(sep=' ', timespec='seconds')} ({say(language, 'time_' + r.time_source)})"
                       f"  {what}")
        out += [f"  note: {n}" if language == "en" else f"  참고: {n}" for n in self.notes]
        out += [f"  ✗ {path}: {msg}" for path, msg in self.errors]
        return out


# ── reading the download ────────────────────────────────────────────────────
def _zip_name(info: zipfile.ZipInfo) -> str:
    """Entry name, repairing names a Windows zipper stored in the local code page (Korean: cp949)."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", errors="replace")
    for codec in ("utf-8", "cp949"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return info.filename


def _skipped(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def read_download(cfg: CourseConfig, source: Path) -> list[Upload]:
    lang = cfg.language
    if not source.exists():
        raise IntakeError(say(lang, "lms_not_found", path=source))
    uploads = []
    limit = MAX_NOTEBOOK_MB * 2 ** 20
    if source.is_dir():
        # never follow a link out of the download, never open a pipe or a device (safecopy.py)
        for folder, dirs, files in os.walk(source, followlinks=False):
            here = Path(folder)
            for name in sorted(dirs + files):
                path = here / name
                rel = path.relative_to(source).as_posix()
                if _skipped(rel):
                    continue
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    continue
                when = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc)
                odd = safecopy.odd_kind(st) or (safecopy.HARDLINK if st.st_nlink > 1 else "")
                uploads.append(Upload(rel, when, (lambda p=path: safecopy.read_file(p, limit)), st.st_size, odd))
            dirs[:] = sorted(d for d in dirs if not _skipped(d))
        uploads.sort(key=lambda u: u.path)
        return uploads
    try:
        zf = zipfile.ZipFile(source)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeError(say(lang, "lms_bad_zip", path=source, why=exc)) from None
    tz = lms_timezone(cfg.lms.timezone)

    def reader(info):
        def read():
            with zf.open(info) as fh:
                return fh.read(limit + 1)
        return read

    for info in infos:
        name = _zip_name(info)
        if info.is_dir() or _skipped(name):
            continue
        when = dt.datetime(*info.date_time, tzinfo=tz)
        mode = info.external_attr >> 16          # a Unix zipper stores the file type here (0: none given)
        odd = "" if not stat.S_IFMT(mode) or stat.S_ISREG(mode) else (safecopy.odd_kind(os.stat_result(
            (mode,) + (0,) * 9)) or safecopy.UNREADABLE)
        uploads.append(Upload(name, when, reader(info), info.file_size, odd))
    return uploads


# ── the manifest ────────────────────────────────────────────────────────────
@dataclass
class Manifest:
    name: str
    by_file: dict = field(default_factory=dict)         # relative path or base name -> aware time
    by_student: dict = field(default_factory=dict)      # student -> newest aware time
    bad_students: set = field(default_factory=set)      # students with a row whose time cannot be read
    errors: list = field(default_factory=list)


def _top_level(cfg: CourseConfig, path: str, uploads: list[Upload], notebooks: list[str],
               pattern: re.Pattern) -> bool:
    """Is `path` at the download's top level — its root, or inside the wrapper folder(s) around everything,
    where that wrapper is not one student's folder?  The LMS writes its manifest there; a student's
    own `submissions.csv` inside their folder is only a file of theirs."""
    folder = PurePosixPath(path).parts[:-1]
    if not folder:
        return True
    if len(folder) != _wrapper_depth([u.path for u in uploads]):
        return False

    def sid(text: str):
        m = pattern.match(text)
        return m.group("student") if m else None

    beside = [PurePosixPath(u.path) for u in uploads if PurePosixPath(u.path).parts[:-1] == folder]
    for p in beside:
        if p.suffix.lower() == ".ipynb" and (p.stem in notebooks or (sid(p.stem) and sid(p.stem) == sid(folder[-1]))):
            return False        # a notebook here takes its id from this folder: it is a student's folder
    return True


def read_manifest(cfg: CourseConfig, uploads: list[Upload], assignment: str | None = None) -> Manifest | None:
    name = cfg.lms.manifest
    if not name:
        return None
    notebooks = list(cfg.assignment(assignment).notebooks) if assignment else []
    pattern = re.compile(cfg.lms.filename_pattern)
    found = [u for u in uploads if PurePosixPath(u.path).name == name and not u.refused
             and _top_level(cfg, u.path, uploads, notebooks, pattern)]
    if not found:
        return None
    lang = cfg.language
    if len(found) > 1:
        raise IntakeError(say(lang, "lms_manifest_bad", file=name,
                              why=f"{len(found)} files are named so ({', '.join(u.path for u in found)})"))
    upload = found[0]
    data = upload.read()
    if isinstance(data, str):
        raise IntakeError(say(lang, "lms_manifest_bad", file=upload.path, why=say(lang, "refused_" + data)))
    if len(data) > 16 * 2 ** 20:
        raise IntakeError(say(lang, "lms_manifest_bad", file=upload.path, why=say(lang, "refused_too_big")))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IntakeError(say(lang, "lms_manifest_bad", file=upload.path, why="not UTF-8 text")) from None
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in (rows[0] if rows else [])]
    if "student" not in header or "submitted_at" not in header:
        raise IntakeError(say(lang, "lms_manifest_bad", file=upload.path,
                              why=f"the header is {','.join(header) or '(empty)'}"))
    col = {h: i for i, h in enumerate(header)}
    tz = lms_timezone(cfg.lms.timezone)
    manifest = Manifest(upload.path)
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cell = lambda key: row[col[key]].strip() if key in col and col[key] < len(row) else ""
        student, value = cell("student"), cell("submitted_at")
        when = _manifest_time(value, tz)
        if when is None:
            manifest.errors.append((f"{upload.path}:{number}", say(lang, "lms_manifest_row", file=upload.path,
                                                                    row=number, value=value)))
            manifest.bad_students.add(student)
            continue
        file = cell("file")
        if file:
            manifest.by_file[file] = when
        elif student:
            manifest.by_student[student] = max(when, manifest.by_student.get(student, when))
    return manifest


def _manifest_time(value: str, tz) -> dt.datetime | None:
    if not value:
        return None
    aware = parse_time(value)
    if aware is not None:
        return aware
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return naive.replace(tzinfo=tz)


# ── placing files ───────────────────────────────────────────────────────────
def _wrapper_depth(paths: list[str]) -> int:
    """How many leading folders every file shares (zips often wrap everything in one folder)."""
    parts = [PurePosixPath(p).parts for p in paths]
    depth = 0
    while parts and all(len(p) > depth + 1 for p in parts) and len({p[depth] for p in parts}) == 1:
        depth += 1
    return depth


def _name_id(text: str, pattern: re.Pattern) -> str | None:
    m = pattern.match(text)
    student = m.group("student") if m else None
    return student if student and STUDENT_ID.match(student) and student not in (".", "..") else None


def _claims_other(stem: str, student: str, notebooks: list[str], pattern: re.Pattern, ids: set[str]) -> str | None:
    """The classmate a file inside `student`'s folder is named for, if its name claims one (an id of the
    roster, or without a roster an id this download gives to someone else); a name that starts with the
    notebook's own name (`hw1 (1)`, `hw1_v2`) claims nobody."""
    if any(stem.startswith(n) for n in notebooks):
        return None
    other = _name_id(stem, pattern)
    return other if other and other != student and other in ids else None


def _student_wrapper(uploads: list[Upload], depth: int, notebooks: list[str], pattern: re.Pattern,
                     roster: set[str], root_name: str | None = None) -> str | None:
    """The one folder around everything when it is a student's own folder (a download of one student),
    rather than a wrapper around a flat download; None otherwise.  It is when its name is an id of the
    roster, or when a notebook in it takes its id from the folder (named exactly like the notebook, or
    named for the folder's student).  A folder download's own folder (`root_name`, as the LMS drop folder
    of `watch` holds one per student) counts only by the roster or a notebook named for it."""
    if not uploads:
        return None
    wrapper = PurePosixPath(uploads[0].path).parts[depth - 1] if depth else root_name
    sid = _name_id(wrapper, pattern) if wrapper else None
    if not sid:
        return None
    if roster:
        return wrapper if sid in roster else None
    for u in uploads:
        p = PurePosixPath(u.path)
        if len(p.parts) == depth + 1 and p.suffix.lower() == ".ipynb" and (
                (p.stem in notebooks and depth) or _name_id(p.stem, pattern) == sid):
            return wrapper
    return None


def _download_ids(uploads: list[Upload], depth: int, notebooks: list[str], pattern: re.Pattern,
                  own_folder: str | None) -> set[str]:
    """Every id this download gives a file by its place: each per-student folder, a student's wrapper, and
    the files of a flat download named for their student (what a name may claim when there is no roster)."""
    ids = set()
    for u in uploads:
        parts = PurePosixPath(u.path).parts
        inner = parts[depth:]
        if len(inner) > 1:
            ids.add(_name_id(inner[0], pattern))
        elif own_folder:
            ids.add(_name_id(own_folder, pattern))
        elif inner and inner[-1].lower().endswith(".ipynb"):
            ids.add(_name_id(inner[-1][: -len(".ipynb")], pattern))
    ids.discard(None)
    return ids


def _place(cfg: CourseConfig, assignment: str, upload: Upload, depth: int, roster: set[str],
           pattern: re.Pattern, own_folder: str | None = None, ids: set[str] | None = None) -> Placed | str:
    """Where this file goes, or the message why it cannot be placed.  In a student's folder the folder is
    the student: a file there named for a classmate is refused (`ids`: who a name may claim)."""
    lang = cfg.language
    notebooks = list(cfg.assignment(assignment).notebooks)
    parts = PurePosixPath(upload.path).parts
    name = parts[-1]
    if not name.lower().endswith(".ipynb"):
        return say(lang, "lms_not_notebook")
    stem = name[: -len(".ipynb")]
    inner = parts[depth:]
    wrapper = own_folder or (parts[depth - 1] if depth else None)
    wrapper_is_student = own_folder is not None
    # where the id may be, best first: (text to match, rest of the name that may name the notebook)
    in_folder = len(inner) > 1 or (wrapper_is_student and wrapper is not None)
    if len(inner) > 1:                              # one folder per student
        candidates = [(inner[0], stem)]
    elif wrapper_is_student or stem in notebooks:   # one student's folder, or named like the notebook: the folder's id
        candidates = [(wrapper, stem)] if wrapper else []
    else:                                           # id in the file name; or, for a download that is one
        candidates = [(stem, None)] + ([(wrapper, stem)] if wrapper else [])   # student's folder, the folder
    first_problem = None if candidates else say(lang, "lms_no_student", name=name, pattern=pattern.pattern,
                                                 example=notebooks[0])
    for id_text, rest in candidates:
        m = pattern.match(id_text)
        student = m.group("student") if m else None
        if not student:
            problem = say(lang, "lms_no_student", name=id_text, pattern=pattern.pattern, example=notebooks[0])
        elif not STUDENT_ID.match(student) or student in (".", ".."):
            problem = say(lang, "lms_bad_id", student=student)
        elif roster and student not in roster:
            problem = say(lang, "lms_unknown_student", student=student)
        else:
            break
        first_problem = first_problem or problem
    else:
        return first_problem
    if in_folder:
        other = _claims_other(stem, student, notebooks, pattern, roster or ids or set())
        if other:
            return say(lang, "lms_claims_other", folder=student, other=other)
    if rest is None:
        rest = id_text[m.end():]
    notebook = m.groupdict().get("notebook")
    if notebook not in notebooks:
        if stem in notebooks:
            notebook = stem
        elif len(notebooks) == 1:
            notebook = notebooks[0]
        else:
            named = sorted((n for n in notebooks if n in rest), key=len)
            if not named:
                return say(lang, "lms_which_notebook", a=assignment, notebooks=", ".join(notebooks))
            notebook = named[-1]
    return Placed(upload, student, notebook, exact_name=(stem == notebook))


def _check_notebook(lang: str, upload: Upload) -> bytes | str:
    if upload.size > MAX_NOTEBOOK_MB * 2 ** 20:
        return say(lang, "lms_too_big", mb=upload.size / 2 ** 20, limit=MAX_NOTEBOOK_MB)
    try:
        data = upload.read()
    except (OSError, RuntimeError, zipfile.BadZipFile) as exc:       # encrypted or damaged zip entry
        return say(lang, "lms_bad_notebook", why=f"{type(exc).__name__}: {exc}")
    if isinstance(data, str):                                        # refused by safecopy when opened
        return say(lang, "lms_refused", what=say(lang, "refused_" + data))
    if len(data) > MAX_NOTEBOOK_MB * 2 ** 20:
        return say(lang, "lms_too_big", mb=len(data) / 2 ** 20, limit=MAX_NOTEBOOK_MB)
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except UnicodeDecodeError:
        return say(lang, "lms_bad_notebook", why="not UTF-8 text")
    except nbformat.ValidationError as exc:
        return say(lang, "lms_bad_notebook", why=str(exc).splitlines()[0][:120])
    except Exception as exc:                       # not JSON, or JSON that is no notebook
        return say(lang, "lms_bad_notebook", why=str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__)
    return data


def roster(cfg: CourseConfig) -> set[str]:
    """Student ids in the gradebook (empty: no roster, every id is accepted)."""
    from nbgrader.api import Gradebook
    if cfg.db_url.startswith("sqlite:///") and not Path(cfg.db_url[len("sqlite:///"):]).exists():
        return set()
    with Gradebook(cfg.db_url) as gb:
        return {s.id for s in gb.students}


def import_lms(cfg: CourseConfig, source: Path | str, assignment: str) -> ImportReport:
    cfg.assignment(assignment)
    source = Path(source)
    lang = cfg.language
    report = ImportReport(assignment, source.name)
    uploads = read_download(cfg, source)
    manifest = read_manifest(cfg, uploads, assignment)
    if manifest:
        uploads = [u for u in uploads if u.path != manifest.name]
        report.errors += manifest.errors
    for upload in [u for u in uploads if u.refused]:      # links, pipes, devices, hard links: never opened
        report.errors.append((safecopy.shown(upload.path, 200), say(lang, "lms_refused",
                                                                    what=say(lang, "refused_" + upload.refused))))
    uploads = [u for u in uploads if not u.refused]
    pattern = re.compile(cfg.lms.filename_pattern)
    known = roster(cfg)
    depth = _wrapper_depth([u.path for u in uploads])
    notebooks = list(cfg.assignment(assignment).notebooks)
    own_folder = _student_wrapper(uploads, depth, notebooks, pattern, known,
                                  root_name=source.name if source.is_dir() else None)
    ids = _download_ids(uploads, depth, notebooks, pattern, own_folder)

    placed: list[Placed] = []
    missing_from_manifest = set()
    for upload in uploads:
        where = _place(cfg, assignment, upload, depth, known, pattern, own_folder, ids)
        if isinstance(where, str):
            report.errors.append((upload.path, where))
            continue
        # the time, from the LMS only
        base = PurePosixPath(upload.path).name
        if manifest and (upload.path in manifest.by_file or base in manifest.by_file):
            where.when, where.time_source = manifest.by_file.get(upload.path) or manifest.by_file[base], "manifest"
        elif manifest and where.student in manifest.by_student:
            where.when, where.time_source = manifest.by_student[where.student], "manifest"
        elif manifest and where.student in manifest.bad_students:
            report.errors.append((upload.path, say(lang, "lms_no_time", file=manifest.name)))
            continue
        else:
            where.when, where.time_source = upload.entry_time, ("mtime" if source.is_dir() else "zip")
            if manifest:
                missing_from_manifest.add(where.student)
        data = _check_notebook(lang, upload)
        if isinstance(data, str):
            report.errors.append((upload.path, data))
            continue
        where.data = data
        placed.append(where)
    if missing_from_manifest:
        report.notes.append(say(lang, "lms_not_in_manifest", file=manifest.name, who=", ".join(sorted(missing_from_manifest)),
                                source=say(lang, "time_mtime" if source.is_dir() else "time_zip")))

    # two uploads of the same notebook by one student: the newest LMS time wins
    groups: dict[tuple[str, str], list[Placed]] = {}
    for p in placed:
        groups.setdefault((p.student, p.notebook), []).append(p)
    for (student, notebook), group in sorted(groups.items()):
        group.sort(key=lambda p: (p.when, p.exact_name, p.upload.path))
        winner = group[-1]
        if len(group) > 1:
            others = ", ".join(f"{p.upload.path} ({p.when.isoformat(sep=' ', timespec='seconds')})" for p in group[:-1])
            report.notes.append(say(lang, "lms_duplicate", student=student, nb=notebook, n=len(group),
                                    kept=winner.upload.path, when=winner.when.isoformat(sep=" ", timespec="seconds"),
                                    others=others))
        report.results.append(_write(cfg, assignment, winner))
    return report


def _existing_time(folder: Path) -> dt.datetime | None:
    """The folder's timestamp.txt as naive UTC (nbgrader's reading), None if absent or unreadable."""
    from nbgrader.utils import parse_utc
    stamp = folder / "timestamp.txt"
    try:
        text = stamp.read_text().strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError, OverflowError):
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write(cfg: CourseConfig, assignment: str, p: Placed) -> Result:
    from nbgrader.utils import parse_utc
    lang = cfg.language
    folder = cfg.root / "submitted" / p.student / assignment
    target = folder / f"{p.notebook}.ipynb"
    new_utc = parse_utc(p.when)                    # naive UTC, as nbgrader compares times
    have = _existing_time(folder)
    result = Result(p.upload.path, p.student, p.notebook, p.when, p.time_source, "new")
    if target.exists():
        shown = have.isoformat(sep=" ", timespec="seconds") + " UTC" if have else "?"
        if have is not None and have > new_utc:
            result.status, result.note = "kept", say(lang, "lms_kept_newer", have=shown)
            return result
        if have is not None and have == new_utc:
            if target.read_bytes() == p.data:
                result.status = "unchanged"
            else:
                result.status = "kept"
                result.note = say(lang, "lms_same_time", have=shown, folder=folder.relative_to(cfg.root))
            return result
        result.status = "updated"
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, p.data)
    stamp = max(new_utc, have) if have is not None else new_utc
    _atomic_write(folder / "timestamp.txt", stamp.strftime(TIMESTAMP_FORMAT).encode())
    return result
