"""keras_mnist written the ways public Keras code writes it.

Blanks: model_def, compile_model, train_model, evaluate_model.  The notebook asks for
Flatten(28x28) -> Dense(128, relu) -> Dropout(0.2) -> Dense(10, softmax), adam +
sparse_categorical_crossentropy + accuracy, 5 epochs, `test_loss, test_acc = model.evaluate(...)`.
"""
from __future__ import annotations

import importlib.util

from . import REPO

_spec = importlib.util.spec_from_file_location("_course_config_for_variety", REPO / "course_config.py")
_cc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cc)
FULL = dict(_cc.ASSIGNMENTS["keras_mnist"]["points"])

# What a student copying the TensorFlow 2 "quickstart for beginners" (tensorflow.org/tutorials/quickstart/beginner)
# types, before the course's own wording: the base every case below starts from.
BASE = {
    "model_def": """model = tf.keras.models.Sequential([
  tf.keras.layers.Flatten(input_shape=(28, 28)),
  tf.keras.layers.Dense(128, activation='relu'),
  tf.keras.layers.Dropout(0.2),
  tf.keras.layers.Dense(10, activation='softmax')
])""",
    "compile_model": "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
    "train_model": "history = model.fit(x_train, y_train, epochs=5)",
    "evaluate_model": "test_loss, test_acc = model.evaluate(x_test,  y_test, verbose=2)",
}


