"""Scorer of `keras_mnist`: Keras model definition, compile, fit and evaluate on MNIST."""
from ..checks import (
    accuracy_thresholds, field_contains, field_equals, GradedCell, hidden_accuracy, keras_dense_accuracy,
    Layer, layer_structure, loss_fell, reported_matches, Scorer)
from .data import hidden_mnist, public_test_mnist

EXPECTED_LAYERS = [
    Layer("Flatten", output=(784,), params=0),
    Layer("Dense", output=(128,), params=784 * 128 + 128, activation="relu"),
    Layer("Dropout", output=(128,), params=0, rate=0.2),
    Layer("Dense", output=(10,), params=128 * 10 + 10, activation="softmax"),
]


def _public_test_accuracy(ctx):
    x, y = public_test_mnist(ctx)
    return keras_dense_accuracy(ctx, "keras_training", x, y)



SCORER = Scorer(
    assignment="keras_mnist",
    notebook="keras_mnist",
    thresholds=("accuracy_floor", "accuracy_target", "evaluate_tolerance"),
    threshold_rule=accuracy_thresholds,
    cells=[
        GradedCell("check_model", answer_id="model_def", checks=[
            layer_structure("layers", "keras_model", EXPECTED_LAYERS, hint_key="layers_hint"),
        ]),
        GradedCell("check_compile", answer_id="compile_model", checks=[
            field_equals("optimizer", "keras_compile", "optimizer", "adam", "value_hint_optimizer"),
            field_equals("loss", "keras_compile", "loss", "sparse_categorical_crossentropy", "value_hint_loss"),
            field_contains("metrics", "keras_compile", "metrics", "accuracy", "value_hint_metrics",
                           aliases=("acc", "sparse_categorical_accuracy")),
        ]),
        GradedCell("check_training", answer_id="train_model", checks=[
            loss_fell("trained", "keras_training"),
            hidden_accuracy("hidden_accuracy", "keras_training", data=hidden_mnist),
        ]),
        GradedCell("check_evaluate", answer_id="evaluate_model", checks=[
            reported_matches("evaluated", "value_test_acc", _public_test_accuracy, "evaluate_tolerance",
                             "evaluate_expected", "evaluate_hint", var="test_acc"),
        ]),
    ],
)
