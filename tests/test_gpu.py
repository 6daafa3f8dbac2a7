"""The GPU path without a GPU: the DEVICE policy, the sandbox's GPU binds, GPU shares per grader process, Dask.

Every decision lives in graders/farm/devices.py as a function of what it is given (a /dev folder, library
folders, CUDA_VISIBLE_DEVICES), so these tests hand it a machine with GPUs built from files in tmp_path;
nothing here reads or writes the host's devices.  Each probe has a negative control: the same check run on a
wrong answer, to show it can fail.  The last test needs a real GPU and skips without one (make gpu-check runs
the full comparison, bench/gpu_check.py).
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import make_course, run_cli
from graders.config import ConfigError
from graders.farm import devices

# ── helpers ─────────────────────────────────────────────────────────────────


def _fake_dev(root: Path, gpus=2, caps=True) -> Path:
    """A /dev with `gpus` GPU nodes, the shared NVIDIA nodes, decoys that must never be lent."""
    dev = root / "dev"
    dev.mkdir(parents=True)
    names = [f"nvidia{i}" for i in range(gpus)] + ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools",
                                                   "null", "nvidia-foo", "nvidiactl-old", "nvme0", "snvidia1"]
    for name in names:
        (dev / name).write_text("")
    if caps:
        (dev / "nvidia-caps").mkdir()
        (dev / "nvidia-caps" / "nvidia-cap1").write_text("")
    return dev


def _fake_driver(root: Path) -> tuple[Path, list[str]]:
    """A driver folder outside /usr with user-space driver libraries and decoys (CUDA toolkit, others)."""
    lib = root / "nvidia-driver" / "lib64"
    lib.mkdir(parents=True)
    driver = ["libcuda.so", "libcuda.so.1", "libcuda.so.550.54.15", "libnvidia-ml.so.1",
              "libnvidia-ptxjitcompiler.so.1", "libnvidia-gpucomp.so.550.54.15"]
    decoys = ["libcudart.so.12", "libcublas.so.12", "libfoo.so", "libnvidia.txt", "notes-libcuda.so.1"]
    for name in driver + decoys:
        (lib / name).write_text("")
    return lib, sorted(str(lib / n) for n in driver)


def _lent(args: list[str]) -> dict[str, tuple[str, str]]:
    """bwrap arguments → {path in the sandbox: (how, host source)}; --remount-ro marks a target read-only."""
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        if a in ("--dev-bind", "--ro-bind", "--bind", "--dev-bind-try", "--ro-bind-try", "--bind-try"):
            out[args[i + 2]] = (a, args[i + 1])
            i += 3
        elif a == "--remount-ro":
            how, src = out.get(args[i + 1], ("", ""))
            out[args[i + 1]] = (how + "+ro", src)
            i += 2
        else:
            raise AssertionError(f"unexpected bwrap argument {a!r} in {args}")
    return out


def _gpu_lending_problems(args, dev: Path, nodes_from: Path | None, libs: list[str]) -> list[str]:
    """What is wrong with the GPU binds `args` for a fake machine: each node at /dev/<name> from the private
    copies (a device bind), every driver library outside /usr read-only at its own path, nothing else."""
    problems = []
    lent = _lent(args)
    nodes = [n for n in os.listdir(dev) if n.startswith("nvidia") and (n[6:].isdigit() or n in (
        "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"))]
    src = nodes_from or dev
    for name in nodes + (["nvidia-caps"] if (dev / "nvidia-caps").is_dir() else []):
        got = lent.pop(f"/dev/{name}", None)
        if got != ("--dev-bind", str(src / name)):
            problems.append(f"/dev/{name}: {got}")
    for lib in libs:
        got = lent.pop(lib, None)
        if got != ("--ro-bind", lib):
            problems.append(f"{lib}: {got} (not a read-only bind at its own path)")
    problems += [f"lent but not expected: {k} {v}" for k, v in lent.items()]
    return problems


# ── (a) DEVICE = "cuda" without a GPU: a clear error through the real CLI ───
NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}     # also on a GPU machine: no GPU for these commands


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """One course root with keras_mnist released and the reference student submitted; tests rewrite DEVICE."""
    from graders import demo
    from graders.course import load_config
    root = make_course(tmp_path_factory.mktemp("gpu-course"))
    run_cli(["release", "keras_mnist"], root)
    cfg = load_config(root / "course_config.py")
    demo.submit(cfg, "keras_mnist", who={"ref": demo.students("keras_mnist")["ref"]})
    return root


def _with_device(root: Path, device: str, extra: str = "") -> Path:
    cfg = root / "course_config.py"
    base = cfg.read_text().split("\n# -- test_gpu --\n")[0]
    cfg.write_text(base + f"\n# -- test_gpu --\nDEVICE = {device!r}\n{extra}")
    return root


@pytest.mark.parametrize("workers", [1, 2])
def test_cuda_without_a_gpu_stops_autograde_with_a_clear_error(released, workers):
    root = _with_device(released, "cuda")
    proc = run_cli(["autograde", "keras_mnist", "--quiet", "--force", "--workers", str(workers)], root, check=False,
                   env=NO_GPU)
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    err = proc.stderr
    assert "DEVICE" in err and "'cuda'" in err and "NVIDIA GPU" in err, err
    assert "GPU가 있는 채점 서버" in err and "DEVICE = 'auto' 또는 'cpu'" in err, err   # Korean, with the fix
    assert "Traceback" not in err, err
    assert not (root / "autograded" / "ref" / "keras_mnist").exists(), "nothing may be graded"


def test_cuda_error_in_english(released):
    root = _with_device(released, "cuda", "LANGUAGE = 'en'\n")
    proc = run_cli(["autograde", "keras_mnist", "--quiet", "--force"], root, check=False, env=NO_GPU)
    assert proc.returncode == 2 and "no NVIDIA GPU is visible here" in proc.stderr and "Fix:" in proc.stderr, \
        proc.stderr


def test_negative_control_auto_and_cpu_grade_on_the_cpu(released):
    """The same course with DEVICE 'auto' grades (on the CPU here), with no GPU lent: the error above comes
    from the policy, not from the course."""
    import json
    root = _with_device(released, "auto")
    proc = run_cli(["autograde", "keras_mnist", "--quiet", "--force"], root, check=False, env=NO_GPU)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "NVIDIA GPU" not in proc.stderr
    run = json.loads((root / "autograded/ref/keras_mnist/keras_mnist.checks.json").read_text())["run"]
    assert run["gpu"] is False and run["cuda_visible_devices"] == "", run
    assert run["measure_device"]["gpu"] is False and run["measure_device"].get("tensorflow") == "cpu", run


# ── the policy as a function ────────────────────────────────────────────────
def test_policy_follows_device_nodes_and_cuda_visible_devices(tmp_path):
    dev = _fake_dev(tmp_path, gpus=2)
    assert devices.visible_gpus({}, dev) == ["0", "1"]
    assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": "1"}, dev) == ["1"]
    assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": "GPU-8d1f,0"}, dev) == ["GPU-8d1f", "0"]
    for hidden in ("", "-1", "NoDevFiles"):
        assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": hidden}, dev) == []
    assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": "0"}, tmp_path / "no-dev") == []
    assert devices.gpu_wanted("auto", env={}, dev=dev) is True
    assert devices.gpu_wanted("cuda", env={}, dev=dev) is True
    assert devices.gpu_wanted("cpu", env={}, dev=dev) is False
    assert devices.gpu_wanted("auto", env={"CUDA_VISIBLE_DEVICES": ""}, dev=dev) is False
    with pytest.raises(ConfigError, match="CUDA_VISIBLE_DEVICES=''"):
        devices.gpu_wanted("cuda", env={"CUDA_VISIBLE_DEVICES": ""}, dev=dev, language="en")
    empty = tmp_path / "empty-dev"
    empty.mkdir()
    with pytest.raises(ConfigError, match="DEVICE가 'cuda'인데"):
        devices.gpu_wanted("cuda", env={}, dev=empty)
    assert devices.gpu_wanted("auto", env={}, dev=empty) is False


def test_auto_lends_the_gpu_to_the_kernel_and_the_scoring_sandbox(tmp_path, monkeypatch, course):
    """DEVICE 'auto' on a (fake) GPU machine: both the student's kernel and the scoring sandbox get the GPU;
    with Dask, the kernel's GPU is the worker's and scoring keeps this machine's."""
    import dataclasses

    from traitlets.config import Config

    from graders.nbgrader_settings import apply_settings
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(devices, "gpu_nodes", lambda dev="/dev": ["0", "1"])

    def lent(device, remote=False):
        c = Config()
        apply_settings(c, dataclasses.replace(course, device=device), remote=remote)
        return c.SandboxedExecute.gpu, c.ScoreArtifacts.gpu

    assert lent("auto") == (True, True)
    assert lent("cuda") == (True, True)
    assert lent("cpu") == (False, False)
    assert lent("auto", remote=True) == (False, True)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")            # negative control: this process has no GPU
    assert lent("auto") == (False, False)


