"""Messages shown to students by the shared checks and the farm, in Korean and English.

Each failing check says what was expected, what was found and a hint.  Keys are
used by the check library; `{placeholders}` are filled by the check.  What one
exercise says is in its own folder (graders/exercises/<name>/messages.py); `msg`
finds both.
"""
from __future__ import annotations

CATALOG: dict[str, dict[str, str]] = {
    # generic
    "pass": {"ko": "통과", "en": "passed"},
    "artifact_missing": {
        "ko": "채점에 필요한 결과({what})를 찾지 못했습니다.",
        "en": "the result needed for grading ({what}) was not found.",
    },
    "artifact_missing_hint": {
        "ko": "위 셀들을 위에서부터 차례로 실행했을 때 오류 없이 `{var}` 가 만들어지는지 확인하세요.",
        "en": "check that running the cells from the top creates `{var}` without errors.",
    },
    "student_error": {
        "ko": "이 부분의 코드에서 오류가 났습니다: {error}",
        "en": "the code for this part raised an error: {error}",
    },
    "student_error_hint": {
        "ko": "오류 메시지의 마지막 줄을 읽고, 해당 셀을 다시 실행해 보세요.",
        "en": "read the last line of the error message and run that cell again.",
    },
    "artifact_bad": {
        "ko": "채점용 결과 파일이 올바르지 않습니다 ({why}).",
        "en": "the grading artifact is not valid ({why}).",
    },
    "artifact_bad_hint": {
        "ko": "채점용 셀을 수정하지 말고, 노트북을 처음부터 다시 실행해 제출하세요.",
        "en": "do not edit the grading cells; rerun the notebook from the top and submit again.",
    },
    "not_run": {
        "ko": "노트북이 끝까지 실행되지 않았습니다 ({why}).",
        "en": "the notebook did not run to the end ({why}).",
    },
    # the kernel's memory cgroup (SANDBOX['memory_gb']) stopped it
    "memory_limit": {
        "ko": "커널이 메모리 한도 {gb} GiB보다 많은 메모리를 써서 중지되었습니다.",
        "en": "The kernel was stopped because it used more than the memory limit of {gb} GiB.",
    },
    "memory_limit_hint": {
        "ko": "힌트: 배치 크기를 줄이고, 더 이상 쓰지 않는 큰 배열은 계속 들고 있지 말고 del 로 지우세요.",
        "en": "Hint: use a smaller batch size, and do not keep large arrays you no longer need (del them).",
    },
    # layers
    "layers_count": {
        "ko": "층의 개수가 다릅니다.", "en": "the number of layers differs.",
    },
    "layers_missing": {"ko": "빠진 층: {layers}", "en": "missing layers: {layers}"},
    "layers_extra": {"ko": "추가된 층: {layers}", "en": "extra layers: {layers}"},
    "layers_weights_only": {
        "ko": "클래스로 정의한 모델은 저장 파일에 층 목록이 없어, 가중치가 있는 층의 크기만 비교했습니다 "
              "(activation 과 Dropout 은 조교가 코드로 확인합니다).",
        "en": "a model defined as a class saves no layer list, so only the sizes of the layers with weights were "
              "compared (a TA checks activations and Dropout in the code).",
    },
    "layer_field": {
        "ko": "{index}번째 층({kind})의 {field}",
        "en": "layer {index} ({kind}) {field}",
    },
    "not_compiled": {"ko": "compile 되지 않은 모델", "en": "a model that was not compiled"},
    # training
    "no_history": {"ko": "학습 기록 없음", "en": "no training record"},
    "history_expected": {"ko": "1 epoch 이상 학습하고 손실이 줄어든 기록",
                         "en": "a record of at least one epoch with a falling loss"},
    "history_hint": {
        "ko": "history = model.fit(x_train, y_train, epochs=5) 처럼 학습하고 결과를 history 에 저장하세요.",
        "en": "train with history = model.fit(x_train, y_train, epochs=5).",
    },
    "loss_not_falling": {"ko": "손실 {first} → {last} (줄지 않음)", "en": "loss {first} → {last} (not falling)"},
    "loss_none": {"ko": "손실 기록에 숫자가 아닌 값(None)이 있습니다: {values}",
                  "en": "the loss record holds values that are not numbers (None): {values}"},
    "loss_not_finite": {"ko": "손실이 유한한 값이 아님 ({values})", "en": "loss is not finite ({values})"},
    "loss_hint": {
        "ko": "마지막 층의 activation과 손실 함수가 짝이 맞는지(softmax ↔ sparse_categorical_crossentropy) 확인하세요.",
        "en": "check that the last activation and the loss match (softmax ↔ sparse_categorical_crossentropy).",
    },
    # accuracy
    "accuracy_expected": {"ko": "숨은 채점 데이터 정확도 {target:.0%} 이상 (만점), {floor:.0%} 초과부터 부분 점수",
                          "en": "hidden-set accuracy of at least {target:.0%} (full), partial above {floor:.0%}"},
    "accuracy_found": {"ko": "정확도 {acc:.1%} ({n}개 중)", "en": "accuracy {acc:.1%} (of {n})"},
    "reported_train_accuracy": {"ko": "{var} = {got:.4f}: 채점기가 잰 학습 데이터 정확도({train:.4f})입니다. 테스트 데이터로 잰 값이 아닙니다",
                                "en": "{var} = {got:.4f}: the training-set accuracy the grader measured ({train:.4f}), "
                                      "not one measured on the test set"},
    "reported_history_accuracy": {"ko": "{var} = {got:.4f}: fit 기록(history)에 있는 학습 중 정확도입니다. 테스트 데이터로 잰 값이 아닙니다",
                                  "en": "{var} = {got:.4f}: a training accuracy from the fit's history, not one measured on "
                                        "the test set"},
    "model_saw_test": {"ko": "모델이 학습 데이터({train:.1%})보다 테스트 데이터({test:.1%})를 눈에 띄게 잘 맞힙니다: "
                             "학습(fit)에 테스트 데이터를 쓴 것 같습니다",
                       "en": "the model does clearly better on the test set ({test:.1%}) than on the training set "
                             "({train:.1%}): it seems to have been fit on the test set"},
    "model_saw_test_hint": {"ko": "fit 에는 학습 데이터(x_train, y_train)만 넣고, 테스트 데이터는 마지막 평가에만 쓰세요.",
                            "en": "train (fit) on x_train, y_train only; keep the test set for the final evaluation."},
    "accuracy_hint": {
        "ko": "epochs를 충분히 주고, 입력을 255로 나눴는지, 구조와 손실 함수가 맞는지 확인하세요.",
        "en": "train enough epochs, scale inputs by 1/255, and check the model and the loss.",
    },
    "weights_unusable": {"ko": "모델의 출력을 채점에 쓸 수 없음 ({why})",
                         "en": "the model's output cannot be used for grading ({why})"},
    "weights_hint": {
        "ko": "모든 셀을 위에서부터 오류 없이 실행했는지, 모델이 이미지마다 클래스 점수 한 줄을 내는지 확인하세요.",
        "en": "run every cell from the top without errors and check that the model gives one row of class scores per image.",
    },
    # the scoring sandbox (the saved model, loaded and run by the grader)
    "model_unusable": {"ko": "채점기가 저장된 모델을 불러오거나 실행하지 못했습니다 ({why})",
                       "en": "the grader could not load or run the saved model ({why})"},
    "output_shape_found": {"ko": "모델 출력 모양 {shape} — 이미지 {n}장 각각에 클래스 점수 한 줄씩 나와야 합니다",
                           "en": "model output shape {shape} — expected one row of class scores per image ({n})"},
    "model_limit": {"ko": "모델을 채점하는 데 시간·메모리 한도를 넘었습니다 ({why})",
                    "en": "running the model for grading went past the time or memory limit ({why})"},
    "model_not_saved": {"ko": "모델을 프레임워크 형식으로 저장하지 못했습니다: {why}",
                        "en": "the model could not be saved in its framework's format: {why}"},
    "model_hint": {"ko": "프레임워크가 제공하는 층만 써서 모델을 만들고, 모든 셀을 위에서부터 오류 없이 실행하세요.",
                   "en": "build the model from the framework's own layers and run every cell from the top without errors."},
    "grader_error": {"ko": "채점기 쪽 문제로 이 항목을 판정하지 못했습니다 (학생 코드의 잘못이 아닙니다). 조교가 확인합니다.",
                     "en": "the grader could not judge this item because of a problem on the grader's side "
                           "(not your code). Staff will look at it."},
    # outputs
    "logits_expected": {"ko": "모양 ({batch}, {classes})의 logits (softmax 전의 점수)",
                        "en": "logits of shape ({batch}, {classes}) (scores before softmax)"},
    "shape_found": {"ko": "출력 모양 {shape}", "en": "output shape {shape}"},
    "probabilities_found": {"ko": "각 행의 합이 1인 확률 (softmax가 이미 적용됨)",
                            "en": "probabilities whose rows sum to 1 (softmax already applied)"},
    # summary lines
    "expected": {"ko": "기대", "en": "expected"},
    "found": {"ko": "실제", "en": "found"},
    "hint": {"ko": "힌트", "en": "hint"},
    "points": {"ko": "점", "en": "pt"},
}


def pick(table: dict, key: str, lang: str, fallback: str = "ko", **kw) -> str:
    """`table[key]` in `lang` (else in `fallback`), filled with `kw`: every message table uses this."""
    entry = table[key]
    text = entry.get(lang) or entry[fallback]
    return text.format(**kw) if kw else text


def msg(key: str, lang: str = "ko", **kw) -> str:
    """A message of the check library, or of an exercise (graders/exercises/<name>/messages.py)."""
    if key in CATALOG:
        return pick(CATALOG, key, lang, **kw)
    from .exercises import messages as exercise_messages   # pure tables: no import circle
    return pick(exercise_messages(), key, lang, **kw)
