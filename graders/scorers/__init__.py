"""One small declarative scorer per exercise; `registry` maps assignment -> Scorer."""
from . import keras_mnist

registry = {s.assignment: s for s in (keras_mnist.SCORER,)}
