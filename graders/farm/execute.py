"""Step 2 of autograde: run the notebook in a sandboxed kernel (nbgrader's Execute, sandboxed).

`SandboxedExecute` replaces nbgrader's `Execute` in `Autograde.autograde_preprocessors`.
Per notebook it makes a fresh work folder (scratch, artifacts, kernel runtime),
starts the kernel inside bubblewrap (see sandbox.py) with the ipc transport, runs
the cells with a per-cell and a whole-notebook timeout, and leaves the artifacts
folder for the scoring step (`resources['dlcourse']`).  A kernel that dies (memory
limit, CPU limit, crash) ends the run of that notebook, not the batch; one the memory
cgroup stopped says so, with the limit, in the cell and in the run status.
"""
from __future__ import annotations

import atexit
import math
import os
import re
import shutil
import copy
import logging
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

from ..messages import msg
from . import sandbox as sb

log = logging.getLogger("dlcourse.execute")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside the sandbox: a bubblewrap process of its own (cold),
    or a fresh child of the run's warm parent (farm/warm), which already imported the notebook's frameworks."""

    sandbox_spec: sb.SandboxSpec | None = None
    output_hook: str | None = None      # run by the kernel at start: the kernel-side output cap
    warm_run: dict | None = None        # the run whose warm parent starts this kernel (None: cold)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.output_hook:
            cmd = cmd + [f"--IPKernelApp.exec_files={self.output_hook}"]
        if self.warm_run is not None and _warm_argv(cmd) is not None:
            return cmd                  # the warm child gets the bare command; its walls are its own
        return sb.wrap(cmd, self.sandbox_spec) if self.sandbox_spec is not None else cmd

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        run = self.warm_run
        argv = _warm_argv(kernel_cmd) if run is not None else None
        if argv is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        from .warm import pool
        try:
            child = run["warm"].spawn(warm_kernel_job(run, argv, kw.get("env") or {}), run["cage"])
        except pool.WarmUnavailable as exc:      # a cold sandbox instead, same folders and cage
            log.warning("kernel on the cold path: %s", str(exc)[:300])
            run["status"]["warm"] = False
            cmd = sb.wrap([sys.executable, "-m", "ipykernel_launcher", *argv], self.sandbox_spec)
            return await super()._async_launch_kernel(cmd, **kw)
        run["status"]["warm"] = True
        prov = self.provisioner
        prov.process, prov.pid, prov.pgid = child, child.host, None
        self._reconcile_connection_info(prov.connection_info)


def _warm_argv(cmd) -> list | None:
    """The kernel's own arguments when `cmd` is the plain ipykernel launcher (what a warm child runs)."""
    if len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]:
        return list(cmd[3:])
    return None


def warm_kernel_job(run: dict, argv: list, env: dict) -> dict:
    """What a warm child needs to become this run's kernel: the cold sandbox's view, limits and environment,
    with the runtime (the kernel's sockets) at its host path."""
    from .warm.pool import child_job
    spec: sb.SandboxSpec = run["spec"]
    return child_job("kernel", spec, argv, env, run["warm"].slots, hide=spec.hide, runtime_at_host=True)


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


MAX_OUTPUT_BYTES = 4 * 2**20      # output kept from one notebook run (a gigabyte of print() is dropped)
SOCKET_PATH_MAX = 100           # a Unix socket path may have 107 bytes; a little room for ZMQ
OUTPUT_HOOK = "output_cap.py"     # in the run's runtime folder; the kernel runs it at start
OUTPUT_MARKER = "output-dropped"  # the kernel appends a line to it in each cell whose output it drops

