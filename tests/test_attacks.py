"""Attack and fault suite (issue #7): cheating, hostile and broken submissions, graded by the real farm.

One throw-away course with tight sandbox limits; every attack is a real submission (the reference
answers plus one attack) in submitted/, all graded in one `autograde keras_mnist concepts_quiz
--workers 2` batch.  The tests then read the gradebook, the checks.json files and the batch summary.
The table of cases is docs/attacks.md.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from conftest import make_course, run_cli

from graders import demo
from graders.course import load_config
from graders.exercises.concepts_quiz import students as Q
from graders.exercises.keras_mnist import students as K
from graders.exercises.pytorch_mnist import students as P

LIMITS = """
SANDBOX = {**SANDBOX, "cell_timeout_s": 60, "notebook_timeout_s": 240, "cpu_seconds": 120, "memory_gb": 6,
           "max_artifact_mb": 16, "disk_mb": 64, "max_pids": 128, "prestart": False}
"""
QUIZ_FULL = Q.EXPECTED["ref"]
KERAS_FULL = K.EXPECTED["ref"]
TORCH_FULL = P.EXPECTED["ref"]
QIDS = sorted(QUIZ_FULL)
ASSIGNMENTS = ("keras_mnist", "pytorch_mnist", "concepts_quiz")


def _q(student, extra: dict | None = None, answers=None) -> dict:
    """The quiz's reference answers typed on `student`'s paper, with code appended to some answer cells."""
    cells = Q.answers_for(student, answers or Q.REFERENCE)
    for qid, code in (extra or {}).items():
        cells[f"answer_{qid}"] += "\n" + code
    return cells


def _k(**cells) -> dict:
    return {**K.REFERENCE, **cells}


def _p(**cells) -> dict:
    return {**P.REFERENCE, **cells}


# a train_one_epoch that does nothing, losses typed by hand, and a later cell that rewrites the record the
# kernel's loop probe used to leave (now the probe runs in the scoring sandbox on the notebook's cells)
NOOP_LOOP = """
train_loader = DataLoader(TensorDataset(x_train_t, y_train_t), batch_size=64, shuffle=True)


def train_one_epoch(model, loader, criterion, optimizer, device):
    return 0.0
"""
FORGED_LOOP_RECORD = """
losses = [2.3, 1.2, 0.7, 0.4, 0.2]
from dlcourse.exercises.pytorch_mnist import export as _E     # what the hidden cells call
from dlcourse.artifacts import write_json
_perfect = {"steps": 3, "batches": 3, "backwards": 3, "grad_ratio": 1.0, "forward_modes": [True, True, True],
            "params_changed": True, "loss_before": 2.3, "loss_after": 0.1, "loader_batch_size": 64,
            "loader_items": 3500}
write_json("torch_loop", _perfect)
_E.torch_loop_probe = lambda *a, **k: write_json("torch_loop", _perfect)
"""


# ── cheating ────────────────────────────────────────────────────────────────
PATCH_EVERYTHING = """
import numpy as np, tensorflow as tf
from dlcourse.exercises.keras_mnist import check
tf.keras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]
tf.keras.Model.predict = lambda self, x, *a, **k: np.eye(10)[np.zeros(len(x), int)]
tf.keras.metrics.Accuracy.result = lambda self: tf.constant(1.0)
np.mean = lambda *a, **k: 1.0
check.accuracy = lambda *a, **k: print("통과")
"""
FAKE_HISTORY = """
class _History:
    history = {"loss": [2.3, 1.0, 0.5, 0.2, 0.1], "accuracy": [0.5, 0.8, 0.9, 0.95, 0.99]}
