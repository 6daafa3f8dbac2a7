"""Scorer of `keras_mnist`: Keras model definition, compile, fit and evaluate on MNIST."""
from ..checks import (
    ArtifactProblem, Check, CheckResult, RebuildError,
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


def trained(name: str, artifact: str) -> Check:
    """The exported history's loss fell *and* the exported weights do better than chance.

    The history is written in the student's kernel and can be faked; the weights are measured
    here, on the public test set, so a faked history on an untrained model gets nothing.
    A model the grader cannot rebuild keeps the history's verdict (the accuracy check says why).
    """
    base = loss_fell(name, artifact)

    def run(ctx, points):
        result = base.fn(ctx, points)
        if result.score <= 0:
            return result
        try:
            acc = _public_test_accuracy(ctx)
        except (RebuildError, ArtifactProblem):
            return result
        if acc > 0.2:            # chance is 0.1 on ten digits
            return result
        if ctx.lang == "en":
            found = f"the history says the loss fell, but the exported weights score {acc:.1%} (chance level)"
            hint = "train the model itself with model.fit and keep what it returns in history"
        else:
            found = f"기록(history)에는 손실이 줄었다고 되어 있지만, 제출된 가중치의 정확도는 {acc:.1%}(찍기 수준)입니다"
            hint = "model.fit으로 모델을 실제로 학습시키고 그 반환값을 history에 저장하세요"
        return CheckResult(name, 0.0, points, expected=result.expected, found=found, hint=hint)

    return Check(name, run, var="history")


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
            trained("trained", "keras_training"),
            hidden_accuracy("hidden_accuracy", "keras_training", data=hidden_mnist),
        ]),
        GradedCell("check_evaluate", answer_id="evaluate_model", checks=[
            reported_matches("evaluated", "value_test_acc", _public_test_accuracy, "evaluate_tolerance",
                             "evaluate_expected", "evaluate_hint", var="test_acc"),
        ]),
    ],
)
