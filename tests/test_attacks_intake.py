"""Intake attacks: what a student can put into the exchange or an LMS download, driven through the real
`python -m graders exchange collect` and `import-lms` (docs/attacks.md, "Intake attacks").

Every case is a real exchange folder (the course's own EXCHANGE_DIR, a temp folder) or a real download
folder/zip, all inside the test's temp folders; nothing on the host is read or written.  A student's
inbound entry is made with plain file operations, as any code the student runs on the hub could make it
(`nbgrader submit` is only a convenience).  For each case: the classmates are collected, the bad one is
reported in one line, and nothing from outside the student's folder is copied.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, make_course, run_cli
from graders.course import load_config

QUIZ = "concepts_quiz"
SOURCE_NB = f"source/{QUIZ}/{QUIZ}.ipynb"
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"


def _notebook(marker: str) -> bytes:
    nb = nbformat.read(REPO / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(marker))
    return nbformat.writes(nb).encode()


def _course(tmp_path: Path, extra: str = ""):
    exchange = tmp_path / "exchange"
    root = make_course(tmp_path / "course", f"EXCHANGE_DIR = {str(exchange)!r}\nLANGUAGE = 'en'\n" + extra)
    cfg = load_config(root / "course_config.py")
    (exchange / cfg.course_id / "inbound").mkdir(parents=True)       # what `exchange release` makes
    return cfg


def _inbound(cfg) -> Path:
    return cfg.exchange_dir / cfg.course_id / "inbound"


def _entry(cfg, claimed: str, *, folder: str | None = "own", when: dt.datetime | None = None,
           marker: str | None = None) -> Path:
    """A submission as nbgrader submit writes it: <claimed>+<A>+<time>+<random>/ with the notebook and timestamp.txt.
    folder='own': in inbound/<claimed>/ (the per-student folder); a name: in that student's folder; None: flat."""
    when = when or dt.datetime.now(dt.timezone.utc)
    stamp = when.strftime(TS_FORMAT)
    base = _inbound(cfg)
    if folder is not None:
        base = base / (claimed if folder == "own" else folder)
        base.mkdir(exist_ok=True)
    entry = base / f"{claimed}+{QUIZ}+{stamp}+{os.urandom(4).hex()}"
    entry.mkdir()
    (entry / f"{QUIZ}.ipynb").write_bytes(_notebook(marker if marker is not None else f"{claimed} work"))
    (entry / "timestamp.txt").write_text(stamp)
    return entry


def _collect(cfg, *args):
    return run_cli(["exchange", "collect", QUIZ, *args], cfg.root, check=False, timeout=180)


def _submitted(cfg, student: str) -> Path:
    return cfg.root / "submitted" / student / QUIZ


def _marker(cfg, student: str) -> str:
    return nbformat.read(_submitted(cfg, student) / f"{QUIZ}.ipynb", as_version=4).cells[-1].source


def _lines(out: str, who: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip().startswith("✗") and who in line]


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


# ── the exchange ────────────────────────────────────────────────────────────
def test_symlinks_never_bring_the_instructor_notebook_or_anything_outside(tmp_path):
    """A notebook that is a link to /proc/self/cwd/source/… (the course root while collect runs), a link to
    a decoy file, to a folder, to /dev/zero, a link loop, and a whole entry that is a link: none is followed."""
    cfg = _course(tmp_path)
    decoy = tmp_path / "decoy.txt"
    decoy.write_text("DECOY-SECRET outside the student's folder")
    (tmp_path / "decoy_dir").mkdir()
    (tmp_path / "decoy_dir" / "inside.txt").write_text("DECOY-DIR-SECRET")
    _entry(cfg, "kim01")
    bad = _entry(cfg, "mallory")
    (bad / f"{QUIZ}.ipynb").unlink()
    (bad / f"{QUIZ}.ipynb").symlink_to(f"/proc/self/cwd/{SOURCE_NB}")
    (bad / "notes.txt").symlink_to(decoy)
    (bad / "more").symlink_to(tmp_path / "decoy_dir")
    (bad / "zero.bin").symlink_to("/dev/zero")
    (bad / "loop").symlink_to("loop")
    # a whole entry that is a link to a decoy submission somewhere else
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / f"{QUIZ}.ipynb").write_bytes(_notebook("DECOY-ENTRY"))
    (_inbound(cfg) / "eve").mkdir()
    (_inbound(cfg) / "eve" / f"eve+{QUIZ}+2026-12-01 00:00:00.000000 UTC").symlink_to(tmp_path / "elsewhere")
    _entry(cfg, "zz_last")                                   # sorted after the bad ones: still collected

    proc = _collect(cfg)
    out = proc.stdout
    big = [p for p in (cfg.root / "submitted").rglob("*") if p.is_file() and p.stat().st_size > 2**20]
    assert not big, f"collect copied through a link (e.g. to /dev/zero): {big}"
    assert proc.returncode == 1, out + proc.stderr
    assert _marker(cfg, "kim01") == "kim01 work" and _marker(cfg, "zz_last") == "zz_last work"
    got = _submitted(cfg, "mallory")
    assert sorted(p.name for p in got.iterdir()) == ["timestamp.txt"]          # nothing but the exchange's time
    everything = _all_bytes(cfg.root / "submitted")
    assert b"DECOY" not in everything
    assert (cfg.root / SOURCE_NB).read_bytes() not in everything and b"BEGIN HIDDEN" not in everything
    [line] = _lines(out, "mallory")
    assert "files not copied" in line and line.count("a symbolic link") == 5, line
    [line] = _lines(out, "eve+")
    assert "not a submission folder but a symbolic link" in line, line
    assert not _submitted(cfg, "eve").exists()


