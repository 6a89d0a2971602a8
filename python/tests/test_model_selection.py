"""backprop's estimators inside scikit-learn's model selection: a grid search over a pipeline
in two worker processes (the estimators are pickled to them), and cross-validation."""
import time

import numpy as np
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
