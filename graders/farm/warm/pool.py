"""Grader side of the warm parents: start one per framework set, hand it jobs, cage each child.

`WarmParent` starts parent.py in a bubblewrap sandbox (sandbox.wrap, the kernel's walls plus
CAP_SYS_ADMIN inside its own user namespace) and its own cgroups.  `run()` hands it one job: the
parent forks; the grader finds the child's host PID and moves it into fresh cgroups of its own
(pids, memory: sandbox.ProcessCage) before it lets the child go on; the child puts up its walls and
runs; the grader waits for its exit code within the wall-time limit and then kills everything left in
the child's cgroups.  `parent_for()` keeps at most `MAX_PARENTS` per grader process, keyed by the
modules they imported; a parent that died or failed to start is replaced by the cold path for that job
(`WarmUnavailable`), never by a wrong grade.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import sandbox as sb

HERE = Path(__file__).resolve().parent
CODE_INSIDE = "/opt/dlcourse-warm"
HOLD = "/run/dlcourse-hold"           # an empty mountpoint: a child parks a folder there while it rebuilds its view
MAX_PARENTS = 1                       # a kernel's parent also serves its scoring jobs: one per grader process
PARENT_AS_GB = 2**16                  # no real address-space limit on the parent (its children set their own)
START_TIMEOUT = 600

log = logging.getLogger("dlcourse.warm")


class WarmUnavailable(RuntimeError):
    """No warm parent could run this job: the caller takes the cold path."""


def _nspid(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return [int(x) for x in line.split()[1:]]
    except (OSError, ValueError):
        pass
    return []


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def host_pid(root: int, inner: int, depth: int = 4) -> int | None:
    """The host PID of the process below `root` whose PID in its innermost namespace is `inner`."""
    level = [root]
    for _ in range(depth):
        nxt = []
        for pid in level:
            for child in _children(pid):
                ns = _nspid(child)
                if ns and ns[-1] == inner and len(ns) > 1:
                    return child
                nxt.append(child)
        level = nxt
    return None


# bubblewrap's --die-with-parent follows the *thread* that started it: one long-lived thread starts parents
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlcourse-warm")


class WarmChild:
    """One job's child as the grader holds it: its exit code once the parent reports it; signals go to the
    job's own process (PID 1 of the child's namespace), found by its host PID.  Quacks like the Popen that
    jupyter_client's provisioner keeps (poll, wait, send_signal, kill, terminate, pid)."""

    stdin = stdout = stderr = None

    def __init__(self, parent: "WarmParent", job_id: int, host: int, cage: sb.ProcessCage | None = None):
        self.parent, self.job_id, self.host, self.cage = parent, job_id, host, cage
        self.returncode: int | None = None
        self._job_pid: int | None = None

    @property
    def pid(self) -> int:
        return self.job_pid() or self.host

    def job_pid(self) -> int | None:
        """The host PID of the job's process (PID 2 of the child's namespace, below its init), once it exists."""
        if self._job_pid is None:
            self._job_pid = host_pid(self.host, 2, depth=2)
        return self._job_pid

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.parent._exit_code(self.job_id)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("warm child", timeout)
            with self.parent._cond:
                self.parent._cond.wait(0.1)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        import signal
        if signum == signal.SIGKILL:
            self.kill()
            return
        target = self.job_pid() or self.host
        if self.poll() is None:
            os.kill(target, signum)

    def kill(self) -> None:
        """Everything the child started, at once (as a cold sandbox's PID namespace ends with bubblewrap): every
        process in its cgroups, again until none is left (a fork bomb forks while it is killed)."""
        import signal
        if self.poll() is not None:          # reaped: its PIDs may belong to someone else by now
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = set(self.cage.pids()) if self.cage is not None else set()
            pids |= {p for p in (self.job_pid() if self.job_pid() else None, self.host) if p}
            alive = False
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    alive = True
                except OSError:
                    pass
            if not alive or self.cage is None or self.cage.path is None:
                break
            time.sleep(0.02)

    def terminate(self) -> None:
        import signal
        self.send_signal(signal.SIGTERM)