# ── (b) the sandbox's GPU binds ─────────────────────────────────────────────
def test_gpu_binds_lend_nodes_and_driver_libraries_only_when_wanted(tmp_path):
    dev = _fake_dev(tmp_path, gpus=2)
    lib, driver = _fake_driver(tmp_path)
    ldconfig = ("\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1\n"
                f"\tlibnvidia-ml.so.1 (libc6,x86-64) => {lib}/libnvidia-ml.so.1\n"
                "\tlibcudart.so.12 (libc6,x86-64) => /opt/cuda/lib64/libcudart.so.12\n")
    found = devices.driver_libraries(ldconfig, dirs=[str(lib)], env={})
    assert sorted(found) == driver, found            # /usr/... is not on this machine: not listed
    assert devices.gpu_binds(False, dev, found) == []
    args = devices.gpu_binds(True, dev, found)
    assert _gpu_lending_problems(args, dev, None, driver) == [], args
    # a library under /usr is already in the sandbox (read-only): not bound again
    assert devices.gpu_binds(True, dev, ["/usr/lib/x86_64-linux-gnu/libcuda.so.1"]).count("--ro-bind") == 0
    assert devices.gpu_library_path(found) == str(lib)
    assert devices.gpu_library_path(["/usr/lib/x86_64-linux-gnu/libcuda.so.1"]) == ""


