"""JupyterLab for the course, as staff and as students use it (`make lab`, `python -m graders lab`).

Staff: JupyterLab in the course root.  nbgrader's extensions are on: the Nbgrader menu
opens formgrader, which reads this course's gradebook (scores and messages written by
our autograde) through the root's nbgrader_config.py.

A student: JupyterLab in the student's own folder, as on a JupyterHub.  The folder gets
the student's nbgrader_config.py (course id and exchange — nothing from the grader
zone) so the Nbgrader ▸ Assignment List can fetch, validate and submit.

nbgrader's exchange knows a student by the OS account the server runs as, and a hub
never runs students as root.  Started by root, `--student ID` runs the server the way a
JupyterHub with the docker-stacks images does: as `jovyan` with JUPYTERHUB_USER=ID, in a
bubblewrap container (user, PID and IPC namespaces, no capabilities) that sees the
system, Python, the public course helper, the student's own folder (as /home/jovyan) and
of the exchange only the course's outbound and feedback (read-only) and, as its inbound, the
student's own inbound/<student>/ — not the course root, the gradebook, other students' folders or
their submissions.  JUPYTERHUB_USER names the student, but collect does not believe a name:
a submission is taken only if it is named for the inbound folder it was found in.
Started by anyone else, the server runs as that user, who must be the student (or
jovyan on a hub image).
"""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import PUBLIC_DIR
from .config import ConfigError, CourseConfig
from .intake.exchange import student_nbgrader_config


HUB_ACCOUNT = "jovyan"      # the user of the Jupyter docker-stacks images
HUB_UID = 1000
HUB_HOME = "/home/jovyan"


def _check_student_id(student: str) -> None:
    if not student or student.startswith(".") or not all(ch.isalnum() or ch in "_.-" for ch in student):
        raise ConfigError(f"--student {student!r}: Fix: give a plain student id (letters, digits, _ . -)")


def hub_container(cmd: list[str], cfg: CourseConfig, student: str, home: Path, runtime: Path) -> list[str]:
    """`cmd` wrapped as a hub would run a student's server (see the module text)."""
    from .farm.sandbox import SandboxUnavailable, _python_roots, _system_binds
    from .farm.sandbox import PUBLIC_CODE, PUBLIC_DATA

    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    # an /etc/passwd of the container: jovyan is uid 1000, as in the hub images
    passwd = runtime / "passwd"
    passwd.write_text(f"root:x:0:0:root:/root:/bin/sh\n{HUB_ACCOUNT}:x:{HUB_UID}:{HUB_UID}::{HUB_HOME}:/bin/bash\n"
                      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    group = runtime / "group"
    group.write_text(f"root:x:0:\nusers:x:100:\n{HUB_ACCOUNT}:x:{HUB_UID}:\nnogroup:x:65534:\n")
    args = [bwrap, "--unshare-user", "--uid", str(HUB_UID), "--gid", str(HUB_UID),
            "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--cap-drop", "ALL", "--clearenv"]
    args += _system_binds()
    args += ["--ro-bind", str(passwd), "/etc/passwd", "--ro-bind", str(group), "/etc/group",
             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/home"]
    for root in _python_roots():
        args += ["--ro-bind", str(root), str(root)]
    args += ["--ro-bind", str(PUBLIC_DIR), PUBLIC_CODE,
             "--ro-bind", str(cfg.public_data_dir), PUBLIC_DATA,
             "--bind", str(home), HUB_HOME, "--chdir", HUB_HOME]
    # the exchange as a hub should mount it: a private, writable root (nbgrader wants to write there),
    # the course's outbound read-only, and as the inbound only this student's own folder inbound/<student>/
    # — classmates' submissions are out of reach, and a submission under another name is refused at collect
    from .intake.exchange import course_paths, make_inbound_folders
    paths = course_paths(cfg)
    own_inbound = make_inbound_folders(cfg, [student])[1][0]
    # feedback/ read-only, as nbgrader makes it (o+x, not o+r): a student reaches a page only by the
    # name made from their own submission's secret (Fetch Feedback), and cannot list the others
    feedback = paths["course"] / "feedback"
    if not feedback.is_dir() or feedback.is_symlink():
        if feedback.is_symlink():
            feedback.unlink()
        feedback.mkdir(mode=0o711)
        os.chmod(feedback, 0o711)
    args += ["--tmpfs", str(paths["root"]), "--ro-bind", str(paths["outbound"]), str(paths["outbound"]),
             "--bind", str(own_inbound), str(paths["inbound"]), "--ro-bind", str(feedback), str(feedback)]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": HUB_HOME,
           "USER": HUB_ACCOUNT, "LOGNAME": HUB_ACCOUNT, "JUPYTERHUB_USER": student, "LANG": "C.UTF-8",
           "PYTHONPATH": PUBLIC_CODE, "DLCOURSE_DATA": PUBLIC_DATA, "DLCOURSE_LANG": cfg.language,
           "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_OFFLINE": "1", "KERAS_BACKEND": "tensorflow"}
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--"] + cmd


@dataclass
class LabCommand:
    argv: list
    env: dict
    cwd: Path
    url: str
    token: str


def lab_command(cfg: CourseConfig, *, student: str | None = None, home: Path | None = None,
                port: int = 8888, ip: str = "127.0.0.1", token: str | None = None) -> LabCommand:
    token = token or secrets.token_hex(16)
    env = {**os.environ}
    # students' kernels import the public course helper (on a JupyterHub: pip install ./public)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PUBLIC_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    wrap = None
    extensions = []
    if student is None:
        cwd = cfg.root
        root_dir = str(cwd)
        # formgrader's submission pages render on a thread of their own, not the server's event loop
        extensions = ["--ServerApp.jpserver_extensions=graders.formgrader_render=True"]
        here = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], here])
    else:
        _check_student_id(student)
        if not cfg.exchange_dir.is_dir():
            raise ConfigError(f"the exchange {cfg.exchange_dir} does not exist yet. Fix: release an assignment into "
                              "it first (python -m graders exchange release A)")
        cwd = Path(home) if home else cfg.root / ".lab" / student
        cwd.mkdir(parents=True, exist_ok=True)
        (cwd / "nbgrader_config.py").write_text(student_nbgrader_config(cfg))
        root_dir = str(cwd)
        if os.geteuid() == 0:
            runtime = cfg.root / ".lab" / f".{student}-runtime"
            runtime.mkdir(parents=True, exist_ok=True)
            root_dir = HUB_HOME
            wrap = lambda cmd: hub_container(cmd, cfg, student, cwd, runtime)  # noqa: E731
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            if me not in (student, HUB_ACCOUNT):
                raise ConfigError(f"--student {student}: this server would run as {me!r}, and nbgrader's exchange "
                                  f"would file the work under that name. Fix: start it as the OS user {student!r} "
                                  f"(or as root: it then runs the student in a hub-like container)")
            env.update(JUPYTERHUB_USER=student, HOME=str(cwd))
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser",
            f"--ServerApp.ip={ip}", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            # the quiz's click-to-answer widgets (dlcourse.quiz_widgets) write the clicked answer into their
            # cell through the app object; without it they show the line to type instead
            "--LabApp.expose_app_in_browser=True", *extensions]
    if wrap:
        argv = wrap(argv)
    elif os.geteuid() == 0:
        argv.append("--allow-root")
    return LabCommand(argv=argv, env=env, cwd=cwd, url=f"http://{ip}:{port}/lab?token={token}", token=token)