def test_fifo_socket_and_hard_link_beside_the_notebook(tmp_path):
    """A FIFO stopped nbgrader's collect (exit 2, classmates after it not collected); a hard link can name a
    file outside the tree.  Neither is opened for reading; the notebook beside them is collected."""
    cfg = _course(tmp_path)
    _entry(cfg, "aa_first")
    fifo = _entry(cfg, "mallory", marker="mallory work")
    os.mkfifo(fifo / "pipe")
    here = os.getcwd()
    os.chdir(fifo)                       # AF_UNIX paths are short: bind by a relative name
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind("sock")
    finally:
        os.chdir(here)
    outside = tmp_path / "outside.txt"
    outside.write_text("HARDLINK-SECRET")
    os.link(outside, fifo / "linked.txt")
    _entry(cfg, "zz_last")

    proc = _collect(cfg)                 # run_cli's timeout would fail the test if a FIFO were opened
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "3 students in the exchange (3 submissions) → 3 new" in out, out
    assert _marker(cfg, "mallory") == "mallory work"
    assert [_marker(cfg, s) for s in ("aa_first", "zz_last")] == ["aa_first work", "zz_last work"]
    assert sorted(p.name for p in _submitted(cfg, "mallory").iterdir()) == [f"{QUIZ}.ipynb", "timestamp.txt"]
    assert b"HARDLINK-SECRET" not in _all_bytes(cfg.root / "submitted")
    [line] = _lines(out, "mallory")
    assert "pipe (a FIFO (pipe))" in line and "sock (a socket)" in line and "linked.txt (a hard link" in line, line


def test_huge_files_are_refused_by_size_before_reading(tmp_path):
    """A 300 MB file (sparse: no disk used) beside the notebook is refused by its size; the rest is collected."""
    cfg = _course(tmp_path)
    entry = _entry(cfg, "mallory", marker="mallory work")
    with open(entry / "weights.bin", "wb") as fh:
        fh.truncate(300 * 2 ** 20)
    _entry(cfg, "kim01")
    proc = _collect(cfg)
    out = proc.stdout
    assert proc.returncode == 1 and _marker(cfg, "kim01") == "kim01 work", out
    assert _marker(cfg, "mallory") == "mallory work" and not (_submitted(cfg, "mallory") / "weights.bin").exists()
    [line] = _lines(out, "mallory")
    assert "weights.bin (too big)" in line, line


