"""Public helpers imported by the course notebooks (the only course code students get).

- ``dlcourse.datasets.mnist.load_data()`` — offline MNIST, same call as Keras'.
- ``dlcourse.check`` — self-checks students run; messages in Korean (``DLCOURSE_LANG=en`` for English).
- ``dlcourse.export`` — used by graded cells to write plain-data artifacts for the grader.

Nothing here decides a grade: grading happens outside the student's kernel.
"""
__version__ = "0.1.0"
