"""Messages shown to students by the hidden checks, in Korean and English.

Each failing check says what was expected, what was found and a hint.  Keys are
used by the check library; `{placeholders}` are filled by the check.
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
    "layer_field": {
        "ko": "{index}번째 층({kind})의 {field}",
        "en": "layer {index} ({kind}) {field}",
    },
    "layers_hint": {
        "ko": "Flatten(input_shape=(28, 28)) → Dense(128, activation='relu') → Dropout(0.2) → Dense(10, activation='softmax') 순서로 쌓았는지 확인하세요.",
        "en": "stack Flatten(input_shape=(28, 28)) → Dense(128, activation='relu') → Dropout(0.2) → Dense(10, activation='softmax').",
    },
    # values
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
    "keras_trained_chance": {"ko": "기록(history)에는 손실이 줄었다고 되어 있지만, 채점기가 잰 모델의 정확도는 {acc:.1%}(찍기 수준)입니다",
                             "en": "the history says the loss fell, but the model the grader measured scores {acc:.1%} (chance level)"},
    "keras_trained_hint": {"ko": "model.fit으로 모델을 실제로 학습시키고 그 반환값을 history에 저장하세요",
                           "en": "train the model itself with model.fit and keep what it returns in history"},
    "keras_accuracy_hint": {
        "ko": "epochs를 충분히 주고(5), 마지막 층이 Dense(10, softmax)이고 손실 함수가 맞는지 확인하세요.",
        "en": "train enough epochs (5), end with Dense(10, softmax) and check the loss function.",
    },
    "torch_accuracy_hint": {
        "ko": "5 epoch 학습했는지, forward 가 logits 를 돌려주는지, 학습 반복문이 zero_grad → backward → step 순서인지 확인하세요.",
        "en": "train 5 epochs, return logits from forward, and check the loop: zero_grad → backward → step.",
    },
    "torch_trained_chance": {"ko": "손실 기록은 줄었지만 채점기가 잰 모델의 정확도는 {acc:.1%}(찍기 수준)입니다",
                             "en": "the recorded loss fell, but the model the grader measured scores {acc:.1%} (chance level)"},
    "torch_trained_hint": {"ko": "train_one_epoch 로 model 자체를 학습시키고, 돌려받은 손실을 losses 에 추가하세요.",
                           "en": "train the model itself with train_one_epoch and append the returned losses to losses."},
    "keras_model_hint": {"ko": "tf.keras 의 층(Flatten, Dense, Dropout 등)으로 모델을 만들고, 학습 셀을 오류 없이 실행하세요.",
                         "en": "build the model from tf.keras layers (Flatten, Dense, Dropout, …) and run the training cell without errors."},
    # evaluate
    "evaluate_expected": {"ko": "model.evaluate 로 얻은 테스트 정확도 (채점기가 잰 값 {ref:.3f} ± {tol})",
                          "en": "the test accuracy from model.evaluate (grader measured {ref:.3f} ± {tol})"},
    "evaluate_hint": {
        "ko": "test_loss, test_acc = model.evaluate(x_test, y_test) 처럼 두 값을 받아 test_acc 에 정확도를 저장하세요.",
        "en": "use test_loss, test_acc = model.evaluate(x_test, y_test).",
    },
    # outputs
    "logits_expected": {"ko": "모양 ({batch}, {classes})의 logits (softmax 전의 점수)",
                        "en": "logits of shape ({batch}, {classes}) (scores before softmax)"},
    "shape_found": {"ko": "출력 모양 {shape}", "en": "output shape {shape}"},
    "probabilities_found": {"ko": "각 행의 합이 1인 확률 (softmax가 이미 적용됨)",
                            "en": "probabilities whose rows sum to 1 (softmax already applied)"},
    "logits_hint": {
        "ko": "nn.CrossEntropyLoss 가 안에서 softmax를 계산하므로, forward 는 마지막 Linear 의 출력을 그대로 돌려줘야 합니다.",
        "en": "nn.CrossEntropyLoss applies softmax itself: forward must return the last Linear's output as is.",
    },
    # pytorch
    "torch_layers_hint": {
        "ko": "nn.Flatten() → nn.Linear(784, 128) → nn.ReLU() → nn.Linear(128, 10) 순서로 만들었는지 확인하세요 (28×28 = 784).",
        "en": "build nn.Flatten() → nn.Linear(784, 128) → nn.ReLU() → nn.Linear(128, 10) (28×28 = 784).",
    },
    "value_hint_criterion": {
        "ko": "분류 문제에는 criterion = nn.CrossEntropyLoss() 를 씁니다.",
        "en": "use criterion = nn.CrossEntropyLoss() for classification.",
    },
    "value_hint_torch_optimizer": {
        "ko": "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3) 처럼 모델의 파라미터를 넘기세요.",
        "en": "use optimizer = torch.optim.Adam(model.parameters(), lr=1e-3).",
    },
    "torch_optimizer_expected": {"ko": "model.parameters() 를 받은 Adam", "en": "Adam holding model.parameters()"},
    "optimizer_unbound": {"ko": "{opt} (그러나 model.parameters() 가 아닌 파라미터를 가짐)",
                          "en": "{opt} (but not holding model.parameters())"},
    "loop_steps_expected": {"ko": "배치마다 optimizer.step() 을 한 번씩 호출하고 파라미터가 바뀜",
                            "en": "optimizer.step() once per batch, and the parameters change"},
    "loop_steps_found": {"ko": "배치 {batches}개에 step {steps}번, 파라미터 변화: {changed}",
                         "en": "{steps} steps for {batches} batches, parameters changed: {changed}"},
    "loop_steps_hint": {"ko": "for 반복문 안에서 loss.backward() 다음에 optimizer.step() 을 호출하세요.",
                        "en": "call optimizer.step() after loss.backward() inside the loop."},
    "zero_grad_expected": {"ko": "배치마다 기울기를 0으로 초기화 (같은 배치의 기울기 크기가 그대로)",
                           "en": "gradients reset every batch (same batch, same gradient size)"},
    "zero_grad_found": {"ko": "같은 배치인데 기울기 크기가 {ratio}배로 커짐 (누적됨)",
                        "en": "same batch, gradient grew {ratio}× (accumulating)"},
    "zero_grad_hint": {"ko": "배치마다 optimizer.zero_grad() 를 먼저 호출하세요. PyTorch는 기울기를 더해 나갑니다.",
                       "en": "call optimizer.zero_grad() for every batch: PyTorch adds gradients up."},
    "train_mode_expected": {"ko": "학습 중에는 model.train() 모드", "en": "model.train() mode while training"},
    "train_mode_found": {"ko": "forward 호출 때 모드: {modes}", "en": "mode at forward calls: {modes}"},
    "train_mode_hint": {"ko": "train_one_epoch 의 처음에 model.train() 을 호출하세요 (평가 뒤에는 eval 모드로 남아 있습니다).",
                        "en": "call model.train() at the start of train_one_epoch (it stays in eval mode after evaluation)."},
    "loop_learns_expected": {"ko": "고정된 작은 배치에서 손실이 줄어듦", "en": "the loss on a fixed small batch goes down"},
    "loop_learns_found": {"ko": "손실 {before} → {after}", "en": "loss {before} → {after}"},
    "loop_learns_hint": {"ko": "zero_grad → forward → loss → backward → step 순서를 확인하세요.",
                         "en": "check the order zero_grad → forward → loss → backward → step."},
    "loader_expected_default": {"ko": "학습 데이터 전체(x_train_t, y_train_t), batch_size=64",
                                "en": "the whole training set (x_train_t, y_train_t), batch_size=64"},
    "loader_found": {"ko": "데이터 {items}개, batch_size={batch}", "en": "{items} items, batch_size={batch}"},
    "loader_hint": {"ko": "train_loader = DataLoader(TensorDataset(x_train_t, y_train_t), batch_size=64, shuffle=True)",
                    "en": "train_loader = DataLoader(TensorDataset(x_train_t, y_train_t), batch_size=64, shuffle=True)"},
    "losses_hint": {"ko": "EPOCHS = 5 로 학습하고, train_one_epoch 가 return 으로 돌려주는 epoch 평균 손실을 losses 에 추가하세요.",
                    "en": "train for EPOCHS = 5 and append the mean loss that train_one_epoch returns to losses."},
    "torch_evaluate_hint": {
        "ko": "test_acc = evaluate(model, x_test_t, y_test_t, device) 로 0~1 사이 정확도를 구하세요.",
        "en": "compute test_acc = evaluate(model, x_test_t, y_test_t, device), a number in 0..1.",
    },
    # transformers
    "structure_expected": {"ko": "리뷰마다 {'label': 'POSITIVE' 또는 'NEGATIVE', 'score': 0~1} 딕셔너리 하나씩인 리스트",
                           "en": "a list with one {'label': 'POSITIVE'|'NEGATIVE', 'score': 0..1} dict per review"},
    "structure_hint": {"ko": "classifier = pipeline('sentiment-analysis', model=MODEL_DIR) — 작업 이름의 철자를 확인하세요.",
                       "en": "classifier = pipeline('sentiment-analysis', model=MODEL_DIR) — check the task name's spelling."},
    "labels_expected": {"ko": "리뷰 수만큼의 'POSITIVE'/'NEGATIVE' 문자열 리스트",
                        "en": "a list of 'POSITIVE'/'NEGATIVE' strings, one per review"},
    "labels_found": {"ko": "{type} (개수 {n}): {sample}", "en": "{type} (length {n}): {sample}"},
    "labels_hint": {"ko": "results = classifier(texts) 는 리뷰마다 딕셔너리 하나입니다: [r['label'] for r in results]",
                    "en": "results = classifier(texts) has one dict per review: [r['label'] for r in results]"},
    "labels_unusable": {"ko": "레이블 리스트가 아님", "en": "not a list of labels"},
    "sentiment_accuracy_hint": {"ko": "predict_labels 가 리뷰 목록 전체의 레이블을 순서대로 돌려주는지 확인하세요.",
                                "en": "check that predict_labels returns every review's label, in order."},
    "ratio_expected": {"ko": "POSITIVE 개수 / 전체 개수 (예: 4개 중 3개 → 0.75)",
                       "en": "number of POSITIVE / total (e.g. 3 of 4 → 0.75)"},
    "ratio_hint": {"ko": "sum(1 for label in labels if label == 'POSITIVE') / len(labels)",
                   "en": "sum(1 for label in labels if label == 'POSITIVE') / len(labels)"},
    "confident_expected": {"ko": "score 가 threshold 이상인 리뷰만 (리뷰, 레이블) 로",
                           "en": "only reviews with score >= threshold, as (review, label)"},
    "confident_found": {"ko": "threshold {t}: {kept}개 남김 (기대 {want}개)", "en": "threshold {t}: kept {kept} (expected {want})"},
    "confident_pairs_found": {"ko": "남긴 항목이 (리뷰, 레이블) 튜플이 아님 (두 번째 값: {second})",
                              "en": "kept items are not (review, label) tuples (second value: {second})"},
    "confident_boundary_found": {"ko": "점수가 threshold 와 정확히 같은 리뷰를 뺐습니다 ('이상'은 >= 입니다)",
                                 "en": "a review whose score equals the threshold was dropped ('at least' means >=)"},
    "confident_hint": {"ko": "r['score'] >= threshold 인 것만 남기세요 (부등호 방향과 zip(texts, results) 를 확인).",
                       "en": "keep r['score'] >= threshold (check the comparison and zip(texts, results))."},
    # fastai
    "vocab_expected": {"ko": "클래스 5개: ['eight', 'five', 'nine', 'seven', 'six']",
                       "en": "5 classes: ['eight', 'five', 'nine', 'seven', 'six']"},
    "vocab_hint": {"ko": "정규식의 괄호 ( ) 안이 레이블이 됩니다: pat=r'^([a-z]+)_\\d+\\.png$'",
                   "en": "the regex group ( ) becomes the label: pat=r'^([a-z]+)_\\d+\\.png$'"},
    "item_size_expected": {"ko": "배치 모양 (bs, 3, 32, 32)", "en": "batch shape (bs, 3, 32, 32)"},
    "item_size_hint": {"ko": "item_tfms=Resize(32) 를 주세요 (몸통이 32×32로 학습되었습니다).",
                       "en": "pass item_tfms=Resize(32) (the body was trained on 32×32)."},
    "metric_expected": {"ko": "metrics=error_rate", "en": "metrics=error_rate"},
    "metric_hint": {"ko": "vision_learner(dls, digit_body, metrics=error_rate) 처럼 지표를 주세요.",
                    "en": "pass the metric: vision_learner(dls, digit_body, metrics=error_rate)."},
    "n_classes_expected": {"ko": "출력 모양 (bs, 5): 클래스마다 하나", "en": "output shape (bs, 5): one per class"},
    "n_classes_hint": {"ko": "n_out 을 직접 주지 마세요. vision_learner 가 dls 의 클래스 수(5)를 씁니다.",
                       "en": "do not pass n_out: vision_learner takes the number of classes (5) from dls."},
    "pretrained_expected": {"ko": "사전학습된 digit_body 에서 출발 (몸통 가중치가 사전학습 값 근처)",
                            "en": "starting from the pretrained digit_body (body weights near the pretrained ones)"},
    "pretrained_found": {"ko": "몸통 가중치가 사전학습 값에서 {dist} 떨어짐", "en": "body weights {dist} away from the pretrained ones"},
    "pretrained_hint": {"ko": "pretrained=False 를 빼고 vision_learner(dls, digit_body, ...) 로 사전학습 가중치를 쓰세요.",
                        "en": "drop pretrained=False: vision_learner(dls, digit_body, ...) loads the pretrained weights."},
    "fine_tuned_expected": {"ko": "fine_tune: 몸통을 얼린 채 1 epoch, 그다음 전체를 풀어 학습",
                            "en": "fine_tune: one epoch with the body frozen, then all layers"},
    "phases_found": {"ko": "학습 단계 (epoch, 학습된 몸통 층/전체): {phases}",
                     "en": "training phases (epochs, trainable body layers/all): {phases}"},
    "fine_tuned_hint": {"ko": "learn.fine_tune(3) 을 쓰세요. fit_one_cycle 만 쓰면 얼리기 단계가 없습니다.",
                        "en": "use learn.fine_tune(3); fit_one_cycle alone has no frozen phase."},
    "fastai_accuracy_hint": {"ko": "사전학습 몸통 + fine_tune(3) 이면 숨은 숫자 이미지 정확도가 95% 안팎입니다.",
                             "en": "the pretrained body with fine_tune(3) reaches about 95% on the hidden digits."},
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
    return pick(CATALOG, key, lang, **kw)
