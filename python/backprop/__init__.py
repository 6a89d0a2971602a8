"""backprop: fully-connected networks trained by backpropagation, from Python.

The C++ library behind the ``backprop`` command line tool, with numpy arrays in and out:

>>> import backprop
>>> model = backprop.load("model.safetensors")      # a file from `backprop train`
>>> probabilities = model.predict_proba(X)           # X: n x p, float32 read in place
>>> model.save("copy.safetensors")                   # `backprop predict` reads it

scikit-learn estimators with the parameters of sklearn.neural_network's:
``backprop.sklearn.MLPClassifier`` and ``backprop.sklearn.MLPRegressor`` (docs/python.md).
"""
from __future__ import annotations

import os
from typing import Union

from ._backprop import BackpropError, DivergenceError, Model, TrainSession, __version__

__all__ = ["BackpropError", "DivergenceError", "Model", "TrainSession", "__version__", "load"]


def load(path: Union[str, "os.PathLike[str]"]) -> Model:
    """Reads a model file written by ``backprop train`` or ``Model.save`` (safetensors)."""
    return Model.load(os.fspath(path))
