"""An Adam-trained multilayer-perceptron classifier for scikit-learn."""

from ._classifier import AdamMLPClassifier
from ._diagnostics import (
    StalledTrainingWarning,
    check_gradients,
    plot_restart_study,
    restart_study,
)
from ._out_of_core import partial_fit_blocks
from ._persistence import load_model, save_model
from ._version import __version__

__all__ = [
    "AdamMLPClassifier",
    "StalledTrainingWarning",
    "__version__",
    "check_gradients",
    "load_model",
    "partial_fit_blocks",
    "plot_restart_study",
    "restart_study",
    "save_model",
]
