"""Warm parents (issue 24): a sandboxed process that imported the frameworks once forks one fresh child
per job.  What is proven here, each with a negative control that removes one wall and sees the probe
find what it looks for:

- a child leaves nothing a later child sees: files in every place it can write, a background process,
  a SysV shared-memory segment;
- a child cannot reach its parent: no signal, no ptrace, no /proc/<parent>/mem or environ, no write to
  the parent's code; the parent serves the next job afterwards;
- a child that hangs or eats memory is stopped by its own limits and cgroup, the parent lives on;
- a parent that dies under a job hands that job to the cold path: the same result, nothing lost;
- scoring through warm children gives the cold path's results (measure.run, both ways).
"""
from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from graders.farm import measure
from graders.farm import sandbox as sb
from graders.farm.warm import pool

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/usr/bin/bwrap").exists(), reason="bubblewrap is not installed")


def _spec_args(tmp_path: Path) -> dict:
    data = tmp_path / "public-data"
    (data / "scratch").mkdir(parents=True, exist_ok=True)
    (data / ".writable").write_text("scratch\n")
    return dict(public_code=REPO / "public", public_data=data, language="ko", disk_mb=64)


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    p = pool.WarmParent(("numpy",), _spec_args(tmp_path_factory.mktemp("warm")), memory_gb=2, max_pids=64)
    yield p
    p.close()


def _job(parent, script: str, skip=(), limits=None) -> tuple[dict, Path]:
    slot = parent.slot("t-")
    (slot / "job.py").write_text(textwrap.dedent(script))
    fresh = [[p, 2**24] for p in ("/tmp", "/home", "/dev/shm", *sb.scratch_folders(parent.spec.public_data))]
    job = {"kind": "script", "argv": [f"{sb.SCRATCH}/job.py"], "cwd": sb.SCRATCH,
           "env": {"PATH": "/usr/bin:/bin", "HOME": sb.HOME, "LANG": "C.UTF-8", "PYTHONPATH": sb.PUBLIC_CODE},
           "binds": [[str(slot), sb.SCRATCH]], "fresh": fresh, "hide": [str(parent.slots)], "mkdirs": [sb.HOME],
           "keep": [str(p) for p in sb.python_roots()],
           "limits": {"cpu_seconds": 60, **(limits or {})}, "log": f"{sb.SCRATCH}/log.txt", "skip": list(skip)}
    return job, slot


def _run(parent, script: str, skip=(), limits=None, cage=None, wall=120, keep_cage=False):
    job, slot = _job(parent, script, skip, limits)
    cage = cage or sb.ProcessCage(f"dlcourse-test-warm-{slot.name}", 64, memory_gb=1)
    code, timed_out = parent.run(job, cage, wall)
    if not keep_cage:
        cage.kill_all()
    found = slot / "found.json"
    return {"code": code, "timed_out": timed_out, "cage": cage,
            "found": json.loads(found.read_text()) if found.exists() else None,
            "log": (slot / "log.txt").read_text(errors="replace") if (slot / "log.txt").exists() else ""}


LEAVE = """
import ctypes, os, subprocess
token = "LEFT-BY-THE-FIRST-CHILD"
places = ["/tmp", "/home/student", "/home", "/dev/shm", "/opt/dlcourse-data/scratch"]
wrote = []
for d in places:
    try:
        with open(os.path.join(d, "leftover.txt"), "w") as f:
            f.write(token)
        wrote.append(d)
    except OSError:
        pass
subprocess.Popen(["sleep", "600"], start_new_session=True)          # a background process, left running
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0x5EED, 4096, 0o1000 | 0o666)                      # IPC_CREAT: a segment that outlives us
import json; json.dump({"wrote": wrote, "shm": shm}, open("/submission/found.json", "w"))
"""

LOOK = """
import ctypes, os, json
found = []
for d in ["/tmp", "/home/student", "/home", "/dev/shm", "/opt/dlcourse-data/scratch"]:
    if os.path.exists(os.path.join(d, "leftover.txt")):
        found.append(d)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if b"sleep" in open(f"/proc/{pid}/cmdline", "rb").read():
                found.append("process " + pid)
        except OSError:
            pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.shmget(0x5EED, 0, 0) >= 0:
    found.append("shm")
json.dump({"found": found}, open("/submission/found.json", "w"))
"""


def test_a_child_leaves_nothing_the_next_child_sees(parent):
    first = _run(parent, LEAVE)
    assert first["code"] == 0, first["log"]
    assert len(first["found"]["wrote"]) >= 4 and first["found"]["shm"] >= 0, first["found"]
    second = _run(parent, LOOK)
    assert second["code"] == 0, second["log"]
    assert second["found"] == {"found": []}