# The kernel-side half of the output cap: print() and friends stop sending past the cap, so a flood
# neither fills the kernel's memory nor keeps the grader busy, and the kernel notes the drop in a file
# at once (a write that is done before the kernel can die): the grader's notice then no longer depends
# on whether the flood's messages got out of a kernel that died right after.  The student's code may
# undo it in its own kernel; the grader-side cap (SandboxedExecute.output) holds regardless.
_HOOK_SOURCE = """\
def _dlcourse_output_cap(limit, marker):
    import sys
    state = {"sent": 0, "cell": ""}
    def cap(stream):
        write = stream.write
        def capped(text):
            n = len(text) if isinstance(text, str) else 0
            if state["sent"] + n <= limit:
                state["sent"] += n
                return write(text)
            try:
                parent = stream.parent_header or {}
                cell = str(parent.get("msg_id") or (parent.get("header") or {}).get("msg_id") or "?")
            except Exception:
                cell = "?"
            if cell != state["cell"]:
                state["cell"] = cell
                try:
                    with open(marker, "a") as f:
                        f.write(cell[:64] + chr(10))
                except OSError:
                    pass
            return n
        stream.write = capped
    for stream in (sys.stdout, sys.stderr):
        try:
            cap(stream)
        except Exception:
            pass
_dlcourse_output_cap(%d, %r)
del _dlcourse_output_cap
"""


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