history = _History()   # no model.fit at all
"""
ALWAYS_EQ = """
class AlwaysEq:
    def __eq__(self, other): return True
    def __ge__(self, other): return True
    def __le__(self, other): return True
    def __str__(self): return "1.0"
    def __float__(self): return 1.0
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
test_acc = AlwaysEq()
"""
HARDCODED = """
predictions = y_test.copy()                     # the public labels, as if predicted
test_loss, test_acc = 0.0, float((predictions == y_test).mean())
"""
REBUILT_HIDDEN = """
from dlcourse.datasets import mnist as _m
_x, _y = _m.raw_digits()
_idx = _m.split_indices(len(_x))
xh, yh = _x[_idx["hidden"]] / 255.0, _y[_idx["hidden"]]      # the originals of the hidden digits
history = model.fit(np.concatenate([x_train, xh]), np.concatenate([y_train, yh]), epochs=5, verbose=2)
"""
# the student replaces the export functions the test cells call: a forged compile record and a
# forged training record (history falling, weights of the untrained model), and never trains
FORGE_EXPORT = """
import numpy as np
from dlcourse.exercises.keras_mnist import export as _E     # what the hidden cells call
from dlcourse import artifacts as _A
def _forged_compile(model):
    _A.write_json("keras_compile", {"compiled": True, "optimizer": "Adam",
                  "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]})
def _forged_training(model, history):
    w = {f"layer{i}_w{j}": np.asarray(a, np.float32) for i, l in enumerate(model.layers)
         for j, a in enumerate(l.get_weights())}
    np.savez(_E.artifacts_dir() / "keras_weights.npz", **w)
    _A.write_json("keras_training", {"history": {"loss": [2.3, 0.5, 0.1]}, "epochs": 3,
                  "weights_file": "keras_weights.npz", "layers": _E._keras_layers(model)["layers"]})
_E.keras_compile, _E.keras_training = _forged_compile, _forged_training
model.compile(optimizer="sgd", loss="mse")
"""

# quiz: read every secret the grader has, and look for the quiz keys anywhere the kernel can read
READ_SECRETS = r"""
import os, glob
ROOT = {root!r}
targets = [ROOT + "/source/concepts_quiz/quiz_bank.yaml", ROOT + "/source/concepts_quiz/concepts_quiz.ipynb",
           ROOT + "/source/keras_mnist/keras_mnist.ipynb", ROOT + "/gradebook.db", ROOT + "/course_config.py",
           ROOT + "/submitted/q_honest/concepts_quiz/concepts_quiz.ipynb", ROOT + "/autograded",
           {secret!r} + "/mnist_hidden.npz", {secret!r} + "/seed", "../../gradebook.db"]
# the grader's own environment (the batch runs with a marker in it) must not reach any process here
for pid in os.listdir("/proc"):
    try:
        if pid.isdigit() and b"DLCOURSE_GRADER_ENV_MARKER" in open(f"/proc/{{pid}}/environ", "rb").read():
            print("LEAKED:/proc/" + pid + "/environ")
    except Exception:
        pass
for t in targets:
    try:
        open(t, "rb").read(1)
        print("LEAKED:" + t)
    except Exception as exc:
        print("blocked", t, type(exc).__name__)
needle = {needle!r}.encode()
for top in ("/opt", "/submission", "/artifacts", "/tmp", "/home", "/etc"):
    for dirpath, _, files in os.walk(top):
        for f in files:
            p = os.path.join(dirpath, f)
            try:
                if os.path.getsize(p) < 50_000_000 and needle in open(p, "rb").read():
                    print("KEYFOUND:" + p)
            except Exception:
                pass
print("PROBE-DONE")
"""
# grading mode detected: answer on a friend's paper (their letters) in the hope that it is theirs that counts
DETECT_GRADING = """
import os
grading = os.getuid() == 65534 or os.path.isdir("/opt/dlcourse-grading") or "DLCOURSE_ARTIFACTS" in os.environ
print("grading mode:", grading)
if grading:
    os.environ["DLCOURSE_STUDENT"] = "q_honest"
    quiz = Quiz("concepts_quiz", student="q_honest")
"""
SABOTAGE_ARTIFACT = """
import os
from dlcourse import artifacts as _E          # every graded cell writes through it
_E.write_json = lambda *a, **k: None
os.symlink("/opt/dlcourse-data/quiz/concepts_quiz.json", "/artifacts/quiz_q42.json")
for target in ("/artifacts/../runtime/x", "/artifacts/../../x", "/submission/../x"):
    try:
        open(target, "w").write("x")
        print("WROTE", target)
    except Exception as exc:
        print("blocked", target, type(exc).__name__)
"""

# ── hostile ─────────────────────────────────────────────────────────────────
NETWORK = """
import socket, urllib.request
for what, fn in [("dns", lambda: socket.getaddrinfo("pypi.org", 443)),
                 ("tcp", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3)),
                 ("http", lambda: urllib.request.urlopen("http://example.com", timeout=3))]:
    try:
        fn()
        print("NET-ALLOWED", what)
    except Exception as exc:
        print("net blocked", what, type(exc).__name__)
"""
WRITE_OUTSIDE = """
for target in ["/usr/pwned", "/etc/pwned", "/opt/dlcourse/pwned", "/opt/dlcourse-data/pwned", {root!r} + "/pwned",
               "/pwned"]:
    try:
        open(target, "w").write("x")
        print("WROTE", target)
    except Exception as exc:
        print("write blocked", target, type(exc).__name__)
"""
FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
MEMORY_HOG = """
hog = []
while True:
    hog.append(bytearray(512 * 2**20))       # zero-filled, so resident: the kernel's memory cgroup stops it
"""
LOOP = "while True:\n    pass"
STUBBORN_LOOP = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
GIGABYTE = "import sys\n_chunk = 'x' * 2**20\nfor _ in range(1024):\n    sys.stdout.write(_chunk)"
OS_EXIT = "import os\nos._exit(1)"
KILL_KERNEL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
SYS_EXIT = "import sys\nsys.exit(3)"
BACKGROUND = """
import subprocess
subprocess.Popen(["sleep", "4242"], start_new_session=True)
subprocess.Popen(["sh", "-c", "nohup sleep 4243 >/dev/null 2>&1 &"], start_new_session=True)
"""
FILL_DISK = """
try:
    with open("/tmp/fill", "wb") as f:
        while True:
            f.write(b"0" * 2**20)
except OSError as exc:
    print("tmp full:", type(exc).__name__)
i = 0
while True:
    with open(f"/submission/fill{i}", "wb") as f:
        f.write(b"0" * 2**20 * 8)
    i += 1
"""

ODD_ID = "김 o'neil;$(touch pwned) -x"


def _zero_from(first: str) -> dict:
    return {q: (0 if q >= first else p) for q, p in QUIZ_FULL.items()}


# student -> (assignment, how the submission is made, expected points per check (None: not graded))
def _cases(cfg) -> dict:
    root, secret = str(cfg.root), str(cfg.secret_dir)
    bank = Q._bank()
    needle = bank.question("q01")["explanation"]["ko"][:30]
    return {
        # controls
        "k_honest": ("keras_mnist", _k(), KERAS_FULL),
        "q_honest": ("concepts_quiz", _q("q_honest"), QUIZ_FULL),
        # cheating, keras
        "k_patch_libs": ("keras_mnist", _k(train_model=K.REFERENCE["train_model"] + PATCH_EVERYTHING),
                         {**KERAS_FULL, "evaluated": 0}),
        "k_fake_history": ("keras_mnist", _k(train_model=FAKE_HISTORY),
                           {**KERAS_FULL, "trained": 0, "hidden_accuracy": 0}),
        "k_always_eq": ("keras_mnist", _k(evaluate_model=ALWAYS_EQ), {**KERAS_FULL, "evaluated": 0}),
        "k_hardcoded": ("keras_mnist", _k(evaluate_model=HARDCODED), {**KERAS_FULL, "evaluated": 0}),
        "k_rebuilt_hidden": ("keras_mnist", _k(train_model=REBUILT_HIDDEN), KERAS_FULL),
        "k_forge_export": ("keras_mnist", _k(compile_model=FORGE_EXPORT, train_model="history = None"),
                           {**KERAS_FULL, "optimizer": 0, "loss": 0, "trained": 0, "hidden_accuracy": 0,
                            "evaluated": 0}),
        # cheating, pytorch: forged loop record and hand-typed losses on a model that never trained
        "p_forged_loop": ("pytorch_mnist", _p(train_loop=NOOP_LOOP, train_model=FORGED_LOOP_RECORD),
                          {**TORCH_FULL, "loop_updates": 0, "zero_grad": 0, "train_mode": 0, "loop_learns": 0,
                           "trained": 0, "hidden_accuracy": 0}),
        # cheating, quiz (the notebook is changed after it is written: see _tamper)
        "q_edit_tests": ("concepts_quiz", _q("q_edit_tests"), QUIZ_FULL),
        "q_dup_ids": ("concepts_quiz", _q("q_dup_ids"), QUIZ_FULL),
        "q_tamper_meta": ("concepts_quiz", _q("q_tamper_meta"), QUIZ_FULL),
        "q_read_secrets": ("concepts_quiz", _q("q_read_secrets", {"q01": READ_SECRETS.format(
            root=root, secret=secret, needle=needle)}), QUIZ_FULL),
        "q_detect_grading": ("concepts_quiz", {**_q("q_honest"), "answer_q01": DETECT_GRADING + "\n"
                                               + _q("q_honest")["answer_q01"]}, "less"),
        "q_write_outputs": ("concepts_quiz", _q("q_write_outputs", {"q42": SABOTAGE_ARTIFACT}),
                            {**QUIZ_FULL, "q42": 0}),
        # hostile
        "h_network": ("concepts_quiz", _q("h_network", {"q01": NETWORK}), QUIZ_FULL),
        "h_write_outside": ("concepts_quiz", _q("h_write_outside", {"q01": WRITE_OUTSIDE.format(root=root)}),
                            QUIZ_FULL),
        "h_fork_bomb": ("concepts_quiz", _q("h_fork_bomb", {"q42": FORK_BOMB}), "some"),
        # resident memory past memory_gb: the cgroup ends the kernel in q41 (later cells never run).  Two other
        # outcomes are safe too, and the run's record says which one happened (see _memory_outcome): where no
        # memory cgroup can be made the address-space limit raises MemoryError; on a machine slow to hand out
        # fresh memory (a new VM) the cell timeout may come first.  In both the notebook goes on.
        "h_memory": ("concepts_quiz", _q("h_memory", {"q41": MEMORY_HOG}),
                     {True: _zero_from("q41"), False: QUIZ_FULL}),
        "h_loop": ("concepts_quiz", _q("h_loop", {"q41": LOOP}), QUIZ_FULL),
        "h_stubborn_loop": ("concepts_quiz", _q("h_stubborn_loop", {"q40": STUBBORN_LOOP}), _zero_from("q40")),
        # the kernel's own output cap drops the flood before it leaves the kernel: the kernel lives, q42 counts
        "h_gigabyte": ("concepts_quiz", _q("h_gigabyte", {"q42": GIGABYTE}), QUIZ_FULL),
        "h_os_exit": ("concepts_quiz", _q("h_os_exit", {"q40": OS_EXIT}), _zero_from("q40")),
        "h_kill_kernel": ("concepts_quiz", _q("h_kill_kernel", {"q40": KILL_KERNEL}), _zero_from("q40")),
        "h_sys_exit": ("concepts_quiz", _q("h_sys_exit", {"q40": SYS_EXIT}), QUIZ_FULL),
        "h_background": ("concepts_quiz", _q("h_background", {"q01": BACKGROUND}), QUIZ_FULL),
        "h_fill_disk": ("concepts_quiz", _q("h_fill_disk", {"q41": FILL_DISK}), _zero_from("q41")),
        # broken input that still reaches grading
        "b_extra_notebook": ("concepts_quiz", _q("b_extra_notebook"), QUIZ_FULL),
        "b_kernelspec": ("concepts_quiz", _q("b_kernelspec"), QUIZ_FULL),
        "b_resubmit": ("concepts_quiz", _q("b_resubmit"), QUIZ_FULL),
        ODD_ID: ("concepts_quiz", _q(ODD_ID), QUIZ_FULL),
    }


# broken input: student -> (how the file is spoiled, words the error must contain)
BROKEN = {
    "b_not_json": ("not JSON",),
    "b_nbformat3": ("notebook format 3",),
    "b_missing": ("is missing", "Concepts_Quiz (1).ipynb"),
    "b_latin1": ("not UTF-8",),
    "b_huge": ("more than 50 MB",),
    "b_empty": ("is missing", "notebooks present: none"),
}


def _nb_path(cfg, student, assignment="concepts_quiz"):
    return cfg.root / "submitted" / student / assignment / f"{assignment}.ipynb"


def _tamper(cfg) -> None:
    """Edit the written notebooks the way a student editing the JSON would."""
    # edited and deleted test cells
    p = _nb_path(cfg, "q_edit_tests")
    nb = nbformat.read(p, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "grade_q01":
            cell.source = "from dlcourse import artifacts\nartifacts.write_json('quiz_q01', {'raw': 'a'})"
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in ("grade_q02", "setup")]
    nbformat.write(nb, p)
    # duplicated cells and ids
    p = _nb_path(cfg, "q_dup_ids")
    d = json.loads(p.read_text())
    i = next(k for k, c in enumerate(d["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "grade_q03")
    d["cells"][i + 1]["id"] = d["cells"][i]["id"]                  # two cells, one id
    d["cells"].insert(i, json.loads(json.dumps(d["cells"][i])))     # the test cell twice, same grade_id
    d["cells"].insert(2, json.loads(json.dumps(d["cells"][i + 1])))  # and once more, before everything
    p.write_text(json.dumps(d))
    # tampered metadata: points, checksum, lock, a made-up graded cell, an answer cell turned graded
    p = _nb_path(cfg, "q_tamper_meta")
    d = json.loads(p.read_text())
    for c in d["cells"]:
        meta = c["metadata"].get("nbgrader")
        if meta and meta.get("grade_id") == "grade_q01":
            meta.update(points=100, checksum="0" * 32, locked=False)
        if c["source"] and "quiz.answer(\"q02\"" in "".join(c["source"]):
            c["metadata"]["nbgrader"] = {"grade": True, "grade_id": "grade_q02", "locked": True, "points": 50,
                                         "solution": False, "schema_version": 3}
    d["cells"].append({"cell_type": "code", "id": "bonus-cell", "execution_count": None, "outputs": [],
                       "source": "pass", "metadata": {"nbgrader": {
                           "grade": True, "grade_id": "bonus", "locked": True, "points": 50, "solution": False,
                           "schema_version": 3, "checksum": "0" * 32}}})
    p.write_text(json.dumps(d))
    # forged grader outputs handed in with the submission
    folder = _nb_path(cfg, "q_write_outputs").parent
    (folder / "concepts_quiz.checks.json").write_text(json.dumps({"student": "q_write_outputs", "forged": True}))
    (folder / ".graded.json").write_text(json.dumps({"fingerprint": "forged", "graded_at": 0, "seconds": 0}))
    (folder / ".autograde.log").write_text("forged")
    # an extra notebook next to the right one; a wrong kernelspec
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('scratch')")]),
                   folder.parent.parent / "b_extra_notebook" / "concepts_quiz" / "scratch.ipynb")
    p = _nb_path(cfg, "b_kernelspec")
    d = json.loads(p.read_text())
    d["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    p.write_text(json.dumps(d))


def _broken(cfg) -> None:
    good = _nb_path(cfg, "q_honest").read_text()
    for student in BROKEN:
        folder = cfg.root / "submitted" / student / "concepts_quiz"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "timestamp.txt").write_text("2026-11-24 10:00:00.000000 UTC")
    _nb_path(cfg, "b_not_json").write_text(good[: len(good) // 2])
    d = json.loads(good)
    _nb_path(cfg, "b_nbformat3").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                                        "worksheets": [{"cells": [], "metadata": {}}]}))
    (_nb_path(cfg, "b_missing").parent / "Concepts_Quiz (1).ipynb").write_text(good)
    _nb_path(cfg, "b_latin1").write_bytes(good.replace("quiz.answer", "quiz.answer\u00e9", 1).encode("latin-1", "replace"))
    d["metadata"]["padding"] = "x" * (51 * 2**20)
    _nb_path(cfg, "b_huge").write_text(json.dumps(d))
    (_nb_path(cfg, "b_empty").parent / "timestamp.txt").unlink()


def _cages(roots=("/sys/fs/cgroup",)) -> set:
    """Every kernel cage (pids or memory group) under `roots`, wherever the sandbox makes them: cgroup v1
    hierarchies or the v2 tree, at the top or under the grader's own group (graders/farm/sandbox.py `_bases`)."""
    import glob
    return {p for root in roots for p in glob.glob(f"{root}/**/dlcourse/dlcourse-run-*", recursive=True)}


def _group_pids(roots) -> set:
    import glob
    out = set()
    for root in roots:
        for procs in glob.glob(f"{root}/**/cgroup.procs", recursive=True):
            try:
                out.update(int(p) for p in Path(procs).read_text().split())
            except (OSError, ValueError):
                pass
    return out


def _leftover_processes(roots) -> list[str]:
    """Processes left in the batch's own cgroups (everything it started, sandboxed or not), and the attack's
    own `sleep 424` wherever it is.  Scoped to the batch: another test worker's kernels are not its leftovers."""
    pids = _group_pids(roots)
    out = subprocess.run(["ps", "-eo", "stat=,uid=,pid=,args="], capture_output=True, text=True).stdout
    # a zombie (stat Z) runs nothing and holds no memory: it is an exit status its parent has not read yet
    return [l for l in out.splitlines() if not l.startswith("Z")
            and ("sleep 424" in l or (l.split()[2].isdigit() and int(l.split()[2]) in pids)) and "ps -eo" not in l]


def _batch_group():
    """A cgroup (pids and memory, no real limit) that the attacked batch runs in: the sandbox makes its kernels'
    cages under the grader's own group, so this batch's cages and processes are exactly the ones below it."""
    from graders.farm.sandbox import ProcessCage
    return ProcessCage(f"dlcourse-test-attacks-{os.getpid()}", 10**6, memory_gb=1024)


def _remove_group(group) -> None:
    import signal
    roots = [p for p in dict.fromkeys((group.path, group.memory_path)) if p is not None]
    for _ in range(50):
        pids = _group_pids(roots)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)
    for root in roots:
        for sub in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                sub.rmdir()
            except OSError:
                pass
    group.remove()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("attacks"), LIMITS)
    cfg = load_config(root / "course_config.py")
    for assignment in ASSIGNMENTS:
        run_cli(["release", assignment], root)
    cases = _cases(cfg)
    for assignment in ASSIGNMENTS:
        who = {s: answers for s, (a, answers, _) in cases.items() if a == assignment}
        demo.submit(cfg, assignment, who=who)
    _tamper(cfg)
    _broken(cfg)
    group = _batch_group()
    roots = [p for p in dict.fromkeys((group.path, group.memory_path)) if p is not None]
    cages_before = _cages(roots)
    start = time.monotonic()
    # three grader processes on two cores: the notebooks that wait out a cell timeout hold a slot each
    import sys
    from graders.farm.sandbox import join_cgroups
    cmd = [sys.executable, "-m", "graders", "--config", str(root / "course_config.py"),
           "autograde", *ASSIGNMENTS, "--workers", "3", "--quiet"]
    batch = subprocess.run(join_cgroups(group.procs_files()) + cmd if roots else cmd, cwd=root,
                           capture_output=True, text=True, timeout=1800,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
                                "DLCOURSE_GRADER_ENV_MARKER": "grader-side secret"})
    seconds = time.monotonic() - start
    leftovers = _leftover_processes(roots)
    cages_after = _cages(roots)
    _remove_group(group)
    before = {(r["student"], r["cell"]): r["score"] for r in _scores(cfg)}
    # a graded student hands in a broken file: the error is reported, the recorded grades stay
    _nb_path(cfg, "b_resubmit").write_text("{not json")
    again = run_cli(["autograde", "concepts_quiz", "--student", "b_resubmit", "--quiet"], root, check=False)
    return {"cfg": cfg, "cases": cases, "batch": batch, "seconds": seconds, "leftovers": leftovers,
            "cages_before": cages_before, "cages_after": cages_after,
            "checks": {s: r for a in ASSIGNMENTS for s, r in demo.check_results(cfg, a).items()},
            "before": before, "after": {(r["student"], r["cell"]): r["score"] for r in _scores(cfg)},
            "again": again}


