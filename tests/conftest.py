"""Shared fixtures: a throw-away course root graded through the real pipeline.

The course root is a temporary folder with its own course_config.py, source/,
nbgrader_config.py and gradebook; the built assets of the checkout are reused.
The whole simulated class (plus two test-only students) is released, submitted,
autograded in the sandbox and given feedback once per test session, through
`python -m graders` as staff would run it.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graders.course import load_config  # noqa: E402


def run_cli(args, root: Path, check=True, env=None, timeout=2400):
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "graders", "--config", str(root / "course_config.py"), *args],
                          cwd=root, capture_output=True, text=True, env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"graders {args} exited {proc.returncode}\nSTDOUT:\n{proc.stdout[-4000:]}\n"
                             f"STDERR:\n{proc.stderr[-4000:]}")
    return proc


def make_course(root: Path, extra_config: str = "") -> Path:
    """A course root in `root` that shares the checkout's source/ and built assets."""
    from graders.demo import copy_course
    return copy_course(root, extra_config)


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    return load_config(root / "course_config.py")


# The one graded class of the session: the demo class of every exercise, the test-only students below
# and the variety suite (tests/variety/), graded in ONE batch into PostgreSQL.  Tests that only read
# results (pipeline, feedback, quiz, dashboard, variety) share it; test_farm regrades parts of it in
# other ways (serial, resumed, on Dask) and must get the same grades back (kill -9: test_farm_kills).
# Three grader processes on two cores: a notebook waiting on its cell timeout (`hangs`) holds one
# slot while the other two keep both cores busy; 3 × memory_gb must fit the machine (issue 14).
SESSION_LIMITS = ("SANDBOX = {**SANDBOX, 'memory_gb': 6, 'cell_timeout_s': 180, 'notebook_timeout_s': 900, "
                  "'prestart': False}\n")
SESSION_WORKERS = 3


def _extra_students(cfg):
    """Test-only students: stderr noise in every answer, a file that is not JSON, a notebook whose
    training never ends, and a second all-right student on a differently shuffled quiz paper."""
    from graders import demo
    from graders.exercises.concepts_quiz import students as q
    from graders.exercises.keras_mnist import students as k

    noisy = {cell: "import sys; print('경고: stderr 출력', file=sys.stderr)\n" + code
             for cell, code in k.REFERENCE.items()}
    hang = {**k.REFERENCE, "train_model": "import time\nwhile True:\n    time.sleep(1)"}
    demo.submit(cfg, "keras_mnist", who={"stderr_noise": noisy, "hangs": hang})
    bad = cfg.root / "submitted" / "broken_json" / "keras_mnist"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "keras_mnist.ipynb").write_text('{"cells": [ {"cell_type": "code", "source": "x = 1"')
    (bad / "timestamp.txt").write_text("2026-11-24 10:00:00.000000 UTC")
    demo.submit(cfg, "concepts_quiz", who={"twin": q.answers_for("twin", q.REFERENCE)})


EXTRA_STUDENTS = {"keras_mnist": {"stderr_noise", "hangs"}, "concepts_quiz": {"twin"}}


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory, postgres_db):
    """For every exercise: release → the simulated class and the variety suite submit → ONE autograde
    batch (sandboxed, three grader processes, PostgreSQL) → feedback."""
    import time

    import variety
    from graders import demo

    root = make_course(tmp_path_factory.mktemp("class"), f"DB_URL = {postgres_db('classbook')!r}\n" + SESSION_LIMITS)
    cfg = load_config(root / "course_config.py")
    students, varied = {}, {}
    for assignment in demo.CLASSES:
        run_cli(["release", assignment], root)
        students[assignment] = demo.submit(cfg, assignment)
        cases = variety.MODULES[assignment].CASES
        demo.submit(cfg, assignment, who={c["name"]: c["answers"] for c in cases})
        varied[assignment] = {c["name"] for c in cases}
    _extra_students(cfg)
    start = time.monotonic()
    batch = run_cli(["autograde", *demo.CLASSES, "--workers", str(SESSION_WORKERS), "--quiet"], root, check=False,
                    timeout=5400)       # ≈ 30 min alone on 2 cores, longer beside the other test worker
    seconds = time.monotonic() - start
    everyone = {a: demo.check_results(cfg, a) for a in demo.CLASSES}
    # feedback as students see it once every result is open (after every due date): the tests read it all
    feedback = run_cli(["feedback", "--as-of", "2099-01-01 00:00:00+00:00"], root, check=False)
    scores = run_cli(["scores", "--json"], root)
    n = sum(len(v) for v in everyone.values())
    print(f"\ngraded class: {n} submissions (class + variety) graded in {seconds:.0f} s (rc {batch.returncode})")
    return {
        "cfg": cfg,
        "students": students,
        "batch": batch,
        "seconds": seconds,
        "autograde": {a: batch for a in demo.CLASSES},
        "feedback": feedback,
        "scores": json.loads(scores.stdout),
        # the simulated class (with the test-only students) and the variety cases, apart and together
        "checks": {a: {s: r for s, r in got.items() if s not in varied[a]} for a, got in everyone.items()},
        "variety": {a: {s: r for s, r in got.items() if s in varied[a]} for a, got in everyone.items()},
        "variety_names": varied,
        "all_checks": everyone,
    }


