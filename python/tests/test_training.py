"""Training through backprop.sklearn: the same weights as the CLI, exact continuation across
pickling, warm starts and partial_fit, the GIL released, Ctrl-C, labels and outputs."""
import _thread
import os
import pickle
import signal
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest

import backprop
from backprop.sklearn import MLPClassifier, MLPRegressor
from test_model import exact_data, write_csv


def same_weights(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(x, y)


def blobs(seed=0, rows=400, features=6, classes=3):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(classes, features))
    y = rng.integers(0, classes, size=rows)
    X = (centers[y] + rng.normal(size=(rows, features))).astype(np.float32)
    return X, y


# (scikit-learn parameters, the `backprop train` flags that train the same network)
EQUIVALENT_RUNS = {
    "adam": (
        dict(hidden_layer_sizes=(16, 8), activation="relu", solver="adam", alpha=0.0,
             batch_size=32, learning_rate_init=0.002, max_iter=4, random_state=7),
        ["--hidden", "16,8", "--activation", "relu", "--optimizer", "adam", "--lr", "0.002",
         "--batch", "32", "--epochs", "4", "--seed", "7"]),
    "sgd-nesterov": (
        dict(hidden_layer_sizes=(12,), activation="logistic", solver="sgd", alpha=0.0,
             batch_size=20, learning_rate_init=0.05, momentum=0.8, nesterovs_momentum=True,
             max_iter=3, random_state=3, shuffle=False),
        ["--hidden", "12", "--activation", "sigmoid", "--optimizer", "momentum", "--lr", "0.05",
         "--momentum", "0.8", "--nesterov", "--batch", "20", "--epochs", "3", "--seed", "3",
         "--no-shuffle"]),
    "adamw-dropout": (
        dict(hidden_layer_sizes=(10,), activation="tanh", solver="adam", alpha=0.0,
             weight_decay=0.01, dropout=0.25, batch_size=16, max_iter=2, random_state=11),
        ["--hidden", "10", "--activation", "tanh", "--optimizer", "adamw", "--weight-decay",
         "0.01", "--dropout", "0.25", "--lr", "0.001", "--batch", "16", "--epochs", "2",
         "--seed", "11"]),
    "plain-sgd-early-stopping-split": (
        dict(hidden_layer_sizes=(9,), activation="relu", solver="sgd", momentum=0.0, alpha=0.0,
             batch_size=25, learning_rate_init=0.1, max_iter=1, random_state=5,
             early_stopping=True, validation_fraction=0.2),
        ["--hidden", "9", "--activation", "relu", "--optimizer", "sgd", "--lr", "0.1", "--batch",
         "25", "--epochs", "1", "--seed", "5", "--val-split", "0.2"]),
}


@pytest.mark.parametrize("name", list(EQUIVALENT_RUNS))
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_python_training_gives_the_cli_weights_bit_for_bit(tmp_path, cli, name, task):
    params, flags = EQUIVALENT_RUNS[name]
    rng = np.random.default_rng(42)
    X = exact_data(rng, 230, 7)
    if task == "classification":
        y = np.digitize(X[:, 0] - X[:, 1], [-1.0, 0.0, 1.0])  # classes 0..3
        labels = [str(v) for v in y]
        est = MLPClassifier(**params, n_iter_no_change=1000)
    else:
        y = (X[:, :2] @ np.array([0.75, -0.5])).astype(np.float32)  # exact in decimal too
        labels = [repr(float(v)) for v in y]
        est = MLPRegressor(**params, n_iter_no_change=1000)
    write_csv(tmp_path / "train.csv", X, labels)
    out = tmp_path / "cli.safetensors"
    # A table's defaults hold out 10% with early stopping; the estimators' do not (scikit-learn's
    # early_stopping=False), so the equivalent command says so unless the run gives its own split.
    held_out = [] if "--val-split" in flags else ["--val-split", "0", "--patience", "0"]
    subprocess.run([cli, "train", "--data", str(tmp_path / "train.csv"), "--label", "y", "--task",
                    task, "--normalize", "none", "-q", "-o", str(out)] + held_out + flags,
                   check=True)
    est.fit(X, y)
    cli_model = backprop.load(out)
    assert cli_model.widths == est._model.widths
    for ours, theirs in zip(est._model.weights() + est._model.biases(),
                            cli_model.weights() + cli_model.biases()):
        np.testing.assert_array_equal(ours, theirs)


def test_pickle_round_trip_predicts_identically_and_continues_exactly():
    X, y = blobs(1)
    labels = np.array(["cat", "dog", "emu"])[y]
    a = MLPClassifier(hidden_layer_sizes=(20,), max_iter=3, random_state=0, warm_start=True)
    a.fit(X, labels)
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(b.predict_proba(X), a.predict_proba(X))
    np.testing.assert_array_equal(b.predict(X), a.predict(X))
    assert b.loss_curve_ == a.loss_curve_ and b.n_iter_ == a.n_iter_
    a.fit(X, labels)  # warm start: 3 more epochs, the optimiser's state carried on
    b.fit(X, labels)
    same_weights(a, b)
    a.partial_fit(X, labels)
    c = pickle.loads(pickle.dumps(b))
    c.partial_fit(X, labels)
    same_weights(a, c)


def test_warm_start_continues_as_one_longer_fit():
    X, y = blobs(2)
    whole = MLPClassifier(hidden_layer_sizes=(15,), max_iter=6, random_state=3,
                          n_iter_no_change=100).fit(X, y)
    parts = MLPClassifier(hidden_layer_sizes=(15,), max_iter=2, random_state=3,
                          n_iter_no_change=100, warm_start=True)
    for _ in range(3):
        parts.fit(X, y)
    same_weights(whole, parts)
    assert parts.loss_curve_ == whole.loss_curve_
    assert parts.n_iter_ == 6


