"""An Adam-trained multilayer-perceptron classifier for scikit-learn."""

from ._classifier import AdamMLPClassifier

__version__ = "0.1.0"

__all__ = ["AdamMLPClassifier", "__version__"]