class WarmParent:
    def __init__(self, modules: tuple, spec_args: dict, memory_gb: float, max_pids: int, gpu: bool = False,
                 dumpable: bool = False):
        self.modules = tuple(modules)
        # in the system's temp folder whatever the grader's work_root: a kernel's ipc socket path must stay short
        self.slots = Path(tempfile.mkdtemp(prefix="dlw-"))
        self.slots.chmod(0o755)
        self._lock = threading.Lock()           # one spawn at a time (fork, cgroup move, go)
        self._cond = threading.Condition()      # messages from the parent's reader thread
        self._messages: dict = {}               # ("forked" | "exit", id) → message
        self._gone = False
        self._next = 0
        self.ready: dict = {}
        empty = self.slots / ".mountpoint"
        empty.mkdir()
        # the parent's own rlimits are only a ceiling its children lower for themselves (a child cannot raise a
        # hard limit): address space and file size unbounded here, CPU time very high; its cgroup holds it
        self.spec = sb.SandboxSpec(scratch=empty, artifacts=empty, runtime=self.slots,
                                   limits=sb.Limits(PARENT_AS_GB, 10**7, spec_args.get("threads", 1), 2**20, max_pids),
                                   admin_cap=True, ro_binds=((HERE, CODE_INSIDE), (empty, HOLD)), gpu=gpu,
                                   **{k: v for k, v in spec_args.items() if k not in ("disk_mb", "threads")})
        self.cage = sb.ProcessCage(f"warm-{self.slots.name}", max_pids, memory_gb=memory_gb)
        self.spec.cgroup_procs = self.cage.procs_files() or None
        self.spec.memory_caged = self.cage.memory_path is not None
        control = ["--dumpable"] if dumpable else []          # negative controls in the tests only
        cmd = sb.wrap([sys.executable, f"{CODE_INSIDE}/parent.py", *control, *self.modules], self.spec)
        self.log_path = self.slots / ".parent.log"
        started = time.monotonic()
        self.proc = _SPAWNER.submit(self._popen, cmd).result()
        threading.Thread(target=self._reader, daemon=True, name="dlcourse-warm-reader").start()
        msg = self._wait_for(("ready", 0), START_TIMEOUT)
        if not msg or not msg.get("ready"):
            self.close()
            raise WarmUnavailable(f"the warm parent did not start: {msg or self._log_tail()}")
        self.ready = {**msg, "start_seconds": round(time.monotonic() - started, 2)}
        self.host_pid = host_pid(self.proc.pid, int(msg["pid"]))
        if self.host_pid is None:
            self.close()
            raise WarmUnavailable("the warm parent's process was not found")

    def _popen(self, cmd):
        with open(self.log_path, "wb") as err:
            return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                    env=sb.kernel_env(self.spec), start_new_session=True)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-500:]
        except OSError:
            return "no log"

    def alive(self) -> bool:
        return not self._gone and self.proc.poll() is None

    # ── protocol ────────────────────────────────────────────────────────────
    def _send(self, message: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise WarmUnavailable(f"the warm parent is gone ({exc})") from None

    def _reader(self) -> None:
        """Every line the parent writes, filed by kind and job; at its end every waiter learns it is gone."""
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            key = ("ready", 0) if "ready" in msg else ("forked", msg.get("forked")) if "forked" in msg \
                else ("exit", msg.get("exit"))
            with self._cond:
                self._messages[key] = msg
                self._cond.notify_all()
        with self._cond:
            self._gone = True
            self._cond.notify_all()

    def _wait_for(self, key: tuple, timeout: float) -> dict | None:
        """The message `key`; None after `timeout`; WarmUnavailable when the parent is gone without it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while key not in self._messages:
                left = deadline - time.monotonic()
                if self._gone:
                    if key[0] == "ready":
                        return None
                    raise WarmUnavailable("the warm parent stopped")
                if left <= 0:
                    return None
                self._cond.wait(min(left, 1.0))
            return self._messages.pop(key)

    def _exit_code(self, job_id: int) -> int | None:
        with self._cond:
            msg = self._messages.get(("exit", job_id))
            if msg is not None:
                return msg.get("code")
            if self._gone:
                return -9                # the parent and so its children are gone
        return None

    # ── one job ─────────────────────────────────────────────────────────────
    def slot(self, prefix: str) -> Path:
        """A fresh folder for one job under the slots root (the only place a child's own folders come from)."""
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.slots))
        path.chmod(0o755)
        return path

    def spawn(self, job: dict, cage: sb.ProcessCage) -> WarmChild:
        """Fork a child for `job`, move it into `cage` and let it go.  WarmUnavailable when the parent cannot."""
        with self._lock:
            if not self.alive():
                raise WarmUnavailable("the warm parent has stopped")
            self._next += 1
            job_id = self._next
            self._send({**job, "op": "spawn", "id": job_id})
            msg = self._wait_for(("forked", job_id), 60)
            if not msg:
                raise WarmUnavailable("the warm parent did not fork")
            child = host_pid(self.host_pid, int(msg["pid"]), depth=1)
            if child is None:
                raise WarmUnavailable("the warm child was not found")
            try:
                for procs in cage.procs_files():
                    Path(procs).write_text(str(child))
            except OSError as exc:
                os.kill(child, 9)
                raise WarmUnavailable(f"the warm child could not join its cgroup: {exc}") from None
            self._send({"op": "go", "id": job_id})
            return WarmChild(self, job_id, child, cage)

    def run(self, job: dict, cage: sb.ProcessCage, wall_seconds: float) -> tuple[int | None, bool]:
        """Run one job in a fresh child: (exit code, timed out).  Raises WarmUnavailable when the parent
        cannot (the caller grades this job on the cold path)."""
        child = self.spawn(job, cage)
        try:
            msg = self._wait_for(("exit", child.job_id), wall_seconds)
            timed_out = msg is None
            if timed_out:
                cage.kill_all()
                msg = self._wait_for(("exit", child.job_id), 30)
        except WarmUnavailable:
            # the parent died under this job (killed, or its sandbox ended): not the student's doing
            cage.kill_all()
            raise
        return (msg.get("code") if msg else None), timed_out

    def close(self) -> None:
        try:
            if self.proc.poll() is None:         # asked first: the parent ends and reaps its children itself
                try:
                    self._send({"op": "stop"})
                    self.proc.wait(timeout=5)
                except (WarmUnavailable, subprocess.TimeoutExpired):
                    pass
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, 9)
                except OSError:
                    pass
                self.proc.wait(timeout=10)
        except Exception:                 # noqa: BLE001
            pass
        self.cage.kill_all()
        shutil.rmtree(self.slots, ignore_errors=True)