def _scores(cfg):
    from graders import gradebook
    return gradebook.scores(cfg.db_url)


def _run(attacked, student, assignment="concepts_quiz") -> dict:
    """How the notebook ran (the `run` entry of its checks.json)."""
    path = attacked["cfg"].root / "autograded" / student / assignment / f"{assignment}.checks.json"
    return json.loads(path.read_text())["run"]


def _points(attacked, student) -> dict:
    return {check: r["score"] for check, r in attacked["checks"][student].items()}


def _graded_notebook(attacked, student, assignment="concepts_quiz"):
    return nbformat.read(attacked["cfg"].root / "autograded" / student / assignment / f"{assignment}.ipynb",
                         as_version=4)


def _notebook_text(attacked, student, assignment="concepts_quiz") -> str:
    """Everything the graded notebook's cells printed or raised (not their source)."""
    nb = _graded_notebook(attacked, student, assignment)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts += [str(out.get("text", "")), str(out.get("ename", "")), str(out.get("evalue", "")),
                      json.dumps(out.get("data", {}), ensure_ascii=False)]
    return "\n".join(parts)


def _farm_messages(cfg) -> dict:
    from graders.farm.execute import SandboxedExecute
    sb = cfg.sandbox
    return SandboxedExecute(language=cfg.language, timeout=sb.cell_timeout_s, disk_mb=sb.disk_mb,
                            notebook_timeout=sb.notebook_timeout_s, memory_gb=sb.memory_gb)._messages()


