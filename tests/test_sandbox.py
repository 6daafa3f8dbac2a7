"""The student zone really is one: no network, no secrets, no writes outside scratch.

A hostile notebook probes the sandbox from inside the kernel.  The same probe is
also run with the sandbox switched off, to show that it does detect each leak —
so these tests fail if the sandbox is turned off.
"""
import json
import os
import socket
import threading
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from graders.farm.execute import SandboxedExecute
from graders.farm.sandbox import SandboxUnavailable, probe
from graders.nbgrader_settings import apply_settings

PROBE = r'''
import json, os, socket, subprocess
res = {"uid": os.getuid()}
def attempt(name, fn):
    try:
        fn()
        res[name] = "ALLOWED"
    except Exception as exc:
        res[name] = "blocked: " + type(exc).__name__
attempt("net_host_loopback", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3).close())
attempt("net_outside", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3).close())
attempt("read_secret_data", lambda: open(SECRET, "rb").read(1))
attempt("read_gradebook", lambda: open(GRADEBOOK, "rb").read(1))
attempt("read_source_notebook", lambda: open(SOURCE, "rb").read(1))
attempt("read_other_submission", lambda: open(OTHER, "rb").read(1))
attempt("write_course_root", lambda: open(os.path.join(ROOT, "pwned.txt"), "w").write("x"))
attempt("write_host_file", lambda: open(HOSTFILE, "a").write("pwned"))
attempt("write_system", lambda: open("/usr/pwned.txt", "w").write("x"))
attempt("write_scratch", lambda: open("scratch_ok.txt", "w").write("x"))
def _umount():
    r = subprocess.run(["umount", "/usr"], capture_output=True)
    if r.returncode != 0:
        raise PermissionError(r.stderr.decode()[:80])
attempt("umount", _umount)
res["env_secret"] = os.environ.get("DLCOURSE_TEST_SECRET", "absent")
print("PROBE" + json.dumps(res))
'''


def _run_probe(cfg, tmp_path, sandbox: bool) -> dict:
    # a listening socket on the host's loopback
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    threading.Thread(target=lambda: [server.accept() for _ in range(1)], daemon=True).start()

    other = cfg.root / "submitted" / "someone_else" / "keras_mnist"
    other.mkdir(parents=True, exist_ok=True)
    (other / "keras_mnist.ipynb").write_text("{}")
    (cfg.root / "gradebook.db").touch()
    hostfile = tmp_path / f"host_file_{sandbox}.txt"
    hostfile.write_text("original")
    code = PROBE.replace("PORT", str(port))
    for name, value in {"SECRET": cfg.secret_dir / "mnist_hidden.npz", "GRADEBOOK": cfg.root / "gradebook.db",
                        "SOURCE": cfg.root / "source/keras_mnist/keras_mnist.ipynb",
                        "OTHER": other / "keras_mnist.ipynb", "ROOT": cfg.root, "HOSTFILE": hostfile}.items():
        code = code.replace(name, repr(str(value)))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    c = Config()
    apply_settings(c, cfg)
    c.SandboxedExecute.sandbox = sandbox
    c.SandboxedExecute.work_root = str(tmp_path)
    os.environ["DLCOURSE_TEST_SECRET"] = "hunter2"
    try:
        ex = SandboxedExecute(config=c)
        nb, resources = ex.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    finally:
        os.environ.pop("DLCOURSE_TEST_SECRET", None)
        server.close()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "PROBE" in text, nb.cells[0].outputs
    result = json.loads(text.split("PROBE", 1)[1])
    result["host_file_after"] = hostfile.read_text()
    result["course_root_pwned"] = (cfg.root / "pwned.txt").exists()
    return result


@pytest.fixture(scope="module")
def sandboxed(course, tmp_path_factory):
    return _run_probe(course, tmp_path_factory.mktemp("probe_on"), sandbox=True)


def test_bubblewrap_works_here():
    probe()  # raises SandboxUnavailable with the reason


def test_kernel_runs_as_non_root(sandboxed):
    assert sandboxed["uid"] == 65534


@pytest.mark.parametrize("attempt", ["net_host_loopback", "net_outside", "read_secret_data", "read_gradebook",
                                     "read_source_notebook", "read_other_submission", "write_course_root",
                                     "write_system", "umount"])
def test_sandbox_blocks(sandboxed, attempt):
    assert sandboxed[attempt].startswith("blocked"), sandboxed


def test_host_files_untouched_and_no_secrets_in_env(sandboxed):
    assert sandboxed["write_scratch"] == "ALLOWED"
    assert sandboxed["host_file_after"] == "original"
    assert not sandboxed["course_root_pwned"]
    assert sandboxed["env_secret"] == "absent"


def test_probe_detects_leaks_when_the_sandbox_is_off(course, tmp_path):
    """Guard against a probe that cannot fail: unsandboxed, the same attempts succeed."""
    open_run = _run_probe(course, tmp_path, sandbox=False)
    assert open_run["read_secret_data"] == "ALLOWED"
    assert open_run["read_gradebook"] == "ALLOWED"
    assert open_run["net_host_loopback"] == "ALLOWED"
    assert open_run["host_file_after"] != "original"
    assert open_run["uid"] != 65534
    (course.root / "pwned.txt").unlink(missing_ok=True)


def _run_cells(cfg, tmp_path, sources, **settings):
    """Execute code cells through SandboxedExecute with some settings changed."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    c = Config()
    apply_settings(c, cfg)
    c.SandboxedExecute.work_root = str(tmp_path)
    for key, value in settings.items():
        setattr(c.SandboxedExecute, key, value)
    return SandboxedExecute(config=c).preprocess(nb, {"metadata": {"path": str(tmp_path)}})


def test_notebook_and_cell_timeouts_end_a_runaway_notebook(course, tmp_path):
    import time
    start = time.monotonic()
    nb, res = _run_cells(course, tmp_path, ["import time\nwhile True: time.sleep(0.1)", "print('second cell ran')",
                                            "import time\ntime.sleep(60)", "print('never')"],
                         timeout=3, notebook_timeout=5)
    elapsed = time.monotonic() - start
    assert elapsed < 30
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[0].outputs)
    assert "second cell ran" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert any(o.get("ename") in ("CellTimeoutError", "NotRun") for o in nb.cells[2].outputs)
    assert any(o.get("ename") == "NotRun" for o in nb.cells[3].outputs)
    assert res["dlcourse"]["status"]["notebook_timed_out"]


def test_memory_limit_stops_a_hungry_cell(course, tmp_path):
    nb, _ = _run_cells(course, tmp_path, ["x = bytearray(6 * 2**30)\nprint('allocated')", "print('still alive')"],
                       memory_gb=4.0)
    assert any(o.get("ename") == "MemoryError" for o in nb.cells[0].outputs), nb.cells[0].outputs
    assert "still alive" in "".join(o.get("text", "") for o in nb.cells[1].outputs)


def test_autograde_refuses_without_bubblewrap(course):
    from conftest import run_cli
    proc = run_cli(["autograde", "keras_mnist"], course.root, check=False, env={"PATH": "/nonexistent"})
    assert proc.returncode == 2
    assert "sandbox cannot run here" in proc.stderr and "--no-sandbox" in proc.stderr


def test_a_cell_that_swallows_interrupts_is_stopped(course, tmp_path):
    code = "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    nb, res = _run_cells(course, tmp_path, [code, "print(1)"], timeout=2)
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[0].outputs)
    assert any(o.get("ename") == "NotRun" for o in nb.cells[1].outputs)
    assert res["dlcourse"]["status"]["kernel_dead"]
