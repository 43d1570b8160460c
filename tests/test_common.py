"""scikit-learn's own estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_nodecoll import BatchedADMMRegressor, CollocationNeuralODE

FIT_1D_REASON = (
    "A 1-D X is the time column by design, so that fit(t, y) works; the check "
    "expects 1-D X to be rejected."
)

EXPECTED_FAILED_CHECKS = {
    "CollocationNeuralODE": {"check_fit1d": FIT_1D_REASON},
    "BatchedADMMRegressor": {
        "check_fit1d": FIT_1D_REASON,
        "check_estimators_dtypes": (
            "The check's X has only a few distinct values in its first column, so a "
            "time window of a two-batch split holds fewer than the 3 distinct times a "
            "window needs."
        ),
    },
}

SMALL_MODEL = CollocationNeuralODE(hidden_layer_sizes=(4,), max_iter=50, random_state=0)


@parametrize_with_checks(
    [SMALL_MODEL, BatchedADMMRegressor(SMALL_MODEL, n_batches=2, max_iter=3)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS[type(estimator).__name__],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
