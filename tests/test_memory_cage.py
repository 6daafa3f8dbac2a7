"""SANDBOX['memory_gb'] is a real memory limit, and the output cap's notice is deterministic.

The memory limit: a memory cgroup per kernel (sandbox.ProcessCage) caps the resident memory of the
whole sandboxed kernel; past it the cgroup's OOM killer stops the kernel and the cell says so, in
Korean, with the limit.  RLIMIT_AS stays only as a high backstop.  Where no memory cgroup can be made
the grader warns once and falls back to the address-space limit.  The batch refuses more
`workers × memory_gb` than the machine has.

The output cap: a cell whose output went past MAX_OUTPUT_BYTES carries the notice exactly once,
whether the cell ended by itself or the kernel died during the flood.

Each probe has a negative control next to it (the same probe on a case where it must come out the
other way), so none of these tests can pass by not looking.  Nothing is written outside pytest's
temporary folders and the cgroups these tests make, which they remove.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from conftest import run_cells
from graders.config import ConfigError
from graders.farm.sandbox import check_memory_budget
from graders.farm import execute as ex
from graders.farm import sandbox as sb
from graders.farm.execute import MAX_OUTPUT_BYTES, SandboxedExecute
from graders.nbgrader_settings import apply_settings

REPO = Path(__file__).resolve().parent.parent
ProcessCage = sb.ProcessCage          # the real class (the `cages` fixture puts a recording one in `sb`)
GIB = 2**30
NOTICE_KO = f"출력이 {MAX_OUTPUT_BYTES // 2**20}MB를 넘어 나머지 출력은 버렸습니다."


# ── helpers ─────────────────────────────────────────────────────────────────
def _run_cells(cfg, tmp_path, sources, **settings):
    """Run cells in the sandboxed kernel (conftest.run_cells); the notebook and the run's status."""
    nb, resources = run_cells(cfg, tmp_path, sources, **settings)
    return nb, resources["dlcourse"]["status"]


def _text(cell) -> str:
    return "".join(str(o.get("text", "")) + str(o.get("evalue", "")) for o in cell.outputs)


