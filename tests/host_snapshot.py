"""A listing of the host's files, to show that a test run changed nothing outside its temp folders.

    python tests/host_snapshot.py before.txt          # /, /usr, /etc and this checkout
    make test
    python tests/host_snapshot.py after.txt
    diff before.txt after.txt

Arguments: the output file, then the folders to list besides the system (default: the repository
root).  The top level of / (names only, no recursion) and all of /usr and /etc are always listed.
In the listed folders, entries named .venv, .cache, .git, __pycache__ and .pytest_cache are
skipped (with everything under them).  One line per entry, sorted, tab-separated:

    path  file  size  mtime_ns
    path  dir
    path  link  target
    path  other                     (sockets, FIFOs, devices)
    path  unreadable  error         (a folder that could not be listed)

Symbolic links are never followed.  tests/test_sandbox.py compares `system()` before and after
its sandbox probes.
"""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SKIP = frozenset({".venv", ".cache", ".git", "__pycache__", ".pytest_cache"})
SYSTEM = (("/", 1), ("/usr", None), ("/etc", None))


def _quote(path: str) -> str:
    return path.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _line(path: str, st: os.stat_result) -> str:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return f"{_quote(path)}\tfile\t{st.st_size}\t{st.st_mtime_ns}"
    if stat.S_ISDIR(mode):
        return f"{_quote(path)}\tdir"
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError as exc:
            target = f"? {exc.strerror}"
        return f"{_quote(path)}\tlink\t{_quote(target)}"
    return f"{_quote(path)}\tother"


def listing(root: str, depth: int | None = None, skip=frozenset()) -> list[str]:
    """Lines for `root` and what lies under it, `depth` levels down (None: all), unsorted."""
    try:
        lines = [_line(root, os.lstat(root))]
    except OSError as exc:
        return [f"{_quote(root)}\tunreadable\t{exc.strerror}"]
    stack = [(root, 0)] if os.path.isdir(root) and not os.path.islink(root) else []
    while stack:
        folder, level = stack.pop()
        if depth is not None and level >= depth:
            continue
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            lines.append(f"{_quote(folder)}\tunreadable\t{exc.strerror}")
            continue
        for entry in entries:
            if entry.name in skip:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                lines.append(f"{_quote(entry.path)}\tunreadable\t{exc.strerror}")
                continue
            lines.append(_line(entry.path, st))
            if stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, level + 1))
    return lines


def system() -> list[str]:
    """The top level of /, all of /usr and /etc, sorted."""
    return sorted({line for root, depth in SYSTEM for line in listing(root, depth)})


def snapshot(roots=None) -> list[str]:
    """The system listing and `roots` (default: the repository root), sorted."""
    lines = set(system())
    for root in roots or [str(REPO)]:
        lines.update(listing(os.path.abspath(root), None, SKIP))
    return sorted(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    out, roots = argv[0], argv[1:]
    lines = snapshot(roots)
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(lines)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
