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
MAX_PARENTS = 2
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


class WarmParent:
    def __init__(self, modules: tuple, spec_args: dict, memory_gb: float, max_pids: int, gpu: bool = False,
                 dumpable: bool = False):
        self.modules = tuple(modules)
        self.slots = Path(tempfile.mkdtemp(prefix="dlcourse-warm-"))
        self.slots.chmod(0o755)
        self._lock = threading.Lock()
        self._next = 0
        self._buffer = bytearray()
        self.ready: dict = {}
        empty = self.slots / ".mountpoint"
        empty.mkdir()
        self.spec = sb.SandboxSpec(scratch=empty, artifacts=empty, runtime=self.slots,
                                   limits=sb.Limits(memory_gb, 10**7, 1, spec_args.get("disk_mb", 512), max_pids),
                                   admin_cap=True, ro_binds=((HERE, CODE_INSIDE),), gpu=gpu,
                                   **{k: v for k, v in spec_args.items() if k != "disk_mb"})
        self.cage = sb.ProcessCage(f"warm-{self.slots.name}", max_pids, memory_gb=memory_gb)
        self.spec.cgroup_procs = self.cage.procs_files() or None
        self.spec.memory_caged = self.cage.memory_path is not None
        control = ["--dumpable"] if dumpable else []          # negative controls in the tests only
        cmd = sb.wrap([sys.executable, f"{CODE_INSIDE}/parent.py", *control, *self.modules], self.spec)
        self.log_path = self.slots / ".parent.log"
        started = time.monotonic()
        self.proc = _SPAWNER.submit(self._popen, cmd).result()
        try:
            msg = self._read(timeout=START_TIMEOUT)
        except WarmUnavailable:
            msg = None
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
        return self.proc.poll() is None

    # ── protocol ────────────────────────────────────────────────────────────
    def _send(self, message: dict) -> None:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise WarmUnavailable(f"the warm parent is gone ({exc})") from None

    def _read(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:            # the parent's end closed: it is gone (not a timeout)
                    raise WarmUnavailable("the warm parent stopped")
                self._buffer.extend(chunk)
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer[:] = rest
        try:
            return json.loads(line)
        except ValueError:
            return None

    # ── one job ─────────────────────────────────────────────────────────────
    def slot(self, prefix: str) -> Path:
        """A fresh folder for one job under the slots root (the only place a child's own folders come from)."""
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.slots))
        path.chmod(0o755)
        return path

    def run(self, job: dict, cage: sb.ProcessCage, wall_seconds: float) -> tuple[int | None, bool]:
        """Run one job in a fresh child: (exit code, timed out).  Raises WarmUnavailable when the parent
        cannot (the caller grades this job on the cold path)."""
        with self._lock:
            if not self.alive():
                raise WarmUnavailable("the warm parent has stopped")
            self._next += 1
            job_id = self._next
            self._send({**job, "op": "spawn", "id": job_id})
            msg = self._read(timeout=60)
            if not msg or msg.get("forked") != job_id:
                raise WarmUnavailable(f"the warm parent did not fork: {msg}")
            child = host_pid(self.host_pid, int(msg["pid"]), depth=1)
            if child is None:
                raise WarmUnavailable("the warm child was not found")
            try:
                for procs in cage.procs_files():
                    Path(procs).write_text(str(child))
            except OSError as exc:
                os.kill(child, 9)
                try:
                    self._read(timeout=30)
                except WarmUnavailable:
                    pass
                raise WarmUnavailable(f"the warm child could not join its cgroup: {exc}") from None
            self._send({"op": "go", "id": job_id})
            try:
                msg = self._read(timeout=wall_seconds)
                timed_out = msg is None
                if timed_out:
                    cage.kill_all()
                    msg = self._read(timeout=30)
            except WarmUnavailable:
                # the parent died under this job (killed, or its sandbox ended): not the student's doing
                cage.kill_all()
                raise
            code = msg.get("code") if msg and msg.get("exit") == job_id else None
            return code, timed_out

    def close(self) -> None:
        try:
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
    """The warm parent for `modules` under settings `key`, started with make() when there is none."""
    full = (tuple(modules), key)
    with _PARENTS_LOCK:
        parent = _PARENTS.get(full)
        if parent is not None and not parent.alive():
            _PARENTS.pop(full).close()
            parent = None
        if parent is None:
            while len(_PARENTS) >= MAX_PARENTS:
                _PARENTS.pop(next(iter(_PARENTS))).close()
            parent = make()
            _PARENTS[full] = parent
        else:
            _PARENTS[full] = _PARENTS.pop(full)          # most recently used last
        return parent


def close_all() -> None:
    with _PARENTS_LOCK:
        while _PARENTS:
            _PARENTS.popitem()[1].close()


atexit.register(close_all)
