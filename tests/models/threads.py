"""one_thread(): a context manager running its body with one BLAS thread and one numba
thread.

The CNN tests run small convolutions: one thread is as fast, and on a shared machine the
threads of two pools (OpenBLAS and numba's OpenMP) waiting on each other at every parallel
region can make a step ten to a hundred times slower.
"""
import contextlib


@contextlib.contextmanager
def one_thread():
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(1, user_api="blas"))
        except ImportError:
            pass
        try:
            import numba
        except ImportError:
            numba = None
        if numba is not None:
            before = numba.get_num_threads()
            numba.set_num_threads(1)
            stack.callback(numba.set_num_threads, before)
        yield
