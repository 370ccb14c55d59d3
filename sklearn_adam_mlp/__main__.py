"""Entry point of ``python -m sklearn_adam_mlp`` and of ``sklearn-adam-mlp``.

The commands live in :mod:`sklearn_adam_mlp._cli`.
"""

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
