"""The PyTorch loop probe judges each property like with like (issue 23 §2).

`loop_trace` runs a train_one_epoch on the probe's scenarios (as the scoring sandbox does) and `loop_facts`
reads the arrays as the grader does.  Each loop below is written the way public code writes it; the
expected verdicts were written from the notebook's instructions (zero_grad → forward → loss → backward →
step per batch, model.train() first) before the probe was run.  Every property has a "correct but
unusual" loop that must pass it and a "wrong in exactly this way" loop that must fail it (the negative
control that the probe can fail).
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "public"))
torch = pytest.importorskip("torch")
F = torch.nn.functional

from dlcourse.exercises.pytorch_mnist.export import (  # noqa: E402
    TRACE_BATCHES, TRACE_CALLS, criterion_logits, criterion_value, cross_entropy, loop_facts, loop_trace, loop_verdicts, probe_data)

ALL = {"loop_updates": True, "zero_grad": True, "train_mode": True, "loop_learns": True}


def standard(model, loader, criterion, optimizer, device):           # the notebook's own order
    model.train()
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def zero_after_step(model, loader, criterion, optimizer, device):    # d2l / many blogs: reset after the step
    model.train()
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def pytorch_examples_mnist(model, loader, criterion, optimizer, device):   # pytorch/examples mnist: F.nll_loss
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        model.zero_grad(set_to_none=True)
        output = F.log_softmax(model(data), dim=1)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()


def validation_inside(model, loader, criterion, optimizer, device):  # a no_grad eval forward, then train() again
    for x, y in loader:
        model.eval()
        with torch.no_grad():
            model(x)
        model.train()
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def clipped(model, loader, criterion, optimizer, device):            # gradient clipping between backward and step
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.1)
        optimizer.step()


def accumulate_two(model, loader, criterion, optimizer, device):     # gradient accumulation done right, every 2
    model.train()
    optimizer.zero_grad()
    for i, (x, y) in enumerate(loader):
        (criterion(model(x), y) / 2).backward()
        if (i + 1) % 2 == 0:
            optimizer.step()
            optimizer.zero_grad()


def no_zero_grad(model, loader, criterion, optimizer, device):
    model.train()
    for x, y in loader:
        criterion(model(x), y).backward()
        optimizer.step()


def eval_mode(model, loader, criterion, optimizer, device):          # never calls model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


def train_after_forward(model, loader, criterion, optimizer, device):   # train() comes after the forward it needed
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        model.train()
        criterion(out, y).backward()
        optimizer.step()


def one_backward_per_epoch(model, loader, criterion, optimizer, device):
    model.train()
    optimizer.zero_grad()
    total = 0
    for x, y in loader:
        total = total + criterion(model(x), y)
    total.backward()
    optimizer.step()


def step_before_backward(model, loader, criterion, optimizer, device):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        optimizer.step()
        loss.backward()


def step_once_no_reset(model, loader, criterion, optimizer, device):  # one step per epoch and never a reset
    model.train()
    for x, y in loader:
        criterion(model(x), y).backward()
    optimizer.step()


def eval_after_validation(model, loader, criterion, optimizer, device):   # validates every 20 batches, never
    model.train()                                                           # goes back to train mode
    for i, (x, y) in enumerate(loader):
        if i == 20:
            model.eval()
            with torch.no_grad():
                model(x)
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


def does_nothing(model, loader, criterion, optimizer, device):
    return 0.0


CASES = {
    standard: ALL,
    zero_after_step: ALL,
    pytorch_examples_mnist: ALL,
    validation_inside: ALL,
    clipped: ALL,
    accumulate_two: {**ALL, "loop_updates": False},          # the notebook asks one step per batch
    no_zero_grad: {**ALL, "zero_grad": False, "loop_learns": False},
    eval_mode: {**ALL, "train_mode": False},
    train_after_forward: {**ALL, "train_mode": False},
    one_backward_per_epoch: {**ALL, "loop_updates": False},   # judged for what it is: never "accumulating"
    step_before_backward: {**ALL, "loop_updates": False, "loop_learns": False},
    step_once_no_reset: {**ALL, "loop_updates": False, "zero_grad": False},
    eval_after_validation: {**ALL, "train_mode": False},
    does_nothing: {k: False for k in ALL},
}


@pytest.fixture(scope="module")
def data():
    return probe_data()


@pytest.mark.parametrize("loop", list(CASES), ids=[f.__name__ for f in CASES])
def test_each_loop_is_judged_for_what_it_does(loop, data):
    facts = loop_facts(loop_trace(loop), data)
    assert loop_verdicts(facts) == CASES[loop], facts


def test_the_gradient_comparison_uses_the_same_batch_twice(data):
    """Control: the trace's backward passes all see one batch, so a right loop's steps match exactly; the
    same loop fed two different batches per step would not be judged by this probe (its arrays say so)."""
    arrays = loop_trace(standard)
    contribs = arrays["t_vectors"][arrays["t_kinds"] == 0]
    assert len(contribs) == TRACE_BATCHES * TRACE_CALLS and np.allclose(contribs, contribs[0], rtol=1e-5, atol=1e-8)
    # negative control: a step's gradient doubled (as a loop without zero_grad leaves it) is caught
    forged = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arrays.items()}
    steps = np.flatnonzero(forged["t_kinds"] == 1)
    forged["t_vectors"][steps[1]] *= 2
    assert loop_verdicts(loop_facts(forged, data))["zero_grad"] is False


@pytest.mark.parametrize("criterion,ok", [
    (torch.nn.CrossEntropyLoss(), True), (F.cross_entropy, True), (lambda z, t: F.nll_loss(F.log_softmax(z, 1), t), True),
    (torch.nn.CrossEntropyLoss(label_smoothing=0.1), False), (torch.nn.NLLLoss(), False),
    (torch.nn.CrossEntropyLoss(reduction="sum"), False), (torch.nn.MSELoss(), False), (None, False)],
    ids=["CrossEntropyLoss", "F.cross_entropy", "log_softmax+nll", "label_smoothing", "NLLLoss_on_logits", "sum",
         "MSELoss", "missing"])
def test_a_loss_is_judged_by_what_it_computes(criterion, ok):
    got = criterion_value(criterion)
    want = cross_entropy(*criterion_logits())
    assert bool(np.isfinite(got) and abs(got - want) <= 1e-4 * max(1.0, abs(got))) is ok, (got, want)
