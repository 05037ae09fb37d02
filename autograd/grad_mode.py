"""Grad mode: whether operations are recorded on the tape.

`no_grad`, `enable_grad` and `set_grad_enabled` work as context managers and as decorators,
as in PyTorch: `no_grad` and `enable_grad` also bare (`@no_grad`), and a decorated generator
function runs each resumption of its body in the mode. The state is process-global
(PyTorch's is thread-local).
"""
import functools
import inspect

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]


class _State:
    """Module-level switches read on every op; kept as plain attributes for speed."""
    enabled = True     # record operations on the tape
    anomaly = False    # detect_anomaly(): keep forward traces, check backward for NaN/Inf


def is_grad_enabled():
    return _State.enabled


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        """`cls()` is the context manager; `cls(func)` is the bare decorator `@cls`."""
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}: takes no arguments, or a function to decorate; "
                            f"got {type(orig_func).__name__}")
        return cls()(orig_func)

    def __enter__(self):
        self._prev = _State.enabled
        _State.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, func):
        return _decorate(func, self.__class__)


class no_grad(_GradModeContext):
    """Operations inside do not record on the tape; results do not require grad."""
    mode = False


class enable_grad(_GradModeContext):
    """Re-enables recording inside a `no_grad` block."""
    mode = True


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(False) acts like no_grad; takes effect at construction, as in PyTorch."""

    def __new__(cls, mode):             # mode is required: no bare-decorator form
        return object.__new__(cls)

    def __init__(self, mode):
        self._prev = _State.enabled
        self.mode = bool(mode)
        _State.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, func):
        _State.enabled = self._prev
        mode = self.mode
        return _decorate(func, lambda: set_grad_enabled(mode))


def _decorate(func, make_context):
    """func run inside a fresh `make_context()`; for a generator function, every resumption
    of the generator (next, send, throw, close) runs inside one, as in PyTorch."""
    if inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with make_context():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with make_context():
                            gen.close()
                        raise
                    except BaseException as exc:
                        with make_context():
                            response = gen.throw(exc)
                    else:
                        with make_context():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
        return generator

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with make_context():
            return func(*args, **kwargs)
    return wrapper
