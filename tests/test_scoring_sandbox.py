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
    return measure.Settings(sandbox=True, memory_gb=8, cpu_seconds=120, wall_seconds=180, max_model_mb=8,
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
    quick = measure.Settings(**{**settings.__dict__, "wall_seconds": 0.5})   # importing torch alone takes longer
    got = measure.run([SavedModel("m", "torch_export", "m.pt2", inputs=("public",))], tmp_path, _inputs(), quick)["m"]
    assert not got["loaded"] and got.get("limit") and "timeout" in got["error"], got
