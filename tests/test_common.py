"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_adam_mlp import AdamMLPClassifier


@parametrize_with_checks(
    [AdamMLPClassifier(hidden_layer_sizes=(10,), max_iter=300, random_state=0)]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
