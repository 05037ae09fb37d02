"""Grad mode: whether operations are recorded on the tape.

`no_grad`, `enable_grad` and `set_grad_enabled` work as context managers and as decorators,
as in PyTorch. The state is process-global (PyTorch's is thread-local).
"""
import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _State:
    """Module-level switches read on every op; kept as plain attributes for speed."""
    enabled = True     # record operations on the tape
    anomaly = False    # detect_anomaly(): keep forward traces, check backward for NaN/Inf


def is_grad_enabled():
    return _State.enabled


class _GradModeContext:
    mode = True

    def __enter__(self):
        self._prev = _State.enabled
        _State.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Operations inside do not record on the tape; results do not require grad."""
    mode = False


class enable_grad(_GradModeContext):
    """Re-enables recording inside a `no_grad` block."""
    mode = True


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(False) acts like no_grad; takes effect at construction, as in PyTorch."""

    def __init__(self, mode):
        self._prev = _State.enabled
        self.mode = bool(mode)
        _State.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, func):
        _State.enabled = self._prev
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper
