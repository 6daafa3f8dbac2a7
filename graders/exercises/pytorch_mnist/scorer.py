"""Scorer of `pytorch_mnist`: nn.Module, loss/optimizer, training loop (judged by behaviour), evaluation."""
import numpy as np

from ...checks import (
    ArtifactProblem, Check, CheckResult, shown, accuracy_thresholds, behaviour, field_equals, GradedCell, hidden_accuracy, Layer, layer_structure,
    logits_output, model_accuracy, reported_matches, reported_test_accuracy, SavedModel, Scorer, trained_model)
from ...messages import msg
from ...checks import described_layers
from ...datasets.mnist import hidden_mnist, mnist_inputs, mnist_sets, public_accuracy
from ...checks import RebuildError
from .assets import load_probe_data
from dlcourse.exercises.pytorch_mnist.export import (criterion_logits, cross_entropy, loop_facts as export_loop_facts,
                                                     loop_verdicts)

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
    SavedModel("trained", "torch_export", "torch_trained.pt2", artifact="torch_training", inputs=("hidden", "public", "train"),
               options=(("scale", SCALE),)),
    # the notebook's cells up to the loop, re-run in a scoring sandbox of their own; the probe there hands
    # back only the probe model's parameters and gradients, compared here with the course's own loops
    SavedModel("loop", "torch_loop", "", options=(("cells_from", ("setup", "model_def", "loss_optimizer",
                                                                   "train_loop")),
                                                  ("probe", "dlcourse.exercises.pytorch_mnist.export:loop_probe"))),
)

LOOP_ARRAYS = ("t_kinds", "t_vectors", "t_bp_modes", "t_modes", "b_param0", "b_param1", "b_param2", "b_param3")


def loop_facts(ctx) -> dict:
    """What the student's loop did on the probe's scenarios, read from the arrays its sandbox returned
    (`dlcourse.exercises.pytorch_mnist.export.loop_facts`, numpy only, run here in the grader)."""
    if "loop_facts" in ctx.cache:
        return ctx.cache["loop_facts"]
    found = ctx.model("loop").get("arrays") or {}
    for key in LOOP_ARRAYS:
        value = found.get(key)
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf" or value.size > 1_000_000:
            raise RebuildError(msg("loop_arrays_unusable", ctx.lang, what=key))
    try:
        facts = export_loop_facts(found, load_probe_data(ctx.secrets))
    except (ValueError, KeyError, IndexError) as exc:
        raise RebuildError(msg("loop_arrays_unusable", ctx.lang, what=str(exc)[:40])) from None
    facts["verdicts"] = loop_verdicts(facts)
    ctx.cache["loop_facts"] = facts
    return facts


def _loader(ctx) -> dict:
    raw = (ctx.model("loop").get("arrays") or {}).get("loader")
    if not isinstance(raw, np.ndarray) or raw.shape != (2,) or raw.dtype.kind not in "iu":
        return {"loader_batch_size": None, "loader_items": None}
    bs, items = (int(v) for v in raw)
    return {"loader_batch_size": bs if bs >= 0 else None, "loader_items": items if items >= 0 else None}


def loop_check(name, passes, expected_key, found, hint_key, var="train_one_epoch", uses_loop=True):
    """A behaviour of train_one_epoch, judged from the probe's trace of it (each property like with like)."""
    def run(ctx, points):
        d = _loader(ctx) if not uses_loop else loop_facts(ctx)
        ok = passes(d, ctx) if not uses_loop else d["verdicts"][name]
        if ok:
            return CheckResult(name, points, points)
        return CheckResult(name, 0.0, points, expected=msg(expected_key, ctx.lang), found=shown(found(d, ctx), 600),
                           hint=msg(hint_key, ctx.lang))
    return Check(name, run, var=var)


ASKED_LR = 1e-3        # the notebook asks for Adam(model.parameters(), lr=1e-3)


