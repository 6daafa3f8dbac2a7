"""What the checks of this exercise say to students: expected, found and hints, Korean and English.

Keys are unique over all exercises (graders.exercises.messages checks it); `{placeholders}` are
filled by the check.
"""

MESSAGES: dict[str, dict[str, str]] = {
    "torch_accuracy_hint": {
        "ko": "5 epoch 학습했는지, forward 가 logits 를 돌려주는지, 학습 반복문이 zero_grad → backward → step 순서인지 확인하세요.",
        "en": "train 5 epochs, return logits from forward, and check the loop: zero_grad → backward → step.",
    },
    "torch_trained_chance": {"ko": "손실 기록은 줄었지만 채점기가 잰 모델의 정확도는 {acc:.1%}(찍기 수준)입니다",
                             "en": "the recorded loss fell, but the model the grader measured scores {acc:.1%} (chance level)"},
    "torch_trained_hint": {"ko": "train_one_epoch 로 model 자체를 학습시키고, 돌려받은 손실을 losses 에 추가하세요.",
                           "en": "train the model itself with train_one_epoch and append the returned losses to losses."},
    "logits_hint": {
        "ko": "nn.CrossEntropyLoss 가 안에서 softmax를 계산하므로, forward 는 마지막 Linear 의 출력을 그대로 돌려줘야 합니다.",
        "en": "nn.CrossEntropyLoss applies softmax itself: forward must return the last Linear's output as is.",
    },
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
    "torch_evaluate_expected": {"ko": "evaluate 함수로 얻은 테스트 정확도 (채점기가 잰 값 {ref:.3f} ± {tol})",
                                "en": "the test accuracy from evaluate (grader measured {ref:.3f} ± {tol})"},
    "torch_evaluate_hint": {
        "ko": "test_acc = evaluate(model, x_test_t, y_test_t, device) 로 0~1 사이 정확도를 구하세요.",
        "en": "compute test_acc = evaluate(model, x_test_t, y_test_t, device), a number in 0..1.",
    },
}