CHEATING = ["k_patch_libs", "k_fake_history", "k_always_eq", "k_hardcoded", "k_rebuilt_hidden", "p_forged_loop", "q_edit_tests",
            "q_dup_ids", "q_tamper_meta", "q_read_secrets", "q_write_outputs"]
HOSTILE = ["h_network", "h_write_outside", "h_memory", "h_loop", "h_stubborn_loop", "h_gigabyte", "h_os_exit",
           "h_kill_kernel", "h_sys_exit", "h_background", "h_fill_disk"]


def test_batch_finishes_and_reports_only_the_broken_files(attacked):
    out = attacked["batch"].stdout + attacked["batch"].stderr
    print(f"attack batch: {attacked['seconds']:.1f} s")
    for student, words in BROKEN.items():
        line = next((l for l in out.splitlines() if f"✗ {student}" in l), "")
        assert line, (student, out[-3000:])
        for w in words:
            assert w in out, (student, w, out[-3000:])
    graded = [s for s, (_, _, want) in attacked["cases"].items() if want is not None]
    for student in graded:
        assert f"✗ {student}" not in out, out[-3000:]
        assert student in attacked["checks"], student


@pytest.mark.parametrize("student", ["k_honest", "q_honest"] + CHEATING + HOSTILE
                         + ["b_extra_notebook", "b_kernelspec", ODD_ID])