@pytest.mark.parametrize("wall,expect", [("fresh", "/tmp"), ("pidns", "process"), ("ipcns", "shm")])
def test_control_without_one_wall_the_next_child_sees_the_leftover(parent, wall, expect):
    """The same probe with one wall taken out (and the first child's cgroup left alive) finds it."""
    first = _run(parent, LEAVE, skip=(wall,), keep_cage=True)
    try:
        assert first["code"] == 0, first["log"]
        second = _run(parent, LOOK, skip=(wall,))
    finally:
        first["cage"].kill_all()
    assert any(f.startswith(expect) for f in second["found"]["found"]), second["found"]


REACH = """
import ctypes, json, os, signal
me = int(os.readlink("/proc/self"))        # our number in the /proc we see (not getpid(): we are 2 in our own)
libc = ctypes.CDLL(None, use_errno=True)


def nspid(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("NSpid:"):
            return [int(x) for x in line.split()[1:]]
    return []


mine = nspid("self")
procs = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            procs[int(p)] = (open(f"/proc/{p}/status").read().split("\\n")[0], nspid(p))
        except OSError:
            pass
# numbers that mean a process of our own namespace when we signal them (ours, our init): not a way out
ours = {ns[-1] for _, ns in procs.values() if len(mine) > 1 and len(ns) == len(mine)}
reached, tried = [], []
for pid, (name, ns) in sorted(procs.items()):
    if pid == me or "python" not in name or (len(mine) > 1 and len(ns) == len(mine)):
        continue                            # ourselves, or a process of our own namespace
    tried.append(pid)
    if pid not in ours:
        try:
            os.kill(pid, 0)
            reached.append(f"signal {pid}")
        except OSError:
            pass
    if libc.ptrace(16, pid, 0, 0) == 0:     # PTRACE_ATTACH (the number, in our namespace)
        reached.append(f"ptrace {pid}")
    for what in ("mem", "environ"):
        try:
            with open(f"/proc/{pid}/{what}", "rb") as f:
                f.read(1)
            reached.append(f"{what} {pid}")
        except OSError:
            pass
try:
    open("/opt/dlcourse-warm/parent.py", "a").write("# changed")
    reached.append("code")
except OSError:
    pass
json.dump({"reached": reached, "tried": tried, "ours": sorted(ours)}, open("/submission/found.json", "w"))
"""


def test_a_child_cannot_reach_its_parent(parent):
    got = _run(parent, REACH)
    assert got["code"] == 0, got["log"]
    assert got["found"]["tried"], "the probe saw no other python process at all"
    assert got["found"]["reached"] == []
    assert parent.alive()
    assert _run(parent, "print('next')")["code"] == 0


def test_control_a_dumpable_parent_in_reach_is_reached(tmp_path):
    """Negative control: a dumpable parent, a child that shares its PID namespace and keeps the
    capabilities: signal, environ and mem all reach it."""
    p = pool.WarmParent(("numpy",), _spec_args(tmp_path), memory_gb=2, max_pids=64, dumpable=True)
    try:
        got = _run(p, REACH, skip=("pidns", "caps"))
    finally:
        p.close()
    reached = " ".join(got["found"]["reached"])
    assert "signal" in reached and "environ" in reached, got["found"]


def test_a_hanging_child_is_stopped_by_its_limits_and_the_parent_lives_on(parent):
    hang = _run(parent, "while True:\n    pass\n", limits={"cpu_seconds": 2}, wall=60)
    assert hang["code"] in (128 + 24, 128 + 9), hang            # SIGXCPU at its CPU limit
    wall = _run(parent, "import time\ntime.sleep(600)\n", wall=3)
    assert wall["timed_out"]
    assert parent.alive() and _run(parent, "print(1)")["code"] == 0


def test_a_child_over_its_memory_cgroup_is_stopped_alone(parent):
    hog = "x = []\nwhile True:\n    x.append(bytearray(50 * 2**20))\n"
    cage = sb.ProcessCage("dlcourse-test-warm-hog", 64, memory_gb=0.3)
    if cage.memory_path is None:
        cage.kill_all()
        pytest.skip("no memory cgroup can be made here")
    got = _run(parent, hog, cage=cage, wall=120, limits={"address_space": 8 * 2**30})
    assert got["code"] not in (0, None) and cage.memory_exceeded(), got
    assert parent.alive() and _run(parent, "print(1)")["code"] == 0


# ── scoring: measure.run through warm children and through the cold path ─────
def _keras_free_jobs(tmp_path: Path):
    """A torch model saved with torch.export (the course's format), and the jobs that measure it."""
    import torch
    from graders.checks import SavedModel

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    art = tmp_path / "artifacts"
    art.mkdir()
    batch = torch.export.Dim("batch", min=1, max=10_000)
    ep = torch.export.export(model.eval(), (torch.zeros(4, 1, 28, 28),), dynamic_shapes=({0: batch},))
    torch.export.save(ep, art / "model.pt2")
    data = {"public": np.random.default_rng(0).random((64, 1, 28, 28), dtype=np.float32)}
    jobs = [SavedModel("trained", "torch_export", "model.pt2", inputs=("public",), describe=True)]
    return jobs, art, data


