"""Shared check library: no exercise-specific code lives here."""
from .accuracy import (accuracy_thresholds, hidden_accuracy, model_accuracy, partial_credit, predictions,  # noqa: F401
                       reported_test_accuracy)
from .base import ModelProblem, RebuildError, SavedModel, shown  # noqa: F401
from .outputs import logits_output  # noqa: F401
from .base import ArtifactProblem, Check, CheckResult, Context, GradedCell, Scorer  # noqa: F401
from .layers import Layer, compare_layers, described_layers, layer_structure  # noqa: F401
from .training import behaviour, loss_fell, trained_model  # noqa: F401
from .values import field_contains, field_equals, reported_matches  # noqa: F401
from .quiz import public_question, quiz_question  # noqa: F401