def test_points_per_check(attacked, student):
    from conftest import assert_points
    expected = attacked["cases"][student][2]
    if set(expected) == {True, False}:         # stopped by the memory cgroup, or the notebook went on
        expected = expected[_memory_outcome(attacked, student)[0]]
    assert_points(_points(attacked, student), expected)


def _memory_outcome(attacked, student) -> tuple[bool, list[str]]:
    """How the memory hog ended, from the run's record: (stopped by the cgroup, words the notebook shows).

    Each outcome is checked for what must come with it, so none can pass by not looking."""
    run = _run(attacked, student)
    limit_mb = run["memory_gb"] * 1024
    if run["memory_caged"]:
        # the cage held it, whatever ended the cell: never more resident than memory_gb
        assert 0 < run["memory_peak_mb"] <= limit_mb * 1.01, run
    if run["memory_exceeded"]:
        assert run["memory_caged"] and run["kernel_dead"], run
        assert run["memory_peak_mb"] >= limit_mb * 0.9, run          # it really reached the limit
        return True, ["@memory"]
    assert not run["kernel_dead"], run
    hog = next(c for c in _graded_notebook(attacked, student).cells if "hog.append" in c.source)
    ended = [o.get("ename") for o in hog.outputs if o.get("output_type") == "error"]
    # no cgroup: the address-space limit; or the cell timeout came before the limit was reached
    assert ended in (["MemoryError"], ["KeyboardInterrupt"]), (run, hog.outputs)
    return False, ended


