import pytest

from autograd.kernels import blas_threads as BT


@pytest.fixture
def two_blas_threads():
    """numpy's OpenBLAS with two threads for the test (tests/conftest.py sets one), or skip:
    the kernels split over its pool only when it has two."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if BT.available() is None:
        pytest.skip("numpy's OpenBLAS pool is not available here")
    with threadpoolctl.ThreadpoolController().limit(limits=2, user_api="blas"):
        if BT.threads() < 2:
            pytest.skip("OpenBLAS does not run two threads here")
        yield


@pytest.fixture
def split_calls(monkeypatch):
    """A list that gets an entry for each call of blas_threads.split in the test (so a test
    can assert that the split path ran)."""
    calls = []
    run = BT.split
    monkeypatch.setattr(BT, "split", lambda *args: calls.append(1) or run(*args))
    return calls