def _lr(d):
    lr = d.get("lr")
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) and np.isfinite(lr) else None


def _optimizer_ok(d, ctx=None):
    lr = _lr(d)
    return (str(d.get("optimizer", "")).lower() == "adam" and d.get("bound_to_model") is True
            and lr is not None and abs(lr - ASKED_LR) <= 1e-9)


def _optimizer_found(d, ctx):
    opt = str(d.get("optimizer"))[:60]
    lr = _lr(d)
    shown_opt = f"{opt}(lr={lr:g})" if lr is not None else opt
    return shown_opt if d.get("bound_to_model") else msg("optimizer_unbound", ctx.lang, opt=shown_opt)


def _steps_found(d, ctx):
    if d["stale_steps"]:
        return msg("loop_steps_stale", ctx.lang, steps=(d["steps_per_call"] or [0])[0], batches=d["batches"])
    return msg("loop_steps_found", ctx.lang, steps=(d["steps_per_call"] or [0])[0], batches=d["batches"],
               changed=d["params_changed"])


def _modes_found(d, ctx):
    if not d["bp_modes"]:
        return msg("train_mode_no_backward", ctx.lang)
    return msg("train_mode_found", ctx.lang, modes=["train" if m else "eval" for m in d["bp_modes"]][:3])


def _loss_fn(ctx, points):
    """The notebook's criterion computes cross-entropy of raw scores (nn.CrossEntropyLoss() or F.cross_entropy),
    measured in the loop's scoring sandbox on fixed scores; the kernel's type name when that sandbox could not run."""
    expected = "nn.CrossEntropyLoss()"
    value = (ctx.model("loop").get("arrays") or {}).get("criterion_value")
    if isinstance(value, np.ndarray) and value.shape == (1,) and value.dtype.kind == "f":
        got = float(value[0])
        if np.isfinite(got) and abs(got - cross_entropy(*criterion_logits())) <= 1e-4 * max(1.0, abs(got)):
            return CheckResult("loss_fn", points, points)
        data = ctx.json("torch_setup")
        return CheckResult("loss_fn", 0.0, points, expected=expected,
                           found=msg("criterion_differs", ctx.lang, name=shown(data.get("criterion"), 60)),
                           hint=msg("value_hint_criterion", ctx.lang))
    data = ctx.json("torch_setup")
    if str(data.get("criterion", ""))[:100] == "CrossEntropyLoss":
        return CheckResult("loss_fn", points, points)
    return CheckResult("loss_fn", 0.0, points, expected=expected, found=shown(data.get("criterion"), 120),
                       hint=msg("value_hint_criterion", ctx.lang))


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
            Check("loss_fn", _loss_fn, var="criterion"),
            behaviour("optimizer", "torch_setup", _optimizer_ok, "torch_optimizer_expected", _optimizer_found,
                      "value_hint_torch_optimizer", var="optimizer"),
        ]),
        GradedCell("check_loop", answer_id="train_loop", checks=[
            loop_check("data_loader", _loader_ok, "loader_expected_default",
                      lambda d, ctx: msg("loader_found", ctx.lang, items=d.get("loader_items"), batch=d.get("loader_batch_size")),
                      "loader_hint", var="train_loader", uses_loop=False),
            loop_check("loop_updates", None, "loop_steps_expected", _steps_found, "loop_steps_hint"),
            loop_check("zero_grad", None, "zero_grad_expected",
                      lambda d, ctx: msg("zero_grad_found", ctx.lang), "zero_grad_hint"),
            loop_check("train_mode", None, "train_mode_expected", _modes_found, "train_mode_hint"),
            loop_check("loop_learns", None, "loop_learns_expected",
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
            reported_test_accuracy("evaluated", "value_test_acc", "trained", mnist_sets, "evaluate_tolerance",
                                   "torch_evaluate_expected", "torch_evaluate_hint", var="test_acc"),
        ]),
    ],
)
