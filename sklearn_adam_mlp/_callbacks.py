"""scikit-learn's callback API (``sklearn.callback``) where it exists.

scikit-learn 1.9 added callbacks: ``estimator.set_callbacks(ProgressBar())``
and friends. On older versions the estimator works the same, without them.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:  # noqa: D101
        pass


class _NoCallbacks:
    """A stand-in for ``sklearn.callback.CallbackContext`` that does nothing."""

    def subcontext(self, **kwargs):
        return self

    def call_on_fit_task_begin(self, **kwargs):
        return self

    def call_on_fit_task_end(self, **kwargs):
        return False


NO_CALLBACKS = _NoCallbacks()


def fit_callback_context(estimator, *, max_subtasks):
    """Open the root task of a fit, or a stand-in without callbacks.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.

    max_subtasks : int or None
        Number of subtasks of the fit (epochs, or restarts).

    Returns
    -------
    context : sklearn.callback.CallbackContext or stand-in
        Has ``subcontext``, ``call_on_fit_task_begin`` and
        ``call_on_fit_task_end``, as scikit-learn's context.
    """
    if not hasattr(estimator, "_init_callback_context"):
        return NO_CALLBACKS
    return estimator._init_callback_context(max_subtasks=max_subtasks)


def has_callbacks(estimator):
    """Whether any callback will see the estimator's tasks."""
    return bool(getattr(estimator, "_skl_callbacks", None))