def test_partial_fit_epochs_equal_fit_epochs():
    X, y = blobs(3)
    whole = MLPRegressor(hidden_layer_sizes=(10,), max_iter=4, random_state=2,
                         n_iter_no_change=100).fit(X, y.astype(float))
    inc = MLPRegressor(hidden_layer_sizes=(10,), random_state=2)
    for _ in range(4):
        inc.partial_fit(X, y.astype(float))
    same_weights(whole, inc)


def test_n_jobs_never_changes_results():
    X, y = blobs(4, rows=600, features=40)
    one = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=1, n_jobs=1).fit(X, y)
    two = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=1, n_jobs=2).fit(X, y)
    same_weights(one, two)


@pytest.mark.parametrize("labels", [
    np.array(["setosa", "versicolor", "virginica"]),
    np.array([3, 7, 11]),
    np.array([False, True]),
], ids=["str", "int", "bool"])
def test_class_labels_of_any_kind(labels):
    X, y = blobs(5, classes=len(labels))
    target = labels[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                        random_state=0).fit(X, target)
    np.testing.assert_array_equal(clf.classes_, np.unique(target))
    predicted = clf.predict(X)
    assert predicted.dtype == target.dtype
    assert np.mean(predicted == target) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == len(labels)


def test_multi_output_regression():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(500, 5)).astype(np.float32)
    W = rng.normal(size=(5, 3))
    Y = X @ W
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=200, random_state=0,
                       learning_rate_init=0.01).fit(X, Y)
    assert reg.predict(X).shape == (500, 3)
    assert reg.n_outputs_ == 3 and reg.coefs_[-1].shape == (32, 3)
    assert reg.score(X, Y) > 0.9
    assert reg.predict(X[:4]).shape == (4, 3)


def test_fitted_attributes_as_scikit_learn_names_them():
    X, y = blobs(7)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    clf = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=30, random_state=0,
                        early_stopping=True, n_iter_no_change=3).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf._model.feature_names == list(frame.columns)
    assert clf.n_features_in_ == 6 and clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert [c.shape for c in clf.coefs_] == [(6, 8), (8, 4), (4, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (4,), (3,)]
    assert clf.n_iter_ == len(clf.loss_curve_) == len(clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None and clf.loss_ == clf.loss_curve_[-1]
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=10, random_state=0).fit(X, y * 1.0)
    assert reg.best_loss_ == min(reg.loss_curve_) and reg.validation_scores_ is None
    assert reg.out_activation_ == "identity"


def test_verbose_prints_like_scikit_learn(capsys):
    X, y = blobs(8)
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0, verbose=True).fit(X, y)
    assert "Iteration 1, loss = " in capsys.readouterr().out


def long_fit_data():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(20000, 100)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(int)


def test_fit_releases_the_gil():
    X, y = long_fit_data()
    counter = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counter[0] += 1

    model = backprop.Model.create([100, 256, 2], ["relu"], "classification", ["0", "1"],
                                  [f"x{j}" for j in range(100)])
    session = backprop.TrainSession(model, X, y.astype(np.int32), batch=32)
    t = threading.Thread(target=count)
    t.start()
    try:
        time.sleep(0.05)
        before = counter[0]
        started = time.perf_counter()
        seconds = 0.0
        while seconds < 0.3:  # epochs until the measurement spans long enough to mean something
            session.run_epoch(0.001)
            seconds = time.perf_counter() - started
        advanced = counter[0] - before
    finally:
        done.set()
        t.join()
    # A thread that holds the GIL for the epoch would let the counter move only at its start.
    assert advanced > 10000, (seconds, advanced)


@pytest.mark.parametrize("how", ["interrupt_main", "SIGINT"])
def test_ctrl_c_during_fit_raises_keyboard_interrupt_and_keeps_the_estimator(how):
    X, y = long_fit_data()
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0, warm_start=True,
                        n_iter_no_change=10000)
    clf.fit(X[:2000], y[:2000])
    before = {k: v for k, v in vars(clf).items()}
    proba = clf.predict_proba(X[:100])
    clf.set_params(max_iter=10000)
    sent = []

    def interrupt():
        sent.append(time.perf_counter())
        if how == "SIGINT":
            os.kill(os.getpid(), signal.SIGINT)
        else:
            _thread.interrupt_main()

    timer = threading.Timer(0.5, interrupt)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    latency = time.perf_counter() - sent[0]
    timer.join()
    assert latency < 1.0, latency
    assert vars(clf).keys() == before.keys()
    assert clf.n_iter_ == before["n_iter_"] and clf.loss_curve_ == before["loss_curve_"]
    assert clf._model is before["_model"]
    np.testing.assert_array_equal(clf.predict_proba(X[:100]), proba)

    # n_iter_no_change keeps the easy problem from converging before the interrupt comes.
    fresh = MLPClassifier(hidden_layer_sizes=(64,), max_iter=10000, random_state=0,
                          n_iter_no_change=10000)
    timer = threading.Timer(0.3, interrupt)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X, y)
    timer.join()
    assert not [k for k in vars(fresh) if k.endswith("_") or k.startswith("_")]


def test_divergence_is_an_error_and_leaves_the_estimator_unfitted():
    X, y = blobs(10)
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e6,
                       max_iter=5, random_state=0)
    with pytest.raises(backprop.DivergenceError, match="diverged"):
        reg.fit(X * 1e3, y * 1e3)
    assert not hasattr(reg, "coefs_")
