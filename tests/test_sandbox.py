"""The student zone really is one: no network, no secrets, no writes outside scratch.

A hostile notebook probes the sandbox from inside the kernel.  Every target it attacks is a decoy
this test makes in its own temp folder (a "system" folder bound read-only at /sysdecoy, a course
root with a gradebook, source notebook, other student's submission and a secret next to the public
data, a host file, a listener on loopback and one on this host's network address): the probe never
touches the host's /usr, mounts or network peers, nor the course that other tests use.

Each probe can fail: the same probe also runs in a *weakened* bubblewrap, with one protection
taken out of the real `wrap()` command, and reports ALLOWED against the decoy.  Even weakened,
the kernel stays in bubblewrap (its own mount namespace; an unmount there never reaches the host).
A listing of /, /usr, /etc and the host's mount table taken around all runs shows the host unchanged.
"""
import dataclasses
import fcntl
import json
import os
import shutil
import socket
import struct
import sys
import threading
import warnings
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from conftest import run_cells
import graders.farm.sandbox as sb
from graders.farm.execute import SandboxedExecute
from graders.farm.sandbox import SandboxUnavailable, probe
from graders.nbgrader_settings import apply_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import host_snapshot  # noqa: E402

SYSTEM_DECOY = "/sysdecoy"    # top-level mount points: made in bwrap's own root tmpfs, never on the host
MOUNT_DECOY = "/mntdecoy"
SECRET_VALUE = "hunter2"

PROBE = r"""
import ctypes, json, os, socket, subprocess
res = {"uid": os.getuid()}
def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)
res["decoys_mounted"] = mounted(T["system"]) and mounted(T["mount"])
def attempt(name, fn):
    try:
        fn()
        res[name] = "ALLOWED"
    except Exception as exc:
        res[name] = "blocked: " + type(exc).__name__ + ": " + str(exc)[:80]
def _umount_syscall():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(T["system"].encode(), 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    if mounted(T["system"]):
        raise RuntimeError("still mounted")
def _umount_setuid():
    r = subprocess.run(["umount", T["mount"]], capture_output=True)
    if r.returncode != 0:
        raise PermissionError(r.stderr.decode()[:80])
    if mounted(T["mount"]):
        raise RuntimeError("still mounted")
attempt("net_host_loopback", lambda: socket.create_connection(("127.0.0.1", T["loopback_port"]), timeout=3).close())
attempt("net_outside", lambda: socket.create_connection((T["outside_host"], T["outside_port"]), timeout=3).close())
attempt("read_secret_data", lambda: open(T["secret"], "rb").read(1))
attempt("read_gradebook", lambda: open(T["gradebook"], "rb").read(1))
attempt("read_source_notebook", lambda: open(T["source"], "rb").read(1))
attempt("read_other_submission", lambda: open(T["other"], "rb").read(1))
attempt("read_host_env", lambda: os.environ["DLCOURSE_TEST_SECRET"])
attempt("write_course_root", lambda: open(os.path.join(T["root"], "pwned.txt"), "w").write("x"))
attempt("write_host_file", lambda: open(T["host_file"], "a").write("pwned"))
attempt("write_system", lambda: open(os.path.join(T["system"], "pwned.txt"), "w").write("x"))
attempt("write_scratch", lambda: open("scratch_ok.txt", "w").write("x"))
# the unmounts last, after the write to the system decoy; the kernel's own call, then the setuid tool
attempt("umount", _umount_syscall)
attempt("umount_setuid", _umount_setuid)
print("PROBE" + json.dumps(res))
"""
ATTACKS = ("net_host_loopback", "net_outside", "read_secret_data", "read_gradebook", "read_source_notebook",
           "read_other_submission", "read_host_env", "write_course_root", "write_host_file", "write_system",
           "umount", "umount_setuid")


# ── decoys ──────────────────────────────────────────────────────────────────
def _outside_address() -> tuple[str, str]:
    """This host's first IPv4 address on a real interface: a peer "outside" the sandbox's network."""
    for _, name in socket.if_nameindex():
        if name == "lo":
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:     # SIOCGIFADDR
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
        addr = socket.inet_ntoa(packed[20:24])
        if not addr.startswith("127."):
            return addr, f"{name} {addr}"
    return "127.0.0.2", "no IPv4 address on a real interface here: 127.0.0.2 stands for outside"