_PARENTS: dict[tuple, WarmParent] = {}
_PARENTS_LOCK = threading.Lock()


def parent_for(modules: tuple, key: tuple, make) -> WarmParent:
    """A live warm parent under settings `key` that has imported every module in `modules` (a kernel's parent
    serves its scoring jobs too); else one started with make().  At most MAX_PARENTS per process: the least
    recently used is closed first."""
    with _PARENTS_LOCK:
        for full in [f for f, p in _PARENTS.items() if not p.alive()]:
            _PARENTS.pop(full).close()
        for full, parent in list(_PARENTS.items()):
            if full[1] == key and set(modules) <= set(parent.ready.get("has", ())):
                _PARENTS[full] = _PARENTS.pop(full)      # most recently used last
                return parent
        while len(_PARENTS) >= MAX_PARENTS:
            _PARENTS.pop(next(iter(_PARENTS))).close()
        parent = make()
        _PARENTS[(tuple(modules), key)] = parent
        return parent


def child_job(kind: str, spec: sb.SandboxSpec, argv: list, env: dict, slots: Path, hide=(),
              runtime_at_host: bool = False) -> dict:
    """What a fresh child needs to run `argv` with the cold sandbox's view of `spec` (sandbox.wrap): its
    scratch at /submission and artifacts at /artifacts, fresh tmpfs over /tmp, /home, /dev/shm and the
    public scratch folders, every job slot hidden, the Python installation kept, the same limits.
    runtime_at_host: a kernel's runtime folder (its connection sockets) is put back at its host path."""
    size = int(spec.limits.disk_mb) * 2**20
    job = {"kind": kind, "argv": list(argv), "cwd": sb.SCRATCH, "env": {str(k): str(v) for k, v in env.items()},
           "binds": [[str(spec.scratch), sb.SCRATCH], [str(spec.artifacts), sb.ARTIFACTS]],
           "fresh": [[p, size] for p in ("/tmp", "/home", "/dev/shm", *sb.scratch_folders(spec.public_data))],
           "hide": [str(slots), *(str(h) for h in hide)], "mkdirs": [sb.HOME],
           "keep": [str(p) for p in sb.python_roots()],
           "limits": {"address_space": int(sb.address_space_gb(spec.limits.memory_gb, spec.memory_caged) * 2**30),
                      "cpu_seconds": int(spec.limits.cpu_seconds), "file_bytes": size}}
    if runtime_at_host:
        runtime = str(spec.runtime)
        job["binds"].append([runtime, HOLD])
        job["mkdirs"].append(runtime)
        job["rebinds"] = [[HOLD, runtime]]
    return job


def close_all() -> None:
    with _PARENTS_LOCK:
        while _PARENTS:
            _PARENTS.popitem()[1].close()


atexit.register(close_all)