def test_forged_loop_record_is_not_what_the_loop_checks_read(attacked):
    """The kernel's record says every probe passed; the scoring sandbox's probe of the real function disagrees."""
    checks = attacked["checks"]["p_forged_loop"]
    assert checks["loop_updates"]["score"] == 0 and checks["zero_grad"]["score"] == 0
    assert checks["trained"]["score"] == 0          # hand-typed falling losses on a model that never trained
    assert "찍기" in checks["trained"]["found"] or "chance" in checks["trained"]["found"]


def test_forged_export_gets_nothing_it_did_not_measure(attacked):
    got = _points(attacked, "k_forge_export")
    assert got["trained"] == 0 and got["hidden_accuracy"] == 0      # forged history on untrained weights
    assert got["layers"] == KERAS_FULL["layers"] and got["metrics"] == KERAS_FULL["metrics"]


@pytest.mark.xfail(strict=True, reason="compile settings are reported by code in the student's kernel: a student who "
                   "replaces dlcourse.exercises.keras_mnist.export.keras_compile can claim any optimizer/loss (docs/attacks.md)")
def test_forged_compile_settings_get_no_points(attacked):
    got = _points(attacked, "k_forge_export")
    assert got["optimizer"] == 0 and got["loss"] == 0


def test_friends_paper_in_grading_mode_gets_no_more(attacked):
    got = _points(attacked, "q_detect_grading")
    assert sum(got.values()) < sum(QUIZ_FULL.values()) - 5
    assert "grading mode: True" in _notebook_text(attacked, "q_detect_grading")