def run_cells(cfg, work: Path, sources: list[str], **settings):
    """Execute code cells through SandboxedExecute (the farm's kernel step, sandboxed as the course says)
    with some of its settings changed; returns (executed notebook, resources)."""
    import nbformat
    from traitlets.config import Config

    from graders.farm.execute import SandboxedExecute
    from graders.nbgrader_settings import apply_settings

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    c = Config()
    apply_settings(c, cfg)
    c.SandboxedExecute.work_root = str(work)
    c.SandboxedExecute.prestart = False
    for key, value in settings.items():
        setattr(c.SandboxedExecute, key, value)
    return SandboxedExecute(config=c).preprocess(nb, {"metadata": {"path": str(work)}})


def assert_points(got: dict, expected: dict) -> None:
    """Exact points per check; a (low, high) pair allows a partial-credit range."""
    assert set(got) == set(expected), (got, expected)
    for check, want in expected.items():
        if isinstance(want, tuple):
            assert want[0] <= got[check] <= want[1], (check, got[check], want)
        else:
            assert got[check] == pytest.approx(want), (check, got[check], want)


@contextlib.contextmanager
def cold_course(cfg):
    """cfg's course graded with SANDBOX['warm_parents'] off while the block runs: a cold sandbox per kernel and
    per scoring job (farm/warm's design switched off, as staff can)."""
    path = cfg.root / "course_config.py"
    text = path.read_text()
    path.write_text(text + "\nSANDBOX = {**SANDBOX, 'warm_parents': False}\n")
    try:
        yield
    finally:
        path.write_text(text)


def class_points(cfg, assignment) -> dict:
    """{student: {check: points}} of an assignment as graded in cfg's course."""
    from graders import demo
    return {s: {n: r["score"] for n, r in c.items()} for s, c in demo.check_results(cfg, assignment).items()}


def assert_class_graded(cfg, assignment, klass) -> None:
    """Every student of `klass` (a students module) has the expected points, and the gradebook holds every
    graded cell of every student exactly once, with a total inside the expected range."""
    got = class_points(cfg, assignment)
    for student, expected in klass.EXPECTED.items():
        assert_points(got[student], expected)
    rows = json.loads(run_cli(["scores", "--json", "--assignment", assignment], cfg.root).stdout)
    keys = [(r["student"], r["notebook"], r["cell"]) for r in rows]
    assert len(keys) == len(set(keys)), "a grade is recorded twice"
    n_cells = len({r["cell"] for r in rows})
    for student in klass.EXPECTED:
        mine = [r for r in rows if r["student"] == student]
        assert len(mine) == n_cells, (student, len(mine), n_cells)
        assert all(r["auto_score"] is not None for r in mine), student
        low = sum(v[0] if isinstance(v, tuple) else v for v in klass.EXPECTED[student].values())
        high = sum(v[1] if isinstance(v, tuple) else v for v in klass.EXPECTED[student].values())
        assert low - 1e-9 <= sum(r["score"] for r in mine) <= high + 1e-9, student


