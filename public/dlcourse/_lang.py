"""Language switch shared by the student-side helpers (ko default, en with DLCOURSE_LANG=en)."""
import os


def lang() -> str:
    return "en" if os.environ.get("DLCOURSE_LANG", "ko").lower().startswith("en") else "ko"


def pick(ko: str, en: str) -> str:
    return en if lang() == "en" else ko
