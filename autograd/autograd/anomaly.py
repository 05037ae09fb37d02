"""detect_anomaly: record where each op was created; raise at the first NaN/Inf gradient.

Inside the context every recorded node keeps the traceback of its forward call, and the
engine checks each gradient a node returns; the error names the node (e.g. `DivBackward`)
and the line of user code that created it.
"""
import functools

from ..grad_mode import _State

__all__ = ["detect_anomaly", "set_detect_anomaly"]


class detect_anomaly:
    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _State.anomaly
        _State.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        _State.anomaly = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly(detect_anomaly):
    """set_detect_anomaly(mode): takes effect at construction (also usable with `with`)."""

    def __init__(self, mode, check_nan=True):
        super().__init__(check_nan and mode)
        self._prev = _State.anomaly
        _State.anomaly = bool(mode) and check_nan

    def __enter__(self):
        return self