def test_gpu_binds_negative_controls(tmp_path):
    """The lending check fails on wrong binds: a library bound read-write, a node missing, a decoy lent."""
    dev = _fake_dev(tmp_path, gpus=2)
    _lib, driver = _fake_driver(tmp_path)
    good = devices.gpu_binds(True, dev, driver)
    rw = [("--bind" if a == "--ro-bind" else a) for a in good]
    assert any("not a read-only bind" in p for p in _gpu_lending_problems(rw, dev, None, driver))
    missing = good[3:]                                         # /dev/nvidia0 dropped
    assert any(p.startswith("/dev/nvidia0") for p in _gpu_lending_problems(missing, dev, None, driver))
    decoy = good + ["--dev-bind", str(dev / "null"), "/dev/null"]
    assert any("not expected" in p for p in _gpu_lending_problems(decoy, dev, None, driver))
    assert _gpu_lending_problems([], dev, None, driver)        # the GPU not lent when it was wanted


def test_no_gpu_nodes_means_nothing_lent(tmp_path):
    empty = tmp_path / "dev"
    empty.mkdir()
    (empty / "null").write_text("")
    assert devices.gpu_binds(True, empty, []) == []


needs_root_bwrap = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("bwrap"),
                                      reason="device copies need root (mknod) and bubblewrap")


def _char_copy_of_dev_null(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o666, os.stat("/dev/null").st_rdev)
    os.chmod(path, 0o666)


