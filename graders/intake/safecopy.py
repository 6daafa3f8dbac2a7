"""Student folders copied as data: regular files only, never a link, a pipe, a device or a hard link.

Everything in the exchange's inbound folder (and in an LMS download) was written by a student.
nbgrader's own collect copies it with `shutil.copytree`, which follows symbolic links (a link to
/proc/self/cwd/source/... brought the instructor notebook) and opens FIFOs (collect hung) and
devices (/dev/zero filled the disk).  Here every name is looked at with lstat and opened relative
to its parent folder's descriptor with O_NOFOLLOW | O_NONBLOCK, and the open file is checked again
with fstat (same inode, a regular file, one link, not too big) before a byte is read — a name
swapped for a link between the two looks is refused too.  Folders are opened the same way.

What is refused is listed, one (path, reason) each, and the rest is copied: one student's odd
file never stops the class.  `newest_ctime` is the latest status-change time of anything in the
tree (lstat, so links and pipes count too): the kernel sets ctime to "now" on every change,
and no call (utime, touch) can set it back, so it is a submission time a student cannot back-date.
"""
from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 100 * 2 ** 20        # one file (a notebook with outputs is a few MB)
MAX_TOTAL_BYTES = 500 * 2 ** 20       # one submission
MAX_ENTRIES = 2000                    # names in one submission, folders included
MAX_DEPTH = 10
IGNORE = (".ipynb_checkpoints", "__pycache__", "*.pyc", "feedback", ".DS_Store")   # nbgrader's CourseDirectory.ignore
CHUNK = 1 << 20

_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_OPEN_DIR = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)

# reasons (keys into intake.STAFF as "refused_<reason>")
SYMLINK, FIFO, DEVICE, SOCKET, HARDLINK, TOO_BIG, TOO_MANY, TOO_DEEP, CHANGED, UNREADABLE, TOTAL = (
    "symlink", "fifo", "device", "socket", "hardlink", "too_big", "too_many", "too_deep", "changed",
    "unreadable", "total")


def odd_kind(st: os.stat_result) -> str | None:
    """None for a regular file or a folder, else why it is refused."""
    mode = st.st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return SYMLINK
    if stat.S_ISFIFO(mode):
        return FIFO
    if stat.S_ISSOCK(mode):
        return SOCKET
    return DEVICE


def shown(name: str, limit: int = 120) -> str:
    """A student's file name as it may appear in a staff line: printable, bounded."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Tree:
    files: list[str] = field(default_factory=list)               # copied, relative '/' paths
    refused: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    newest_ctime: float = 0.0
    size: int = 0


def open_regular(dir_fd: int | None, name: str, limit: int = MAX_FILE_BYTES,
                 seen: os.stat_result | None = None) -> tuple[int | None, str | None, os.stat_result | None]:
    """(fd, None, st) for a regular file with one link and at most `limit` bytes, else (None, reason, st)."""
    try:
        st = seen or os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None, UNREADABLE, None
    why = odd_kind(st)
    if why is None and not stat.S_ISREG(st.st_mode):
        why = UNREADABLE
    if why is None and st.st_nlink > 1:
        why = HARDLINK
    if why is None and st.st_size > limit:
        why = TOO_BIG
    if why:
        return None, why, st
    try:
        fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    except OSError as exc:
        return None, (SYMLINK if exc.errno == errno.ELOOP else UNREADABLE), st
    now = os.fstat(fd)
    why = odd_kind(now) or (HARDLINK if now.st_nlink > 1 else None) or (TOO_BIG if now.st_size > limit else None)
    if why is None and (now.st_ino, now.st_dev) != (st.st_ino, st.st_dev):
        why = CHANGED
    if why:
        os.close(fd)
        return None, why, now
    return fd, None, now


def read_capped(fd: int, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """All of the file, or None if it holds more than `limit` bytes (it may grow after fstat). Closes fd."""
    chunks, total = [], 0
    try:
        while True:
            block = os.read(fd, CHUNK)
            if not block:
                return b"".join(chunks)
            total += len(block)
            if total > limit:
                return None
            chunks.append(block)
    finally:
        os.close(fd)


def read_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | str:
    """One file of a download: its bytes, or the reason it is refused.  The folder above is staff's."""
    try:
        parent = os.open(path.parent, _OPEN_DIR)
    except OSError:
        return UNREADABLE
    try:
        fd, why, _ = open_regular(parent, path.name, limit)
    finally:
        os.close(parent)
    if why:
        return why
    data = read_capped(fd, limit)
    return TOO_BIG if data is None else data


def ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in IGNORE)


def copy_tree(src: Path, dest: Path | None, *, max_file: int = MAX_FILE_BYTES, max_total: int = MAX_TOTAL_BYTES,
              max_entries: int = MAX_ENTRIES) -> Tree:
    """Copy the regular files of `src` (a student's folder) into `dest` (created; None: only look).

    `src` itself must be a real folder (not a link): otherwise nothing is copied and it is refused as "".
    """
    tree = Tree()
    try:
        top = os.open(src, _OPEN_DIR)
    except OSError as exc:
        tree.refused.append(("", SYMLINK if exc.errno in (errno.ELOOP, errno.ENOTDIR) else UNREADABLE))
        return tree
    count = [0]
    try:
        tree.newest_ctime = os.fstat(top).st_ctime
        if dest is not None:
            dest.mkdir(parents=True, exist_ok=True)
        _walk(top, "", dest, tree, 0, count, max_file, max_total, max_entries)
    finally:
        os.close(top)
    return tree


def _walk(dir_fd: int, rel: str, dest: Path | None, tree: Tree, depth: int, count: list, max_file: int,
          max_total: int, max_entries: int) -> None:
    try:
        names = sorted(os.listdir(dir_fd))
    except OSError:
        tree.refused.append((rel or ".", UNREADABLE))
        return
    for name in names:
        path = f"{rel}/{name}" if rel else name
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            tree.refused.append((path, UNREADABLE))
            continue
        tree.newest_ctime = max(tree.newest_ctime, st.st_ctime)
        count[0] += 1
        if count[0] > max_entries:
            tree.refused.append((path, TOO_MANY))
            return
        if ignored(name) and (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth + 1 >= MAX_DEPTH:
                tree.refused.append((path, TOO_DEEP))
                continue
            try:
                sub = os.open(name, _OPEN_DIR, dir_fd=dir_fd)
            except OSError as exc:
                tree.refused.append((path, SYMLINK if exc.errno in (errno.ELOOP, errno.ENOTDIR) else UNREADABLE))
                continue
            try:
                if (os.fstat(sub).st_ino, os.fstat(sub).st_dev) != (st.st_ino, st.st_dev):
                    tree.refused.append((path, CHANGED))
                    continue
                target = None
                if dest is not None:
                    target = dest / name
                    target.mkdir(exist_ok=True)
                _walk(sub, path, target, tree, depth + 1, count, max_file, max_total, max_entries)
            finally:
                os.close(sub)
            continue
        fd, why, now = open_regular(dir_fd, name, max_file, seen=st)
        if why:
            tree.refused.append((path, why))
            continue
        if tree.size + now.st_size > max_total:
            os.close(fd)
            tree.refused.append((path, TOTAL))
            continue
        if dest is None:
            os.close(fd)
            tree.files.append(path)
            continue
        written = _copy_fd(fd, dest / name, max_file)
        if written is None:
            tree.refused.append((path, TOO_BIG))
            continue
        tree.size += written
        tree.files.append(path)


def _copy_fd(fd: int, target: Path, limit: int) -> int | None:
    """Stream an open file into `target` (a new file, mode 0644); None (and nothing left) past `limit`."""
    total = 0
    try:
        with open(target, "wb") as out:
            while True:
                block = os.read(fd, CHUNK)
                if not block:
                    break
                total += len(block)
                if total > limit:
                    break
                out.write(block)
    finally:
        os.close(fd)
    if total > limit:
        target.unlink(missing_ok=True)
        return None
    os.chmod(target, 0o644)
    return total
