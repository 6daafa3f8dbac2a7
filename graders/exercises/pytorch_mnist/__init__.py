"""pytorch_mnist — an nn.Module on MNIST with a hand-written training loop (PyTorch).

scorer.py    the graded cells: the traced layers, loss/optimizer, the loop judged by what it does to a
             probe model in the scoring sandbox, hidden accuracy, the reported test accuracy
students.py  the reference and one simulated student per typical mistake
messages.py  its hints (zero_grad, train mode, DataLoader, logits)
Student side: public/dlcourse/exercises/pytorch_mnist/.
"""
KIND = "exercise"
