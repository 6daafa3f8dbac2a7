"""Layer comparator: the student's layer list against the expected one.

Unlike a comparator that zips the two lists (and so passes a model whose last
layers are missing), this aligns the sequences first: a missing or an extra layer
is reported by name, then each aligned layer is compared field by field
(type, output shape, parameter count, activation, dropout rate).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..messages import msg
from .base import Check, CheckResult, Context


@dataclass(frozen=True)
class Layer:
    kind: str
    output: tuple | None = None      # without the batch dimension
    inputs: int | None = None        # input features (PyTorch Linear)
    params: int | None = None
    activation: str | None = None
    rate: float | None = None

    def label(self) -> str:
        extra = []
        if self.output is not None:
            out = "x".join(str(d) for d in self.output)
            extra.append(f"{self.inputs}→{out}" if self.inputs is not None else out)
        if self.activation:
            extra.append(self.activation)
        if self.rate is not None:
            extra.append(f"rate={self.rate:g}")
        return f"{self.kind}({', '.join(extra)})" if extra else self.kind


def _found_layer(raw: dict) -> Layer:
    shape = raw.get("output_shape")
    out = tuple(shape[1:]) if isinstance(shape, list) and shape else None
    return Layer(kind=str(raw.get("class_name")), output=out, inputs=raw.get("in_features"), params=raw.get("params"),
                 activation=raw.get("activation"), rate=raw.get("rate"))


_FIELD_NAMES = {
    "inputs": {"ko": "입력 크기", "en": "input size"},
    "output": {"ko": "출력 모양", "en": "output shape"},
    "params": {"ko": "파라미터 수", "en": "parameter count"},
    "activation": {"ko": "activation", "en": "activation"},
    "rate": {"ko": "dropout 비율", "en": "dropout rate"},
}


def compare_layers(found: list[Layer], expected: list[Layer], lang: str = "ko") -> list[tuple[str, str, str]]:
    """Differences as (what, expected, found); empty when the models match."""
    diffs = []
    matcher = difflib.SequenceMatcher(a=[l.kind for l in expected], b=[l.kind for l in found], autojunk=False)
    pairs = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(range(a0, a1), range(b0, b1)))
            continue
        if tag == "replace" and (a1 - a0) == (b1 - b0):
            for i, j in zip(range(a0, a1), range(b0, b1)):
                diffs.append((msg("layer_field", lang, index=j + 1, kind=found[j].kind,
                                  field="type"), expected[i].kind, found[j].kind))
            continue
        if a1 > a0:
            diffs.append((msg("layers_count", lang),
                          msg("layers_missing", lang, layers=", ".join(l.label() for l in expected[a0:a1])),
                          f"{len(found)} / {len(expected)}"))
        if b1 > b0:
            diffs.append((msg("layers_count", lang), f"{len(expected)}",
                          msg("layers_extra", lang, layers=", ".join(l.label() for l in found[b0:b1]))))
    for i, j in pairs:
        exp, got = expected[i], found[j]
        for fld in ("inputs", "output", "params", "activation", "rate"):
            want = getattr(exp, fld)
            if want is None:
                continue
            have = getattr(got, fld)
            same = (have is not None and abs(float(have) - float(want)) < 1e-6) if fld == "rate" else have == want
            if not same:
                diffs.append((msg("layer_field", lang, index=j + 1, kind=got.kind, field=_FIELD_NAMES[fld][lang]),
                              str(want), str(have)))
    return diffs


def layer_structure(name: str, artifact: str, expected: list[Layer], hint_key: str, ignore: tuple = ()) -> Check:
    """All points when every layer matches; the message lists each difference.

    ``ignore``: layer kinds left out of the comparison (e.g. activation modules in
    PyTorch, which may equally be written as functions in ``forward``).
    """

    def run(ctx: Context, points: float) -> CheckResult:
        data = ctx.json(artifact)
        found = [_found_layer(l) for l in data.get("layers", [])
                 if isinstance(l, dict) and l.get("class_name") not in ignore]
        diffs = compare_layers(found, expected, ctx.lang)
        if not diffs:
            return CheckResult(name, points, points)
        shown = diffs[:6]
        return CheckResult(
            name, 0.0, points,
            expected=" → ".join(l.label() for l in expected),
            found=" → ".join(l.label() for l in found) + "\n   " + "\n   ".join(
                f"- {what}: {msg('expected', ctx.lang)} {want}, {msg('found', ctx.lang)} {have}"
                for what, want, have in shown),
            hint=msg(hint_key, ctx.lang))

    return Check(name, run)
