"""Scorer of `keras_mnist`: Keras model definition, compile, fit and evaluate on MNIST.

The notebook saves the model as `.keras` twice (as defined, and trained); the scoring
sandbox loads each with Keras and describes / runs it.  Structure is compared by
meaning: no InputLayer, activation layers folded into the layer before, activations
by name however they were written, Flatten optional (a model on flat vectors).
"""
from ...checks import (
    accuracy_thresholds, behaviour, field_contains, field_equals, GradedCell, hidden_accuracy, Layer, layer_structure,
    model_accuracy, reported_matches, reported_test_accuracy, SavedModel, Scorer, trained_model)
from ...checks import described_layers
from ...checks.base import shown
from ...checks.values import snake
from ...messages import msg
from ...datasets.mnist import hidden_mnist, mnist_inputs, mnist_sets, public_accuracy

EXPECTED_LAYERS = [
    Layer("Flatten", output=(784,), params=0),
    Layer("Dense", output=(128,), params=784 * 128 + 128, activation="relu"),
    Layer("Dropout", output=(128,), params=0, rate=0.2),
    Layer("Dense", output=(10,), params=128 * 10 + 10, activation="softmax"),
]
SCALE = 1 / 255      # the notebook's setup cell divides the images by 255

# a subclassed tf.keras.Model cannot be rebuilt from its config: then the notebook's setup and model
# cells run in the scoring sandbox to make the model, and the saved weights are loaded into it
CELLS = ("cells_from", ("setup", "model_def"))
MODELS = (
    SavedModel("defined", "keras", "keras_def.keras", artifact="keras_model", describe=True, options=(CELLS,)),
    SavedModel("trained", "keras", "keras_trained.keras", artifact="keras_training", inputs=("hidden", "public", "train"),
               options=(("scale", SCALE), CELLS)),
)
ASKED_LR = 1e-3         # optimizer='adam' is Adam at its default learning rate


def _adam_ok(d, ctx=None) -> bool:
    """Adam at the learning rate 'adam' means, however it was written ('adam', Adam(), Adam(learning_rate=1e-3))."""
    lr = d.get("learning_rate")
    return (d.get("compiled") is True and snake(str(d.get("optimizer", ""))[:60]) == "adam"
            and isinstance(lr, (int, float)) and not isinstance(lr, bool) and abs(float(lr) - ASKED_LR) <= 1e-6)


def _optimizer_found(d, ctx) -> str:
    if not d.get("compiled"):
        return msg("not_compiled", ctx.lang)
    lr = d.get("learning_rate")
    lr = f"{float(lr):g}" if isinstance(lr, (int, float)) and not isinstance(lr, bool) else shown(lr, 20)
    return f"{shown(d.get('optimizer'), 60)}(learning_rate={lr})"





SCORER = Scorer(
    assignment="keras_mnist",
    notebook="keras_mnist",
    thresholds=("accuracy_floor", "accuracy_target", "evaluate_tolerance"),
    threshold_rule=accuracy_thresholds,
    models=MODELS,
    inputs=mnist_inputs,
    cells=[
        GradedCell("check_model", answer_id="model_def", checks=[
            layer_structure("layers", "keras_model", EXPECTED_LAYERS, hint_key="layers_hint", source=described_layers,
                            ignore=("Flatten",)),
        ]),
        GradedCell("check_compile", answer_id="compile_model", checks=[
            behaviour("optimizer", "keras_compile", _adam_ok, "keras_optimizer_expected", _optimizer_found,
                      "value_hint_optimizer", var="model"),
            field_equals("loss", "keras_compile", "loss", "sparse_categorical_crossentropy", "value_hint_loss"),
            field_contains("metrics", "keras_compile", "metrics", "accuracy", "value_hint_metrics",
                           aliases=("acc", "sparse_categorical_accuracy")),
        ]),
        GradedCell("check_training", answer_id="train_model", checks=[
            trained_model("trained", "keras_training", public_accuracy, better_than=0.2,
                          found_key="keras_trained_chance", hint_key="keras_trained_hint"),
            hidden_accuracy("hidden_accuracy", labels=lambda ctx: hidden_mnist(ctx)[1],
                            measure=lambda ctx, y: model_accuracy(ctx, "trained", "hidden", y),
                            hint_key="keras_accuracy_hint"),
        ]),
        GradedCell("check_evaluate", answer_id="evaluate_model", checks=[
            reported_test_accuracy("evaluated", "value_test_acc", "trained", mnist_sets, "evaluate_tolerance",
                                   "evaluate_expected", "evaluate_hint", var="test_acc",
                                   history="keras_training"),
        ]),
    ],
)
