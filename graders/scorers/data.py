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


def mnist_inputs(ctx: Context) -> dict:
    """Grader inputs of the MNIST exercises: hidden images and the public test images (no labels)."""
    return {"hidden": hidden_mnist(ctx)[0], "public": public_test_mnist(ctx)[0]}


def described_layers(ctx: Context, model: str = "defined"):
    """The layers of a saved model as the scoring sandbox described them."""
    return (ctx.model(model).get("describe") or {}).get("layers")


def public_accuracy(ctx: Context, model: str = "trained") -> float:
    """Accuracy of a saved model on the public test set, measured by the grader."""
    from ..checks import model_accuracy
    return model_accuracy(ctx, model, "public", public_test_mnist(ctx)[1])
