"""Layer comparator: the student's layer list against the expected one.

Unlike a comparator that zips the two lists (and so passes a model whose last
layers are missing), this aligns the sequences first: a missing or an extra layer
is reported by name, then each aligned layer is compared field by field
(type, output shape, parameter count, activation, dropout rate).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

from ..messages import msg
from .base import Check, CheckResult, Context, ModelProblem, shown

MAX_LAYERS = 200        # a longer layer list is not a model of this course


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


def _num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _found_layer(raw: dict) -> Layer:
    shape = raw.get("output_shape")
    out = tuple(shape[1:8]) if isinstance(shape, list) and shape else None
    act = raw.get("activation")
    return Layer(kind=shown(raw.get("class_name"), 40), output=out, inputs=_num(raw.get("in_features")),
                 params=_num(raw.get("params")), activation=shown(act, 40) if act is not None else None,
                 rate=_num(raw.get("rate")))


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


def layer_structure(name: str, artifact: str, expected: list[Layer], hint_key: str, ignore: tuple = (),
                    source: Callable[[Context], list] | None = None, drop_trailing: tuple = ()) -> Check:
    """All points when every layer matches; the message lists each difference.

    ``source``: where the found layers come from (default: the artifact's ``layers``), e.g. the
    scoring sandbox's description of the saved model.  ``ignore``: layer kinds left out of the
    comparison (e.g. Flatten, which a model that takes flat vectors does not need).
    ``drop_trailing``: kinds removed from the end (an output activation another check judges).
    """

    def run(ctx: Context, points: float) -> CheckResult:
        raw = source(ctx) if source is not None else ctx.json(artifact).get("layers", [])
        weights_only = isinstance(raw, dict) and raw.get("source") == "weights"
        if isinstance(raw, dict):
            raw = raw.get("layers")
        if not isinstance(raw, list):
            raw = []
        found = [_found_layer(l) for l in raw[:MAX_LAYERS] if isinstance(l, dict) and l.get("class_name") not in ignore]
        while found and found[-1].kind in drop_trailing:
            found.pop()
        want = [l for l in expected if l.kind not in ignore]
        note = None
        if weights_only:
            # a subclassed model's file holds no layer list, only its weights: the layers with weights are
            # compared by size; activations and weightless layers cannot be read without running its code
            want = [Layer(l.kind, output=l.output, inputs=l.inputs, params=l.params) for l in want if l.params]
            note = msg("layers_weights_only", ctx.lang)
        diffs = compare_layers(found, want, ctx.lang)
        if not diffs:
            return CheckResult(name, points, points, note=note)
        shown_diffs = diffs[:6]
        return CheckResult(
            name, 0.0, points,
            expected=" → ".join(l.label() for l in want),
            found=shown(" → ".join(l.label() for l in found[:20]) + (" …" if len(found) > 20 else ""), 600)
            + "\n   " + "\n   ".join(
                f"- {what}: {msg('expected', ctx.lang)} {w}, {msg('found', ctx.lang)} {shown(have, 80)}"
                for what, w, have in shown_diffs),
            hint=msg(hint_key, ctx.lang), note=note)

    return Check(name, run)


def described_layers(ctx: Context, model: str = "defined"):
    """The layers of a saved model as the scoring sandbox read them from its file (a `source` for
    layer_structure): {"layers": [...], "source": "config" | "graph" | "weights"}."""
    got = ctx.model(model)
    described = got.get("describe")
    if not isinstance(described, dict):
        raise ModelProblem(shown(got.get("describe_error") or "no description", 300))
    return described
