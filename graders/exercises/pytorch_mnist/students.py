"""Simulated class for pytorch_mnist: the reference and one student per typical mistake."""

_MODEL = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = self.relu(self.fc1(x))
        return self.fc2(x)"""

_LOOP = """train_loader = DataLoader(TensorDataset(x_train_t, y_train_t), batch_size=64, shuffle=True)


def train_one_epoch(model, loader, criterion, optimizer, device):
    model.train()
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        logits = model(x)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
    return total / len(loader.dataset)"""

REFERENCE = {
    "model_def": _MODEL,
    "loss_optimizer": "criterion = nn.CrossEntropyLoss()\noptimizer = torch.optim.Adam(model.parameters(), lr=1e-3)",
    "train_loop": _LOOP,
    "train_model": """EPOCHS = 5
losses = []
for epoch in range(EPOCHS):
    loss = train_one_epoch(model, train_loader, criterion, optimizer, device)
    losses.append(loss)
    print(f"epoch {epoch + 1}: loss {loss:.4f}")""",
    "evaluate_model": """def evaluate(model, x, y, device):
    model.eval()
    with torch.no_grad():
        logits = model(x.to(device))
    return (logits.argmax(dim=1).cpu() == y).float().mean().item()


test_acc = evaluate(model, x_test_t, y_test_t, device)""",
}

MISTAKES = {
    # softmax in forward, then CrossEntropyLoss applies softmax again
    "softmax_before_ce": {"model_def": _MODEL.replace("return self.fc2(x)", "return torch.softmax(self.fc2(x), dim=1)")},
    # gradients never reset
    "missing_zero_grad": {"train_loop": _LOOP.replace("        optimizer.zero_grad()\n", "")},
    # 28 instead of 28*28 inputs: forward fails on images
    "wrong_in_features": {"model_def": _MODEL.replace("nn.Linear(28 * 28, 128)", "nn.Linear(28, 128)")},
    # the loop never updates the weights
    "no_step": {"train_loop": _LOOP.replace("        optimizer.step()\n", "")},
    # zero epochs
    "not_trained": {"train_model": "EPOCHS = 0\nlosses = []\nfor epoch in range(EPOCHS):\n"
                    "    losses.append(train_one_epoch(model, train_loader, criterion, optimizer, device))"},
}

_FULL = {"architecture": 2, "logits": 1, "loss_fn": 1, "optimizer": 1, "data_loader": 1, "loop_updates": 1,
         "zero_grad": 1, "train_mode": 1, "loop_learns": 1, "trained": 1, "hidden_accuracy": 3, "evaluated": 1}

EXPECTED = {
    "ref": _FULL,
    "softmax_before_ce": {**_FULL, "logits": 0},
    # accumulated gradients still learn, more poorly: partial credit on accuracy (a range, see tests)
    "missing_zero_grad": {**_FULL, "zero_grad": 0, "loop_learns": 0, "hidden_accuracy": (1.0, 3.0)},
    "wrong_in_features": {**_FULL, "architecture": 0, "logits": 0, "trained": 0, "hidden_accuracy": 0, "evaluated": 0},
    "no_step": {**_FULL, "loop_updates": 0, "loop_learns": 0, "trained": 0, "hidden_accuracy": 0},
    "not_trained": {**_FULL, "trained": 0, "hidden_accuracy": 0},
}
