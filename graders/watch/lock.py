"""One service per course: an exclusive lock held for the service's whole life.

`fcntl.flock` on `<course root>/.watch.lock`: the kernel releases it when the process ends in any
way (kill -9 included), so a crashed service never blocks its restart.  The file says who holds
it (pid, host, start), for the message the second service prints.  A service on another machine
that shares the course's database is caught by the heartbeat row (service.py) instead.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path

LOCK_NAME = ".watch.lock"


class AlreadyRunning(RuntimeError):
    def __init__(self, holder: dict, path: Path):
        self.holder, self.path = holder, path
        who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('started', '?')}"
        super().__init__(
            f"another grading service is already running for this course ({who}; lock {path}). "
            "Only one may run: two would grade the same submissions twice. "
            "Fix: stop it first (systemctl stop dlcourse-watch, or kill that pid), or use its queue "
            "(the dashboard shows it)")


class ServiceLock:
    def __init__(self, root: Path):
        self.path = Path(root) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "ServiceLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "{}")
            except ValueError:
                holder = {}
            os.close(fd)
            raise AlreadyRunning(holder if isinstance(holder, dict) else {}, self.path) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
