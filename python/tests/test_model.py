"""backprop.Model: files shared with the command line tool, zero-copy input, row-independent
predictions, and scikit-learn's messages for bad input."""
import csv
import io
import os
import subprocess

import numpy as np
import pytest
import scipy.sparse

import backprop
from backprop.sklearn import MLPClassifier, MLPRegressor


def exact_data(rng, rows, features):
    """Values k/64: the same float32 whether numpy holds them or the CLI parses their decimals."""
    return (rng.integers(-192, 192, size=(rows, features)) / 64.0).astype(np.float32)


def write_csv(path, X, y=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{j}" for j in range(X.shape[1])] + ([] if y is None else ["y"]))
        for i in range(X.shape[0]):
            w.writerow([repr(float(v)) for v in X[i]] + ([] if y is None else [y[i]]))


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_version_is_the_cmake_project_version():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "CMakeLists.txt")) as f:
        text = f.read()
    assert f"project(backprop VERSION {backprop.__version__} " in text


def test_cli_reads_a_python_trained_classifier(tmp_path, cli):
    rng = np.random.default_rng(0)
    X = exact_data(rng, 300, 5)
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=1).fit(X, y)
    path = tmp_path / "py.safetensors"
    clf._model.save(path)
    write_csv(tmp_path / "x.csv", X)
    out = subprocess.run([cli, "predict", str(path), "--data", str(tmp_path / "x.csv"),
                          "--probabilities"], check=True, capture_output=True, text=True).stdout
    header, rows = read_csv(out)
    assert header == ["prediction", "p_no", "p_yes"]
    assert [r[0] for r in rows] == list(clf.predict(X))
    proba = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=1e-6)  # 6 digits


def test_python_reads_a_cli_trained_regressor(tmp_path, cli):
    rng = np.random.default_rng(1)
    X = exact_data(rng, 200, 4)
    y = X @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32) + 10.0
    write_csv(tmp_path / "train.csv", X, [repr(float(v)) for v in y])
    model_path = tmp_path / "cli.safetensors"
    # --normalize standard: the model carries a non-identity preprocessing and target scaling.
    subprocess.run([cli, "train", "--data", str(tmp_path / "train.csv"), "--label", "y",
                    "--task", "regression", "--hidden", "6", "--epochs", "3", "-q", "-o",
                    str(model_path)], check=True)
    model = backprop.load(model_path)
    assert model.task == "regression" and model.preprocessing == "standard"
    write_csv(tmp_path / "x.csv", X)
    out = subprocess.run([cli, "predict", str(model_path), "--data", str(tmp_path / "x.csv")],
                         check=True, capture_output=True, text=True).stdout
    _, rows = read_csv(out)
    cli_values = np.array([float(r[0]) for r in rows], dtype=np.float32)  # {:.9g}: exact
    np.testing.assert_array_equal(model.predict(X)[:, 0], cli_values)


def test_model_bytes_round_trip_and_save_load(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, 0] > 0)
    again = backprop.Model.from_bytes(clf._model.to_bytes())
    np.testing.assert_array_equal(again.predict(X), clf._model.predict(X))
    clf._model.save(tmp_path / "m.safetensors")
    loaded = backprop.load(str(tmp_path / "m.safetensors"))
    assert loaded.class_names == ["False", "True"]
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(backprop.BackpropError, match="not a backprop model|safetensors"):
        backprop.Model.from_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")


def test_float32_c_order_input_is_not_copied():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 6)).astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, X[:, 1] > 0)
    model = clf._model
    model.predict(X)
    assert model._last_input_address == X.ctypes.data
    clf.predict_proba(X)  # through the estimator's validation too
    assert model._last_input_address == X.ctypes.data
    # Other dtypes and layouts are converted once, into an array of their own.
    X64 = X.astype(np.float64)
    np.testing.assert_array_equal(model.predict(X64), model.predict(X))
    assert model._last_input_address != X64.ctypes.data
    XF = np.asfortranarray(X)
    np.testing.assert_array_equal(model.predict(XF), model.predict(X))
    assert model._last_input_address != XF.ctypes.data


@pytest.mark.parametrize("estimator", [
    MLPClassifier(hidden_layer_sizes=(37, 11), activation="tanh", max_iter=3, random_state=0),
    MLPRegressor(hidden_layer_sizes=(29,), activation="logistic", max_iter=3, random_state=0),
], ids=["classifier", "regressor"])
def test_row_results_do_not_depend_on_batch_or_position(estimator):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(700, 13)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) if isinstance(estimator, MLPClassifier) else X[:, 0] * 2
    model = estimator.fit(X, y)._model
    whole = model.predict(X)  # 256-row forward passes, the last one partial
    one_by_one = np.vstack([model.predict(X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_array_equal(whole, one_by_one)
    order = rng.permutation(len(X))
    np.testing.assert_array_equal(model.predict(X[order]), whole[order])
    for size in (3, 17, 255, 257, 511):
        parts = np.vstack([model.predict(X[s:s + size]) for s in range(0, len(X), size)])
        np.testing.assert_array_equal(parts, whole)


def test_bad_input_gives_scikit_learns_messages():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        clf.fit(X[:, 0], y)
    with pytest.raises(TypeError, match="A sparse matrix was passed, but dense data is required"):
        clf.fit(scipy.sparse.csr_matrix(X), y)
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, X[:, 0])
    clf.fit(X, y)
    with pytest.raises(ValueError,
                       match="X has 3 features, but MLPClassifier is expecting 4 features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        clf.predict(X[0])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(bad)
    with pytest.raises(TypeError, match="A sparse matrix was passed"):
        clf.predict(scipy.sparse.csr_matrix(X))
    # The native model checks on its own too.
    with pytest.raises(ValueError, match="X has 3 features, but the model takes 4 inputs"):
        clf._model.predict(X[:, :3])
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        clf._model.predict(X[0])


def test_unsupported_solver_is_a_clear_error_in_fit():
    X = np.zeros((10, 2))
    y = np.arange(10) % 2
    clf = MLPClassifier(solver="lbfgs")  # __init__ only stores it
    with pytest.raises(ValueError, match="solver='lbfgs' is not available in backprop"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")
