"""Scorer of `pytorch_mnist`: nn.Module, loss/optimizer, training loop (judged by behaviour), evaluation."""
from ..checks import (
    accuracy_thresholds, behaviour, field_equals, GradedCell, hidden_accuracy, Layer, layer_structure,
    logits_output, loss_fell, reported_matches, Scorer, torch_mlp_accuracy)
from ..messages import msg
from .data import hidden_mnist, public_test_mnist

EXPECTED_LAYERS = [
    Layer("Linear", inputs=784, output=(128,), params=784 * 128 + 128),
    Layer("Linear", inputs=128, output=(10,), params=128 * 10 + 10),
]
ACTIVATIONS = ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax")


def _public_test_accuracy(ctx):
    x, y = public_test_mnist(ctx)
    return torch_mlp_accuracy(ctx, "torch_training", x, y)


def _optimizer_ok(d, ctx=None):
    return str(d.get("optimizer", "")).lower() == "adam" and d.get("bound_to_model") is True


def _optimizer_found(d, ctx):
    opt = str(d.get("optimizer"))
    return opt if d.get("bound_to_model") else msg("optimizer_unbound", ctx.lang, opt=opt)


def _steps_ok(d, ctx=None):
    return d.get("steps") == d.get("batches") and d.get("params_changed") is True


def _zero_grad_ok(d, ctx=None):
    return d.get("grad_ratio") is not None and abs(d["grad_ratio"] - 1) < 0.05


def _train_mode_ok(d, ctx=None):
    return bool(d.get("forward_modes")) and all(d["forward_modes"])


def _learns_ok(d, ctx=None):
    return d.get("loss_after", 9e9) < 0.5 * d.get("loss_before", 0)


def _loader_ok(d, ctx=None):
    return d.get("loader_batch_size") == 64 and d.get("loader_items") == 3500



SCORER = Scorer(
    assignment="pytorch_mnist",
    notebook="pytorch_mnist",
    thresholds=("accuracy_floor", "accuracy_target", "evaluate_tolerance"),
    threshold_rule=accuracy_thresholds,
    cells=[
        GradedCell("check_model", answer_id="model_def", checks=[
            layer_structure("architecture", "torch_model", EXPECTED_LAYERS, "torch_layers_hint", ignore=ACTIVATIONS),
            logits_output("logits", "torch_forward", classes=10, hint_key="logits_hint"),
        ]),
        GradedCell("check_setup", answer_id="loss_optimizer", checks=[
            field_equals("loss_fn", "torch_setup", "criterion", "CrossEntropyLoss", "value_hint_criterion", require=None),
            behaviour("optimizer", "torch_setup", _optimizer_ok, "torch_optimizer_expected", _optimizer_found,
                      "value_hint_torch_optimizer", var="optimizer"),
        ]),
        GradedCell("check_loop", answer_id="train_loop", checks=[
            behaviour("data_loader", "torch_loop", _loader_ok, "loader_expected_default",
                      lambda d, ctx: msg("loader_found", ctx.lang, items=d.get("loader_items"), batch=d.get("loader_batch_size")),
                      "loader_hint", var="train_loader"),
            behaviour("loop_updates", "torch_loop", _steps_ok, "loop_steps_expected",
                      lambda d, ctx: msg("loop_steps_found", ctx.lang, steps=d.get("steps"), batches=d.get("batches"),
                                          changed=d.get("params_changed")), "loop_steps_hint"),
            behaviour("zero_grad", "torch_loop", _zero_grad_ok, "zero_grad_expected",
                      lambda d, ctx: msg("zero_grad_found", ctx.lang, ratio=f"{d.get('grad_ratio') or 0:.2f}"), "zero_grad_hint"),
            behaviour("train_mode", "torch_loop", _train_mode_ok, "train_mode_expected",
                      lambda d, ctx: msg("train_mode_found", ctx.lang, modes=["train" if m else "eval" for m in d.get("forward_modes", [])][:3]),
                      "train_mode_hint"),
            behaviour("loop_learns", "torch_loop", _learns_ok, "loop_learns_expected",
                      lambda d, ctx: msg("loop_learns_found", ctx.lang, before=f"{d.get('loss_before', 0):.3f}",
                                          after=f"{d.get('loss_after', 0):.3f}"), "loop_learns_hint"),
        ]),
        GradedCell("check_training", answer_id="train_model", checks=[
            loss_fell("trained", "torch_training", history_hint="losses_hint", var="losses"),
            hidden_accuracy("hidden_accuracy", "torch_training", data=hidden_mnist, measure=torch_mlp_accuracy),
        ]),
        GradedCell("check_evaluate", answer_id="evaluate_model", checks=[
            reported_matches("evaluated", "value_test_acc", _public_test_accuracy, "evaluate_tolerance",
                             "evaluate_expected", "torch_evaluate_hint", var="test_acc"),
        ]),
    ],
)