def test_submitting_as_a_classmate_is_refused(tmp_path):
    """On a shared-uid hub every student is `jovyan`.  With per-student inbound folders (the hub mounts only
    inbound/<student> as a student's inbound), mallory can only write into her own folder: an entry there
    named for lee02 is refused.  An entry in the flat inbound whose owner is not the student it names
    (here: every test file is the grader's own uid) is refused too, unless staff say --allow-unverified."""
    cfg = _course(tmp_path)
    run_cli(["exchange", "inbound", "--student", "lee02", "--student", "mallory"], cfg.root)
    assert oct((_inbound(cfg) / "lee02").stat().st_mode & 0o7777) == "0o2733"
    _entry(cfg, "lee02", marker="lee02 real work", when=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    # mallory: a blank notebook under lee02's name, dated 2099 so it would be "newest", in her own folder …
    _entry(cfg, "lee02", folder="mallory", marker="", when=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc))
    time.sleep(0.05)          # a later ctime than the real one (timestamps are coarse)
    # … and one in the shared flat inbound, as nbgrader submit with JUPYTERHUB_USER=lee02 would write it
    _entry(cfg, "lee02", folder=None, marker="", when=dt.datetime(2099, 1, 2, tzinfo=dt.timezone.utc))
    _entry(cfg, "mallory", marker="mallory work")
    proc = _collect(cfg)
    out = proc.stdout
    assert proc.returncode == 1, out
    assert _marker(cfg, "lee02") == "lee02 real work" and _marker(cfg, "mallory") == "mallory work"
    [line] = _lines(out, "mallory/lee02+")
    assert "in mallory's inbound folder but claims to be lee02: not collected" in line, line
    [line] = [l for l in _lines(out, "lee02+") if "mallory/" not in l]
    assert "claims to be lee02 but is owned by the OS user" in line and "per-student inbound" in line, line

    # the explicit opt-out for a hub without per-student folders: taken, and said so
    proc = _collect(cfg, "--allow-unverified")
    assert "collected without a verified identity (--allow-unverified): lee02" in proc.stdout, proc.stdout
    assert _marker(cfg, "lee02") == ""
    assert _lines(proc.stdout, "mallory/lee02+")                    # the folder check is never waived


def test_back_dated_submission_keeps_the_exchange_time(tmp_path):
    """The name's time and timestamp.txt are the student's; so are file times (utime).  The time collected is
    the newest ctime in the entry, which the kernel sets to "now" and nothing sets back: the late penalty holds."""
    now = dt.datetime.now(dt.timezone.utc)
    due = (now - dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=9)))
    cfg = _course(tmp_path, f"ASSIGNMENTS[{QUIZ!r}]['due'] = {due.strftime('%Y-%m-%d %H:%M:%S%z')[:-2] + ':00'!r}\n")
    claimed = now - dt.timedelta(days=6)                     # four days before the due date
    entry = _entry(cfg, "late01", when=claimed)
    old = claimed.timestamp()
    for path in [*entry.rglob("*"), entry]:
        os.utime(path, (old, old), follow_symlinks=False)
    assert entry.stat().st_mtime == old
    proc = _collect(cfg)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    from nbgrader.utils import parse_utc
    stamp = parse_utc((_submitted(cfg, "late01") / "timestamp.txt").read_text())
    seen = stamp.replace(tzinfo=dt.timezone.utc)
    assert seen > now - dt.timedelta(days=1), (seen, now)                 # the exchange's time, not the back-dated claim
    assert stamp > cfg.assignment(QUIZ).due_utc                          # late, as it really was
    assert "late01: the submission's name/timestamp.txt says" in out and "not used" in out, out

    # the same entry collected again is unchanged; touched again (a late edit), it is collected as later
    proc = _collect(cfg)
    assert "→ 0 new, 0 updated, 1 unchanged" in proc.stdout, proc.stdout
    time.sleep(0.05)
    (entry / f"{QUIZ}.ipynb").write_bytes(_notebook("edited after collect"))
    os.utime(entry / f"{QUIZ}.ipynb", (old, old))
    proc = _collect(cfg)
    assert "1 updated" in proc.stdout and _marker(cfg, "late01") == "edited after collect", proc.stdout
    assert parse_utc((_submitted(cfg, "late01") / "timestamp.txt").read_text()) > stamp


