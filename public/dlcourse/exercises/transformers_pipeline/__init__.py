"""Exercise transformers_pipeline: a Hugging Face sentiment-analysis pipeline.

- ``check`` — the self-checks of its notebook (``from dlcourse.exercises.transformers_pipeline import check``).
- ``export`` — what its graded cells write for the grader (``... import export as _export``), and the
  fixed cases the grader scores them against (``RATIO_CASES``, ``THRESHOLDS``).
- ``models`` — ``sentiment_model_path()``, the course's offline sentiment model.
"""
