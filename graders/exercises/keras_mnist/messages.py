"""What the checks of keras_mnist say to students (ko/en); `msg` in graders/messages.py finds these keys."""

MESSAGES: dict[str, dict[str, str]] = {
    "layers_hint": {
        "ko": "Flatten(input_shape=(28, 28)) → Dense(128, activation='relu') → Dropout(0.2) → Dense(10, activation='softmax') 순서로 쌓았는지 확인하세요.",
        "en": "stack Flatten(input_shape=(28, 28)) → Dense(128, activation='relu') → Dropout(0.2) → Dense(10, activation='softmax').",
    },
    # values
    "keras_optimizer_expected": {"ko": "adam (기본 learning_rate=0.001)", "en": "adam (its default learning_rate=0.001)"},
    "value_hint_optimizer": {
        "ko": "model.compile(optimizer='adam', ...) 처럼 옵티마이저를 지정하세요.",
        "en": "pass optimizer='adam' to model.compile.",
    },
    "value_hint_loss": {
        "ko": "레이블이 0~9 정수이므로 loss='sparse_categorical_crossentropy' 를 씁니다.",
        "en": "labels are integers 0-9, so use loss='sparse_categorical_crossentropy'.",
    },
    "value_hint_metrics": {
        "ko": "metrics=['accuracy'] 를 넣으면 학습 중 정확도를 볼 수 있습니다.",
        "en": "add metrics=['accuracy'] to see the accuracy while training.",
    },
    "keras_trained_chance": {"ko": "기록(history)에는 손실이 줄었다고 되어 있지만, 채점기가 잰 모델의 정확도는 {acc:.1%}(찍기 수준)입니다",
                             "en": "the history says the loss fell, but the model the grader measured scores {acc:.1%} (chance level)"},
    "keras_trained_hint": {"ko": "model.fit으로 모델을 실제로 학습시키고 그 반환값을 history에 저장하세요",
                           "en": "train the model itself with model.fit and keep what it returns in history"},
    "keras_accuracy_hint": {
        "ko": "epochs를 충분히 주고(5), 마지막 층이 Dense(10, softmax)이고 손실 함수가 맞는지 확인하세요.",
        "en": "train enough epochs (5), end with Dense(10, softmax) and check the loss function.",
    },
    "keras_model_hint": {"ko": "tf.keras 의 층(Flatten, Dense, Dropout 등)으로 모델을 만들고, 학습 셀을 오류 없이 실행하세요.",
                         "en": "build the model from tf.keras layers (Flatten, Dense, Dropout, …) and run the training cell without errors."},
    # evaluate
    "evaluate_expected": {"ko": "model.evaluate 로 얻은 테스트 정확도 (채점기가 잰 값 {ref:.3f} ± {tol})",
                          "en": "the test accuracy from model.evaluate (grader measured {ref:.3f} ± {tol})"},
    "evaluate_hint": {
        "ko": "test_loss, test_acc = model.evaluate(x_test, y_test) 처럼 두 값을 받아 test_acc 에 정확도를 저장하세요.",
        "en": "use test_loss, test_acc = model.evaluate(x_test, y_test).",
    },
}