@pytest.fixture
def cages(monkeypatch):
    """Every ProcessCage of a kernel or scoring job made while the test runs (execute.py and measure.py make them
    through `sb.ProcessCage`).  A warm parent's own cage (farm/warm, named warm-…) outlives the run by design:
    it is not a run's cage, and a run's cages must be gone whatever path the run took."""
    made = []

    class Recorded(sb.ProcessCage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if not str(args[0] if args else kwargs.get("name", "")).startswith("warm-"):
                made.append(self)

    monkeypatch.setattr(sb, "ProcessCage", Recorded)
    yield made
    for cage in made:                    # whatever a failing test left behind
        cage.kill_all(wait=2.0)


def _require_memory_cgroup():
    """These tests are about the cgroup: where none can be made here, say so (a failure, not a skip)."""
    cage = ProcessCage(f"dlcourse-probe-{os.getpid()}", 16, memory_gb=1)
    try:
        assert cage.memory_path is not None, (
            "no memory cgroup can be made on this machine (run the tests as root on cgroup v1, or delegate a "
            "cgroup v2 subtree with the memory controller)")
    finally:
        cage.kill_all(wait=1.0)


def _memory_cgroup_of(pid) -> str:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
    return ""


# ── the address-space backstop and joining the cages ───────────────────────
def _spec(tmp_path, memory_gb, caged, procs=None):
    return sb.SandboxSpec(scratch=tmp_path, artifacts=tmp_path, runtime=tmp_path, public_code=tmp_path,
                          public_data=tmp_path, limits=sb.Limits(memory_gb=memory_gb),
                          memory_caged=caged, cgroup_procs=procs)


def _as_limit(cmd) -> int:
    return int(next(a for a in cmd if a.startswith("--as=")).split("=", 1)[1])


@pytest.mark.parametrize("memory_gb,backstop_gb", [(4, 12), (8, 16), (32, 64)])
def test_address_space_is_only_a_backstop_where_the_memory_cgroup_holds(tmp_path, memory_gb, backstop_gb):
    caged = sb.wrap(["true"], _spec(tmp_path, memory_gb, True))
    uncaged = sb.wrap(["true"], _spec(tmp_path, memory_gb, False))
    assert _as_limit(caged) == backstop_gb * GIB            # max(2 × memory_gb, memory_gb + 8)
    assert _as_limit(uncaged) == memory_gb * GIB            # the control: no cgroup, the old limit
    assert caged[0] == "bwrap" or caged[0].endswith("/bwrap")   # no cages given: no joining shell


def test_the_starter_joins_every_cage_or_refuses_to_start(tmp_path):
    _require_memory_cgroup()
    cage = sb.ProcessCage(f"dlcourse-test-join-{os.getpid()}", 32, memory_gb=1)
    try:
        procs = cage.procs_files()
        assert len(procs) == 2, procs                        # v1: one pids and one memory group
        cmd = sb.wrap(["true"], _spec(tmp_path, 1, True, procs))
        assert cmd[:2] == ["/bin/sh", "-c"] and cmd[3:6] == ["2", *procs], cmd[:6]
        out = subprocess.run(sb.join_cgroups(procs) + ["cat", "/proc/self/cgroup"], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert any(":memory:" in l and l.endswith(f"/dlcourse/{cage.name}") for l in lines), lines
        assert any(":pids:" in l and l.endswith(f"/dlcourse/{cage.name}") for l in lines), lines
        # the control: this test's own process is in neither cage
        assert not _memory_cgroup_of(os.getpid()).endswith(cage.name)
        # a cage that cannot be joined stops the start: the command never runs
        missing = str(tmp_path / "no-such-group" / "cgroup.procs")
        bad = subprocess.run(sb.join_cgroups([procs[0], missing]) + ["echo", "RAN"], capture_output=True,
                             text=True, timeout=30)
        assert bad.returncode == 125 and "RAN" not in bad.stdout, (bad.returncode, bad.stdout)
        assert "cannot join cgroup" in bad.stderr
    finally:
        cage.kill_all(wait=2.0)
    assert not cage.memory_path.exists() and not cage.path.exists()


# ── a real memory limit ─────────────────────────────────────────────────────
HUNGRY = """
chunks = []
for _ in range({n}):
    chunks.append(bytearray(256 * 2**20))    # bytearray zero-fills: every page is touched, resident
print("allocated", len(chunks) * 256, "MiB")
"""


def test_a_cell_past_memory_gb_is_stopped_by_the_memory_cgroup(course, tmp_path, cages):
    _require_memory_cgroup()
    nb, status = _run_cells(course, tmp_path, [HUNGRY.format(n=24), "print('still alive')"],
                            memory_gb=4.0, timeout=120, language="ko")
    first, second = nb.cells
    assert "allocated" not in _text(first), first.outputs                 # 6 GiB never fit
    errors = [o for o in first.outputs if o.get("output_type") == "error"]
    assert [o.get("ename") for o in errors] == ["MemoryLimit"], first.outputs
    message = errors[0]["evalue"]
    assert "4 GiB" in message and "메모리 한도" in message and "배치 크기" in message, message
    assert "MemoryError" not in _text(first)          # the cgroup stopped it, not the address-space limit
    assert status["memory_exceeded"] is True and status["memory_gb"] == 4.0 and status["memory_caged"]
    assert status["kernel_dead"] is True
    assert status["memory_peak_mb"] >= 4 * 1024 * 0.95, status            # it really reached the limit
    assert [o.get("ename") for o in second.outputs] == ["NotRun"]
    assert "4 GiB" in _text(second) and "still alive" not in _text(second)
    # every cage is gone, also after the kernel was killed
    assert cages and all(not c.memory_path.exists() and not c.path.exists() for c in cages)


def test_the_same_probe_passes_under_a_bigger_limit(course, tmp_path, cages):
    """The control: 2 GiB touched under memory_gb = 4 is allowed, and it was charged to the cage."""
    _require_memory_cgroup()
    nb, status = _run_cells(course, tmp_path, [HUNGRY.format(n=8), "print('still alive')"],
                            memory_gb=4.0, timeout=120, language="ko")
    assert "allocated 2048 MiB" in _text(nb.cells[0]), nb.cells[0].outputs
    assert "still alive" in _text(nb.cells[1])
    assert status["memory_exceeded"] is False and status["kernel_dead"] is False
    assert status["memory_peak_mb"] >= 2048, status
    assert cages and all(not c.memory_path.exists() for c in cages)


WAIT_FOR_HOST = """
import os, time
open("ready", "w").close()
for _ in range(1200):
    if os.path.exists("go"):
        break
    time.sleep(0.1)
print("released", os.path.exists("go"))
"""


def test_the_kernel_runs_inside_its_memory_cage_and_the_cage_is_removed(course, tmp_path, cages):
    _require_memory_cgroup()
    seen: dict = {}

    def host_side():
        """While the cell waits: read the cage from the host, then release the cell."""
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline and ready is None:
            # this run's own folder is named after its cage (another test's leftover slot is not it)
            name = cages[0].name if cages else "-"
            ready = next(iter([*tmp_path.glob(f"{name}/submission/ready"),           # cold, or warm:
                               *Path(tempfile.gettempdir()).glob(f"dlw-*/{name}/submission/ready")]), None)
            time.sleep(0.1)
        try:
            if ready is None or not cages:
                return
            cage = cages[0]
            seen["name"] = cage.name
            seen["limit"] = (cage.memory_path / "memory.limit_in_bytes").read_text().strip() \
                if (cage.memory_path / "memory.limit_in_bytes").exists() else \
                (cage.memory_path / "memory.max").read_text().strip()
            seen["pids"] = cage.pids()
            seen["groups"] = [_memory_cgroup_of(pid) for pid in seen["pids"]]
            seen["mine"] = _memory_cgroup_of(os.getpid())
        finally:
            if ready is not None:
                (ready.parent / "go").write_text("")

    watcher = threading.Thread(target=host_side, daemon=True)
    watcher.start()
    nb, status = _run_cells(course, tmp_path, [WAIT_FOR_HOST], memory_gb=4.0, timeout=180)
    watcher.join(timeout=10)
    assert "released True" in _text(nb.cells[0]), (nb.cells[0].outputs, seen)
    assert int(seen["limit"]) == 4 * GIB, seen
    assert seen["pids"], seen                                        # the kernel (and bwrap) are in it
    assert all(g.endswith(f"/dlcourse/{seen['name']}") for g in seen["groups"]), seen
    assert not seen["mine"].endswith(seen["name"]), seen             # the control: the grader is not
    assert status["memory_caged"] is True
    cage = cages[0]
    assert not cage.memory_path.exists() and not cage.path.exists()  # removed after the run
    assert not (cage.memory_path.parent / cage.name).exists()


# ── where no memory cgroup can be made ──────────────────────────────────────
def test_no_cgroup_filesystem_falls_back_to_the_address_space_limit_with_one_warning(tmp_path, monkeypatch,
                                                                                       caplog):
    empty = tmp_path / "no-cgroups"
    empty.mkdir()
    monkeypatch.setattr(sb, "_MEMORY_ROOTS", (str(empty / "memory"), str(empty)))
    monkeypatch.setattr(sb, "_CGROUP_ROOTS", (str(empty / "pids"), str(empty)))
    monkeypatch.setattr(sb, "_memory_warned", False)
    with caplog.at_level(logging.WARNING, logger="dlcourse.sandbox"):
        first = sb.ProcessCage("dlcourse-test-a", 32, memory_gb=4)
        second = sb.ProcessCage("dlcourse-test-b", 32, memory_gb=4)
    assert first.memory_path is None and second.memory_path is None and first.procs_files() == []
    warnings = [r.getMessage() for r in caplog.records if "memory cgroup unavailable" in r.getMessage()]
    assert len(warnings) == 1, warnings                                  # once per process
    assert "SANDBOX['memory_gb'] is enforced only as an address-space limit" in warnings[0]
    assert list(empty.iterdir()) == []
    # the control: a cage that asks for no memory limit warns about nothing
    monkeypatch.setattr(sb, "_memory_warned", False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dlcourse.sandbox"):
        sb.ProcessCage("dlcourse-test-c", 32)
    assert not caplog.records


UNWRITABLE_PROBE = r"""
import json, logging, sys
sys.path.insert(0, @REPO@)
from pathlib import Path
from graders.farm import sandbox as sb
root = Path(@ROOT@)
sb._MEMORY_ROOTS = (str(root / "memory"),)
sb._CGROUP_ROOTS = (str(root / "pids"),)
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("dlcourse.sandbox").addHandler(Keep())
cages = [sb.ProcessCage("dlcourse-test-%d" % i, 32, memory_gb=4) for i in range(3)]
spec = sb.SandboxSpec(scratch=root, artifacts=root, runtime=root, public_code=root, public_data=root,
                      limits=sb.Limits(memory_gb=4), memory_caged=cages[0].memory_path is not None)
cmd = sb.wrap(["true"], spec)
print(json.dumps({"memory_paths": [str(c.memory_path) if c.memory_path else None for c in cages],
                  "warnings": records, "as": int(next(a for a in cmd if a.startswith("--as=")).split("=")[1])}))
"""


def _fake_v1_roots(base: Path) -> None:
    """Folders shaped like cgroup v1 `memory` and `pids` hierarchies (plain files, no kernel behind them)."""
    for controller, limit_file in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max")):
        d = base / controller
        d.mkdir()
        for name in ("cgroup.procs", limit_file, "memory.oom_control"):
            (d / name).write_text("")


def _probe_unprivileged(root: Path) -> dict:
    """Run the probe as a user without privileges: uid 65534 in a user namespace, no capabilities (the
    files' owner, so only their mode bits decide: a 0555 folder cannot be written)."""
    code = UNWRITABLE_PROBE.replace("@REPO@", repr(str(REPO))).replace("@ROOT@", repr(str(root)))
    cmd = [shutil.which("bwrap") or "bwrap", "--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL",
           "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=str(root),
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1",
                              "HOME": str(root)})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_read_only_cgroup_root_falls_back_with_one_warning():
    """A grader without root: the cgroup folders are there but not writable (here: temp folders made
    read-only, the probe run without privileges).  The control runs the same probe where it may write."""
    base = Path(tempfile.mkdtemp(prefix="dlcourse-ro-cgroup-"))
    try:
        base.chmod(0o755)
        ro, rw = base / "ro", base / "rw"
        for d in (ro, rw):
            d.mkdir()
            d.chmod(0o755)
            _fake_v1_roots(d)
        for d in (ro / "memory", ro / "pids"):
            d.chmod(0o555)
        unprivileged = _probe_unprivileged(ro)
        assert unprivileged["memory_paths"] == [None, None, None], unprivileged
        assert len(unprivileged["warnings"]) == 1, unprivileged           # once per process, not per cage
        assert "memory cgroup unavailable" in unprivileged["warnings"][0]
        assert "enforced only as an address-space limit" in unprivileged["warnings"][0]
        assert unprivileged["as"] == 4 * GIB                              # the fallback: AS at memory_gb
        assert sorted(p.name for p in (ro / "memory").iterdir()) == ["cgroup.procs", "memory.limit_in_bytes",
                                                                     "memory.oom_control"]
        # the control: the same probe, as the same user, where the (fake) hierarchy is writable
        writable = _probe_unprivileged(rw)
        assert all(p and p.startswith(str(rw / "memory")) for p in writable["memory_paths"]), writable
        assert writable["warnings"] == [] and writable["as"] == 12 * GIB, writable
    finally:
        for d in base.rglob("*"):
            if d.is_dir():
                d.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


# ── workers × memory_gb must fit the machine ────────────────────────────────
def test_workers_times_memory_gb_beyond_the_machine_is_refused(course):
    m = float(course.sandbox.memory_gb)
    machine = int(2.5 * m / 0.9 * GIB)        # less the reserve (2 GiB or 10 %): room for 2 kernels, not 3
    check_memory_budget(course, 2, total_bytes=machine)          # the control: 2 × memory_gb fits
    with pytest.raises(ConfigError) as refused:
        check_memory_budget(course, 3, total_bytes=machine)      # 3 × memory_gb does not
    text = str(refused.value)
    assert "SANDBOX['memory_gb']" in text and str(course.path) in text
    assert f"3 grader processes × {m:g} GiB = {3 * m:g} GiB" in text and f"{machine / GIB:.1f} GiB" in text, text
    assert "Fix:" in text and "at most 2 --workers" in text, text
    with pytest.raises(ConfigError) as too_big:                  # one kernel alone does not fit
        check_memory_budget(course, 1, total_bytes=int(m * GIB))
    assert "1 grader process ×" in str(too_big.value) and "--workers here" not in str(too_big.value)
    assert "more memory" in str(too_big.value) or "lower SANDBOX['memory_gb']" in str(too_big.value)


def test_the_batch_checks_the_budget_before_grading_anything(course):
    from graders.farm.autograde import autograde_many
    total = sb.machine_memory_bytes()
    assert total > 0
    too_many = int(total // (course.sandbox.memory_gb * GIB)) + 1
    with pytest.raises(ConfigError) as refused:
        autograde_many(course, ["keras_mnist"], students=["nobody"], progress=False, workers=too_many)
    assert f"{too_many} grader processes" in str(refused.value)
    # the control: the number that fits gets past the check (and finds nobody to grade)
    check_memory_budget(course, 1)


# ── the output cap's notice ─────────────────────────────────────────────────
def _notices(cell) -> int:
    return sum(str(o.get("text", "")).count(NOTICE_KO) for o in cell.outputs)


FLOOD_BY_CAP = """
import sys
from IPython.display import clear_output
for _ in range(8):
    sys.stdout.write("x" * 2**20)
    sys.stdout.flush()
clear_output()          # before: this also wiped a notice added while the flood came in
print("after the flood")
"""
UNDER_CAP = "import sys\nfor _ in range(2):\n    sys.stdout.write('u' * 2**20)\nprint()"


def test_a_flood_that_ends_by_the_cap_has_the_notice_exactly_once(course, tmp_path):
    nb, status = _run_cells(course, tmp_path, [UNDER_CAP, FLOOD_BY_CAP], language="ko", timeout=120)
    under, flood = nb.cells
    assert _notices(under) == 0, under.outputs                      # the control: under the cap, none
    assert _notices(flood) == 1, [(o.get("output_type"), len(str(o.get("text", "")))) for o in flood.outputs]
    assert not status["kernel_dead"] and status["output_truncated"]
    assert status.get("output_bytes", 0) <= MAX_OUTPUT_BYTES


BYPASS_KERNEL_CAP = """
import sys
sys.stdout.write = type(sys.stdout).write.__get__(sys.stdout)   # undo the kernel-side cap
for _ in range(8):
    sys.stdout.write("b" * 2**20)
    sys.stdout.flush()
"""


def test_the_grader_side_cap_holds_when_the_kernel_side_is_undone(course, tmp_path):
    nb, status = _run_cells(course, tmp_path, [BYPASS_KERNEL_CAP], language="ko", timeout=120)
    cell = nb.cells[0]
    assert _notices(cell) == 1, [(o.get("output_type"), len(str(o.get("text", "")))) for o in cell.outputs]
    assert sum(len(str(o.get("text", ""))) for o in cell.outputs) <= MAX_OUTPUT_BYTES + 1000
    assert status["output_truncated"] and status.get("output_bytes", 0) <= MAX_OUTPUT_BYTES


FLOOD_THEN_DIE = """
import os, signal, sys
for _ in range({mib}):
    sys.stdout.write("k" * 2**20)      # no flush: most of it has not left the kernel when it dies
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("mib,notices", [(8, 1), (1, 0)])
def test_a_flood_that_kills_the_kernel_has_the_notice_exactly_once(course, tmp_path, mib, notices):
    """8 MiB then SIGKILL: the notice, once, before the kernel's death.  The control: 1 MiB, under the
    cap, then the same death: no notice."""
    nb, status = _run_cells(course, tmp_path, [FLOOD_THEN_DIE.format(mib=mib), "print('never')"],
                            language="ko", timeout=120)
    cell = nb.cells[0]
    assert _notices(cell) == notices, cell.outputs
    assert [o.get("ename") for o in cell.outputs if o.get("output_type") == "error"] == ["DeadKernel"]
    if notices:
        kinds = [o.get("output_type") for o in cell.outputs]
        assert kinds[-1] == "error" and kinds[-2] == "stream", kinds   # the notice, then the death
    assert status["kernel_dead"] and bool(status.get("output_truncated")) == bool(notices)
    assert [o.get("ename") for o in nb.cells[1].outputs] == ["NotRun"]


# ── the scoring sandbox gets the same memory cage ───────────────────────────
@pytest.mark.parametrize("mib,exceeded", [(2048, True), (256, False)])
def test_the_scoring_sandbox_has_the_same_memory_cage(tmp_path, cages, mib, exceeded):
    """measure.py runs the grader's loaders in bubblewrap too: past memory_gb the cgroup stops it and the
    result says so; the control (a quarter of the limit) runs to the end."""
    from graders.farm import measure
    _require_memory_cgroup()
    work = tmp_path / "work"
    for d in (work, work / "out", work / "runtime", tmp_path / "data"):
        d.mkdir()
    settings = measure.Settings(sandbox=True, memory_gb=1, cpu_seconds=60, wall_seconds=120,
                                public_code=str(REPO / "public"), public_data=str(tmp_path / "data"))
    code = f"x = [bytearray(2**20) for _ in range({mib})]\nprint('done')"
    _, timed_out, rc, memory_exceeded = measure._execute([sys.executable, "-c", code], work, work / "out",
                                                         work / "runtime", settings)
    assert not timed_out
    assert memory_exceeded is exceeded and (rc != 0) is exceeded, (rc, memory_exceeded)
    assert cages and cages[0].memory_limit == GIB and not cages[0].memory_path.exists()
