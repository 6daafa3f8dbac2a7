"""Public helpers imported by the course notebooks (the only course code students get).

- ``dlcourse.datasets.mnist.load_data()`` — offline MNIST, same call as Keras'.
- ``dlcourse.exercises.<assignment>`` — one package per exercise: ``check`` (self-checks students run;
  messages in Korean, ``DLCOURSE_LANG=en`` for English), ``export`` (used by graded cells to write
  plain-data artifacts for the grader) and, where needed, ``models``.
- ``dlcourse.artifacts`` / ``dlcourse.selfcheck`` — what the exercises share (artifact writing, quiz
  answers; the self-check report).  ``dlcourse.quiz`` — the quiz notebooks' helper.
- ``dlcourse.check`` / ``dlcourse.export`` / ``dlcourse.models`` — kept for notebooks fetched earlier:
  they find each name in the shared module or the exercise that defines it.

Nothing here decides a grade: grading happens outside the student's kernel.
"""
__version__ = "0.1.0"