def case(name, origin, expected=None, why=None, **answers):
    return {"name": f"vk_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES = [
    # ── correct but different: full marks ────────────────────────────────────
    case("add_api",
         "model.add(...) one layer at a time, `from tensorflow.keras.layers import ...` (gist um4ng-tiw/e91ecb7f, "
         "countless Korean blog posts of the TF 2.0 era)",
         model_def="""from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Flatten, Dense, Dropout

model = Sequential()
model.add(Flatten(input_shape=(28, 28)))
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(10, activation='softmax'))"""),
    case("tf_nn_activations",
         "activations as functions `activation=tf.nn.relu` / `tf.nn.softmax` (TensorFlow r1.x 'Get Started' "
         "tutorials/_index.ipynb, pastebin tDEbcxbC)",
         model_def="""model = tf.keras.models.Sequential([
  tf.keras.layers.Flatten(input_shape=(28, 28)),
  tf.keras.layers.Dense(128, activation=tf.nn.relu),
  tf.keras.layers.Dropout(0.2),
  tf.keras.layers.Dense(10, activation=tf.nn.softmax)
])"""),
    case("functional_api",
         "Keras functional API guide (keras.io/guides/functional_api): keras.Input -> layers called on tensors -> "
         "keras.Model(inputs, outputs)",
         model_def="""from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(28, 28))
x = layers.Flatten()(inputs)
x = layers.Dense(128, activation="relu")(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")"""),
    case("input_object_sequential",
         "Keras 3 'The Sequential model' guide: start with keras.Input(shape=...) instead of input_shape=",
         model_def="""import keras
from keras import layers

model = keras.Sequential(
    [
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ]
)"""),
    case("activation_layers",
         "separate Activation layers, `Dense(n)` then `Activation('relu')` (Keras Deep Learning Cookbook, Packt: "
         "Sequential([Dense(32, input_dim=784), Activation('sigmoid'), Dense(10), Activation('softmax')]))",
         model_def="""from tensorflow.keras.layers import Activation, Dense, Dropout, Flatten

model = tf.keras.Sequential([
    Flatten(input_shape=(28, 28)),
    Dense(128),
    Activation('relu'),
    Dropout(0.2),
    Dense(10),
    Activation('softmax'),
])"""),
    case("relu_softmax_layers",
         "advanced-activation layers `layers.ReLU()` and `layers.Softmax()` (Keras layer API docs, "
         "keras.io/api/layers/activation_layers)",
         model_def="""model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128),
    tf.keras.layers.ReLU(),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10),
    tf.keras.layers.Softmax(),
])"""),
    case("no_input_shape",
         "no input_shape at all: the model is built by the first fit (gists such as satishgunjal/75d8946e "
         "without the Flatten argument; Keras builds lazily)",
         model_def="""model = tf.keras.Sequential([
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(128, activation='relu'),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10, activation='softmax')
])""",
         why="the graded cell describes the model right after the blank, before fit builds it; the model is the "
             "asked one once built (issue 12 §2: 'a model built without input_shape is built before it is described')"),
    case("objects_in_compile",
         "TF guide 'Training & evaluation with the built-in methods': optimizer/loss/metric objects "
         "(keras.optimizers.Adam(), keras.losses.SparseCategoricalCrossentropy(), "
         "keras.metrics.SparseCategoricalAccuracy())",
         compile_model="""model.compile(
    optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
    loss=tf.keras.losses.SparseCategoricalCrossentropy(),
    metrics=[tf.keras.metrics.SparseCategoricalAccuracy()],
)"""),
    case("acc_alias_validation_split",
         "keras.io 'Simple MNIST convnet' example: metrics=['acc'], fit(batch_size, validation_split=0.1), "
         "score = model.evaluate(x_test, y_test, verbose=0); score[1]",
         compile_model="model.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['acc'])",
         train_model="batch_size = 32\nepochs = 5\n"
                     "history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)",
         evaluate_model="score = model.evaluate(x_test, y_test, verbose=0)\n"
                        "print('Test loss:', score[0])\nprint('Test accuracy:', score[1])\n"
                        "test_loss, test_acc = score[0], score[1]"),
    case("return_dict",
         "`model.evaluate(..., return_dict=True)` (Keras Model API docs) and fit with validation_data",
         train_model="history = model.fit(x_train, y_train, epochs=5, batch_size=16, shuffle=True,\n"
                     "                    validation_data=(x_test, y_test), verbose=2)",
         evaluate_model="results = model.evaluate(x_test, y_test, return_dict=True, verbose=0)\n"
                        "test_loss = results['loss']\ntest_acc = results['accuracy']"),
    case("predict_argmax",
         "accuracy computed by hand from model.predict + np.argmax (typical student notebooks / Korean blogs: "
         "`np.mean(np.argmax(pred, axis=1) == y_test)`), a numpy float",
         evaluate_model="test_loss, _ = model.evaluate(x_test, y_test, verbose=0)\n"
                        "pred = model.predict(x_test)\n"
                        "test_acc = np.mean(np.argmax(pred, axis=1) == y_test)"),
    case("subclassed_model",
         "TensorFlow 'quickstart for experts' style: class MyModel(tf.keras.Model) with layers in __init__ and call()",
         model_def="""class MyModel(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = tf.keras.layers.Flatten()
        self.d1 = tf.keras.layers.Dense(128, activation='relu')
        self.dropout = tf.keras.layers.Dropout(0.2)
        self.d2 = tf.keras.layers.Dense(10, activation='softmax')

    def call(self, x, training=False):
        x = self.flatten(x)
        x = self.d1(x)
        x = self.dropout(x, training=training)
        return self.d2(x)

model = MyModel()
model.build((None, 28, 28))""",
         why="the notebook says Sequential, but the same four layers in a subclassed Model are the asked network; "
             "a TA would not take points for the container (debatable; the functional API is accepted too)"),
    case("keras3_activation_functions",
         "Keras 3 `import keras` with `keras.activations.relu` / `keras.activations.softmax` objects, named layers, "
         "an EarlyStopping callback (keras.io/api/callbacks/early_stopping)",
         model_def="""import keras

model = keras.Sequential(name="mnist_mlp")
model.add(keras.layers.Flatten(input_shape=(28, 28), name="flatten"))
model.add(keras.layers.Dense(units=128, activation=keras.activations.relu, name="hidden"))
model.add(keras.layers.Dropout(rate=0.2, name="dropout"))
model.add(keras.layers.Dense(units=10, activation=keras.activations.softmax, name="output"))""",
         train_model="early = keras.callbacks.EarlyStopping(monitor='loss', patience=2)\n"
                     "history = model.fit(x_train, y_train, epochs=5, callbacks=[early], verbose=2)"),
    case("list_unpack_verbose0",
         "TensorFlow 'Basic classification: Fashion MNIST' tutorial: `test_loss, test_acc = model.evaluate(test_images, "
         "test_labels, verbose=2)` with `keras.Sequential` from `from tensorflow import keras` and fit(epochs=5, verbose=0)",
         model_def="""from tensorflow import keras

model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10, activation='softmax')
])""",
         train_model="history = model.fit(x_train, y_train, epochs=5, verbose=0)\n"
                     "print(history.history['loss'])"),

    # ── subtly wrong: exactly one check flagged ──────────────────────────────
    case("w_logits_from_logits",
         "current TF beginner quickstart: last layer Dense(10) without softmax and "
         "SparseCategoricalCrossentropy(from_logits=True)",
         expected={"layers": 0},
         why="the notebook asks for softmax in the last layer (layers 0); the loss is the asked one and matches the "
             "logits, so it trains right: argmax of logits = argmax of softmax, hidden accuracy and evaluate stay full",
         model_def="""model = tf.keras.models.Sequential([
  tf.keras.layers.Flatten(input_shape=(28, 28)),
  tf.keras.layers.Dense(128, activation='relu'),
  tf.keras.layers.Dropout(0.2),
  tf.keras.layers.Dense(10)
])""",
         compile_model="loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
                       "model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])"),
    case("w_extra_hidden_layer",
         "an extra Dense(64, relu) hidden layer (gist um4ng-tiw/e91ecb7f: Dense(128) -> Dense(64) -> Dense(10))",
         expected={"layers": 0},
         model_def="""model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))
model.add(tf.keras.layers.Dense(128, activation='relu'))
model.add(tf.keras.layers.Dense(64, activation='relu'))
model.add(tf.keras.layers.Dropout(0.2))
model.add(tf.keras.layers.Dense(10, activation='softmax'))"""),
    case("w_rmsprop",
         "optimizer='rmsprop' from the Keras 'Deep Learning with Python' MNIST example (chapter 2)",
         expected={"optimizer": 0},
         compile_model="model.compile(optimizer='rmsprop',\n              loss='sparse_categorical_crossentropy',\n"
                       "              metrics=['accuracy'])"),
    case("w_no_metrics",
         "compile without metrics (evaluate then returns only the loss), accuracy computed by hand with predict",
         expected={"metrics": 0},
         compile_model="model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')",
         evaluate_model="test_loss = model.evaluate(x_test, y_test, verbose=2)\n"
                        "test_acc = (model.predict(x_test).argmax(axis=1) == y_test).mean()"),
    case("w_evaluate_not_unpacked",
         "`test_acc = model.evaluate(x_test, y_test)`: the [loss, accuracy] list kept whole (common beginner slip)",
         expected={"evaluated": 0},
         evaluate_model="test_acc = model.evaluate(x_test, y_test)"),
    case("w_double_scaling",
         "quickstart's `x_test / 255.0` typed again in evaluate although the setup already scaled the data",
         expected={"evaluated": 0},
         why="the reported number is the accuracy on doubly scaled images, not the model's test accuracy",
         evaluate_model="test_loss, test_acc = model.evaluate(x_test / 255.0, y_test, verbose=2)"),
]


