"""An Adam-trained multilayer-perceptron classifier for scikit-learn."""

from ._classifier import AdamMLPClassifier
from ._diagnostics import (
    StalledTrainingWarning,
    check_gradients,
    plot_restart_study,
    restart_study,
)
from ._version import __version__

__all__ = [
    "AdamMLPClassifier",
    "StalledTrainingWarning",
    "__version__",
    "check_gradients",
    "plot_restart_study",
    "restart_study",
]
