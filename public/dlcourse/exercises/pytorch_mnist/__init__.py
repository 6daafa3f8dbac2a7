"""Exercise pytorch_mnist: an ``nn.Module``, a training loop and evaluation on MNIST.

- ``check`` — the self-checks of its notebook (``from dlcourse.exercises.pytorch_mnist import check``).
- ``export`` — what its graded cells write for the grader (``... import export as _export``); its
  ``_torch_loop_probe`` is also what the grader's scoring sandbox runs on the student's loop.
"""
