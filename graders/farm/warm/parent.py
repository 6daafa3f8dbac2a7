"""The warm parent: imports the frameworks once, then only forks (runs inside its sandbox).

    python parent.py MODULE [MODULE ...]

Started by pool.py inside a bubblewrap sandbox with the kernel's walls (plus CAP_SYS_ADMIN inside
its own user namespace, which each child uses to build its own mount namespace and then drops).
It reads no student byte and runs no framework op: it imports the named modules, freezes what
it holds (``gc.freeze``), makes itself non-dumpable (no ptrace, no ``/proc/<pid>/mem``), checks it
is still single-threaded (a fork of a process with threads could deadlock in the child), says
``ready`` and then serves the grader, one JSON line per message:

    grader → parent   {"op": "spawn", "id": N, ...job}      parent → grader   {"forked": N, "pid": P}
    grader → parent   {"op": "go", "id": N}                  parent → grader   {"exit": N, "code": C}
    grader → parent   {"op": "stop"}

Between ``forked`` and ``go`` the child waits on a pipe while the grader moves it into cgroups
of its own; only then does it put up its walls (walls.py) and run the job.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import select
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import walls  # noqa: E402

sys.path.remove(HERE)


def _send(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


def _lines(fd: int, buffer: bytearray):
    chunk = os.read(fd, 1 << 16)
    if not chunk:
        return None
    buffer.extend(chunk)
    out = []
    while b"\n" in buffer:
        line, _, rest = bytes(buffer).partition(b"\n")
        buffer[:] = rest
        out.append(json.loads(line))
    return out


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code          # killed by signal N → 128 + N, as a shell reports it


def _child(job: dict, go_fd: int, ctl: tuple) -> None:
    """The forked child: wait for the grader's go, put up the walls, run the job; never returns."""
    code = 125
    try:
        walls._libc.prctl(walls.PR_SET_PDEATHSIG, 9, 0, 0, 0)
        for fd in ctl:
            os.close(fd)
        if os.read(go_fd, 1) != b"g":        # the grader gave up on this child (or died)
            os._exit(125)
        os.close(go_fd)
        os.setsid()
        skip = tuple(job.get("skip", ()))
        walls.unshare_namespaces(skip)
        walls.build_view(job)
        pid = os.fork()                      # PID 1 of the new namespace: a minimal init
        if pid == 0:
            _init(job)
        walls.only_standard_fds(None)
        _, status = os.waitpid(pid, 0)
        code = _exit_code(status)
    except BaseException as exc:             # noqa: BLE001 — nothing may return into the parent's loop
        try:
            os.write(2, f"warm child: {type(exc).__name__}: {exc}\n".encode()[:500])
        except OSError:
            pass
    os._exit(code)


def _init(job: dict) -> None:
    """PID 1 of the child's namespace, as bubblewrap has one: without capabilities, it starts the job as PID 2,
    reaps what the job leaves behind and ends with the job's exit code (the kernel then ends everything else in
    the namespace).  The job is not PID 1, so it can kill itself and its orphans are reaped, as in a cold sandbox."""
    code = 125
    try:
        walls._libc.prctl(walls.PR_SET_PDEATHSIG, 9, 0, 0, 0)      # the namespace ends with the child above it
        if "caps" not in job.get("skip", ()):
            walls.drop_privileges()
        walls.only_standard_fds(None)
        pid = os.fork()
        if pid == 0:
            _job(job)
        while True:
            try:
                done, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if done == pid:
                code = _exit_code(status)
                break
    except BaseException:                    # noqa: BLE001
        pass
    os._exit(code)


def _job(job: dict) -> None:
    code = 125
    try:
        walls.set_limits(job.get("limits", {}))
        if "caps" not in job.get("skip", ()):
            walls.drop_privileges()
        walls.only_standard_fds(job.get("log"))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in job.get("env", {}).items()})
        os.chdir(job.get("cwd", "/"))
        walls.fresh_seeds()
        code = _run(job)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:             # noqa: BLE001
        try:
            os.write(2, f"warm child: {type(exc).__name__}: {exc}\n".encode()[:500])
        except OSError:
            pass
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:                        # noqa: BLE001
        pass
    os._exit(code)


def _run(job: dict) -> int:
    import runpy
    argv = [str(a) for a in job["argv"]]
    if job.get("kind") == "kernel":          # an IPython kernel, as `python -m ipykernel_launcher -f FILE`
        sys.argv = ["ipykernel_launcher", *argv]
        sys.path[:] = [""] + [p for p in sys.path if p not in ("", HERE)]     # as `python -m` sets it
        from ipykernel import kernelapp
        kernelapp.launch_new_instance(argv=argv)
        return 0
    sys.argv = argv
    sys.path[:] = [os.path.dirname(argv[0])] + [p for p in sys.path if p not in ("", HERE)]
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _end_children(children: dict) -> None:
    """Kill and reap every child still running, so that none is left behind as an orphan or a zombie."""
    for pid in children:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def main(modules: list[str]) -> None:
    dumpable = modules[:1] == ["--dumpable"]          # the tests' negative control only
    modules = modules[1:] if dumpable else modules
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)                            # what an import prints goes to the log, not the protocol
    os.close(null)
    walls._libc.prctl(walls.PR_SET_DUMPABLE, int(dumpable), 0, 0, 0)
    start = time.monotonic()
    failed = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:             # noqa: BLE001 — a child imports it again and sees the error itself
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    gc.collect()
    gc.freeze()
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        _send(ctl_out, {"ready": False, "error": f"{threads} threads after the imports: forking is not safe"})
        return
    _send(ctl_out, {"ready": True, "pid": os.getpid(), "seconds": round(time.monotonic() - start, 2),
                    "failed": failed, "dumpable": walls._libc.prctl(3, 0, 0, 0, 0),    # PR_GET_DUMPABLE
                    "has": sorted(sys.modules)})
    go: dict[int, int] = {}
    children: dict[int, int] = {}
    buffer = bytearray()
    while True:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            job_id = children.pop(pid, None)
            if job_id is not None:
                fd = go.pop(job_id, None)
                if fd is not None:
                    os.close(fd)
                _send(ctl_out, {"exit": job_id, "code": _exit_code(status)})
        ready, _, _ = select.select([ctl_in], [], [], 0.05 if children else 1.0)
        if not ready:
            continue
        messages = _lines(ctl_in, buffer)
        if messages is None:                 # the grader is gone: so are we, and our children
            _end_children(children)
            return
        for msg in messages:
            op = msg.get("op")
            if op == "stop":
                _end_children(children)
                return
            if op == "spawn":
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(w)
                    _child(msg, r, (ctl_in, ctl_out, *go.values()))
                os.close(r)
                go[msg["id"]] = w
                children[pid] = msg["id"]
                _send(ctl_out, {"forked": msg["id"], "pid": pid})
            elif op == "go":
                fd = go.pop(msg["id"], None)
                if fd is not None:
                    os.write(fd, b"g")
                    os.close(fd)


if __name__ == "__main__":
    main(sys.argv[1:])