@needs_root_bwrap
def test_sandbox_gets_private_copies_of_the_nodes(tmp_path, monkeypatch, course):
    """Through the real sandbox: with the GPU, /dev/nvidia0 (here a copy of /dev/null's device in a fake /dev)
    is a usable character device and CUDA_VISIBLE_DEVICES is the sandbox's GPU; a chmod inside changes only the
    run's private copy.  Without the GPU (the negative control) there is no node and no GPU in the env."""
    from graders.farm import sandbox as sb
    dev = tmp_path / "dev"
    dev.mkdir()
    _char_copy_of_dev_null(dev / "nvidia0")
    _char_copy_of_dev_null(dev / "nvidiactl")

    def fake_machine(wanted, private=None):
        if not wanted:
            return [], ""
        import tempfile
        copies = devices.copy_nodes(dev, tempfile.mkdtemp(prefix="gpu-nodes-", dir=private))
        assert copies is not None and str(copies).startswith(str(tmp_path)), copies
        return devices.gpu_binds(True, dev, [], nodes_from=copies), ""

    monkeypatch.setattr(devices, "machine_gpu_binds", fake_machine)
    probe = ("import os, stat, json\n"
             "p = '/dev/nvidia0'\n"
             "out = {'exists': os.path.exists(p), 'cvd': os.environ.get('CUDA_VISIBLE_DEVICES')}\n"
             "if out['exists']:\n"
             "    out['chr'] = stat.S_ISCHR(os.stat(p).st_mode)\n"
             "    fd = os.open(p, os.O_RDWR); os.write(fd, b'x'); os.close(fd); out['opened_rw'] = True\n"
             "    os.chmod(p, 0); out['ctl'] = os.path.exists('/dev/nvidiactl')\n"
             "print(json.dumps(out))\n")

    def run(gpu: bool, name: str) -> dict:
        import json
        work = tmp_path / name
        dirs = {k: work / k for k in ("s", "a", "r")}
        for d in dirs.values():
            d.mkdir(parents=True)
        spec = sb.SandboxSpec(scratch=dirs["s"], artifacts=dirs["a"], runtime=dirs["r"],
                              public_code=course.root, public_data=course.public_data_dir, gpu=gpu,
                              gpu_devices="3" if gpu else None)
        proc = subprocess.run(sb.wrap([sys.executable, "-c", probe], spec), capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    lent = run(True, "with")
    assert lent == {"exists": True, "cvd": "3", "chr": True, "opened_rw": True, "ctl": True}, lent
    assert stat.S_IMODE(os.stat(dev / "nvidia0").st_mode) == 0o666, "the chmod reached the source node"
    copies = list((tmp_path / "with" / "r").glob("gpu-nodes-*/nvidia0"))
    assert copies and stat.S_IMODE(os.stat(copies[0]).st_mode) == 0, "the chmod did not land on the copy"
    assert run(False, "without") == {"exists": False, "cvd": ""}


# ── (c) one GPU, or a share of one, per grader process ─────────────────────
def _share_problems(slots, gpus, share) -> list[str]:
    per = {g: slots.count(g) for g in gpus}
    problems = [f"GPU {g} has {n} processes > {share}" for g, n in per.items() if n > share]
    problems += [f"slot {i}: {s!r} is not a visible GPU" for i, s in enumerate(slots) if s not in gpus and s != ""]
    used = [s for s in slots if s]
    if used and max(per.values()) - min(per.values()) > 1:
        problems.append(f"unbalanced: {per}")
    return problems


def test_slots_two_gpus_four_kernels_each_six_workers():
    slots = devices.slot_devices("auto", 6, ["0", "1"], kernels_per_gpu=4)
    assert slots == ["0", "1", "0", "1", "0", "1"]
    assert _share_problems(slots, ["0", "1"], 4) == []
    assert devices.slot_devices("cuda", 8, ["0", "1"], kernels_per_gpu=4).count("0") == 4
    # negative controls: the share check catches an overfull GPU and a GPU that is not there
    assert _share_problems(["0"] * 5 + ["1"], ["0", "1"], 4)
    assert _share_problems(["0", "2"], ["0", "1"], 4)


def test_slots_past_the_share():
    assert devices.slot_devices("auto", 3, ["0", "1"], kernels_per_gpu=1) == ["0", "1", ""]   # third: the CPU
    with pytest.raises(ConfigError, match="--workers"):
        devices.slot_devices("cuda", 3, ["0", "1"], kernels_per_gpu=1)
    assert devices.slot_devices("cpu", 3, ["0", "1"]) == [None, None, None]
    assert devices.slot_devices("auto", 2, []) == [None, None]
    with pytest.raises(ConfigError):
        devices.slot_devices("cuda", 2, [])


def test_batch_runner_gives_each_grader_process_its_gpu(course, monkeypatch):
    """autograde's slots from the course's GPU['kernels_per_gpu'] and a (fake) machine with two GPUs; the
    slot's CUDA_VISIBLE_DEVICES reaches the kernel's environment."""
    import dataclasses

    from graders.config import Gpu
    from graders.farm import autograde
    from graders.farm import sandbox as sb
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(devices, "gpu_nodes", lambda dev="/dev": ["0", "1"])
    cfg = dataclasses.replace(course, device="auto", gpu=Gpu(kernels_per_gpu=4))
    assert autograde._gpu_ids(cfg, 6) == ["0", "1", "0", "1", "0", "1"]
    assert autograde._gpu_ids(dataclasses.replace(cfg, device="cpu"), 3) == [None] * 3
    with pytest.raises(ConfigError):
        autograde._gpu_ids(dataclasses.replace(cfg, device="cuda", gpu=Gpu(kernels_per_gpu=1)), 3)
    # what a grader process in slot 1 does with its id, and what its kernel then sees
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    spec = sb.SandboxSpec(scratch=Path("/s"), artifacts=Path("/a"), runtime=Path("/r"), public_code=Path("/c"),
                          public_data=Path("/d"), gpu=True)
    assert sb.kernel_env(spec)["CUDA_VISIBLE_DEVICES"] == "1"
    spec.gpu = False                                                     # negative control
    assert sb.kernel_env(spec)["CUDA_VISIBLE_DEVICES"] == ""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")                        # a slot past the share: the CPU
    assert autograde._gpu_ids(cfg, 1) == [None]


def test_gpu_setting_is_validated(tmp_path):
    from graders.config import read_config
    for bad, text in (("{'kernels_per_gpu': 0}", "kernels_per_gpu"), ("{'kernel_per_gpu': 2}", "unknown key"),
                      ("[2]", "GPU")):
        root = make_course(tmp_path / f"c{len(text)}{bad.count('0')}", f"GPU = {bad}\n")
        with pytest.raises(ConfigError, match=text):
            read_config(root / "course_config.py")
    root = make_course(tmp_path / "ok", "GPU = {'kernels_per_gpu': 4}\n")
    assert read_config(root / "course_config.py").gpu.kernels_per_gpu == 4


# ── Dask: what a grading asks for, what a worker hands out ──────────────────
def test_dask_resources_asked_for():
    assert devices.dask_resources("auto", {"grading": 8, "GPU": 2}, 4) == {"grading": 1, "GPU": 0.25}
    assert devices.dask_resources("cuda", {"grading": 8, "GPU": 2}, 1) == {"grading": 1, "GPU": 1}
    assert devices.dask_resources("auto", {"grading": 4}) == {"grading": 1}
    assert devices.dask_resources("cpu", {"grading": 4, "GPU": 1}) == {"grading": 1}
    with pytest.raises(ValueError, match="GPU"):
        devices.dask_resources("cuda", {"grading": 4})
    with pytest.raises(ValueError, match="grading"):
        devices.dask_resources("auto", {"GPU": 1})


def test_worker_ledger_spreads_gradings_over_its_gpus():
    ledger = devices.GpuLedger(["0", "1"])
    got = [ledger.take() for _ in range(3)]
    assert got == ["0", "1", "0"]
    ledger.give_back("1")
    assert ledger.take() == "1"
    assert devices.GpuLedger([]).take() is None


def test_dask_worker_without_gpu_refuses_cuda():
    from graders.farm import remote
    with pytest.raises(remote.ClusterProblem, match="sees no GPU"):
        remote.run_notebook({"gpu_slot": True, "device": "cuda", "settings": {}, "nb": ""})


_BARRIERS: dict = {}


def _meet(key: str) -> bool:
    """A Dask task: wait until all its siblings run at the same time (False: they never did)."""
    try:
        _BARRIERS[key].wait()
        return True
    except threading.BrokenBarrierError:
        return False


def test_dask_grading_on_a_cpu_worker_with_auto_and_cuda(released, dask_cluster):
    """Through a real `dask scheduler`/`dask worker` (conftest): 'auto' grades on a worker offering no GPU,
    the kernel without one; 'cuda' is refused with the fix, since no worker offers 'GPU'."""
    import json
    root = _with_device(released, "auto")
    proc = run_cli(["autograde", "keras_mnist", "--scheduler", dask_cluster["address"], "--force", "--quiet"], root,
                   check=False, env=NO_GPU)
    assert proc.returncode == 0 and "graded 1/1" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    run = json.loads((root / "autograded/ref/keras_mnist/keras_mnist.checks.json").read_text())["run"]
    assert run["worker"] in dask_cluster["workers"] and run["gpu"] is False and run["cuda_visible_devices"] == "", run
    root = _with_device(released, "cuda")
    proc = run_cli(["autograde", "keras_mnist", "--scheduler", dask_cluster["address"], "--force", "--quiet"], root,
                   check=False, env=NO_GPU)
    assert proc.returncode == 2 and "offers 'GPU'" in proc.stderr and "--resources" in proc.stderr, \
        (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])