def _settings(tmp_path: Path, warm: bool) -> measure.Settings:
    args = _spec_args(tmp_path)
    return measure.Settings(sandbox=True, memory_gb=4, cpu_seconds=120, wall_seconds=240, warm=warm,
                            public_code=str(args["public_code"]), public_data=str(args["public_data"]))


def _comparable(result: dict) -> dict:
    return {k: v for k, v in result.items() if not k.startswith("_")}


def test_scoring_warm_equals_cold_and_a_parent_killed_mid_job_loses_nothing(tmp_path):
    jobs, art, data = _keras_free_jobs(tmp_path)
    cold = measure.run(jobs, art, data, _settings(tmp_path, warm=False))
    warm = measure.run(jobs, art, data, _settings(tmp_path, warm=True))
    assert cold["_paths"] == ["cold"] and warm["_paths"] == ["warm"], (cold, warm)
    assert _comparable(warm) == _comparable(cold)
    assert warm["trained"]["public"]["predictions"] and warm["trained"]["describe"]
    # kill -9 of the warm parent while its child measures: that job is measured on the cold path instead
    parent = next(p for (mods, _), p in pool._PARENTS.items() if "torch" in mods)
    import threading
    import time

    def kill_soon():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not pool._children(parent.host_pid):
            time.sleep(0.01)
        os.kill(parent.host_pid, 9)
    killer = threading.Thread(target=kill_soon)
    killer.start()
    again = measure.run(jobs, art, data, _settings(tmp_path, warm=True))
    killer.join()
    assert not parent.alive() or "cold" in again["_paths"]
    assert "cold" in again["_paths"], again["_paths"]
    assert _comparable(again) == _comparable(cold)
    pool.close_all()


def test_a_parent_killed_while_its_kernel_runs_a_notebook_costs_the_student_nothing(course, tmp_path):
    """kill -9 of the warm parent while its kernel runs a cell: the kernel dies with it, and the notebook runs
    again from the start on the cold path; every cell has its output, nothing is charged to the student."""
    import tempfile
    import threading
    import time

    from conftest import run_cells

    first = "import pathlib, time\npathlib.Path('ready').write_text('x')\ntime.sleep(20)\nprint('first done')"
    killed = {}

    def kill_when_ready():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            for ready in Path(tempfile.gettempdir()).glob("dlw-*/dlcourse-run-*/submission/ready"):
                for parent in list(pool._PARENTS.values()):
                    if str(ready).startswith(str(parent.slots)):
                        os.kill(parent.host_pid, 9)
                        killed["parent"] = parent
            time.sleep(0.1)
    pool.close_all()
    killer = threading.Thread(target=kill_when_ready, daemon=True)
    killer.start()
    nb, res = run_cells(course, tmp_path, [first, "print('second')"], timeout=120)
    killer.join(timeout=5)
    status = res["dlcourse"]["status"]
    assert killed, "the parent was never killed: the test proved nothing"
    assert status.get("warm_parent_died") and not status["kernel_dead"], status
    assert "first done" in str(nb.cells[0].outputs) and "second" in str(nb.cells[1].outputs), nb.cells
    pool.close_all()


HIDDEN_INSIDE_KEPT = """
import json, sys
kept = sys.argv[1]
json.dump({"kept": __import__("os").path.exists(kept + "/visible.txt"),
           "hidden": __import__("os").path.exists(kept + "/secret/answers.txt")}, open("/submission/found.json", "w"))
"""


@pytest.mark.parametrize("hide_it", [True, False], ids=["hidden", "control-not-hidden"])
def test_a_folder_hidden_inside_a_kept_folder_stays_hidden(parent, hide_it):
    """A venv under /tmp is kept (bound back over the fresh /tmp), and the labelled digits inside it are hidden
    from a scoring child all the same.  Control: without the hide, the kept folder shows them."""
    import shutil

    kept = parent.slot("kept-")          # in the parent's view, under /tmp: emptied in the child, then kept
    try:
        (kept / "visible.txt").write_text("x")
        (kept / "secret").mkdir()
        (kept / "secret" / "answers.txt").write_text("7 2 1 0 4")
        job, slot = _job(parent, HIDDEN_INSIDE_KEPT)
        job["argv"].append(str(kept))
        job["keep"].append(str(kept))
        job["hide"] = [str(kept / "secret")] if hide_it else []     # (the slots are emptied with /tmp anyway)
        cage = sb.ProcessCage(f"dlcourse-test-warm-{slot.name}", 64, memory_gb=1)
        code, _ = parent.run(job, cage, 120)
        cage.kill_all()
        found = json.loads((slot / "found.json").read_text())
        assert code == 0 and found["kept"] is True, (code, found)
        assert found["hidden"] is (not hide_it), found
    finally:
        shutil.rmtree(kept, ignore_errors=True)
