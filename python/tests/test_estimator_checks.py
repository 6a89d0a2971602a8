"""scikit-learn's own estimator checks (Debian's scikit-learn 1.2.1) on both estimators.

No check is expected to fail: scikit-learn marks none for its MLPClassifier or MLPRegressor
(they have no _xfail_checks tag), so none is marked here either.
"""
import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_n_features_in_after_fitting,
    check_param_validation,
    parametrize_with_checks,
)

from backprop.sklearn import MLPClassifier, MLPRegressor

ESTIMATORS = [MLPClassifier(), MLPRegressor()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# Checks that check_estimator does not run by default in scikit-learn 1.2.
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    "check",
    [check_n_features_in_after_fitting, check_dataframe_column_names_consistency,
     check_param_validation],
    ids=lambda c: c.__name__,
)
def test_additional_sklearn_checks(estimator, check):
    check(type(estimator).__name__, estimator)
