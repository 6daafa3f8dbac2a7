"""Translate course_config.py into nbgrader/traitlets settings (used by nbgrader_config.py
and by the `python -m graders` commands)."""
from __future__ import annotations

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec)

from . import PUBLIC_DIR
from .config import ConfigError, CourseConfig
from .farm.execute import SandboxedExecute
from .farm.sanitize import RedactHiddenInputs, RestoreCells
from .farm.score import CHECKS_SUFFIX, ScoreArtifacts
from .visibility import ApplyVisibility
from .feedback import FeedbackExporter, FeedbackOutputs, HideGraderOutputs, SafeOutputs
from .intake.deadlines import ApplyExtensions
from .intake.late import CourseLatePenalty, LateNotice

NO_SANDBOX_ENV = "DLCOURSE_NO_SANDBOX"


CODE_STUB = {
    "ko": "# 여기에 코드를 작성하세요\nraise NotImplementedError()",
    "en": "# YOUR CODE HERE\nraise NotImplementedError()",
}


def sandbox_enabled(cfg: CourseConfig) -> bool:
    return cfg.sandbox.enabled and os.environ.get(NO_SANDBOX_ENV) != "1"


def gpu_wanted(cfg: CourseConfig) -> bool:
    """DEVICE for this process: 'auto' lends the GPU when one is visible (its CUDA_VISIBLE_DEVICES, set per
    grader process by the batch runner), 'cuda' stops with a clear error without one (farm/devices.py)."""
    from .farm.devices import gpu_wanted as policy
    return policy(cfg.device, path=cfg.path, language=cfg.language)


def scoring_gpu(cfg: CourseConfig) -> bool:
    """The scoring sandbox's GPU when the kernels run on a Dask cluster: this machine's, if any."""
    from .farm.devices import visible_gpus
    return cfg.device != "cpu" and bool(visible_gpus())


