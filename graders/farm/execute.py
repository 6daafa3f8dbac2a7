"""Step 2 of autograde: run the notebook in a sandboxed kernel (nbgrader's Execute, sandboxed).

`SandboxedExecute` replaces nbgrader's `Execute` in `Autograde.autograde_preprocessors`.
Per notebook it makes a fresh work folder (scratch, artifacts, kernel runtime),
starts the kernel inside bubblewrap (see sandbox.py) with the ipc transport, runs
the cells with a per-cell and a whole-notebook timeout, and leaves the artifacts
folder for the scoring step (`resources['dlcourse']`).  A kernel that dies (memory
limit, CPU limit, crash) ends the run of that notebook, not the batch.
"""
from __future__ import annotations

import atexit
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode

from . import sandbox as sb


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside the sandbox."""

    sandbox_spec: sb.SandboxSpec | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        return sb.wrap(cmd, self.sandbox_spec) if self.sandbox_spec is not None else cmd


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


MAX_OUTPUT_BYTES = 4 * 2**20      # output kept from one notebook run (a gigabyte of print() is dropped)


def _folder_bytes(*folders) -> int:
    total = 0
    stack = [str(f) for f in folders]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        elif e.is_file(follow_symlinks=False):
                            total += e.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        pass
        except OSError:
            pass
    return total


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SandboxedExecute(Execute):
    sandbox = Bool(True, help="Run the kernel in bubblewrap (False only with --no-sandbox)").tag(config=True)
    notebook_timeout = Integer(900, help="Seconds for the whole notebook").tag(config=True)
    memory_gb = Float(8.0, help="Address-space limit of the kernel (GiB)").tag(config=True)
    cpu_seconds = Integer(900, help="CPU-time limit of the kernel (s)").tag(config=True)
    threads = Integer(1, help="CPU threads of the kernel's numeric libraries").tag(config=True)
    disk_mb = Integer(2048, help="Disk the kernel may fill (scratch + artifacts, /tmp, $HOME; largest file)").tag(
        config=True)
    max_pids = Integer(512, help="Processes and threads of one sandboxed kernel (pids cgroup)").tag(config=True)
    language = Unicode("ko").tag(config=True)
    public_code = Unicode("", help="Folder holding the dlcourse package").tag(config=True)
    public_data = Unicode("", help="Folder of public data files").tag(config=True)
    grading_inputs = Unicode("", help="Folder of unlabeled hidden inputs lent to the kernel").tag(config=True)
    prestart = Bool(True, help="Start the next submission's fresh kernel (and its imports) ahead of need").tag(
        config=True)
    scheduler = Unicode("", help="Dask scheduler address: run the kernel on a Dask worker (remote.py)").tag(config=True)
    device = Unicode("auto", help="Device policy sent to Dask workers (auto, cpu, cuda)").tag(config=True)
    max_artifact_mb = Float(64, help="Largest artifact brought back from a Dask worker").tag(config=True)
    gpu = Bool(False, help="Give the kernel the GPU device nodes").tag(config=True)
    work_root = Unicode("", help="Where per-notebook work folders are made (default: system temp)").tag(config=True)

    def _messages(self):
        if self.language == "en":
            return {
                "notebook_timeout": f"The whole notebook ran longer than {self.notebook_timeout} s; this cell was not run.",
                "dead": "The kernel stopped (memory or CPU limit, or a crash); this cell was not run.",
                "stuck": f"This cell ran past {self.timeout} s and ignored the interrupt; the kernel was stopped.",
                "disk": f"The notebook wrote more than {self.disk_mb} MB to disk; the kernel was stopped.",
                "output": f"More than {MAX_OUTPUT_BYTES // 2**20} MB of output: the rest of it was dropped.",
            }
        return {
            "notebook_timeout": f"노트북 전체 실행 시간 제한({self.notebook_timeout}초)을 넘어 이 셀은 실행되지 않았습니다.",
            "dead": "커널이 종료되어(메모리·CPU 한도 초과 또는 충돌) 이 셀은 실행되지 않았습니다.",
            "stuck": f"이 셀이 시간 제한({self.timeout}초)을 넘기고 중단 요청에도 멈추지 않아 커널을 종료했습니다.",
            "disk": f"노트북이 디스크에 {self.disk_mb}MB 넘게 써서 커널을 종료했습니다.",
            "output": f"출력이 {MAX_OUTPUT_BYTES // 2**20}MB를 넘어 나머지 출력은 버렸습니다.",
        }

    # ── kernel ──────────────────────────────────────────────────────────────
    def create_kernel_manager(self):
        self.kernel_manager_class = SandboxedKernelManager
        km = super().create_kernel_manager()
        run = self._run
        km.transport = "ipc"
        km.ip = str(run["runtime"] / "kernel")
        km.connection_file = str(run["runtime"] / "kernel.json")
        km.sandbox_spec = run["spec"] if self.sandbox else None
        return km

    async def async_start_new_kernel(self, **kwargs):
        kwargs["env"] = sb.kernel_env(self._run["spec"], sandboxed=self.sandbox)
        kwargs["cwd"] = str(self._run["scratch"])
        # the kernel's own chatter (TF banners, ipykernel notices) goes to a log, not the grader's terminal
        self._kernel_log = open(self._run["runtime"].parent / "kernel.log", "wb")
        kwargs["stdout"] = subprocess.DEVNULL
        kwargs["stderr"] = self._kernel_log
        if self.sandbox:
            # interrupts go to the whole process group: bwrap itself must survive SIGINT
            # (its death would take the kernel with it); the kernel installs its own handler.
            kwargs["preexec_fn"] = _ignore_sigint
        return await super().async_start_new_kernel(**kwargs)

    # nbclient's synchronous entry point is bound to its own coroutine: rebind it to ours
    start_new_kernel = run_sync(async_start_new_kernel)

    # ── cells ───────────────────────────────────────────────────────────────
    def _cell_timeout(self, cell) -> int:
        remaining = self._deadline - time.monotonic()
        return max(1, math.ceil(min(self.timeout or remaining, remaining)))

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        status = self._run["status"]
        if status["kernel_dead"] or time.monotonic() >= self._deadline:
            key = "dead" if status["kernel_dead"] else "notebook_timeout"
            status["notebook_timed_out"] |= key == "notebook_timeout"
            status["skipped_cells"] += 1
            cell.outputs = [_error_output("NotRun", self._messages()[key])]
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            status["kernel_dead"] = True
            key = "disk" if status.get("disk_full") else "dead"
            cell.outputs.append(_error_output("DeadKernel", self._messages()[key]))
            return cell
        except CellTimeoutError:
            # the cell ignored the interrupt: stop the kernel, the rest of the notebook is not run
            status["kernel_dead"] = True
            cell.outputs.append(_error_output("CellTimeoutError", self._messages()["stuck"]))
            await ensure_async(self.km.shutdown_kernel(now=True))
            return cell

    execute_cell = run_sync(async_execute_cell)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most MAX_OUTPUT_BYTES of output per notebook run; drop the rest with one notice."""
        status = self._run["status"]
        size = len(str(msg.get("content", "")))
        if status.get("output_bytes", 0) + size > MAX_OUTPUT_BYTES and msg.get("msg_type") in (
                "stream", "display_data", "execute_result", "update_display_data"):
            status["output_truncated"] = True
            if status.get("output_notice_cell") != cell_index:
                status["output_notice_cell"] = cell_index
                outs.append(NotebookNode(output_type="stream", name="stderr", text=self._messages()["output"] + "\n"))
            return None
        status["output_bytes"] = status.get("output_bytes", 0) + size
        return super().output(outs, msg, display_id, cell_index)

    # ── notebook ────────────────────────────────────────────────────────────
    _REMOTE_SETTINGS = ("sandbox", "timeout", "notebook_timeout", "memory_gb", "cpu_seconds", "threads", "language",
                        "public_code", "public_data", "grading_inputs", "disk_mb", "max_pids")

    def _preprocess_remote(self, nb, resources):
        from . import remote

        work = Path(tempfile.mkdtemp(prefix="dlcourse-run-", dir=self.work_root or None))
        artifacts = work / "artifacts"
        artifacts.mkdir()
        payload = {"nb": nbformat.writes(nb), "student": str(resources.get("nbgrader", {}).get("student", "")),
                   "settings": {k: getattr(self, k) for k in self._REMOTE_SETTINGS},
                   "max_artifact_bytes": int(self.max_artifact_mb * 2**20)}
        result = remote.submit(self.scheduler, payload, self.device, timeout=self.notebook_timeout + 600)
        for name, data in result["artifacts"].items():
            if "/" in name or name.startswith("."):
                continue                       # only plain names, inside the artifacts folder
            (artifacts / name).write_bytes(data)
        status = {**result["status"], "worker": result.get("worker")}
        resources["dlcourse"] = {"work": str(work), "artifacts": str(artifacts), "status": status,
                                 "notebook_dir": resources.get("metadata", {}).get("path")}
        return nbformat.reads(result["nb"], as_version=4), resources

    def _new_run(self, student: str | None) -> dict:
        """Work folder, sandbox spec and status of one notebook run."""
        work = Path(tempfile.mkdtemp(prefix="dlcourse-run-", dir=self.work_root or None))
        scratch, artifacts, runtime = work / "submission", work / "artifacts", work / "runtime"
        for d in (scratch, artifacts, runtime):
            d.mkdir()
        # which paper a quiz shows (display only: the grader maps answers itself); a kernel started
        # ahead of need learns its student just before the notebook runs
        extra = {"DLCOURSE_STUDENT": student} if student is not None else {}
        spec = sb.SandboxSpec(scratch=scratch, artifacts=artifacts, runtime=runtime,
                              public_code=Path(self.public_code), public_data=Path(self.public_data),
                              grading_inputs=Path(self.grading_inputs) if self.grading_inputs else None,
                              limits=sb.Limits(self.memory_gb, self.cpu_seconds, self.threads, self.disk_mb,
                                               self.max_pids),
                              language=self.language, gpu=self.gpu, extra_env=extra)
        status = {"kernel_dead": False, "notebook_timed_out": False, "skipped_cells": 0,
                  "sandboxed": self.sandbox, "seconds": None, "prestarted": False}
        cage = sb.ProcessCage(work.name, self.max_pids) if self.sandbox else None
        if cage is not None and cage.path is not None:
            spec.cgroup_procs = str(cage.path / "cgroup.procs")
        return {"work": work, "spec": spec, "scratch": scratch, "artifacts": artifacts, "runtime": runtime,
                "status": status, "cage": cage}

    def _watch_disk(self, run, stop: threading.Event) -> None:
        """Stop the kernel when scratch + artifacts grow past disk_mb (a notebook filling the disk)."""
        limit = self.disk_mb * 2**20
        while not stop.wait(0.5):
            if _folder_bytes(run["scratch"], run["artifacts"]) > limit:
                run["status"]["disk_full"] = True
                _kill_run(run, getattr(self, "km", None))
                return

    def _settings_key(self) -> tuple:
        return tuple(getattr(self, k) for k in self._REMOTE_SETTINGS) + (self.gpu, self.work_root)

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        if self.scheduler:
            return self._preprocess_remote(nb, resources)
        info = resources.get("nbgrader", {})
        student, assignment = str(info.get("student", "")), str(info.get("assignment", ""))
        warm = _take_warm((assignment, self._settings_key())) if self.prestart and km is None else None
        run = warm.run if warm else self._new_run(student)
        if warm:
            run["status"]["prestarted"] = True
            km = warm.km
            warm.tell_student(student)
        self._run = run
        status = run["status"]
        resources["dlcourse"] = {"work": str(run["work"]), "artifacts": str(run["artifacts"]), "status": status,
                                 "notebook_dir": resources.get("metadata", {}).get("path")}
        resources.setdefault("metadata", {})["path"] = str(run["scratch"])
        self._deadline = time.monotonic() + self.notebook_timeout
        self.timeout_func = self._cell_timeout
        started = time.monotonic()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch_disk, args=(run, stop), daemon=True)
        watcher.start()
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        except DeadKernelError:
            status["kernel_dead"] = True
            nb = self.nb
        finally:
            stop.set()
            status["seconds"] = round(time.monotonic() - started, 2)
            if warm:
                warm.shutdown()
            # nothing the notebook started outlives it (background processes, a fork bomb's children)
            status["killed_leftovers"] = run["cage"].kill_all() if run.get("cage") else 0
            if status.get("disk_full"):
                shutil.rmtree(run["scratch"], ignore_errors=True)
            shutil.rmtree(run["runtime"], ignore_errors=True)
            if getattr(self, "_kernel_log", None):
                self._kernel_log.close()
            if self.prestart and assignment:
                # the next submission's kernel starts now, while this one is scored
                _prepare_warm((assignment, self._settings_key()), self, warm_code(nb))
        return nb, resources


