"""The course's offline sentiment-analysis model for the transformers_pipeline exercise."""
from __future__ import annotations

from dlcourse._lang import pick
from dlcourse.datasets.mnist import data_dir  # $DLCOURSE_DATA, else ~/.cache/dlcourse


def sentiment_model_path() -> str:
    """Folder of the course's sentiment-analysis model (labels POSITIVE / NEGATIVE).

    Offline stand-in for the default model of ``pipeline('sentiment-analysis')``:
    ``pipeline('sentiment-analysis', model=sentiment_model_path())``.
    """
    folder = data_dir() / "sentiment-model"
    if not (folder / "config.json").exists():
        raise FileNotFoundError(pick(
            f"감정 분석 모델이 없습니다: {folder}. 강사에게 `python -m graders assets` 실행을 요청하세요.",
            f"The sentiment model is missing: {folder}. Ask staff to run `python -m graders assets`."))
    return str(folder)