def _concurrent(gpu_share: float, n: int, wait: float) -> bool:
    """Do `n` tasks each asking for `gpu_share` of one GPU run at once on a worker offering GPU=1?
    (An in-process worker: the tasks meet at a barrier of this process.)"""
    from distributed import Client, LocalCluster
    key = f"{gpu_share}-{n}-{wait}"
    _BARRIERS[key] = threading.Barrier(n, timeout=wait)

    with LocalCluster(n_workers=1, threads_per_worker=8, processes=False, dashboard_address=None,
                      resources={"grading": 8, "GPU": 1}) as cluster, Client(cluster) as client:
        futures = [client.submit(_meet, key, pure=False, resources={"grading": 1, "GPU": gpu_share})
                   for _ in range(n)]
        return all(f.result(timeout=120) for f in futures)


def test_dask_runs_kernels_per_gpu_gradings_on_one_gpu():
    share = devices.dask_resources("auto", {"grading": 8, "GPU": 1}, 4)["GPU"]
    assert _concurrent(share, 4, wait=60)                  # four gradings share the GPU at once
    assert not _concurrent(1 / 2, 4, wait=3)               # negative control: halves let only two through


# ── bench/gpu_check.py's verdicts ───────────────────────────────────────────
def _gpu_check_module():
    import importlib.util
    path = Path(__file__).resolve().parent.parent / "bench" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_compares_check_by_check_and_refuses_without_a_gpu():
    check = _gpu_check_module()
    a = {"points": {"ref": {"layers": 3.0, "trained": 1.0}, "wrong": {"layers": 0.0}}}
    assert check.compare(a, a, ["ref", "wrong"]) == []
    b = {"points": {"ref": {"layers": 3.0, "trained": 0.0}}}                 # negative control
    assert check.compare(a, b, ["ref", "wrong"]) == ["ref.trained: 1.0 vs 0.0", "wrong: not graded on the second device"]
    if not devices.visible_gpus():
        proc = subprocess.run([sys.executable, str(Path(check.__file__)), "--only", "keras_mnist"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and "no NVIDIA GPU is visible here" in proc.stderr, proc.stderr[-2000:]


# ── on a GPU machine ────────────────────────────────────────────────────────
def _no_cuda() -> str | None:
    if not devices.visible_gpus():
        return "no NVIDIA GPU visible (/dev/nvidia<N>, CUDA_VISIBLE_DEVICES)"
    return None


@pytest.mark.skipif(_no_cuda() is not None, reason=f"GPU test: {_no_cuda()}")
def test_gpu_check_on_a_gpu():
    """The bench's comparison (bench/gpu_check.py) for the two MNIST exercises: equal grades on cuda and cpu,
    and the GPU was used."""
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, str(repo / "bench" / "gpu_check.py"), "--only", "keras_mnist",
                           "--only", "pytorch_mnist"], capture_output=True, text=True, timeout=1200, cwd=repo)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
