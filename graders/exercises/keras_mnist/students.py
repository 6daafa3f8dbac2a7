"""Simulated class for keras_mnist: the reference and one student per typical mistake.

Each student is the released notebook with these answers typed into its blanks
(answer cell id -> code); blanks not listed keep the reference answer, except for
`unfinished`, who leaves every blank as released.
"""

REFERENCE = {
    "model_def": """model = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation='relu'),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10, activation='softmax')
])""",
    "compile_model": """model.compile(optimizer='adam',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])""",
    "train_model": "history = model.fit(x_train, y_train, epochs=5, verbose=2)",
    "evaluate_model": "test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)",
}

MISTAKES = {
    # wrong output units: the hidden layer has 64 neurons instead of 128
    "wrong_units": {"model_def": REFERENCE["model_def"].replace("Dense(128", "Dense(64")},
    # missing softmax: the last layer outputs raw scores
    "missing_softmax": {"model_def": REFERENCE["model_def"].replace("Dense(10, activation='softmax')", "Dense(10)")},
    # wrong loss: one-hot loss with integer labels (fit and evaluate raise)
    "wrong_loss": {"compile_model": REFERENCE["compile_model"].replace(
        "sparse_categorical_crossentropy", "categorical_crossentropy")},
    # not trained: zero epochs
    "not_trained": {"train_model": "history = model.fit(x_train, y_train, epochs=0, verbose=2)"},
    # a Python syntax error in the training cell
    "syntax_error": {"train_model": "history = model.fit(x_train, y_train, epochs=5 verbose=2)"},
    # a cell that raises: TF1-era history key, before evaluate runs
    "cell_raises": {"evaluate_model": "print('마지막 정확도:', history.history['acc'][-1])\n" + REFERENCE["evaluate_model"]},
    # blanks left unfinished
    "unfinished": None,
}

# What each student should get, check by check (the tests hold the grader to this).
EXPECTED = {
    "ref":             {"layers": 3, "optimizer": 1, "loss": 1, "metrics": 1, "trained": 1, "hidden_accuracy": 3, "evaluated": 2},
    "wrong_units":     {"layers": 0, "optimizer": 1, "loss": 1, "metrics": 1, "trained": 1, "hidden_accuracy": 3, "evaluated": 2},
    # without softmax the loss is computed on raw scores: training is unstable and the trained model lands near
    # chance (19.6 % on one machine, just over 20 % on another: CPU kernels differ), so `trained` may go either way
    "missing_softmax": {"layers": 0, "optimizer": 1, "loss": 1, "metrics": 1, "trained": (0, 1), "hidden_accuracy": 0, "evaluated": 2},
    "wrong_loss":      {"layers": 3, "optimizer": 1, "loss": 0, "metrics": 1, "trained": 0, "hidden_accuracy": 0, "evaluated": 0},
    "not_trained":     {"layers": 3, "optimizer": 1, "loss": 1, "metrics": 1, "trained": 0, "hidden_accuracy": 0, "evaluated": 2},
    "syntax_error":    {"layers": 3, "optimizer": 1, "loss": 1, "metrics": 1, "trained": 0, "hidden_accuracy": 0, "evaluated": 2},
    "cell_raises":     {"layers": 3, "optimizer": 1, "loss": 1, "metrics": 1, "trained": 1, "hidden_accuracy": 3, "evaluated": 0},
    "unfinished":      {"layers": 0, "optimizer": 0, "loss": 0, "metrics": 0, "trained": 0, "hidden_accuracy": 0, "evaluated": 0},
}