class _Listener:
    """A TCP listener the test opens itself; counts the connections that reached it."""

    def __init__(self, host: str):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> int:
        """Stop listening; the number of connections that arrived (those still queued included)."""
        if self.sock.fileno() == -1:
            return self.accepted
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.setblocking(False)
        while True:
            try:
                self.sock.accept()[0].close()
            except OSError:
                break
            self.accepted += 1
        self.sock.close()
        return self.accepted


def _make_decoys(d: Path) -> dict:
    """A course laid out like the real one (cache/secret beside the public data the sandbox is lent)."""
    root, cache, system, mount = d / "course", d / "cache", d / "system", d / "mount"
    for folder in (root / "source" / "keras_mnist", root / "submitted" / "someone_else" / "keras_mnist",
                   cache / "public", cache / "grading", cache / "secret", system, mount):
        folder.mkdir(parents=True)
    (root / "gradebook.db").write_text("decoy gradebook")
    (root / "source" / "keras_mnist" / "keras_mnist.ipynb").write_text("{}")
    (root / "submitted" / "someone_else" / "keras_mnist" / "keras_mnist.ipynb").write_text("{}")
    (cache / "secret" / "mnist_hidden.npz").write_text("decoy secret")
    (d / "host_file.txt").write_text("original")
    return {"dir": d, "root": root, "cache": cache, "system": system, "mount": mount,
            "host_file": d / "host_file.txt"}


# ── weakenings: the real wrap(), one protection taken out ───────────────────
# Each still runs in bubblewrap with its own mount, PID and (but for no_network) network namespace,
# and a user namespace of its own: capabilities there reach only what that namespace owns.  The only
# host folders it can write are the run's temp folders and, where the weakening says so, the decoys.
def _edit_wrap(mp, edit):
    real = sb.wrap
    mp.setattr(sb, "wrap", lambda cmd, spec: edit(real(cmd, spec)))


def _drop(args: list, *flags) -> list:
    for flag in flags:
        assert flag in args, (flag, args)
        args.remove(flag)
    return args


def _no_network(mp, decoys):
    _edit_wrap(mp, lambda a: _drop(a, "--unshare-net"))


def _writable_system(mp, decoys):
    """The system decoy bound read-write: the read-only bind is what keeps the sandbox out of /usr
    (the sandbox's uid 65534 is the caller's uid outside, so file modes alone would let it write)."""
    def edit(a):
        i = a.index(str(decoys["system"]))
        assert a[i - 1] == "--ro-bind" and a[i + 1] == SYSTEM_DECOY, a
        a[i - 1] = "--bind"
        return a
    _edit_wrap(mp, edit)


def _root_with_capabilities(mp, decoys):
    """uid 0 with every capability of a user namespace of its own (the probe only unmounts its decoys)."""
    def edit(a):
        for flag in ("--uid", "--gid"):
            i = a.index(flag)
            assert a[i + 1] == str(sb.SANDBOX_UID), a
            a[i + 1] = "0"
        i = a.index("--cap-drop")
        assert a[i + 1] == "ALL", a
        del a[i:i + 2]
        return _drop(a, "--disable-userns")
    _edit_wrap(mp, edit)


def _course_visible(mp, decoys):
    """The decoy course, secret and host file bound read-write (the sandbox is lent none of them)."""
    def edit(a):
        i = a.index("--remount-ro")
        d = str(decoys["dir"])
        return a[:i] + ["--bind", d, d] + a[i:]
    _edit_wrap(mp, edit)


def _host_environment(mp, decoys):
    """The grader's environment handed on to the kernel instead of the clean one."""
    real = sb.kernel_env
    mp.setattr(sb, "kernel_env", lambda spec, sandboxed=True: {**os.environ, **real(spec, sandboxed)})


# weakening -> (how, the attacks it lets through); every other attack must still be blocked
WEAKENINGS = {
    "no_network": (_no_network, {"net_host_loopback", "net_outside"}),
    "writable_system": (_writable_system, {"write_system"}),
    "root_with_capabilities": (_root_with_capabilities, {"umount", "umount_setuid"}),
    "course_visible": (_course_visible, {"read_secret_data", "read_gradebook", "read_source_notebook",
                                         "read_other_submission", "write_course_root", "write_host_file"}),
    "host_environment": (_host_environment, {"read_host_env"}),
}


