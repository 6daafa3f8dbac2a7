"""Self-checks of the pytorch_mnist exercise (model, training loop, losses, accuracy).

Each check prints what was expected, what was found and a hint, and returns True
or False.  They are a help, not the grade: the hidden grader checks more, outside
the notebook.  The report helpers and ``accuracy`` come from ``dlcourse.selfcheck``.
"""
from __future__ import annotations

from dlcourse._lang import pick
from dlcourse.selfcheck import _defined, _problem, _report, accuracy  # noqa: F401  (notebook: check.accuracy)


def torch_model(model) -> bool:
    """Check the nn.Module of the pytorch_mnist exercise: parameter count and raw-score output."""
    title = pick("모델 구조 확인", "Model structure")
    if not _defined(model, "model", title):
        return False
    import torch

    problems = []
    n = sum(p.numel() for p in model.parameters())
    if n != 101_770:
        problems.append(_problem(pick("파라미터 101,770개 (784×128+128 + 128×10+10)", "101,770 parameters"), f"{n:,}",
                                 pick("nn.Linear(784, 128) 과 nn.Linear(128, 10) 을 확인하세요.",
                                      "check nn.Linear(784, 128) and nn.Linear(128, 10).")))
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            out = model(torch.rand(2, 1, 28, 28, device=device))
        if tuple(out.shape) != (2, 10):
            problems.append(_problem("(2, 10)", str(tuple(out.shape)),
                                     pick("마지막 층의 출력 수가 10인지 확인하세요.", "the last layer must output 10 values.")))
        elif (out >= 0).all() and torch.allclose(out.sum(dim=1), torch.ones(2, device=device), atol=1e-4):
            problems.append(_problem(pick("softmax 전의 점수(logits)", "raw scores (logits)"), pick("확률 (합이 1)", "probabilities"),
                                     pick("CrossEntropyLoss 가 softmax를 대신 해 줍니다. forward 에서 softmax를 빼세요.",
                                          "CrossEntropyLoss applies softmax itself; remove it from forward.")))
    except Exception as exc:
        problems.append(_problem(pick("(N, 1, 28, 28) 입력을 받는 forward", "a forward taking (N, 1, 28, 28)"),
                                 f"{type(exc).__name__}: {str(exc)[:120]}",
                                 pick("Flatten 뒤의 입력 크기는 28×28 = 784 입니다.", "after Flatten the size is 28×28 = 784.")))
    return _report(not problems, title, problems)


def torch_loop(train_one_epoch, loader=None) -> bool:
    """Try train_one_epoch on a small fixed batch: step per batch, zero_grad, train mode, loss falls."""
    from .export import _torch_loop_probe

    title = pick("학습 함수 확인", "Training function")
    if not _defined(train_one_epoch, "train_one_epoch", title):
        return False
    try:
        d = _torch_loop_probe(train_one_epoch, loader)
    except Exception as exc:
        return _report(False, title, [_problem(pick("오류 없이 실행", "runs without error"),
                                               f"{type(exc).__name__}: {str(exc)[:150]}",
                                               pick("함수의 인자 (model, loader, criterion, optimizer, device) 를 확인하세요.",
                                                    "check the arguments (model, loader, criterion, optimizer, device)."))])
    from .export import loop_verdicts

    ok = loop_verdicts(d)
    problems = []
    if not ok["loop_updates"]:
        problems.append(_problem(pick("배치마다 backward 다음에 optimizer.step()", "optimizer.step() after backward, per batch"),
                                 pick(f"배치 {d['batches']}개에 step {(d['steps_per_call'] or [0])[0]}번"
                                      + (" (step 이 방금 구한 기울기를 쓰지 않음)" if d["stale_steps"] else ""),
                                      f"{(d['steps_per_call'] or [0])[0]} steps for {d['batches']} batches"
                                      + (" (a step does not use the gradient just computed)" if d["stale_steps"] else "")),
                                 pick("loss.backward() 다음에 optimizer.step() 을 호출하세요.", "call optimizer.step() after backward.")))
    if not ok["zero_grad"]:
        problems.append(_problem(pick("step 마다 기울기 초기화", "gradients reset for every step"),
                                 pick("이전 배치의 기울기가 누적됨", "earlier batches' gradients accumulate"),
                                 pick("optimizer.zero_grad() 를 배치마다 호출하세요.", "call optimizer.zero_grad() per batch.")))
    if not ok["train_mode"]:
        problems.append(_problem("model.train()", pick("backward 한 forward 가 eval 모드", "back-propagated forward in eval mode")
                                 if d["bp_modes"] else pick("backward 가 없음", "no backward"),
                                 pick("함수 처음에 model.train() 을 호출하세요.", "call model.train() first.")))
    if not ok["loop_learns"]:
        problems.append(_problem(pick("고정된 배치에서 손실이 줄어듦", "the loss on a fixed batch falls"),
                                 f"{d['loss_before']:.3f} → {d['loss_after']:.3f}",
                                 pick("zero_grad → forward → loss → backward → step 순서를 확인하세요.",
                                      "check the order zero_grad → forward → loss → backward → step.")))
    if loader is not None and d.get("loader_batch_size") != 64:
        problems.append(_problem("batch_size=64", str(d.get("loader_batch_size")),
                                 pick("DataLoader(..., batch_size=64, shuffle=True)", "DataLoader(..., batch_size=64, shuffle=True)")))
    return _report(not problems, title, problems)


def losses(values) -> bool:
    """Check the per-epoch losses of a training run went down."""
    title = pick("학습 확인", "Training")
    if not _defined(values, "losses", title):
        return False
    vals = [float(v) for v in values]
    if not vals:
        return _report(False, title, [_problem(pick("1 epoch 이상의 손실 기록", "losses of at least one epoch"), "[]",
                                               pick("EPOCHS 를 5로 두고 학습하세요.", "train with EPOCHS = 5."))])
    if len(vals) > 1 and vals[-1] > vals[0] * 0.99:
        return _report(False, title, [_problem(pick("줄어드는 손실", "a falling loss"), f"{vals[0]:.3f} → {vals[-1]:.3f}",
                                               pick("학습 함수가 optimizer.step() 을 호출하는지 확인하세요.",
                                                    "check that the training function calls optimizer.step()."))])
    return _report(True, title, [])
