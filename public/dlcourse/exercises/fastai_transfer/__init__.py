"""Exercise fastai_transfer: fine-tuning a small pretrained CNN body with fastai.

- ``check`` — the self-checks of its notebook (``from dlcourse.exercises.fastai_transfer import check``).
- ``export`` — what its graded cells write for the grader (``... import export as _export``).
- ``models`` — ``digit_body``, ``digit_pets_path`` and the offline body they load.
"""
