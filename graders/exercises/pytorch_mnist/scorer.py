"""Scorer of `pytorch_mnist`: nn.Module, loss/optimizer, training loop (judged by behaviour), evaluation."""
import numpy as np

from ...checks import (
    ArtifactProblem, Check, CheckResult, shown, accuracy_thresholds, behaviour, field_equals, GradedCell, hidden_accuracy, Layer, layer_structure,
    logits_output, model_accuracy, reported_matches, SavedModel, Scorer, trained_model)
from ...messages import msg
from ...checks import described_layers
from ...datasets.mnist import hidden_mnist, mnist_inputs, public_accuracy
from ...checks import RebuildError
from .assets import load_references

# The computation torch.export traced, in the order forward runs it (functional or module activations alike);
# a final softmax/log_softmax is left to the `logits` check.
EXPECTED_LAYERS = [
    Layer("Linear", inputs=784, output=(128,), params=784 * 128 + 128),
    Layer("ReLU"),
    Layer("Linear", inputs=128, output=(10,), params=128 * 10 + 10),
]
SCALE = 1 / 255

MODELS = (
    SavedModel("defined", "torch_export", "torch_def.pt2", artifact="torch_model", inputs=("public",),
               describe=True, options=(("scale", SCALE),)),
    SavedModel("trained", "torch_export", "torch_trained.pt2", artifact="torch_training", inputs=("hidden", "public"),
               options=(("scale", SCALE),)),
    # the notebook's cells up to the loop, re-run in a scoring sandbox of their own; the probe there hands
    # back only the probe model's parameters and gradients, compared here with the course's own loops
    SavedModel("loop", "torch_loop", "", options=(("cells_from", ("setup", "model_def", "loss_optimizer",
                                                                   "train_loop")),
                                                  ("probe", "dlcourse.exercises.pytorch_mnist.export:loop_probe"))),
)

LOOP_ARRAYS = ("a_params", "a_grads", "b_params", "c_grads")
MATCH_TOLERANCE = 1e-3      # relative to how far the course's loops move the same parameters


class LoopUnjudged(Exception):
    """The student's loop computes what none of the course's loops computes: the probe cannot say why."""


def _distance(mine: np.ndarray, ref: np.ndarray, start: np.ndarray | None) -> float:
    scale = float(np.linalg.norm(ref - start)) if start is not None else float(np.linalg.norm(ref))
    return float(np.linalg.norm(mine - ref)) / max(scale, 1e-6)


def matched_loops(ctx) -> list[dict]:
    """Facts of every course loop whose parameters and gradients the student's loop reproduced."""
    if "loop_matches" in ctx.cache:
        return ctx.cache["loop_matches"]
    found = ctx.model("loop").get("arrays") or {}
    refs = load_references(ctx.secrets)
    matches = []
    for arrays, facts in refs:
        ok = True
        for key in LOOP_ARRAYS:
            mine, ref = found.get(key), arrays.get(key)
            if not isinstance(mine, np.ndarray) or ref is None or mine.shape != ref.shape or not np.isfinite(mine).all():
                raise RebuildError(msg("loop_arrays_unusable", ctx.lang, what=key))
            origin = arrays.get("a_start") if key == "a_params" else arrays.get("b_start") if key == "b_params" else None
            if _distance(mine, ref, origin) > MATCH_TOLERANCE:
                ok = False
                break
        if ok:
            matches.append(facts)
    ctx.cache["loop_matches"] = matches
    return matches


def _loader(ctx) -> dict:
    raw = (ctx.model("loop").get("arrays") or {}).get("loader")
    if not isinstance(raw, np.ndarray) or raw.shape != (2,) or raw.dtype.kind not in "iu":
        return {"loader_batch_size": None, "loader_items": None}
    bs, items = (int(v) for v in raw)
    return {"loader_batch_size": bs if bs >= 0 else None, "loader_items": items if items >= 0 else None}


def loop_check(name, passes, expected_key, found, hint_key, var="train_one_epoch", uses_loop=True):
    """A behaviour of train_one_epoch, judged from the loops it reproduced on the probe's scenarios."""
    def run(ctx, points):
        if not uses_loop:
            d = _loader(ctx)
            if passes(d, ctx):
                return CheckResult(name, points, points)
            return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang), found=shown(found(d, ctx), 600),
                               hint=msg(hint_key, ctx.lang))
        matches = matched_loops(ctx)
        verdicts = {bool(passes(d, ctx)) for d in matches}
        if len(verdicts) != 1:          # no course loop computes this, or the ones that do disagree here
            return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang),
                               found=msg("loop_unmatched" if not matches else "loop_ambiguous", ctx.lang),
                               hint=msg(hint_key, ctx.lang), staff="loop probe: " + (
                                   "no course loop matched" if not matches else
                                   "matched " + ", ".join("/".join(d["variant"]) for d in matches)))
        if verdicts == {True}:
            return CheckResult(name, points, points)
        return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang),
                           found=shown(found(matches[0], ctx), 600), hint=msg(hint_key, ctx.lang))
    return Check(name, run, var=var)


