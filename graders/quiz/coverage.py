"""Which questions examine which seed concept (generated from the bank, checked by the tests)."""
from __future__ import annotations

from collections import Counter

from .bank import TYPES, Bank, concepts_of


def coverage(bank: Bank) -> dict[str, list[str]]:
    table = {c: [] for c in concepts_of(bank.quiz)}
    for q in bank.questions:
        for c in q["concepts"]:
            table.setdefault(c, []).append(q["id"])
    return table


def uncovered(bank: Bank) -> list[str]:
    return [c for c, qs in coverage(bank).items() if not qs]


def type_counts(bank: Bank) -> dict[str, int]:
    counts = Counter(q["type"] for q in bank.questions)
    return {t: counts.get(t, 0) for t in TYPES}


def markdown(bank: Bank) -> str:
    lines = [f"### {bank.quiz}: {len(bank.questions)} questions, "
             f"{sum(float(q['points']) for q in bank.questions):g} points", "",
             "| type | questions |", "|---|---|"]
    lines += [f"| {t} | {n} |" for t, n in type_counts(bank).items()]
    lines += ["", "| seed concept | what it is | questions |", "|---|---|---|"]
    concepts = concepts_of(bank.quiz)
    lines += [f"| `{c}` | {concepts.get(c, '')} | {', '.join(qs) or '**none**'} |" for c, qs in coverage(bank).items()]
    return "\n".join(lines) + "\n"