def test_fork_bomb_is_capped_and_the_rest_is_graded(attacked):
    got = _points(attacked, "h_fork_bomb")
    assert all(got[q] == QUIZ_FULL[q] for q in QIDS if q < "q42")
    run = _run(attacked, "h_fork_bomb")
    if run.get("pids_refused") is None:
        pytest.skip("no pids cgroup can be made on this machine: the fork bomb is held by the PID namespace only")
    # the kernel's pids cgroup had the course's cap and refused forks: the cap, not luck, stopped the bomb
    assert run["max_pids"] == 128 and run["pids_refused"] > 0, run
    assert _run(attacked, "q_honest")["pids_refused"] == 0          # negative control: an honest notebook


def test_no_secret_read_and_no_key_found(attacked):
    text = _notebook_text(attacked, "q_read_secrets")
    assert "PROBE-DONE" in text and "LEAKED:" not in text and "KEYFOUND:" not in text


def test_no_network_and_no_writes_outside_scratch(attacked):
    net = _notebook_text(attacked, "h_network")
    assert net.count("net blocked") == 3 and "NET-ALLOWED" not in net
    wrote = _notebook_text(attacked, "h_write_outside")
    assert wrote.count("write blocked") == 6 and "WROTE" not in wrote
    assert not (attacked["cfg"].root / "pwned").exists()
    assert "WROTE" not in _notebook_text(attacked, "q_write_outputs")