def _optimizer_ok(d, ctx=None):
    return str(d.get("optimizer", "")).lower() == "adam" and d.get("bound_to_model") is True


def _optimizer_found(d, ctx):
    opt = str(d.get("optimizer"))
    return opt if d.get("bound_to_model") else msg("optimizer_unbound", ctx.lang, opt=opt)


def _steps_ok(d, ctx=None):
    return d["variant"][1] == "batch" and d.get("params_changed") is True


def _zero_grad_ok(d, ctx=None):
    return d["variant"][0] != "none"


def _train_mode_ok(d, ctx=None):
    return d["variant"][2] == "train"


def _learns_ok(d, ctx=None):
    return d.get("loss_after", 9e9) < 0.5 * d.get("loss_before", 0)


def _loader_ok(d, ctx):
    return d.get("loader_batch_size") == 64 and d.get("loader_items") == ctx.secrets.split["train"]


SCORER = Scorer(
    assignment="pytorch_mnist",
    notebook="pytorch_mnist",
    thresholds=("accuracy_floor", "accuracy_target", "evaluate_tolerance"),
    threshold_rule=accuracy_thresholds,
    models=MODELS,
    inputs=mnist_inputs,
    cells=[
        GradedCell("check_model", answer_id="model_def", checks=[
            layer_structure("architecture", "torch_model", EXPECTED_LAYERS, "torch_layers_hint", source=described_layers,
                            drop_trailing=("Softmax", "LogSoftmax")),
            logits_output("logits", "defined", "public", classes=10, hint_key="logits_hint"),
        ]),
        GradedCell("check_setup", answer_id="loss_optimizer", checks=[
            field_equals("loss_fn", "torch_setup", "criterion", "CrossEntropyLoss", "value_hint_criterion", require=None),
            behaviour("optimizer", "torch_setup", _optimizer_ok, "torch_optimizer_expected", _optimizer_found,
                      "value_hint_torch_optimizer", var="optimizer"),
        ]),
        GradedCell("check_loop", answer_id="train_loop", checks=[
            loop_check("data_loader", _loader_ok, "loader_expected_default",
                      lambda d, ctx: msg("loader_found", ctx.lang, items=d.get("loader_items"), batch=d.get("loader_batch_size")),
                      "loader_hint", var="train_loader", uses_loop=False),
            loop_check("loop_updates", _steps_ok, "loop_steps_expected",
                      lambda d, ctx: msg("loop_steps_found", ctx.lang, steps=d.get("steps"), batches=d.get("batches"),
                                          changed=d.get("params_changed")), "loop_steps_hint"),
            loop_check("zero_grad", _zero_grad_ok, "zero_grad_expected",
                      lambda d, ctx: msg("zero_grad_found", ctx.lang), "zero_grad_hint"),
            loop_check("train_mode", _train_mode_ok, "train_mode_expected",
                      lambda d, ctx: msg("train_mode_found", ctx.lang, modes=["train" if m else "eval" for m in d.get("forward_modes", [])][:3]),
                      "train_mode_hint"),
            loop_check("loop_learns", _learns_ok, "loop_learns_expected",
                      lambda d, ctx: msg("loop_learns_found", ctx.lang, before=f"{d.get('loss_before', 0):.3f}",
                                          after=f"{d.get('loss_after', 0):.3f}"), "loop_learns_hint"),
        ]),
        GradedCell("check_training", answer_id="train_model", checks=[
            trained_model("trained", "torch_training", public_accuracy, better_than=0.2,
                          found_key="torch_trained_chance", hint_key="torch_trained_hint",
                          history_hint="losses_hint", loss_hint="torch_accuracy_hint", var="losses"),
            hidden_accuracy("hidden_accuracy", labels=lambda ctx: hidden_mnist(ctx)[1],
                            measure=lambda ctx, y: model_accuracy(ctx, "trained", "hidden", y),
                            hint_key="torch_accuracy_hint"),
        ]),
        GradedCell("check_evaluate", answer_id="evaluate_model", checks=[
            reported_matches("evaluated", "value_test_acc", public_accuracy, "evaluate_tolerance",
                             "torch_evaluate_expected", "torch_evaluate_hint", var="test_acc"),
        ]),
    ],
)