# ── LMS downloads ───────────────────────────────────────────────────────────
def _set_mtime(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def _stamp(cfg, student: str) -> str:
    return (_submitted(cfg, student) / "timestamp.txt").read_text()


UTC = dt.timezone.utc
T_KIM = dt.datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
T_LEE = dt.datetime(2026, 12, 20, 11, 0, tzinfo=UTC)


def _folder_download(tmp_path: Path, lms_manifest: bool) -> Path:
    dl = tmp_path / "download"
    for student, when in (("kim01", T_KIM), ("lee02", T_LEE)):
        (dl / student).mkdir(parents=True)
        nb = dl / student / f"{QUIZ}.ipynb"
        nb.write_bytes(_notebook(f"{student} lms"))
        _set_mtime(nb, when)
    # lee02's own file, named like the LMS's manifest: kim01 three weeks late, lee02 a week early
    (dl / "lee02" / "submissions.csv").write_text("student,submitted_at\nkim01,2027-01-10 10:00:00+00:00\n"
                                                  "lee02,2026-12-13 11:00:00+00:00\n")
    if lms_manifest:
        (dl / "submissions.csv").write_text("student,submitted_at\nkim01,2026-12-20 19:30:00+09:00\n"
                                            "lee02,2026-12-20 20:30:00+09:00\n")
    return dl


@pytest.mark.parametrize("lms_manifest", [False, True], ids=["no-lms-manifest", "with-lms-manifest"])
def test_student_made_manifest_in_their_folder_is_just_their_file(tmp_path, lms_manifest):
    cfg = _course(tmp_path)
    dl = _folder_download(tmp_path, lms_manifest)
    proc = run_cli(["import-lms", str(dl), "--assignment", QUIZ], cfg.root, check=False)
    out = proc.stdout
    assert "2 imported (2 new, 0 updated)" in out, out + proc.stderr       # the import did not stop
    if lms_manifest:      # the LMS's own manifest at the top
        assert _stamp(cfg, "kim01") == "2026-12-20 10:30:00.000000 UTC"
        assert _stamp(cfg, "lee02") == "2026-12-20 11:30:00.000000 UTC"
    else:                 # no manifest: the files' times, never the student's CSV
        assert _stamp(cfg, "kim01") == "2026-12-20 10:00:00.000000 UTC"
        assert _stamp(cfg, "lee02") == "2026-12-20 11:00:00.000000 UTC"
    [line] = _lines(out, "lee02/submissions.csv")
    assert "not a notebook" in line, line


def test_single_student_zip_with_own_manifest(tmp_path):
    """A download that is one student's folder: the CSV beside their notebook is not the LMS's."""
    cfg = _course(tmp_path)
    z = tmp_path / "one.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(zipfile.ZipInfo(f"kim01/kim01_{QUIZ}.ipynb", date_time=(2026, 12, 20, 20, 0, 0)), _notebook("k"))
        zf.writestr(zipfile.ZipInfo("kim01/submissions.csv", date_time=(2026, 12, 20, 20, 0, 0)),
                    "student,submitted_at\nkim01,2026-12-01 09:00:00+09:00\n")
    proc = run_cli(["import-lms", str(z), "--assignment", QUIZ], cfg.root, check=False)
    assert "1 imported" in proc.stdout, proc.stdout + proc.stderr
    assert _stamp(cfg, "kim01") == "2026-12-20 11:00:00.000000 UTC"     # the zip entry's time (Asia/Seoul)


def test_lms_folder_links_pipes_hard_links_and_huge_files(tmp_path):
    """An unpacked download is student bytes too: a notebook that is a link to the instructor's, a link to
    /dev/zero, a FIFO, a hard link and a 300 MB file are refused without being read; the others are imported."""
    cfg = _course(tmp_path)
    dl = tmp_path / "unpacked"
    dl.mkdir()
    (dl / f"kim01_{QUIZ}.ipynb").write_bytes(_notebook("kim01 lms"))
    (dl / f"mallory_{QUIZ}.ipynb").symlink_to(cfg.root / SOURCE_NB)
    (dl / f"zero_{QUIZ}.ipynb").symlink_to("/dev/zero")
    (dl / f"loop_{QUIZ}.ipynb").symlink_to(dl / f"loop_{QUIZ}.ipynb")
    os.mkfifo(dl / f"pipe_{QUIZ}.ipynb")
    outside = tmp_path / "outside.ipynb"
    outside.write_bytes(_notebook("HARDLINK-SECRET"))
    os.link(outside, dl / f"hard_{QUIZ}.ipynb")
    with open(dl / f"huge_{QUIZ}.ipynb", "wb") as fh:
        fh.truncate(300 * 2 ** 20)
    (dl / "zz99").mkdir()
    (dl / "zz99" / f"{QUIZ}.ipynb").write_bytes(_notebook("zz99 lms"))
    (dl / "linked_dir").symlink_to(tmp_path)          # a folder link: never walked into

    proc = run_cli(["import-lms", str(dl), "--assignment", QUIZ], cfg.root, check=False, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1 and "2 imported (2 new, 0 updated)" in out, out + proc.stderr
    assert sorted(p.name for p in (cfg.root / "submitted").iterdir()) == ["kim01", "zz99"]
    assert b"HARDLINK-SECRET" not in _all_bytes(cfg.root / "submitted")
    for name, why in ((f"mallory_{QUIZ}.ipynb", "a symbolic link"), (f"zero_{QUIZ}.ipynb", "a symbolic link"),
                      (f"loop_{QUIZ}.ipynb", "a symbolic link"), (f"pipe_{QUIZ}.ipynb", "a FIFO"),
                      (f"hard_{QUIZ}.ipynb", "a hard link"), (f"huge_{QUIZ}.ipynb", "too big"),
                      ("linked_dir", "a symbolic link")):
        [line] = _lines(out, name)
        assert why in line, line


# ── issue 22: in a student's folder, the folder is the student ──────────────
def test_a_file_in_ones_folder_named_for_a_classmate_is_refused(tmp_path):
    """A per-student-folder download: mallory's folder holds, besides her own notebook, a newer one named
    for lee02.  It is never lee02's submission (nor mallory's): refused and reported; lee02 keeps their own."""
    cfg = _course(tmp_path)
    dl = tmp_path / "download"
    for student, when in (("kim01", T_KIM), ("lee02", T_KIM), ("mallory", T_KIM)):
        (dl / student).mkdir(parents=True)
        nb = dl / student / f"{QUIZ}.ipynb"
        nb.write_bytes(_notebook(f"{student} own"))
        _set_mtime(nb, when)
    forged = dl / "mallory" / f"lee02_{QUIZ}.ipynb"
    forged.write_bytes(_notebook("forged by mallory"))
    _set_mtime(forged, T_LEE)                         # newer than lee02's own upload
    proc = run_cli(["import-lms", str(dl), "--assignment", QUIZ], cfg.root, check=False)
    out = proc.stdout
    assert proc.returncode == 1 and "3 imported (3 new, 0 updated)" in out, out + proc.stderr
    [line] = _lines(out, f"mallory/lee02_{QUIZ}.ipynb")
    assert "in mallory's folder but named for lee02" in line, line
    for student in ("kim01", "lee02", "mallory"):
        assert _marker(cfg, student) == f"{student} own"


def test_a_one_student_download_named_for_a_classmate_is_refused(tmp_path):
    """A download that is one student's folder (as the LMS drop folder of `watch` gets them, one per
    student): `mallory/lee02_concepts_quiz.ipynb`.  Before: imported as lee02's submission."""
    from nbgrader.api import Gradebook
    cfg = _course(tmp_path)
    with Gradebook(cfg.db_url) as gb:
        for student in ("kim01", "lee02", "mallory"):
            gb.add_student(student)
    for shape in ("zip", "folder"):
        if shape == "zip":
            dl = tmp_path / "mallory.zip"
            with zipfile.ZipFile(dl, "w") as zf:
                zf.writestr(zipfile.ZipInfo(f"mallory/lee02_{QUIZ}.ipynb", date_time=(2026, 12, 20, 20, 0, 0)),
                            _notebook("forged by mallory"))
        else:
            dl = tmp_path / "drop" / "mallory"
            dl.mkdir(parents=True)
            (dl / f"lee02_{QUIZ}.ipynb").write_bytes(_notebook("forged by mallory"))
        proc = run_cli(["import-lms", str(dl), "--assignment", QUIZ], cfg.root, check=False)
        out = proc.stdout
        assert proc.returncode == 1 and "0 imported" in out, out + proc.stderr
        [line] = _lines(out, f"lee02_{QUIZ}.ipynb")
        assert "in mallory's folder but named for lee02" in line, line
        assert not _submitted(cfg, "lee02").exists() and not _submitted(cfg, "mallory").exists()
    # control: the same student's own file in her own one-student download is imported as hers
    (dl / f"mallory_{QUIZ}.ipynb").write_bytes(_notebook("mallory own"))
    proc = run_cli(["import-lms", str(dl), "--assignment", QUIZ], cfg.root, check=False)
    assert "1 imported (1 new, 0 updated)" in proc.stdout, proc.stdout + proc.stderr
    assert _marker(cfg, "mallory") == "mallory own" and not _submitted(cfg, "lee02").exists()
