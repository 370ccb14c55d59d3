"""Sphinx configuration of the sklearn_adam_mlp documentation.

Build from the repository root (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network access: no intersphinx inventories are fetched, and
the figures of the case study are computed by matplotlib while the pages build.
"""

import inspect
import re

from sphinx.util import logging

import sklearn_adam_mlp

logger = logging.getLogger(__name__)

project = "sklearn_adam_mlp"
author = "The sklearn_adam_mlp developers"
copyright = "the sklearn_adam_mlp developers"
version = release = sklearn_adam_mlp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

exclude_patterns = ["_build"]
root_doc = "index"
default_role = "literal"

# API reference: one page, api.rst, with a summary table over autodoc entries.
autosummary_generate = False
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()

# Figures: the plot directive runs the code of each figure while the docs
# build, with the Agg backend, and shows the code above the figure.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.autolayout": True, "savefig.bbox": "tight"}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_adam_mlp {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False
html_copy_source = False


def _check_api_page(app, docname, source):
    """Warn when ``api.rst`` and the package's public names disagree.

    Every name in ``sklearn_adam_mlp.__all__`` must be documented there and
    every documented name exported, so that a public name added or removed
    fails the build (warnings are errors) until the page follows.
    """
    if docname != "api":
        return
    directive = re.compile(r"\.\. auto(?:class|function|exception):: (\w+)")
    documented = {m[1] for m in directive.finditer(source[0])}
    exported = set(sklearn_adam_mlp.__all__) - {"__version__"}
    for name in sorted(exported - documented):
        logger.warning("api.rst does not document the public name %r", name)
    for name in sorted(documented - exported):
        logger.warning("api.rst documents %r, which the package does not export", name)


def _check_parameter_table(app, docname, source):
    """Warn when the comparison page misses a parameter of either classifier.

    Every constructor parameter of ``AdamMLPClassifier`` and of scikit-learn's
    ``MLPClassifier`` must appear, as ````name````, in ``comparison.rst``, so
    that a parameter added to either fails the build until it is described.
    """
    if docname != "comparison":
        return
    from sklearn.neural_network import MLPClassifier

    for estimator in (sklearn_adam_mlp.AdamMLPClassifier, MLPClassifier):
        for name in inspect.signature(estimator).parameters:
            if f"``{name}``" not in source[0]:
                logger.warning(
                    "comparison.rst does not mention %s's parameter %r",
                    estimator.__name__,
                    name,
                )


def setup(app):
    """Connect the checks of the API reference and the comparison page."""
    app.connect("source-read", _check_api_page)
    app.connect("source-read", _check_parameter_table)
