"""A few English reviews (with labels) for the sentiment-analysis notebook."""
from __future__ import annotations

import json
from pathlib import Path

_FILE = Path(__file__).resolve().parent.parent / "data" / "sentiment_examples.json"


def examples() -> list[dict]:
    """[{'text': ..., 'label': 'POSITIVE' | 'NEGATIVE'}, ...]"""
    return json.loads(_FILE.read_text())


def texts() -> list[str]:
    return [e["text"] for e in examples()]