_CLOSING_ERRORS = ("DeadKernel", "MemoryLimit", "CellTimeoutError")


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SandboxedExecute(Execute):
    sandbox = Bool(True, help="Run the kernel in bubblewrap (False only with --no-sandbox)").tag(config=True)
    notebook_timeout = Integer(900, help="Seconds for the whole notebook").tag(config=True)
    memory_gb = Float(8.0, help="Memory of the kernel and all it runs, resident + swap (GiB; a memory cgroup, "
                                "else an address-space limit)").tag(config=True)
    cpu_seconds = Integer(900, help="CPU-time limit of the kernel (s)").tag(config=True)
    threads = Integer(1, help="CPU threads of the kernel's numeric libraries").tag(config=True)
    disk_mb = Integer(2048, help="Disk the kernel may fill (scratch + artifacts, /tmp, $HOME; largest file)").tag(
        config=True)
    max_pids = Integer(512, help="Processes and threads of one sandboxed kernel (pids cgroup)").tag(config=True)
    language = Unicode("ko").tag(config=True)
    public_code = Unicode("", help="Folder holding the dlcourse package").tag(config=True)
    public_data = Unicode("", help="Folder of public data files").tag(config=True)
    prestart = Bool(True, help="Start the next submission's fresh kernel (and its imports) ahead of need").tag(
        config=True)
    scheduler = Unicode("", help="Dask scheduler address: run the kernel on a Dask worker (remote.py)").tag(config=True)
    device = Unicode("auto", help="Device policy sent to Dask workers (auto, cpu, cuda)").tag(config=True)
    max_artifact_mb = Float(64, help="Largest artifact brought back from a Dask worker").tag(config=True)
    gpu = Bool(False, help="Give the kernel the GPU device nodes").tag(config=True)
    gpu_devices = Unicode("", help="CUDA_VISIBLE_DEVICES of the kernel with the GPU ('': this process's GPUs)").tag(
        config=True)
    kernels_per_gpu = Integer(1, help="Gradings sharing one GPU: a Dask grading asks for 1/N of a 'GPU'").tag(
        config=True)
    work_root = Unicode("", help="Where per-notebook work folders are made (default: system temp)").tag(config=True)
    warm_parents = Bool(False, help="Start each kernel as a fresh child of a warm parent that imported the "
                                    "notebook's frameworks (farm/warm; SANDBOX['warm_parents'])").tag(config=True)

    def _messages(self):
        gb = f"{self.memory_gb:g}"
        memory = msg("memory_limit", self.language, gb=gb) + " " + msg("memory_limit_hint", self.language)
        if self.language == "en":
            return {
                "notebook_timeout": f"The whole notebook ran longer than {self.notebook_timeout} s; this cell was not run.",
                "dead": "The kernel stopped (memory or CPU limit, or a crash); this cell was not run.",
                "memory": memory,
                "dead_memory": f"The kernel was stopped by the memory limit of {gb} GiB; this cell was not run.",
                "stuck": f"This cell ran past {self.timeout} s and ignored the interrupt; the kernel was stopped.",
                "disk": f"The notebook wrote more than {self.disk_mb} MB to disk; the kernel was stopped.",
                "output": f"More than {MAX_OUTPUT_BYTES // 2**20} MB of output: the rest of it was dropped.",
            }
        return {
            "notebook_timeout": f"노트북 전체 실행 시간 제한({self.notebook_timeout}초)을 넘어 이 셀은 실행되지 않았습니다.",
            "dead": "커널이 종료되어(메모리·CPU 한도 초과 또는 충돌) 이 셀은 실행되지 않았습니다.",
            "memory": memory,
            "dead_memory": f"커널이 메모리 한도 {gb} GiB를 넘어 중지되어 이 셀은 실행되지 않았습니다.",
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
        km.output_hook = run.get("output_hook")
        km.warm_run = run if run.get("warm") is not None else None
        return km

    async def async_start_new_kernel(self, **kwargs):
        kwargs["env"] = sb.kernel_env(self._run["spec"], sandboxed=self.sandbox)
        kwargs["cwd"] = str(self._run["scratch"])
        # the kernel's own chatter (TF banners, ipykernel notices) goes to a log, not the grader's terminal
        self._kernel_log = open(self._run["work"] / "kernel.log", "wb")
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
        status["cells_started"] = status.get("cells_started", 0) + 1
        if status["kernel_dead"] or time.monotonic() >= self._deadline:
            if status["kernel_dead"]:
                key = "dead_memory" if status.get("memory_exceeded") else "dead"
            else:
                key = "notebook_timeout"
            status["notebook_timed_out"] |= key == "notebook_timeout"
            status["skipped_cells"] += 1
            cell.outputs = [_error_output("NotRun", self._messages()[key])]
            return cell
        marker_before, oom_before = self._marker_size(), self._oom_kills()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            status["kernel_dead"] = True
            await self._drain_iopub(cell, cell_index)
            if status.get("disk_full"):
                cell.outputs.append(_error_output("DeadKernel", self._messages()["disk"]))
            elif self._memory_exceeded(since=oom_before):
                cell.outputs.append(_error_output("MemoryLimit", self._messages()["memory"]))
            else:
                cell.outputs.append(_error_output("DeadKernel", self._messages()["dead"]))
            return cell
        except CellTimeoutError:
            # the cell ignored the interrupt: stop the kernel, the rest of the notebook is not run
            status["kernel_dead"] = True
            cell.outputs.append(_error_output("CellTimeoutError", self._messages()["stuck"]))
            await ensure_async(self.km.shutdown_kernel(now=True))
            return cell
        finally:
            self._output_notice(cell, cell_index, marker_before)

    execute_cell = run_sync(async_execute_cell)

    # ── the memory cage ─────────────────────────────────────────────────────
    def _oom_kills(self) -> int:
        cage = self._run.get("cage")
        return cage.oom_kills() if cage is not None and cage.memory_path is not None else 0

    def _memory_exceeded(self, since: int = 0) -> bool:
        """The kernel's memory cgroup ended a process (since `since` kills): record it in the run status
        (with memory_gb, there from the start) for the scorer's note and the feedback."""
        if self._oom_kills() <= since:
            return False
        self._run["status"]["memory_exceeded"] = True
        return True

    # ── the output cap ──────────────────────────────────────────────────────
    def output(self, outs, msg, display_id, cell_index):
        """Keep at most MAX_OUTPUT_BYTES of output per notebook run; the rest is dropped (one notice per
        cell, added when the cell ends: see _output_notice)."""
        status = self._run["status"]
        size = len(str(msg.get("content", "")))
        if status.get("output_bytes", 0) + size > MAX_OUTPUT_BYTES and msg.get("msg_type") in (
                "stream", "display_data", "execute_result", "update_display_data"):
            status["output_truncated"] = True
            self._run.setdefault("dropped_cells", set()).add(cell_index)
            return None
        status["output_bytes"] = status.get("output_bytes", 0) + size
        return super().output(outs, msg, display_id, cell_index)

    def _marker_size(self) -> int:
        try:
            return os.stat(self._run["runtime"] / OUTPUT_MARKER).st_size
        except (OSError, KeyError, TypeError):
            return 0

    def _output_notice(self, cell, cell_index, marker_before: int) -> None:
        """Exactly one notice in a cell whose output was dropped — by the grader (its count passed the cap)
        or by the kernel (the marker grew during the cell) — however the cell ended: by itself, by the
        kernel's death, by a timeout; a clear_output() in the cell cannot remove it."""
        dropped = self._run.setdefault("dropped_cells", set())
        if self._marker_size() > marker_before:
            self._run["status"]["output_truncated"] = True
            dropped.add(cell_index)
        if cell_index not in dropped:
            return
        text = self._messages()["output"] + "\n"
        if any(o.get("output_type") == "stream" and o.get("text") == text for o in cell.outputs):
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("text") == text)]
        at = len(cell.outputs)          # before the grader's own closing error (kernel death, timeout)
        while at and cell.outputs[at - 1].get("ename") in _CLOSING_ERRORS:
            at -= 1
        cell.outputs.insert(at, NotebookNode(output_type="stream", name="stderr", text=text))
        self._run["status"]["output_notice_cell"] = cell_index

    async def _drain_iopub(self, cell, cell_index, seconds: float = 2.0, max_messages: int = 10_000) -> None:
        """The kernel died: output it sent before dying may still wait, unread, in the client's socket
        (nbclient stops reading at the death).  Count it (and keep it, up to the cap), so a flood that
        reached the grader is noticed even when the kernel died right after."""
        import queue
        kc = getattr(self, "kc", None)
        if kc is None:
            return
        deadline = time.monotonic() + seconds
        for _ in range(max_messages):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                message = await ensure_async(kc.iopub_channel.get_msg(timeout=min(0.2, left)))
            except queue.Empty:
                return
            except Exception:          # a socket already closed: nothing more to read
                return
            if message.get("msg_type") in ("stream", "display_data", "execute_result", "error"):
                try:
                    self.process_message(message, cell, cell_index)
                except Exception:
                    pass

    # ── notebook ────────────────────────────────────────────────────────────
    _REMOTE_SETTINGS = ("sandbox", "timeout", "notebook_timeout", "memory_gb", "cpu_seconds", "threads", "language",
                        "public_code", "public_data", "disk_mb", "max_pids")

    def _preprocess_remote(self, nb, resources):
        from . import remote

        work = Path(tempfile.mkdtemp(prefix="dlcourse-run-", dir=self.work_root or None))
        artifacts = work / "artifacts"
        artifacts.mkdir()
        payload = {"nb": nbformat.writes(nb), "student": str(resources.get("nbgrader", {}).get("student", "")),
                   "settings": {k: getattr(self, k) for k in self._REMOTE_SETTINGS},
                   "max_artifact_bytes": int(self.max_artifact_mb * 2**20)}
        result = remote.submit(self.scheduler, payload, self.device, timeout=self.notebook_timeout + 600,
                               kernels_per_gpu=self.kernels_per_gpu)
        for name, data in result["artifacts"].items():
            if "/" in name or name.startswith("."):
                continue                       # only plain names, inside the artifacts folder
            (artifacts / name).write_bytes(data)
        status = {**result["status"], "worker": result.get("worker")}
        resources["dlcourse"] = {"work": str(work), "artifacts": str(artifacts), "status": status,
                                 "notebook_dir": resources.get("metadata", {}).get("path")}
        return nbformat.reads(result["nb"], as_version=4), resources

    def _warm_parent(self, modules: list | None):
        """The warm parent for a notebook importing `modules` (its locked cells' imports), or None: cold."""
        if not (self.warm_parents and self.sandbox) or modules is None:
            return None
        from .measure import warm_key
        from .warm import pool
        from .measure import WARM_ALONGSIDE
        wanted = ["ipykernel.kernelapp", "numpy", *(m for m in modules if not m.split(".")[0] == "dlcourse")]
        for m in list(wanted):                  # what scoring the notebook will need too: one parent serves both
            wanted += [extra for extra in WARM_ALONGSIDE.get(m, ()) if extra not in wanted]
        wanted = tuple(dict.fromkeys(wanted))
        key = warm_key(self.public_code, self.public_data, self.language, self.gpu, self.gpu_devices or None,
                       self.threads)

        def make():
            return pool.WarmParent(wanted, dict(public_code=Path(self.public_code), public_data=Path(self.public_data),
                                                language=self.language, threads=self.threads,
                                                gpu_devices=self.gpu_devices or None),
                                   memory_gb=self.memory_gb, max_pids=self.max_pids, gpu=self.gpu)
        try:
            return pool.parent_for(wanted, key, make)
        except (pool.WarmUnavailable, sb.SandboxUnavailable, OSError) as exc:
            log.warning("kernels on the cold path: %s", str(exc)[:300])
            return None

    def _new_run(self, student: str | None, modules: list | None = None) -> dict:
        """Work folder, sandbox spec and status of one notebook run."""
        parent = self._warm_parent(modules)
        work = parent.slot("dlcourse-run-") if parent is not None else \
            Path(tempfile.mkdtemp(prefix="dlcourse-run-", dir=self.work_root or None))
        scratch, artifacts, runtime = work / "submission", work / "artifacts", work / "runtime"
        if len(str(runtime / "kernel-NN")) > SOCKET_PATH_MAX:
            # a deep work_root: the kernel's ipc sockets would pass the 107 bytes a Unix socket path may
            # have (ZMQ: "File name too long"), so the runtime folder gets a short one of its own
            runtime = Path(tempfile.mkdtemp(prefix="dlk-"))
            runtime.rmdir()
        for d in (scratch, artifacts, runtime):
            d.mkdir()
        # which paper a quiz shows (display only: the grader maps answers itself); a kernel started
        # ahead of need learns its student just before the notebook runs
        extra = {"DLCOURSE_STUDENT": student} if student is not None else {}
        spec = sb.SandboxSpec(scratch=scratch, artifacts=artifacts, runtime=runtime,
                              public_code=Path(self.public_code), public_data=Path(self.public_data),
                              limits=sb.Limits(self.memory_gb, self.cpu_seconds, self.threads, self.disk_mb,
                                               self.max_pids),
                              language=self.language, gpu=self.gpu, gpu_devices=self.gpu_devices or None,
                              extra_env=extra)
        status = {"kernel_dead": False, "notebook_timed_out": False, "skipped_cells": 0,
                  "sandboxed": self.sandbox, "seconds": None, "prestarted": False,
                  "gpu": self.gpu, "cuda_visible_devices": sb.kernel_env(spec)["CUDA_VISIBLE_DEVICES"],
                  "memory_exceeded": False, "memory_gb": self.memory_gb, "memory_caged": False}
        cage = sb.ProcessCage(work.name, self.max_pids, memory_gb=self.memory_gb) if self.sandbox else None
        if cage is not None:
            spec.cgroup_procs = cage.procs_files() or None
            spec.memory_caged = status["memory_caged"] = cage.memory_path is not None
        hook = runtime / OUTPUT_HOOK
        hook.write_text(_HOOK_SOURCE % (MAX_OUTPUT_BYTES, str(runtime / OUTPUT_MARKER)))
        return {"work": work, "spec": spec, "scratch": scratch, "artifacts": artifacts, "runtime": runtime,
                "status": status, "cage": cage, "output_hook": str(hook), "warm": parent}

    def _watch_disk(self, run, stop: threading.Event) -> None:
        """Stop the kernel when scratch + artifacts grow past disk_mb (a notebook filling the disk)."""
        limit = self.disk_mb * 2**20
        while not stop.wait(0.5):
            if _folder_bytes(run["scratch"], run["artifacts"]) > limit:
                run["status"]["disk_full"] = True
                _kill_run(run, getattr(self, "km", None))
                return

    def _settings_key(self) -> tuple:
        return tuple(getattr(self, k) for k in self._REMOTE_SETTINGS) + (self.gpu, self.gpu_devices, self.work_root)

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        if self.scheduler:
            return self._preprocess_remote(nb, resources)
        info = resources.get("nbgrader", {})
        student, assignment = str(info.get("student", "")), str(info.get("assignment", ""))
        warm = _take_warm((assignment, self._settings_key())) if self.prestart and km is None else None
        run = warm.run if warm else self._new_run(student, locked_imports(nb))
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
        original = copy.deepcopy(nb) if run.get("warm") is not None else None
        start_failed = None
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        except DeadKernelError:          # outside a cell (e.g. while starting): the cgroup may have ended it
            status["kernel_dead"] = True
            self._memory_exceeded()
            nb = self.nb
        except RuntimeError as exc:      # a warm kernel that never started (its walls): the cold path below
            if original is None or status.get("cells_started"):
                raise
            start_failed = str(exc)[:300]
        finally:
            stop.set()
            status["seconds"] = round(time.monotonic() - started, 2)
            if warm:
                warm.shutdown()
            # nothing the notebook started outlives it (background processes, a fork bomb's children);
            # every cage is removed, also after the kernel was killed
            cage = run.get("cage")
            status["killed_leftovers"] = cage.kill_all() if cage else 0
            if cage is not None and cage.path is not None:
                status["max_pids"] = self.max_pids
                status["pids_refused"] = cage.pids_refused()     # > 0: the pids limit stopped forks
            if cage is not None and cage.memory_path is not None:
                status["memory_peak_mb"] = round(cage.memory_peak() / 2**20)
            if status.get("disk_full"):
                shutil.rmtree(run["scratch"], ignore_errors=True)
            shutil.rmtree(run["runtime"], ignore_errors=True)
            if getattr(self, "_kernel_log", None):
                self._kernel_log.close()
            if self.prestart and assignment and _next_may_be(assignment):
                # the next submission's kernel starts now, while this one is scored
                _prepare_warm((assignment, self._settings_key()), self, warm_code(nb), locked_imports(nb))
        parent = run.get("warm")
        if original is not None and status.get("warm") and (start_failed or not parent.alive()):
            # the warm parent died under this notebook (killed, its sandbox ended), or its kernel never started:
            # not the student's doing.  The notebook runs again, cold, from the start.
            log.warning("a warm kernel failed (%s): the notebook runs again on the cold path",
                        start_failed or "its parent stopped")
            shutil.rmtree(run["work"], ignore_errors=True)
            again = {k: v for k, v in resources.items() if k != "dlcourse"}
            again["metadata"] = {**resources.get("metadata", {}), "path": resources["dlcourse"].get("notebook_dir")}
            self.warm_parents = False
            try:
                nb, resources = self.preprocess(original, again)
            finally:
                self.warm_parents = True
            resources["dlcourse"]["status"]["warm_parent_died" if not start_failed else "warm_start_failed"] = True
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
# What the batch runner says comes next in this process (autograde.py): a kernel is started ahead only
# when another submission of the same assignment will follow — never after the last one, where it would
# only cost a kernel start and the imports (and the process's exit would wait for it).  Plain
# `nbgrader autograde` says nothing: then a kernel is started ahead after every notebook, as before.
_NEXT = {"told": False, "assignment": None}