def _kill_run(run, km) -> None:
    """Stop a run's kernel from another thread: everything in its cage, else the bwrap process."""
    cage = run.get("cage")
    if cage is not None and cage.path is not None:
        cage.kill_all(wait=2.0)
        return
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    if proc is not None:
        try:
            proc.kill()
        except Exception:
            pass


# ── kernels started ahead of need ───────────────────────────────────────────
_WARM: dict = {}
# One long-lived thread starts them: bubblewrap's --die-with-parent follows the *thread*
# that spawned it, so a short-lived thread would take its kernel down when it ends.
_STARTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlcourse-prestart")


def warm_code(nb) -> str:
    """Imports of the notebook's locked cells (the course's setup), run before the student's code.

    Only modules are loaded (``__import__``): no name is bound, so a student who forgot an import
    still gets the NameError they would get at home.
    """
    modules = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("locked") or meta.get("grade") or meta.get("solution"):
            continue
        for line in cell.source.splitlines():
            m = re.match(r"\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", line)
            if m:
                name = m.group(1) or m.group(2)
                if name not in modules:
                    modules.append(name)
    if not modules:
        return ""
    return "for _m in %r:\n    try:\n        __import__(_m)\n    except Exception:\n        pass\ndel _m" % (modules,)


class _WarmKernel:
    """A fresh sandboxed kernel for the *next* submission, started in a background thread.

    Used once, by one student's notebook, then shut down: never reused across students.
    """

    def __init__(self, owner: "SandboxedExecute", code: str):
        self.run = owner._new_run(None)
        self.km = None
        self.error = None
        self.code = code
        self._owner_settings = dict(sandbox=owner.sandbox, kernel_name=owner.kernel_name or "python3",
                                    startup_timeout=owner.startup_timeout)
        self._ready = threading.Event()
        _STARTER.submit(self._start)

    def _start(self):
        try:
            run = self.run
            km = SandboxedKernelManager(kernel_name=self._owner_settings["kernel_name"])
            km.transport = "ipc"
            km.ip = str(run["runtime"] / "kernel")
            km.connection_file = str(run["runtime"] / "kernel.json")
            km.sandbox_spec = run["spec"] if self._owner_settings["sandbox"] else None
            self._log = open(run["work"] / "kernel.log", "wb")
            kwargs = dict(env=sb.kernel_env(run["spec"], sandboxed=self._owner_settings["sandbox"]),
                          cwd=str(run["scratch"]), stdout=subprocess.DEVNULL, stderr=self._log,
                          extra_arguments=["--HistoryManager.hist_file=:memory:"])
            if self._owner_settings["sandbox"]:
                kwargs["preexec_fn"] = _ignore_sigint
            run_sync(km.start_kernel)(**kwargs)
            self.km = km
            kc = km.client()
            kc.start_channels()
            try:
                run_sync(kc.wait_for_ready)(timeout=self._owner_settings["startup_timeout"])
                if self.code:
                    self._preload(km, kc)
            finally:
                kc.stop_channels()
        except Exception as exc:       # the notebook will start its own kernel instead
            self.error = exc
        finally:
            self._ready.set()

    def _preload(self, km, kc, timeout: float = 300) -> None:
        """Run the imports; give up as soon as the kernel dies (no waiting out the timeout)."""
        import queue
        msg_id = kc.execute(self.code, silent=True, store_history=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not run_sync(km.is_alive)():
                raise RuntimeError("the prestarted kernel stopped while importing")
            try:
                reply = run_sync(kc.get_shell_msg)(timeout=1)
            except queue.Empty:
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return
        raise RuntimeError("the prestarted kernel's imports timed out")

    def usable(self) -> bool:
        self._ready.wait(timeout=300)
        if self.error or self.km is None:
            return False
        return bool(run_sync(self.km.is_alive)())

    def tell_student(self, student: str) -> None:
        kc = self.km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=60)
            run_sync(kc.execute_interactive)(f"import os as _os\n_os.environ['DLCOURSE_STUDENT'] = {student!r}\ndel _os",
                                             silent=True, store_history=False, timeout=60)
        finally:
            kc.stop_channels()

    def shutdown(self) -> None:
        try:
            if self.km is not None and run_sync(self.km.is_alive)():
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:
            pass
        if getattr(self, "_log", None):
            self._log.close()

    def discard(self) -> None:
        self._ready.wait(timeout=300)
        self.shutdown()
        if self.run.get("cage"):
            self.run["cage"].kill_all()
        shutil.rmtree(self.run["work"], ignore_errors=True)


def _take_warm(key):
    for other in [k for k in _WARM if k != key]:      # started for another assignment: not needed now
        _STARTER.submit(_WARM.pop(other).discard)
    warm = _WARM.pop(key, None)
    if warm is None:
        return None
    if warm.usable():
        return warm
    warm.discard()
    return None


def _prepare_warm(key, owner, code: str) -> None:
    old = _WARM.pop(key, None)
    if old is not None:
        old.discard()
    _WARM[key] = _WarmKernel(owner, code)


@atexit.register
def _discard_all() -> None:
    for warm in list(_WARM.values()):
        warm.discard()
    _WARM.clear()
