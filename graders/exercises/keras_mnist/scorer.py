"""Scorer of `keras_mnist`: Keras model definition, compile, fit and evaluate on MNIST.

The notebook saves the model as `.keras` twice (as defined, and trained); the scoring
sandbox loads each with Keras and describes / runs it.  Structure is compared by
meaning: no InputLayer, activation layers folded into the layer before, activations
by name however they were written, Flatten optional (a model on flat vectors).
"""
from ...checks import (
    accuracy_thresholds, field_contains, field_equals, GradedCell, hidden_accuracy, Layer, layer_structure,
    model_accuracy, reported_matches, SavedModel, Scorer, trained_model)
from ...checks import described_layers
from ...datasets.mnist import hidden_mnist, mnist_inputs, public_accuracy

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
    SavedModel("trained", "keras", "keras_trained.keras", artifact="keras_training", inputs=("hidden", "public"),
               options=(("scale", SCALE), CELLS)),
)





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
            field_equals("optimizer", "keras_compile", "optimizer", "adam", "value_hint_optimizer"),
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
            reported_matches("evaluated", "value_test_acc", public_accuracy, "evaluate_tolerance",
                             "evaluate_expected", "evaluate_hint", var="test_acc"),
        ]),
    ],
)