def expect_next(assignment: str | None) -> None:
    """The batch runner: the assignment of the next submission this process grades (None: no more)."""
    _NEXT.update(told=True, assignment=assignment)


def _next_may_be(assignment: str) -> bool:
    return not _NEXT["told"] or _NEXT["assignment"] == assignment
# One long-lived thread starts them: bubblewrap's --die-with-parent follows the *thread*
# that spawned it, so a short-lived thread would take its kernel down when it ends.
_STARTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlcourse-prestart")


def warm_code(nb) -> str:
    """Imports of the notebook's locked cells (the course's setup), run before the student's code.

    Only modules are loaded (``__import__``): no name is bound, so a student who forgot an import
    still gets the NameError they would get at home.
    """
    modules = locked_imports(nb)
    if not modules:
        return ""
    return "for _m in %r:\n    try:\n        __import__(_m)\n    except Exception:\n        pass\ndel _m" % (modules,)


def locked_imports(nb) -> list:
    """The modules the notebook's locked cells import (course cells: nbgrader restores them before a run)."""
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
    return modules


class _WarmKernel:
    """A fresh sandboxed kernel for the *next* submission, started in a background thread.

    Used once, by one student's notebook, then shut down: never reused across students.
    """

    def __init__(self, owner: "SandboxedExecute", code: str, modules: list | None = None):
        self.run = owner._new_run(None, modules)
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
            km.output_hook = run.get("output_hook")
            km.warm_run = run if run.get("warm") is not None else None
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


def _prepare_warm(key, owner, code: str, modules: list | None = None) -> None:
    old = _WARM.pop(key, None)
    if old is not None:
        old.discard()
    _WARM[key] = _WarmKernel(owner, code, modules)


@atexit.register
def _discard_all() -> None:
    for warm in list(_WARM.values()):
        warm.discard()
    _WARM.clear()