# ── issue 23 §3: more public sources (names vk2_*) ─────────────────────────────────────────────────────
def case2(name, origin, expected=None, why=None, **answers):
    return {"name": f"vk2_{name}", "origin": origin, "answers": {**BASE, **answers},
            "expected": {**FULL, **(expected or {})}, **({"why": why} if why else {})}


CASES += [
    # ── correct but different: full marks ────────────────────────────────
    case2("chollet_dlwp_ch2",
          "F. Chollet, 'Deep Learning with Python' 2nd ed., ch. 2 'A first look at a neural network': "
          "`from tensorflow import keras` / `from tensorflow.keras import layers`, `keras.Sequential([layers...])`, "
          "compile with double-quoted strings, `model.fit(train_images, train_labels, epochs=5, batch_size=128)`, "
          "`test_loss, test_acc = model.evaluate(test_images, test_labels)` (adapted: the course's four layers and "
          "adam instead of the book's rmsprop)",
          model_def="""from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.2),
    layers.Dense(10, activation="softmax")
])""",
          compile_model="""model.compile(optimizer="adam",
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])""",
          train_model="history = model.fit(x_train, y_train, epochs=5, batch_size=128)",
          evaluate_model="test_loss, test_acc = model.evaluate(x_test, y_test)\nprint(f\"test_acc: {test_acc}\")"),
    case2("honkong_metrics_string",
          "박해선, '혼자 공부하는 머신러닝+딥러닝' ch. 7-2 (github rickiepark/hg-mldl 7-2.ipynb): "
          "`model = keras.Sequential(); model.add(keras.layers.Flatten(input_shape=(28, 28)))`, "
          "`model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='accuracy')`, and "
          "`model.evaluate(...)` kept as a list then indexed. The book's bare-string metrics (TF 2.3) raises "
          "'Expected `metrics` argument to be a list, tuple, or dict' in the course's Keras 3, so the student, "
          "seeing that error in the notebook, wraps it in a tuple: metrics=('accuracy',)",
          model_def="""from tensorflow import keras

model = keras.Sequential()
model.add(keras.layers.Flatten(input_shape=(28, 28)))
model.add(keras.layers.Dense(128, activation='relu'))
model.add(keras.layers.Dropout(0.2))
model.add(keras.layers.Dense(10, activation='softmax'))""",
          compile_model="model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=('accuracy',))",
          train_model="history = model.fit(x_train, y_train, epochs=5)",
          evaluate_model="result = model.evaluate(x_test, y_test)\ntest_loss = result[0]\ntest_acc = result[1]",
          why="metrics=('accuracy',) (a tuple, not a list) is accepted by Keras and gives the same accuracy metric. "
              "Fixed after the first grading: the bare string first written here does not run in Keras 3 (a case "
              "error, not a grader verdict); the expected points are unchanged"),
    case2("tf_data_pipeline",
          "TensorFlow Datasets 'Training a neural network on MNIST with Keras' (tensorflow.org/datasets/keras_example) "
          "and the tf.data guide: `tf.data.Dataset.from_tensor_slices(...).shuffle(...).batch(...)`, "
          "`model.fit(ds_train, epochs=...)`, evaluate on a batched test dataset",
          train_model="""ds_train = tf.data.Dataset.from_tensor_slices((x_train, y_train))
ds_train = ds_train.shuffle(len(x_train), seed=42).batch(32).prefetch(tf.data.AUTOTUNE)
history = model.fit(ds_train, epochs=5)""",
          evaluate_model="""ds_test = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(128)
test_loss, test_acc = model.evaluate(ds_test, verbose=2)"""),

    # ── wrong in exactly one way ─────────────────────────────────────────
    case2("w_dropout_half",
          "Dropout(0.5) as in Chollet, 'Deep Learning with Python' 2nd ed., ch. 5 'Adding dropout' "
          "(`layers.Dropout(0.5)`), instead of the asked Dropout(0.2)",
          expected={"layers": 0},
          why="the notebook's table asks Dropout(0.2); with 0.5 the model still learns MNIST well past 0.85",
          model_def="""model = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation='relu'),
    tf.keras.layers.Dropout(0.5),
    tf.keras.layers.Dense(10, activation='softmax')
])"""),
    case2("w_train_acc_as_test",
          "the last training accuracy from the History object reported as the test accuracy "
          "(`history.history['accuracy'][-1]`, the key the TF 'Overfit and underfit' / 'Basic text "
          "classification' tutorials plot), no evaluate on the test data",
          expected={"evaluated": 0},
          why="(d) asks for the loss and accuracy on the TEST data; the training accuracy of the last epoch is "
              "another number, even when it happens to lie close to the test accuracy",
          evaluate_model="test_loss = history.history['loss'][-1]\ntest_acc = history.history['accuracy'][-1]"),
    case2("w_fit_on_test",
          "`model.fit(x_test, y_test, epochs=5)`: the evaluate line's arguments pasted into fit (a slip that "
          "Stack Overflow 'why is my test accuracy 100%' threads keep finding)",
          expected={"evaluated": 0, "hidden_accuracy": (0, 3)},
          why="(c) asks to train on x_train, y_train. Issue 23 settles where the point goes: a test accuracy of "
              "a model that saw the test set in fit is not 'evaluated' (the grader sees the model do clearly "
              "better on the test set than on the training set). A model was trained and its history fell, so "
              "'trained' stays (one flag, not two). Its hidden accuracy is whatever the grader measures (fewer "
              "examples: maybe under the target), hence a range. (Written first as trained 0 / evaluated 2; "
              "changed by the lead to the issue's rule before the rerun.)",
          train_model="history = model.fit(x_test, y_test, epochs=5)"),
]