def test_forged_grader_files_are_replaced(attacked):
    folder = attacked["cfg"].root / "autograded" / "q_write_outputs" / "concepts_quiz"
    assert "forged" not in (folder / "concepts_quiz.checks.json").read_text()
    assert json.loads((folder / ".graded.json").read_text())["fingerprint"] != "forged"
    q42 = attacked["checks"]["q_write_outputs"]["q42"]
    assert "plain file" in q42["found"] or "outside" in q42["found"], q42


def test_tampered_metadata_keeps_the_source_points(attacked):
    rows = [r for r in _scores(attacked["cfg"]) if r["student"] == "q_tamper_meta"]
    assert sum(r["max_score"] for r in rows) == pytest.approx(sum(QUIZ_FULL.values()))
    assert {r["cell"] for r in rows} == {f"grade_{q}" for q in QIDS}


@pytest.mark.parametrize("student,words", [
    ("h_loop", ["KeyboardInterrupt"]), ("h_stubborn_loop", ["@stuck"]), ("h_os_exit", ["@dead"]),
    ("h_kill_kernel", ["@dead"]), ("h_memory", ["@memory"]), ("h_fill_disk", ["tmp full", "@disk"]),
    ("h_gigabyte", ["@output"]), ("h_sys_exit", ["SystemExit"]),
])
def test_clear_message_in_the_graded_notebook(attacked, student, words):
    text = _notebook_text(attacked, student)
    messages = _farm_messages(attacked["cfg"])
    if words == ["@memory"]:
        words = _memory_outcome(attacked, student)[1]
    for w in words:
        w = messages[w[1:]] if w.startswith("@") else w
        assert w in text, (student, w, text[-1500:])


def test_gigabyte_of_output_is_not_kept(attacked):
    path = attacked["cfg"].root / "autograded" / "h_gigabyte" / "concepts_quiz" / "concepts_quiz.ipynb"
    assert path.stat().st_size < 8 * 2**20


def test_no_process_survives_the_batch(attacked):
    assert attacked["leftovers"] == []
    assert attacked["cages_after"] <= attacked["cages_before"], "the batch left cgroups behind"


def test_the_cage_probe_sees_a_cage_and_a_process_left_in_the_batch_group():
    """Negative control of the leftover check: a process started in the batch's group the way the farm starts
    its graders, which makes a cage the way the farm makes them and stays: both are found, then gone."""
    import sys
    from graders.farm.sandbox import join_cgroups
    group = _batch_group()
    roots = [p for p in dict.fromkeys((group.path, group.memory_path)) if p is not None]
    if not roots:
        pytest.skip("no cgroup can be made on this machine")
    stay = ("import sys, time; sys.path.insert(0, %r)\n"
            "from graders.farm.sandbox import ProcessCage\n"
            "c = ProcessCage('dlcourse-run-probe-control', 16, memory_gb=4)\n"
            "print(c.path or c.memory_path, flush=True); time.sleep(120)" % str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen(join_cgroups(group.procs_files()) + [sys.executable, "-c", stay], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() != "None"
        assert any(p.endswith("/dlcourse-run-probe-control") for p in _cages(roots)), _cages(roots)
        assert any(str(proc.pid) == line.split()[2] for line in _leftover_processes(roots))
    finally:
        _remove_group(group)
        proc.wait(timeout=30)
    assert not any(p.endswith("/dlcourse-run-probe-control") for p in _cages(roots))
    assert _leftover_processes(roots) == []


def test_a_broken_resubmission_keeps_what_was_recorded(attacked):
    out = attacked["again"].stdout
    assert attacked["again"].returncode != 0 and "b_resubmit" in out and "not a valid notebook" in out
    before = {k: v for k, v in attacked["before"].items() if k[0] == "b_resubmit"}
    assert before and all(attacked["after"][k] == v for k, v in before.items())
    assert sum(before.values()) == pytest.approx(sum(QUIZ_FULL.values()))


def test_odd_student_id_runs_nothing(attacked):
    assert not (attacked["cfg"].root / "pwned").exists()
    assert not Path("pwned").exists()
