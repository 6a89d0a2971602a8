"""scikit-learn estimators backed by backprop: MLPClassifier and MLPRegressor.

Drop-in for ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``: the same parameters
with the same defaults, the same fitted attributes, the same methods, checked by scikit-learn's
own estimator checks. Training runs in backprop's C++ library with the GIL released.
What differs from scikit-learn is listed in docs/python.md.

Besides scikit-learn's parameters: ``dropout`` (probability of dropping a hidden unit while
training), ``weight_decay`` (decoupled weight decay: AdamW, with solver="adam"), and
``n_jobs`` (threads; results are the same bits for any value).
"""
from __future__ import annotations

import numbers
import os
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import _backprop

__all__ = ["MLPClassifier", "MLPRegressor"]

_STOCHASTIC_SOLVERS = ("sgd", "adam")
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
# Fitted state besides the public attributes, kept together so that an interrupted fit can
# leave the estimator exactly as it was.
_PRIVATE_STATE = ("_model", "_seed", "_no_improvement_count", "_learning_rate")


def _threads(n_jobs: Optional[int]) -> int:
    """scikit-learn's n_jobs as a thread count for the library (0: every core)."""
    if n_jobs is None or n_jobs == -1:
        return 0
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return int(n_jobs)


def _float32(value: float) -> float:
    return float(np.float32(value))


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, validation and the training loop
    of scikit-learn's stochastic solvers (_fit_stochastic) over backprop's trainer."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Options(numbers.Real, {np.inf}),
        ],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "n_jobs": [None, Interval(numbers.Integral, None, None, closed="neither")],
    }

    _task = ""  # "classification" or "regression"

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        dropout: float = 0.0,
        weight_decay: float = 0.0,
        n_jobs: Optional[int] = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.n_jobs = n_jobs

    # ---- what the subclasses define -------------------------------------------------------

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool):
        raise NotImplementedError

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """y as the library takes it: class indices (int32) or an n x outputs float32 array."""
        raise NotImplementedError

    def _output_names(self) -> List[str]:
        raise NotImplementedError

    # ---- the library's options from scikit-learn's parameters ------------------------------

    def _check_supported(self) -> None:
        if self.solver == "lbfgs":
            raise ValueError(
                "solver='lbfgs' is not available in backprop: it trains by minibatch "
                "backpropagation only. Use solver='adam' (the default) or solver='sgd'."
            )
        if self.weight_decay > 0 and self.solver != "adam":
            raise ValueError(
                f"weight_decay={self.weight_decay!r} is decoupled weight decay (AdamW) and needs "
                f"solver='adam'; with solver={self.solver!r} use alpha (the L2 penalty)."
            )
        if self.weight_decay > 0 and self.alpha > 0:
            raise ValueError(
                f"alpha={self.alpha!r} (L2 penalty) and weight_decay={self.weight_decay!r} "
                "(AdamW) are two forms of one penalty: set alpha=0 to use weight_decay."
            )

    def _optimizer_options(self, batch: int) -> Dict[str, Any]:
        """The trainer's optimiser for this estimator's parameters.

        alpha is scikit-learn's L2 penalty alpha / (2 n_batch) ||W||^2 per minibatch, whose
        gradient alpha / n_batch W the library adds as weight decay alpha / batch (on weights
        and biases alike)."""
        if self.solver == "adam":
            kind = "adamw" if self.weight_decay > 0 else "adam"
            decay = self.weight_decay if self.weight_decay > 0 else self.alpha / batch
        else:
            kind = "momentum" if self.momentum > 0 else "sgd"
            decay = self.alpha / batch
        return dict(
            optimizer=kind,
            momentum=_float32(self.momentum),
            nesterov=bool(self.nesterovs_momentum) and kind == "momentum",
            beta1=_float32(self.beta_1),
            beta2=_float32(self.beta_2),
            epsilon=_float32(self.epsilon),
            weight_decay=_float32(decay),
        )

    def _hidden_sizes(self) -> List[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _new_seed(self) -> int:
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # ---- fitting ---------------------------------------------------------------------------

    def _fitted_state(self) -> Dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.endswith("_") or k in _PRIVATE_STATE}

    def _fit(self, X: Any, y: Any, incremental: bool) -> "_BaseMLP":
        self._check_supported()
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        before = self._fitted_state()
        try:
            # Validation sets n_features_in_, feature_names_in_ and classes_; a fit that fails
            # from here on (bad input, Ctrl-C) puts back what the estimator had.
            X, y = self._validate_input(X, y, incremental, reset=first_pass)
            self._train(X, y, hidden, incremental, first_pass)
        except BaseException:
            for key in list(self._fitted_state()):
                if key not in before:
                    delattr(self, key)
            for key, value in before.items():
                setattr(self, key, value)
            raise
        return self

    def _train(self, X: np.ndarray, y: np.ndarray, hidden: List[int], incremental: bool,
               first_pass: bool) -> None:
        n_samples, n_features = X.shape
        targets = self._targets(y)
        n_outputs = len(self._output_names()) if self._task == "classification" else targets.shape[1]
        if self._task == "classification" and n_outputs < 2:
            raise ValueError(
                f"Classifier can't train when only one class is present: y holds only "
                f"{self.classes_[0]!r}."
            )
        widths = [n_features] + hidden + [n_outputs]
        if first_pass:
            seed = self._new_seed()
            names = list(getattr(self, "feature_names_in_", [f"x{j}" for j in range(n_features)]))
            model = _backprop.Model.create(
                widths, [_ACTIVATIONS[self.activation]] * len(hidden), self._task,
                self._output_names() if self._task == "classification" else [], names,
                dropout=_float32(self.dropout), seed=seed)
            state: Dict[str, Any] = dict(
                _seed=seed, n_iter_=0, t_=0, loss_curve_=[], _no_improvement_count=0,
                _learning_rate=float(self.learning_rate_init), n_outputs_=n_outputs,
                n_layers_=len(widths), out_activation_=self._out_activation())
            early = self.early_stopping and not incremental
            state.update(
                validation_scores_=[] if early else None,
                best_validation_score_=-np.inf if early else None,
                best_loss_=None if early else np.inf)
        else:
            model = self._model
            if list(model.widths) != widths:
                raise ValueError(
                    f"warm_start/partial_fit: the network is {list(model.widths)} but this data "
                    f"and hidden_layer_sizes ask for {widths}.")
            state = {k: getattr(self, k) for k in (
                "_seed", "n_iter_", "t_", "_no_improvement_count", "_learning_rate", "n_outputs_",
                "n_layers_", "out_activation_", "validation_scores_", "best_validation_score_",
                "best_loss_")}
            state["loss_curve_"] = list(self.loss_curve_)
            if state["validation_scores_"] is not None:
                state["validation_scores_"] = list(state["validation_scores_"])

        early_stopping = self.early_stopping and not incremental
        if self.batch_size == "auto":
            batch = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                    "clipped")
            batch = int(np.clip(self.batch_size, 1, n_samples))
        if early_stopping:
            if state["validation_scores_"] is None:
                state.update(validation_scores_=[], best_validation_score_=-np.inf, best_loss_=None)
        session = _backprop.TrainSession(
            model, X, targets, batch=batch, shuffle=bool(self.shuffle), seed=state["_seed"],
            validation_fraction=float(self.validation_fraction) if early_stopping else 0.0,
            n_jobs=_threads(self.n_jobs), resume=not first_pass,
            **self._optimizer_options(batch))
        if first_pass and self.solver == "adam":
            state["_learning_rate"] = float(self.learning_rate_init)
        train_rows = session.train_rows
        if early_stopping and session.validation_rows == 0:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} of "
                f"{n_samples} samples leaves no validation sample")
        if early_stopping and state["best_validation_score_"] == -np.inf:
            session.keep_best()

        for _ in range(self.max_iter):
            loss = session.run_epoch(_float32(state["_learning_rate"]))
            state["n_iter_"] += 1
            state["loss_"] = loss
            state["t_"] += train_rows
            state["loss_curve_"].append(loss)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (state["n_iter_"], loss))
            self._update_no_improvement_count(state, early_stopping, session)
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                state["_learning_rate"] = float(self.learning_rate_init) / (
                    state["t_"] + 1) ** self.power_t
            if state["_no_improvement_count"] > self.n_iter_no_change:
                if early_stopping:
                    msg = ("Validation score did not improve more than tol=%f for %d consecutive "
                           "epochs." % (self.tol, self.n_iter_no_change))
                else:
                    msg = ("Training loss did not improve more than tol=%f for %d consecutive "
                           "epochs." % (self.tol, self.n_iter_no_change))
                if self._trigger_stopping(state, msg):
                    break
                state["_no_improvement_count"] = 0
            if incremental:
                break
            if state["n_iter_"] == self.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization "
                    "hasn't converged yet." % self.max_iter, ConvergenceWarning)
        if early_stopping:
            session.restore_best()
        trained = session.model()
        state["_model"] = trained
        state["coefs_"] = list(trained.weights())
        state["intercepts_"] = list(trained.biases())
        for key, value in state.items():
            setattr(self, key, value)

    def _trigger_stopping(self, state: Dict[str, Any], msg: str) -> bool:
        """scikit-learn's optimiser.trigger_stopping: stop, or with learning_rate="adaptive"
        divide the learning rate by 5 until it falls below 1e-6."""
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if state["_learning_rate"] <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        state["_learning_rate"] /= 5.0
        if self.verbose:
            print(msg + " Setting learning rate to %f" % state["_learning_rate"])
        return False

    def _update_no_improvement_count(self, state: Dict[str, Any], early_stopping: bool,
                                     session: Any) -> None:
        if early_stopping:
            score = session.validation_score()
            state["validation_scores_"].append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < state["best_validation_score_"] + self.tol:
                state["_no_improvement_count"] += 1
            else:
                state["_no_improvement_count"] = 0
            if score > state["best_validation_score_"]:
                state["best_validation_score_"] = score
                session.keep_best()
        else:
            loss = state["loss_curve_"][-1]
            if loss > state["best_loss_"] - self.tol:
                state["_no_improvement_count"] += 1
            else:
                state["_no_improvement_count"] = 0
            if loss < state["best_loss_"]:
                state["best_loss_"] = loss

    def fit(self, X: Any, y: Any) -> "_BaseMLP":
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data (a pandas DataFrame sets feature_names_in_).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (MLPClassifier) or target values (MLPRegressor).

        Returns
        -------
        self : the fitted estimator.
        """
        self._validate_params()
        return self._fit(X, y, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. %s is not stochastic."
                % self.solver)
        return True

    # ---- prediction -----------------------------------------------------------------------

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's outputs for X (float32 C-order X is read in place)."""
        check_is_fitted(self)
        X = self._validate_data(X, reset=False, dtype=np.float32, order="C")
        return self._model.predict(X, _threads(self.n_jobs))

    # ---- pickling: the model travels as its safetensors bytes ------------------------------

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(super().__getstate__())  # Python 3.11's object.__getstate__ is __dict__
        model = state.pop("_model", None)
        if model is not None:
            state["_model_file"] = model.to_bytes()
            state["_model_progress"] = (model.optimizer, model.optimizer_steps,
                                        model.optimizer_state(), model.epochs_trained)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        data = state.pop("_model_file", None)
        progress = state.pop("_model_progress", None)
        super().__setstate__(state)
        if data is not None:
            model = _backprop.Model.from_bytes(data)
            optimizer, steps, optimizer_state, epochs = progress
            model.set_progress(optimizer, steps, optimizer_state, epochs)
            self._model = model


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by backprop (softmax + cross-entropy).

    The parameters, defaults, fitted attributes and methods of
    ``sklearn.neural_network.MLPClassifier``; see docs/python.md for what differs. Class labels
    may be strings, integers or booleans.
    """

    _task = "classification"

    def _out_activation(self) -> str:
        return "softmax"

    def _output_names(self) -> List[str]:
        return [str(c) for c in self.classes_]

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool):
        X, y = self._validate_data(X, y, multi_output=True, dtype=np.float32, order="C",
                                   reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(
                "backprop's MLPClassifier takes one label per sample (y of shape (n_samples,)); "
                f"got y of shape {y.shape} ({type_of_target(y)}), which it does not support.")
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self.classes_ = unique_labels(y)
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        "previous call to fit. Previously got %s, `y` has %s"
                        % (self.classes_, classes))
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. `self.classes_` has %s. 'y' has %s."
                    % (self.classes_, classes))
        return X, y

    def _targets(self, y: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.classes_, y).astype(np.int32)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, classes: Optional[Sequence[Any]] = None) -> "MLPClassifier":
        """One epoch over (X, y), continuing the optimiser's state.

        classes: every class y can hold; required on the first call.
        """
        if not hasattr(self, "coefs_"):
            self._validate_params()
        before = self._fitted_state()
        # Sets classes_ on the first call; _fit checks y against them.
        _check_partial_fit_first_call(self, classes)
        try:
            return self._fit(X, y, incremental=True)
        except BaseException:
            if "classes_" not in before and hasattr(self, "classes_"):
                del self.classes_
            raise

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, n_samples x n_classes (columns in the order of classes_)."""
        return self._outputs(X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of predict_proba(X)."""
        return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of every row of X."""
        outputs = self._outputs(X)
        return self.classes_[np.argmax(outputs, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by backprop (linear output + squared error).

    The parameters, defaults, fitted attributes and methods of
    ``sklearn.neural_network.MLPRegressor``, multi-output included; see docs/python.md for
    what differs.
    """

    _task = "regression"

    def _out_activation(self) -> str:
        return "identity"

    def _output_names(self) -> List[str]:
        return []

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool):
        X, y = self._validate_data(X, y, multi_output=True, y_numeric=True, dtype=np.float32,
                                   order="C", reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _targets(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        return np.ascontiguousarray(y.reshape(-1, 1) if y.ndim == 1 else y)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any) -> "MLPRegressor":
        """One epoch over (X, y), continuing the optimiser's state."""
        if not hasattr(self, "coefs_"):
            self._validate_params()
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: (n_samples,) for one output, else (n_samples, n_outputs).

        float64, as scikit-learn's regressors return (the network computes in float32)."""
        out = self._outputs(X).astype(np.float64)
        return out.ravel() if out.shape[1] == 1 else out

    def _more_tags(self) -> Dict[str, Any]:
        return {"multioutput": True}