# ── services the farm tests grade through ───────────────────────────────────
def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (the Debian package `make test` installs) on loopback, for this session."""
    import glob
    import pwd

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    assert bins, "PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)"
    bindir = Path(bins[-1]).parent
    import tempfile
    # not under pytest's own temp folder: that one is private to root (mode 700)
    base = Path(tempfile.mkdtemp(prefix="dlcourse-pg-"))
    data = base / "data"
    port = free_port()
    as_user = []
    if os.geteuid() == 0:          # the server refuses to run as root: use the package's system user
        base.chmod(0o777)
        as_user = ["runuser", "-u", "postgres", "--"]
        pwd.getpwnam("postgres")   # the package's user must exist
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)
    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data.parent / "server.log"), "-o",
        f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gradebook")
        yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_db(postgres_url):
    """A fresh database on the session's PostgreSQL server: postgres_db(name) -> its URL."""
    from sqlalchemy import create_engine, text

    def make(name: str) -> str:
        assert name.isidentifier(), name
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return postgres_url.rsplit("/", 1)[0] + "/" + name
    return make


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes on loopback, one grading slot each."""
    import time

    logs = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    dask = str(Path(sys.executable).parent / "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=open(logs / "scheduler.log", "w"), stderr=subprocess.STDOUT, env=env)]
    for name in ("w1", "w2"):
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--name", name,
                                       "--resources", "grading=1", "--no-dashboard"],
                                      stdout=open(logs / f"{name}.log", "w"), stderr=subprocess.STDOUT, env=env))
    try:
        from distributed import Client
        deadline = time.time() + 90
        with Client(address, timeout="30s") as c:
            while len(c.scheduler_info()["workers"]) < 2:
                assert time.time() < deadline, (logs / "w1.log").read_text()[-2000:]
                time.sleep(0.5)
            workers = sorted(c.scheduler_info()["workers"])
        yield {"address": address, "workers": workers, "logs": logs}
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


# ── Browser (headless Debian chromium driven by Playwright) ─────────────────
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Screenshots are kept for people to look at only when asked (DLCOURSE_SCREENSHOTS=<folder>): a test run
# writes nothing outside its temp folders (issue 14).
_SHOTS = os.environ.get("DLCOURSE_SCREENSHOTS")
_SHOT_TMP: Path | None = None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session.  Playwright never downloads a browser here:
    it drives the Debian package that `make test` installs."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed. Fix: run `make test` (it apt-get installs chromium), "
                    "or `apt-get install chromium`")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def screenshot(pg, name: str) -> Path:
    """A full-page screenshot: under $DLCOURSE_SCREENSHOTS when set (kept), else in a temp folder."""
    global _SHOT_TMP
    if _SHOTS:
        folder = Path(_SHOTS)
    else:
        if _SHOT_TMP is None:
            import atexit
            import tempfile
            _SHOT_TMP = Path(tempfile.mkdtemp(prefix="dlcourse-screenshots-"))
            atexit.register(shutil.rmtree, _SHOT_TMP, True)
        folder = _SHOT_TMP
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}.png"
    pg.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 5_000, f"screenshot {out} is suspiciously small"
    return out


# ── two test processes on CI's two cores (pytest-xdist, `make test`: -n 2 --dist loadscope) ──
# Most tests grade one notebook at a time and leave a core idle; the session's graded class keeps both
# busy.  Every module that uses the graded class runs on one worker (which builds the class once), first;
# every other module is a unit of its own, so module fixtures (a JupyterLab, a small graded course) are
# built once, on one worker.  (xdist's own `loadgroup` marks do not take with pytest 9, whose node ids
# xdist can no longer suffix: the scheduler below groups by module instead.)
CLASS_GROUP = "graded-class"


def _class_modules() -> frozenset:
    """Test modules whose tests (or fixtures) use the session's graded class."""
    here = Path(__file__).resolve().parent
    return frozenset(f"{here.name}/{p.name}" for p in here.glob("test_*.py")
                     if "graded_class" in p.read_text(encoding="utf-8"))


def _unit(nodeid: str) -> str:
    module = nodeid.split("::")[0]
    return CLASS_GROUP if module.split("/")[-1] in {m.split("/")[-1] for m in _class_modules()} else module


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByClassAndModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return ByClassAndModule(config, log)


def pytest_collection_modifyitems(config, items):
    # the graded class's modules first (stable): its worker starts the long batch at once
    items.sort(key=lambda item: 0 if _unit(item.nodeid) == CLASS_GROUP else 1)
