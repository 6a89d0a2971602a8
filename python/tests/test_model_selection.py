"""backprop's estimators inside scikit-learn's model selection: a grid search over a pipeline
in two worker processes (the estimators are pickled to them), the same search on a dask
cluster through joblib's distributed backend, and cross-validation."""
import time

import joblib
import numpy as np
from distributed import Client, LocalCluster, get_task_stream
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from backprop.sklearn import MLPClassifier, MLPRegressor


def test_grid_search_over_a_pipeline_with_two_jobs():
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=30, random_state=0, n_jobs=1))])
    grid = {"mlp__hidden_layer_sizes": [(32,), (64,)], "mlp__alpha": [1e-4, 1e-2]}
    started = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    print(f"GridSearchCV (4 candidates x 3 folds, n_jobs=2): {time.perf_counter() - started:.2f} s")
    assert search.best_score_ > 0.9
    assert isinstance(search.best_estimator_.named_steps["mlp"], MLPClassifier)
    assert search.score(X, y) > 0.95
    assert len(search.cv_results_["mean_test_score"]) == 4


def test_grid_search_on_a_dask_cluster_scores_as_in_one_process(tmp_path):
    """joblib's dask backend runs the fits in the cluster's worker processes; training depends on
    the data and the seed alone, so every split's score is the one a single process gets."""
    X, y = load_digits(return_X_y=True)
    mlp = MLPClassifier(max_iter=10, learning_rate_init=0.01, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)])
    grid = {"mlp__hidden_layer_sizes": [(16,), (32,)], "mlp__solver": ["adam", "sgd"]}
    alone = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      local_directory=str(tmp_path)) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            spread = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
        print(f"GridSearchCV on 2 dask workers (4 candidates x 3 folds): "
              f"{time.perf_counter() - started:.2f} s")
        workers = {task["worker"] for task in tasks.data}
    assert len(workers) == 2, workers  # the fits ran on both workers, not here
    for k in range(3):
        key = f"split{k}_test_score"
        np.testing.assert_array_equal(spread.cv_results_[key], alone.cv_results_[key])
    assert spread.best_params_ == alone.best_params_ and spread.best_score_ > 0.85


def test_cross_val_score():
    X, y = load_digits(return_X_y=True)
    scores = cross_val_score(MLPClassifier(hidden_layer_sizes=(48,), max_iter=40, random_state=0),
                             X / 16.0, y, cv=4)
    assert scores.shape == (4,) and scores.min() > 0.85
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(300, 4))
    yr = Xr @ np.array([1.0, 2.0, -1.0, 0.5])
    r2 = cross_val_score(MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0,
                                      learning_rate_init=0.01), Xr, yr, cv=3)
    assert r2.min() > 0.9
