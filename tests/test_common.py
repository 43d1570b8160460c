"""scikit-learn's own estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_nodecoll import CollocationNeuralODE

EXPECTED_FAILED_CHECKS = {
    "check_fit1d": (
        "A 1-D X is the time column by design, so that fit(t, y) works; the check "
        "expects 1-D X to be rejected."
    ),
}


@parametrize_with_checks(
    [CollocationNeuralODE(hidden_layer_sizes=(4,), max_iter=50, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
