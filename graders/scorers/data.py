"""Grader-zone data the scorers measure on (hidden split, public test), cached per context."""
from __future__ import annotations

from ..checks import Context


def hidden_mnist(ctx: Context):
    if "hidden_mnist" not in ctx.cache:
        from ..assets import load_hidden_mnist
        ctx.cache["hidden_mnist"] = load_hidden_mnist(ctx.secrets)
    return ctx.cache["hidden_mnist"]


def public_test_mnist(ctx: Context):
    if "public_mnist" not in ctx.cache:
        from ..assets import load_public_mnist
        d = load_public_mnist(ctx.secrets)
        ctx.cache["public_mnist"] = (d["x_test"], d["y_test"])
    return ctx.cache["public_mnist"]


def sentiment_reference(ctx: Context):
    """Hidden reviews in grading order: true label, and the course model's own label and score."""
    if "sentiment_reference" not in ctx.cache:
        from ..assets import load_sentiment_reference
        ctx.cache["sentiment_reference"] = load_sentiment_reference(ctx.secrets)
    return ctx.cache["sentiment_reference"]