def apply_settings(c, cfg: CourseConfig, argv=(), remote: bool = False) -> None:
    c.CourseDirectory.root = str(cfg.root)
    c.CourseDirectory.course_id = cfg.course_id
    c.CourseDirectory.db_url = cfg.db_url
    c.Exchange.root = str(cfg.exchange_dir)
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".autograde.log", ".graded.json",
                                "*" + CHECKS_SUFFIX, ".artifacts", "quiz_bank.yaml"]
    c.ClearSolutions.code_stub = {"python": CODE_STUB[cfg.language]}
    c.ClearSolutions.text_stub = "여기에 답을 쓰세요" if cfg.language == "ko" else "YOUR ANSWER HERE"

    # the submission's nbgrader metadata is the student's: taken from the source notebook (sanitize.py)
    c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreCells,
                                          OverwriteCells, CheckCellMetadata]
    c.RestoreCells.config_path = str(cfg.path)
    c.Autograde.autograde_preprocessors = [
        SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        ScoreArtifacts, RedactHiddenInputs, ApplyExtensions, AssignLatePenalties, CheckCellMetadata,
    ]
    c.RedactHiddenInputs.grading_inputs = str(cfg.grading_inputs_dir)
    # deadlines: EXTENSIONS into the gradebook, then LATE_POLICY as nbgrader's late-submission plugin
    c.ApplyExtensions.extensions = {s: dict(per) for s, per in cfg.extensions.items()}
    late = cfg.late_policy
    if late is not None:
        c.AssignLatePenalties.plugin_class = CourseLatePenalty
        c.CourseLatePenalty.penalty_per_day = late.penalty_per_day
        c.CourseLatePenalty.max_days_late = late.max_days_late
        c.CourseLatePenalty.grace_minutes = late.grace_minutes
    sb = cfg.sandbox
    c.SandboxedExecute.sandbox = sandbox_enabled(cfg)
    c.SandboxedExecute.timeout = sb.cell_timeout_s
    c.SandboxedExecute.notebook_timeout = sb.notebook_timeout_s
    c.SandboxedExecute.memory_gb = float(sb.memory_gb)
    c.SandboxedExecute.cpu_seconds = sb.cpu_seconds
    c.SandboxedExecute.threads = sb.threads
    c.SandboxedExecute.disk_mb = sb.disk_mb
    c.SandboxedExecute.max_pids = sb.max_pids
    c.SandboxedExecute.prestart = sb.prestart
    c.SandboxedExecute.warm_parents = sb.warm_parents     # each kernel a fresh child of a warm parent (farm/warm)
    c.SandboxedExecute.language = cfg.language
    c.SandboxedExecute.public_code = str(PUBLIC_DIR)
    c.SandboxedExecute.public_data = str(cfg.public_data_dir)
    # on a Dask cluster the worker that runs the kernel decides (remote.py); here: this machine
    c.SandboxedExecute.gpu = False if remote else gpu_wanted(cfg)
    c.SandboxedExecute.device = cfg.device
    c.SandboxedExecute.kernels_per_gpu = cfg.gpu.kernels_per_gpu
    c.SandboxedExecute.max_artifact_mb = float(sb.max_artifact_mb)
    c.ScoreArtifacts.language = cfg.language
    c.ScoreArtifacts.max_artifact_mb = float(sb.max_artifact_mb)
    c.ScoreArtifacts.config_path = str(cfg.path)
    # the scoring sandbox: same walls as the student's kernel, a fresh one per submission
    c.ScoreArtifacts.sandbox = sandbox_enabled(cfg)
    # with Dask the kernels' GPUs are the workers' (DEVICE 'cuda' is checked there); scoring stays here
    c.ScoreArtifacts.gpu = scoring_gpu(cfg) if remote else gpu_wanted(cfg)
    c.ScoreArtifacts.public_code = str(PUBLIC_DIR)
    c.ScoreArtifacts.public_data = str(cfg.public_data_dir)
    c.ScoreArtifacts.measure_memory_gb = float(sb.memory_gb)
    c.ScoreArtifacts.warm_parents = sb.warm_parents       # scoring jobs in children of a warm parent (farm/warm)

    # outputs are data in every page made from a notebook: formgrader's exporter is an HTMLExporter
    # built from this config (SafeOutputs before its templates, which then sanitize once more)
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.skip_svg_encoding = False
    c.HTMLExporter.preprocessors = [SafeOutputs]
    c.SafeOutputs.language = cfg.language
    c.FeedbackExporter.preprocessors = []       # feedback: FeedbackOutputs below, after GetGrades
    c.FeedbackOutputs.grading_inputs = str(cfg.grading_inputs_dir)
    # what the student may see of each check, and when (VISIBILITY): right after the grades are read
    c.GenerateFeedback.preprocessors = [GetGrades, ApplyVisibility, LateNotice, ClearHiddenTests, HideGraderOutputs,
                                        FeedbackOutputs, CSSHTMLHeaderPreprocessor]
    c.ApplyVisibility.config_path = str(cfg.path)
    c.ApplyVisibility.language = cfg.language
    c.LateNotice.language = cfg.language
    c.LateNotice.policy = {} if late is None else {"penalty_per_day": late.penalty_per_day,
                                                   "max_days_late": late.max_days_late,
                                                   "grace_minutes": late.grace_minutes}
    c.LateNotice.offsets = due_offsets(cfg)
    c.GenerateFeedback.exporter_class = FeedbackExporter     # nbgrader's page, readable on a phone

    if "autograde" in argv and sandbox_enabled(cfg):
        from .farm.sandbox import SandboxUnavailable, probe
        try:
            probe()
        except SandboxUnavailable as exc:
            raise ConfigError(sandbox_refusal(exc)) from None


def due_offsets(cfg: CourseConfig) -> dict:
    """assignment -> UTC offset (minutes) of the zone its due date was written in: the zone times are shown in."""
    out = {}
    for name, a in cfg.assignments.items():
        off = a.due_zone.utcoffset(a.due_utc) if a.due_zone is not None else None
        if off is not None:
            out[name] = int(off.total_seconds() // 60)
    return out


def sandbox_refusal(exc) -> str:
    return (f"the sandbox cannot run here ({exc}). Student code is not run without it. "
            "Fix: install bubblewrap (apt-get install bubblewrap) on a machine that allows user namespaces, "
            f"or, on a machine you trust with these submissions, pass --no-sandbox "
            f"(python -m graders autograde ... --no-sandbox, or {NO_SANDBOX_ENV}=1 for plain nbgrader)")