def _run_probe(cfg, tmp: Path, weaken=None, warm=False) -> dict:
    """The probe notebook through SandboxedExecute, against decoys made (and removed) here: in a cold sandbox
    of its own, or (`warm`) in a fresh child of a warm parent started for it (farm/warm)."""
    from graders.farm.warm import pool
    decoys = _make_decoys(tmp / "decoys")
    work = tmp / "work"
    work.mkdir()
    outside_host, outside_why = _outside_address()
    loopback, outside = _Listener("127.0.0.1"), _Listener(outside_host)
    targets = {"loopback_port": loopback.port, "outside_host": outside_host, "outside_port": outside.port,
               "secret": str(decoys["cache"] / "secret" / "mnist_hidden.npz"),
               "gradebook": str(decoys["root"] / "gradebook.db"),
               "source": str(decoys["root"] / "source" / "keras_mnist" / "keras_mnist.ipynb"),
               "other": str(decoys["root"] / "submitted" / "someone_else" / "keras_mnist" / "keras_mnist.ipynb"),
               "root": str(decoys["root"]), "host_file": str(decoys["host_file"]),
               "system": SYSTEM_DECOY, "mount": MOUNT_DECOY}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"T = {targets!r}\n" + PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    c = Config()
    apply_settings(c, dataclasses.replace(cfg, root=decoys["root"], cache_dir=decoys["cache"]))
    c.SandboxedExecute.sandbox = True
    c.SandboxedExecute.prestart = False
    c.SandboxedExecute.work_root = str(work)
    c.SandboxedExecute.warm_parents = warm
    real_binds = sb._system_binds
    decoy_binds = ["--ro-bind", str(decoys["system"]), SYSTEM_DECOY, "--ro-bind", str(decoys["mount"]), MOUNT_DECOY]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DLCOURSE_TEST_SECRET", SECRET_VALUE)
            mp.setattr(sb, "_system_binds", lambda: real_binds() + decoy_binds)
            if weaken is not None:
                weaken(mp, decoys)
            pool.close_all()          # a warm parent made here, with the decoys in its view
            nb, res = SandboxedExecute(config=c).preprocess(nb, {"metadata": {"path": str(work)}})
            pool.close_all()
            assert res["dlcourse"]["status"].get("warm", False) == warm, res["dlcourse"]["status"]
        text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
        assert "PROBE" in text, nb.cells[0].outputs
        result = json.loads(text.split("PROBE", 1)[1])
        result.update(host_file_after=decoys["host_file"].read_text(),
                      course_root_pwned=(decoys["root"] / "pwned.txt").exists(),
                      system_decoy_files=sorted(os.listdir(decoys["system"])),
                      loopback_accepted=loopback.close(), outside_accepted=outside.close(), outside=outside_why)
        return result
    finally:
        loopback.close()
        outside.close()
        shutil.rmtree(decoys["dir"], ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def _host_state() -> dict:
    """What a probe escaping its sandbox would change: /, /usr, /etc and the host's mount table."""
    with open("/proc/self/mountinfo") as f:
        mounts = sorted(" ".join(line.split()[3:5]) for line in f)      # root and mount point of each mount
    return {"files": host_snapshot.system(), "mounts": mounts}


@pytest.fixture(scope="module")
def probe_runs(course, tmp_path_factory):
    """The probe sandboxed, then once per weakening; the host's state before and after all of them."""
    before = _host_state()
    # short folder names: the kernel's ipc socket path (…/work/dlcourse-run-…/runtime/kernel-4) must stay under
    # the 107 characters a Unix socket path may have, also below an xdist worker's basetemp (…/popen-gw0/)
    runs = {"sandboxed": _run_probe(course, tmp_path_factory.mktemp("pr")),
            "sandboxed_warm": _run_probe(course, tmp_path_factory.mktemp("pr"), warm=True)}
    for name, (weaken, _) in WEAKENINGS.items():
        runs[name] = _run_probe(course, tmp_path_factory.mktemp("pr"), weaken)
    runs["host"] = {"before": before, "after": _host_state()}
    if runs["sandboxed"]["outside"].startswith("no IPv4"):
        warnings.warn(runs["sandboxed"]["outside"])
    return runs


@pytest.fixture(scope="module", params=["sandboxed", "sandboxed_warm"])
def sandboxed(probe_runs, request):
    """The probe's findings in a cold sandbox, and in a warm parent's child (the same walls, farm/warm)."""
    return probe_runs[request.param]


def test_bubblewrap_works_here():
    probe()  # raises SandboxUnavailable with the reason


def test_kernel_runs_as_non_root(sandboxed):
    assert sandboxed["uid"] == 65534


def test_the_decoys_are_where_the_probe_looks(probe_runs):
    for name in ("sandboxed", "sandboxed_warm", *WEAKENINGS):
        assert probe_runs[name]["decoys_mounted"], (name, probe_runs[name])


@pytest.mark.parametrize("attempt", ATTACKS)
def test_sandbox_blocks(sandboxed, attempt):
    assert sandboxed[attempt].startswith("blocked"), sandboxed


def test_nothing_reached_the_decoys_from_the_sandbox(sandboxed):
    assert sandboxed["write_scratch"] == "ALLOWED"
    assert sandboxed["host_file_after"] == "original"
    assert not sandboxed["course_root_pwned"]
    assert sandboxed["system_decoy_files"] == []
    assert sandboxed["loopback_accepted"] == 0 and sandboxed["outside_accepted"] == 0


@pytest.mark.parametrize("weakening", WEAKENINGS)
def test_each_probe_can_fail(probe_runs, weakening):
    """Guard against a probe that cannot fail: without one protection, exactly its attacks get through."""
    run, opened = probe_runs[weakening], WEAKENINGS[weakening][1]
    for attack in ATTACKS:
        if attack in opened:
            assert run[attack] == "ALLOWED", (attack, run)
        else:
            assert run[attack].startswith("blocked"), (attack, run)
    assert run["write_scratch"] == "ALLOWED"
    assert run["uid"] == (0 if weakening == "root_with_capabilities" else 65534)


def test_what_got_through_really_reached_the_decoys(probe_runs):
    """Seen from the host: the decoy file appeared, the listeners were reached, the host file changed."""
    assert probe_runs["writable_system"]["system_decoy_files"] == ["pwned.txt"]
    net = probe_runs["no_network"]
    assert net["loopback_accepted"] >= 1 and net["outside_accepted"] >= 1, net
    visible = probe_runs["course_visible"]
    assert visible["host_file_after"] == "originalpwned" and visible["course_root_pwned"]
    for name in ("sandboxed", "sandboxed_warm", *WEAKENINGS):
        if name != "writable_system":
            assert probe_runs[name]["system_decoy_files"] == [], name


def test_the_host_listing_notices_a_change(tmp_path):
    """The listing compared below is not blind: a new file, a grown file and a new link all show."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("a")
    before = host_snapshot.listing(str(tmp_path))
    assert f"{tmp_path}/sub/a.txt\tfile\t1\t{(tmp_path / 'sub' / 'a.txt').stat().st_mtime_ns}" in before
    (tmp_path / "sub" / "a.txt").write_text("ab")
    (tmp_path / "sub" / "pwned.txt").write_text("x")
    (tmp_path / "link").symlink_to("/usr")
    changed = set(host_snapshot.listing(str(tmp_path))) ^ set(before)
    assert {line.split("\t")[0] for line in changed} == {f"{tmp_path}/sub/a.txt", f"{tmp_path}/sub/pwned.txt",
                                                         f"{tmp_path}/link"}, changed


def test_probes_leave_the_host_unchanged(probe_runs):
    """No run, sandboxed or weakened, changed /, /usr or /etc or the host's mounts (tests/host_snapshot.py)."""
    before, after = probe_runs["host"]["before"], probe_runs["host"]["after"]
    assert after["mounts"] == before["mounts"]
    gone, new = set(before["files"]) - set(after["files"]), set(after["files"]) - set(before["files"])
    assert not gone and not new, {"gone": sorted(gone)[:20], "new": sorted(new)[:20]}


def _run_cells(cfg, tmp_path, sources, **settings):
    return run_cells(cfg, tmp_path, sources, **settings)


def test_notebook_and_cell_timeouts_end_a_runaway_notebook(course, tmp_path):
    nb, res = _run_cells(course, tmp_path, ["import time\nwhile True: time.sleep(0.1)", "print('second cell ran')",
                                            "import time\ntime.sleep(60)", "print('never')"],
                         timeout=3, notebook_timeout=5)
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[0].outputs)
    assert "second cell ran" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert any(o.get("ename") in ("CellTimeoutError", "NotRun") for o in nb.cells[2].outputs)
    assert any(o.get("ename") == "NotRun" for o in nb.cells[3].outputs)
    assert res["dlcourse"]["status"]["notebook_timed_out"]


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
