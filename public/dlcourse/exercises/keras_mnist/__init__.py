"""Exercise keras_mnist: a Keras ``Sequential`` on MNIST.

- ``check`` — the self-checks of its notebook (``from dlcourse.exercises.keras_mnist import check``).
- ``export`` — what its graded cells write for the grader (``... import export as _export``).
"""
