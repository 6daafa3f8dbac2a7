"""`python -m graders <verb>` — one verb per step of the flow.

  assets                         build the offline data (cached)
  release [ASSIGNMENT]           source/ → release/ (nbgrader generate_assignment)
  autograde ASSIGNMENT [...] [--student S ...] [--workers N] [--scheduler ADDR] [--force] [--no-sandbox]
  feedback [ASSIGNMENT] [--student S ...]
  scores [--json] [--assignment A] [--student S] [--as-student]
  watch [--workers N] [--scheduler ADDR] [--drain]   grade on submit: exchange → farm → feedback, until SIGTERM
  demo                           release → simulated class submits → autograde → feedback → summary
  lab [--student ID] [--port N]  JupyterLab with nbgrader's extensions, as staff or as a student
  quiz check|coverage [QUIZ]     validate a quiz bank / write docs/quiz_coverage.md
  exchange release|collect A     nbgrader exchange: release/<A> → students; their newest submissions → submitted/
  exchange inbound [--student ID]   per-student inbound folders (identity on a shared-uid hub)
  exchange student-config [--out FILE]   the nbgrader_config.py students need
  import-lms PATH --assignment A         an LMS download (zip or folder) → submitted/
  report [--out FILE] [--lang ko|en]              staff dashboard: one self-contained HTML file
  export --csv FILE                               grades as CSV for an LMS gradebook
  serve [--port N] [--host H] [--token T]         the dashboard live, read-only, behind a token
  config [--schema [--markdown]]                  check course_config.py / print every setting it takes
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _console():
    from rich.console import Console
    import shutil
    # piped to a log, a message stays on one line (staff grep it; paths are long)
    return Console(highlight=False, width=max(160, shutil.get_terminal_size((160, 40)).columns),
                   soft_wrap=not sys.stdout.isatty())


def _load(args):
    from .course import load_config
    return load_config(args.config)


def _require_assets(cfg):
    from .assets import build
    build(cfg, log=lambda m: _console().print(f"[dim]{m}[/dim]"))


def _check_sandbox(cfg, no_sandbox: bool):
    from .config import ConfigError
    from .farm.sandbox import SandboxUnavailable, probe
    from .nbgrader_settings import NO_SANDBOX_ENV, sandbox_enabled, sandbox_refusal

    if no_sandbox:
        os.environ[NO_SANDBOX_ENV] = "1"
        _console().print("[bold yellow]Warning: --no-sandbox — student code runs unconfined on this machine.[/]")
        return
    if not sandbox_enabled(cfg):
        raise ConfigError(f"{cfg.path}: SANDBOX['enabled'] is False. Fix: set it to True, or pass --no-sandbox "
                          "to confirm you want student code to run unconfined")
    try:
        probe()
    except SandboxUnavailable as exc:
        raise ConfigError(sandbox_refusal(exc)) from None


def cmd_assets(args) -> int:
    from .assets import build
    build(_load(args), force=args.force, log=_console().print)
    return 0


def cmd_release(args) -> int:
    from .release import release
    cfg = _load(args)
    _require_assets(cfg)
    for name in ([args.assignment] if args.assignment else list(cfg.assignments)):
        out = release(cfg, name)
        _console().print(f"released {name} → {out.relative_to(cfg.root)}")
    return 0


def _report_batch(batch) -> int:
    con = _console()
    ok = len(batch.outcomes) - len(batch.failed)
    skipped = f" ({len(batch.skipped)} unchanged since their last grading, skipped; --force regrades)" \
        if batch.skipped else ""
    con.print(f"{batch.assignment}: graded {ok}/{len(batch.outcomes)} submissions{skipped}"
              + (f", {len(batch.failed)} with errors:" if batch.failed else ""))
    for o in batch.failed:
        con.print(f"  [red]✗ {o.student}[/red]: {o.error}")
    return 1 if batch.failed else 0


def cmd_autograde(args) -> int:
    from .config import ConfigError
    from .farm.autograde import autograde_many
    cfg = _load(args)
    _require_assets(cfg)
    _check_sandbox(cfg, args.no_sandbox)
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: Fix: give 1 or more grader processes")
    batches = autograde_many(cfg, args.assignment, students=args.student or None, progress=not args.quiet,
                             workers=args.workers or 1, scheduler=args.scheduler, force=args.force)
    return max(_report_batch(b) for b in batches.values())


def cmd_feedback(args) -> int:
    from .farm.autograde import nbgrader_api
    cfg = _load(args)
    api = nbgrader_api(cfg)
    if args.as_of:
        from .config import ConfigError, parse_time
        try:
            api.config.ApplyVisibility.as_of = parse_time(args.as_of).isoformat()
        except Exception:
            raise ConfigError(f"--as-of {args.as_of!r}: Fix: a time with its UTC offset, e.g. "
                              "'2026-12-05 09:00:00+09:00'") from None
    failed = 0
    for name in ([args.assignment] if args.assignment else list(cfg.assignments)):
        graded = cfg.root / "autograded"
        students = args.student or sorted(p.name for p in graded.iterdir() if (p / name).is_dir()) \
            if graded.is_dir() else []
        for student in students:
            res = api.generate_feedback(name, student, force=True)
            if not res.get("success"):
                failed += 1
                _console().print(f"[red]✗ feedback {name}/{student}[/red]: {(res.get('error') or '')[-300:]}")
        _console().print(f"feedback {name}: {len(students) - failed}/{len(students)} written to feedback/")
    return 1 if failed else 0


def cmd_scores(args) -> int:
    from .gradebook import scores
    cfg = _load(args)
    if args.as_student:
        return _student_scores(cfg, args)
    rows = scores(cfg.db_url, assignment=args.assignment, student=args.student)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    from rich.table import Table
    table = Table(title="scores")
    for col in ("student", "assignment", "notebook", "cell", "score", "max_score"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["student"], r["assignment"], r["notebook"], r["cell"], f"{r['score']:g}", f"{r['max_score']:g}")
    _console().print(table)
    return 0


def _student_scores(cfg, args) -> int:
    """Per check, as the student may see it now (VISIBILITY): hidden checks left out, withheld ones blank."""
    from .config import ConfigError
    from .gradebook import check_rows
    from .visibility import student_rows
    if not args.student:
        raise ConfigError("scores --as-student: Fix: name the student, e.g. --student kim01 --as-student")
    rows = student_rows(cfg, check_rows(cfg.db_url, assignment=args.assignment, student=args.student))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    from rich.table import Table
    table = Table(title=f"scores of {args.student} as they see them")
    for col in ("assignment", "notebook", "check", "score", "max_score"):
        table.add_column(col)
    wait = "마감 후 공개" if cfg.language == "ko" else "after the due date"
    for r in rows:
        score = wait if r.get("withheld") else f"{r['score']:g}"
        table.add_row(r["assignment"], r["notebook"], r["check"], score, "" if r.get("withheld") else f"{r['max_score']:g}")
    _console().print(table)
    return 0


def cmd_watch(args) -> int:
    from .watch.lock import AlreadyRunning
    from .watch.service import run_service
    cfg = _load(args)
    _require_assets(cfg)
    _check_sandbox(cfg, args.no_sandbox)
    if args.workers is not None and args.workers < 1:
        from .config import ConfigError
        raise ConfigError(f"--workers {args.workers}: Fix: give 1 or more grader processes")
    con = _console()

    def log(line: str) -> None:
        con.print(f"[dim]{time.strftime('%Y-%m-%d %H:%M:%S')}[/dim] {escape_markup(line)}", soft_wrap=True)

    try:
        return run_service(cfg, workers=args.workers, scheduler=args.scheduler, log=log, drain=args.drain)
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3


def escape_markup(text: str) -> str:
    from rich.markup import escape
    return escape(text)


def cmd_demo(args) -> int:
    from . import demo
    from .farm.autograde import autograde, nbgrader_api
    from .release import release

    cfg = _load(args)
    con = _console()
    t0 = time.perf_counter()
    _require_assets(cfg)
    _check_sandbox(cfg, args.no_sandbox)
    api = nbgrader_api(cfg)
    status = 0
    for name in ([args.assignment] if args.assignment else list(cfg.assignments)):
        if name not in demo.CLASSES:
            continue
        release(cfg, name, api=api)
        con.print(f"[bold]1. release[/bold] {name} → release/{name}")
        who = demo.submit(cfg, name)
        con.print(f"[bold]2. submit[/bold] {len(who)} simulated students: {', '.join(who)}")
        batch = autograde(cfg, name, students=who, progress=not args.quiet, workers=args.workers, force=True)
        status |= _report_batch(batch)
        con.print(f"[bold]3. autograde[/bold] done")
        for student in who:
            res = api.generate_feedback(name, student, force=True)
            if not res.get("success"):
                status = 1
                con.print(f"[red]feedback failed for {student}[/red]")
        con.print(f"[bold]4. feedback[/bold] feedback/<student>/{name}/*.html")
        con.print(demo.summary_table(cfg, name))
    status |= _demo_dashboard(cfg, con)
    con.print(f"demo finished in {time.perf_counter() - t0:.0f} s")
    return status


def cmd_lab(args) -> int:
    from .lab import lab_command
    cfg = _load(args)
    cmd = lab_command(cfg, student=args.student, home=args.home, port=args.port, ip=args.ip, token=args.token)
    who = f"student {args.student} (folder {cmd.cwd})" if args.student else "staff (formgrader: Nbgrader ▸ Formgrader)"
    _console().print(f"JupyterLab for {who}\n  open: {cmd.url}\n  stop: Ctrl+C")
    os.chdir(cmd.cwd)
    os.execvpe(cmd.argv[0], cmd.argv, cmd.env)


def _demo_dashboard(cfg, con) -> int:
    from .dashboard import DashboardError
    from .dashboard.report import build_html, write
    try:
        out = write(build_html(cfg), cfg.root / "dashboard" / "index.html")
    except DashboardError as exc:
        con.print(f"[red]dashboard: {exc}[/red]")
        return 1
    con.print(f"[bold]5. dashboard[/bold] {out}")
    return 0


def _dashboard_failed(exc) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def cmd_report(args) -> int:
    from .dashboard import DashboardError
    from .dashboard.report import build_html, write
    cfg = _load(args)
    out = args.out or cfg.root / "dashboard" / "index.html"
    try:
        path = write(build_html(cfg, lang=args.lang, threshold=args.at_risk_below), out)
    except DashboardError as exc:
        return _dashboard_failed(exc)
    print(f"dashboard: {path}")
    return 0


def cmd_export(args) -> int:
    from .dashboard import DashboardError
    from .dashboard.export import write_csv
    cfg = _load(args)
    try:
        path = write_csv(cfg, args.csv)
    except DashboardError as exc:
        return _dashboard_failed(exc)
    if path is not None:
        print(f"grades CSV: {path}", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    from .dashboard import DashboardError
    from .dashboard.serve import TOKEN_ENV, serve
    cfg = _load(args)
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    try:
        return serve(cfg, host=args.host, port=args.port, token=token, lang=args.lang,
                     out=lambda line: print(line, flush=True))
    except DashboardError as exc:
        return _dashboard_failed(exc)


def cmd_quiz(args) -> int:
    from .quiz import bank_path, load_bank
    from .quiz.coverage import markdown, type_counts, uncovered

    cfg = _load(args)           # validates every bank on the way
    quizzes = [args.quiz] if args.quiz else [n for n, a in cfg.assignments.items() if a.kind == "quiz"]
    con = _console()
    parts = []
    status = 0
    for name in quizzes:
        bank = load_bank(bank_path(cfg.root, name))
        missing = uncovered(bank)
        counts = ", ".join(f"{t} {n}" for t, n in type_counts(bank).items())
        con.print(f"{name}: {len(bank.questions)} questions ({counts})"
                  + (f"; [red]no question for: {', '.join(missing)}[/red]" if missing else "; every seed concept covered"))
        status |= 1 if missing else 0
        parts.append(markdown(bank))
    if args.action == "coverage":
        out = cfg.root / "docs" / "quiz_coverage.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text("# Quiz coverage: seed concept → questions\n\n"
                       "Generated by `python -m graders quiz coverage` from the banks; the tests check it is current.\n\n"
                       + "\n".join(parts))
        con.print(f"wrote {out.relative_to(cfg.root)}")
    return status


def cmd_exchange(args) -> int:
    from .intake import exchange
    cfg = _load(args)
    con = _console()
    if args.action == "student-config":
        text = exchange.student_nbgrader_config(cfg)
        if not args.out:
            print(text, end="")
            return 0
        from pathlib import Path
        from .intake import say
        Path(args.out).write_text(text)
        con.print(say(cfg.language, "student_config_written", out=args.out))
        return 0
    if args.action == "inbound":
        from .intake import say
        made, total = exchange.make_inbound_folders(cfg, args.student or None)
        con.print(say(cfg.language, "inbound_made", n=len(made), total=len(total),
                      inbound=exchange.course_paths(cfg)["inbound"]))
        return 0
    if not args.assignment:
        from .config import ConfigError
        raise ConfigError(f"exchange {args.action}: Fix: name the assignment, e.g. "
                          f"python -m graders exchange {args.action} {next(iter(cfg.assignments))}")
    if args.action == "release":
        from .intake import say
        done = exchange.release_to_exchange(cfg, args.assignment)
        con.print(say(cfg.language, "exchange_released", a=args.assignment, dest=done.dest))
        for warning in done.warnings:
            con.print(f"[yellow]{warning}[/yellow]")
        return 0
    got = exchange.collect_from_exchange(cfg, args.assignment, allow_unverified=args.allow_unverified)
    print("\n".join(got.lines(cfg.language)))        # plain lines (no wrapping): staff may keep them as a log
    return 1 if got.problems else 0


def cmd_import_lms(args) -> int:
    from .intake.lms import import_lms
    cfg = _load(args)
    report = import_lms(cfg, args.path, args.assignment)
    print("\n".join(report.lines(cfg.language)))     # one line per file, unwrapped
    return 1 if report.errors else 0


def cmd_new_exercise(args) -> int:
    from .authoring import AuthoringError, config_entry, new_exercise
    from .config import COURSE_ROOT, CONFIG_ENV
    code_root = Path(__file__).resolve().parent.parent
    config = Path(args.config or os.environ.get(CONFIG_ENV) or COURSE_ROOT / "course_config.py")
    try:
        written = new_exercise(args.name, code_root, config.resolve().parent, title=args.title)
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    con = _console()
    for path in written:
        con.print(f"wrote {path}", markup=False, highlight=False)
    print(f"\nAdd this to {config} (then: python -m graders release {args.name}):\n")
    print(config_entry(args.name, args.title or f"{args.name}: ReLU 직접 만들기"))
    print("Next: docs/adding-an-exercise.md")
    return 0


def cmd_config(args) -> int:
    if not args.schema:
        cfg = _load(args)
        print(f"{cfg.path}: valid ({len(cfg.assignments)} assignments)")
        return 0
    from .config_schema import markdown, reference
    if args.markdown:
        print(markdown(), end="")
        return 0
    for name, kind, default, meaning in reference():
        default = default if default == "required" else f"default {default.strip('`')}"
        print(f"{name}  [{kind}; {default}]\n    {meaning}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m graders", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="path of course_config.py (default: the course root)")
    sub = p.add_subparsers(dest="verb", required=True)

    s = sub.add_parser("assets", help="build the offline data")
    s.add_argument("--force", action="store_true", help="rebuild even when up to date")
    s.set_defaults(fn=cmd_assets)

    s = sub.add_parser("new-exercise", help="write the skeleton of a new exercise (docs/adding-an-exercise.md)")
    s.add_argument("name", help="the assignment name: lower-case letters, digits and _")
    s.add_argument("--title", help="the notebook's title")
    s.set_defaults(fn=cmd_new_exercise)

    s = sub.add_parser("release", help="generate the student version of an assignment")
    s.add_argument("assignment", nargs="?")
    s.set_defaults(fn=cmd_release)

    s = sub.add_parser("autograde", help="grade submissions in the sandbox")
    s.add_argument("assignment", nargs="+", help="one or more assignments, graded as one batch")
    s.add_argument("--student", action="append", help="only this student (repeatable)")
    s.add_argument("--no-sandbox", action="store_true", help="run student code unconfined (trusted machines only)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="grade N submissions at once (each in its own sandboxed kernel)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the kernels on a Dask cluster, e.g. tcp://host:8786 (scoring stays here)")
    s.add_argument("--force", action="store_true", help="regrade submissions that are unchanged since their grading")
    s.set_defaults(fn=cmd_autograde)

    s = sub.add_parser("feedback", help="write feedback HTML for students")
    s.add_argument("assignment", nargs="?")
    s.add_argument("--student", action="append")
    s.add_argument("--as-of", metavar="TIME",
                   help="show what students may see at this time (VISIBILITY), e.g. to preview after the due date")
    s.set_defaults(fn=cmd_feedback)

    s = sub.add_parser("scores", help="print grades from the gradebook")
    s.add_argument("--json", action="store_true", help="JSON array, one object per graded cell")
    s.add_argument("--assignment")
    s.add_argument("--student")
    s.add_argument("--as-student", action="store_true",
                   help="per check, only what the student may see now (VISIBILITY in course_config.py)")
    s.set_defaults(fn=cmd_scores)

    s = sub.add_parser("watch", help="grade on submit: watch the exchange, grade, release feedback (until SIGTERM)")
    s.add_argument("--workers", type=int, metavar="N", help="grader processes (default: WATCH['workers'])")
    s.add_argument("--scheduler", metavar="ADDRESS", help="run the kernels on a Dask cluster (default: WATCH['scheduler'])")
    s.add_argument("--drain", action="store_true", help="grade what is waiting now, then exit (cron, a catch-up run)")
    s.add_argument("--no-sandbox", action="store_true", help="run student code unconfined (trusted machines only)")
    s.set_defaults(fn=cmd_watch)

    s = sub.add_parser("quiz", help="check quiz banks, write the coverage table")
    s.add_argument("action", choices=["check", "coverage"])
    s.add_argument("quiz", nargs="?")
    s.set_defaults(fn=cmd_quiz)

    s = sub.add_parser("lab", help="start JupyterLab with nbgrader's extensions (staff, or --student ID)")
    s.add_argument("--student", help="start it as this student, in the student's own folder")
    s.add_argument("--home", help="the student's folder (default: .lab/<student> in the course root)")
    s.add_argument("--port", type=int, default=8888)
    s.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: this machine only)")
    s.add_argument("--token", help="login token (default: a new random one, printed)")
    s.set_defaults(fn=cmd_lab)

    s = sub.add_parser("exchange", help="nbgrader exchange: release to students, collect submissions, student config")
    s.add_argument("action", choices=["release", "collect", "inbound", "student-config"])
    s.add_argument("assignment", nargs="?")
    s.add_argument("--out", metavar="FILE", help="student-config: write the file here instead of printing it")
    s.add_argument("--student", action="append", metavar="ID",
                   help="inbound: make the per-student inbound folder of this student (repeat; default: the roster)")
    s.add_argument("--allow-unverified", action="store_true",
                   help="collect: also take flat-inbound submissions whose owner is not the student they name "
                        "(a shared-uid hub without per-student folders; anyone can submit as anyone)")
    s.set_defaults(fn=cmd_exchange)

    s = sub.add_parser("import-lms", help="import notebooks downloaded from an LMS (zip or folder)")
    s.add_argument("path", help="the zip file or folder downloaded from the LMS")
    s.add_argument("--assignment", required=True)
    s.set_defaults(fn=cmd_import_lms)

    s = sub.add_parser("report", help="write the staff dashboard (one self-contained HTML file)")
    s.add_argument("--out", metavar="FILE", help="where to write it (default: dashboard/index.html)")
    s.add_argument("--lang", choices=["ko", "en"], help="language shown first (default: LANGUAGE of the config)")
    s.add_argument("--at-risk-below", type=float, default=60.0, metavar="PERCENT",
                   help="a total below this percentage marks a student at risk (default 60)")
    s.set_defaults(fn=cmd_report)

    s = sub.add_parser("export", help="write grades as CSV for an LMS gradebook (docs/dashboard.md)")
    s.add_argument("--csv", required=True, metavar="FILE", help="output file ('-': standard output)")
    s.set_defaults(fn=cmd_export)

    s = sub.add_parser("serve", help="serve the dashboard live, read-only, behind a token")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--token", help="access token (default: $DLCOURSE_DASHBOARD_TOKEN, else a random one, printed)")
    s.add_argument("--lang", choices=["ko", "en"], help="language shown first (default: LANGUAGE of the config)")
    s.set_defaults(fn=cmd_serve)

    s = sub.add_parser("config", help="check course_config.py; --schema: the settings reference")
    s.add_argument("--schema", action="store_true", help="print every setting: type, default, meaning")
    s.add_argument("--markdown", action="store_true", help="with --schema: as the README's table")
    s.set_defaults(fn=cmd_config)

    s = sub.add_parser("demo", help="run the whole flow on a simulated class")
    s.add_argument("assignment", nargs="?", help="only this assignment")
    s.add_argument("--workers", type=int, default=1, metavar="N", help="grade N submissions at once")
    s.add_argument("--no-sandbox", action="store_true")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(fn=cmd_demo)
    return p


def main(argv=None) -> int:
    from .config import ConfigError

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings
    # nbgrader's gradebook triggers SQLAlchemy autoflush warnings on regrades: noise for staff
    warnings.filterwarnings("ignore", module="nbgrader.api")
    warnings.filterwarnings("ignore", message=".*autoflush.*")
    # library deprecation notices raised while the grader rebuilds models: not for staff
    warnings.filterwarnings("ignore", category=FutureWarning)
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        from .farm.remote import ClusterProblem
        if not isinstance(exc, ClusterProblem):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; grades recorded so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
