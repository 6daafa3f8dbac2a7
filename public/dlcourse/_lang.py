"""Language switch shared by the student-side helpers (ko default, en with DLCOURSE_LANG=en)."""
import contextlib
import os

_forced: list[str] = []


def lang() -> str:
    if _forced:
        return _forced[-1]
    return "en" if os.environ.get("DLCOURSE_LANG", "ko").lower().startswith("en") else "ko"


def pick(ko: str, en: str) -> str:
    return en if lang() == "en" else ko


@contextlib.contextmanager
def forced(language: str):
    """Use `language` for messages inside the block (the grader writes in the course's language)."""
    _forced.append("en" if language == "en" else "ko")
    try:
        yield
    finally:
        _forced.pop()
