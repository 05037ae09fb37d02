"""The synthetic long-memory tasks of the recurrent-network literature, generated with a seed.

    x, y = adding_problem(256, seq_len=100, seed=0)     # x (256, 100, 2), y (256, 1)
    x, y = copy_memory(256, delay=50, seed=0)           # int64 (256, 70) each

Adding problem. Each step carries a pair (value, marker); exactly two steps are marked and the
target is a function of their two values.
- variant="arjovsky" (Le et al. 2015, used by Arjovsky et al. 2016): values ~ U[0, 1], markers
  0 except one 1 in the first half (position < T // 2) and one in the second half; target
  X1 + X2. Predicting the mean 1 has MSE Var(X1 + X2) = 2 / 12 = 1/6, the baseline to beat.
- variant="hochreiter" (Hochreiter & Schmidhuber 1997, experiment 4): values ~ U[-1, 1];
  the first mark is one of the first ten steps, the second one of the first T/2 steps not
  already marked; markers are 0 except -1 at the first and last steps when those are not
  marked; a marked first step has its value set to 0; target 0.5 + (X1 + X2) / 4 in [0, 1]
  (predicting 0.5 has MSE 1/24). The paper draws each length in [T, T + T/10]; here every
  sequence has length T so that a batch is one array.

Copy memory (Hochreiter & Schmidhuber 1997; the form of Arjovsky et al. 2016). Symbols: 0 is
the blank, 1..num_symbols the data symbols, num_symbols + 1 the delimiter. The input of length
T + 2 * copy_length is copy_length data symbols drawn uniformly with replacement, T - 1 blanks,
the delimiter and copy_length blanks; the target is T + copy_length blanks followed by the
copy_length data symbols. The memoryless baseline (blanks, then uniform guesses) has
cross-entropy copy_length * log(num_symbols) / (T + 2 * copy_length) per step.
"""
import math

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ._rng import make_rng

__all__ = ["adding_problem", "copy_memory", "copy_memory_baseline"]


def _check_count(name, value, minimum, op):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{op}: {name} must be an integer >= {minimum}, got {value!r}")


def adding_problem(num_samples, seq_len, seed=None, variant="arjovsky", batch_first=True,
                   dtype=None):
    """(x, y): x (num_samples, seq_len, 2) [value, marker] (or (seq_len, num_samples, 2) when
    not batch_first), y (num_samples, 1); floats of dtype (default float32).
    seed: an int, a numpy Generator or None (global generator)."""
    _check_count("num_samples", num_samples, 1, "adding_problem")
    n, t = int(num_samples), int(seq_len)
    rng = make_rng(seed)
    rows = np.arange(n)
    markers = np.zeros((n, t))
    if variant == "arjovsky":
        _check_count("seq_len", seq_len, 2, "adding_problem")
        values = rng.uniform(0.0, 1.0, size=(n, t))
        first = rng.integers(0, t // 2, size=n)
        second = rng.integers(t // 2, t, size=n)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        target = values[rows, first] + values[rows, second]
    elif variant == "hochreiter":
        _check_count("seq_len", seq_len, 20, "adding_problem (hochreiter)")
        values = rng.uniform(-1.0, 1.0, size=(n, t))
        first = rng.integers(0, 10, size=n)
        # one of the first T/2 steps other than `first`: draw among T/2 - 1, skip `first`
        second = rng.integers(0, t // 2 - 1, size=n)
        second = second + (second >= first)
        markers[:, 0] = -1.0
        markers[:, -1] = -1.0
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        values[markers[:, 0] == 1.0, 0] = 0.0
        target = 0.5 + (values[rows, first] + values[rows, second]) / 4.0
    else:
        raise ValueError(f"adding_problem: variant must be 'arjovsky' or 'hochreiter', got "
                         f"{variant!r}")
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    x = np.stack([values, markers], axis=-1).astype(dtype)
    if not batch_first:
        x = np.ascontiguousarray(x.transpose(1, 0, 2))
    y = target.astype(dtype)[:, None]
    return Tensor._make(x, False, None, 0), Tensor._make(y, False, None, 0)


def copy_memory(num_samples, delay, seed=None, copy_length=10, num_symbols=8,
                batch_first=True):
    """(x, y): int64 (num_samples, delay + 2 * copy_length) input and target symbols (time
    first when not batch_first); see the module docstring for the layout."""
    _check_count("num_samples", num_samples, 1, "copy_memory")
    _check_count("delay", delay, 1, "copy_memory")
    _check_count("copy_length", copy_length, 1, "copy_memory")
    _check_count("num_symbols", num_symbols, 1, "copy_memory")
    n, t, k = int(num_samples), int(delay), int(copy_length)
    length = t + 2 * k
    data = make_rng(seed).integers(1, num_symbols + 1, size=(n, k))
    x = np.zeros((n, length), dtype=np.int64)
    y = np.zeros((n, length), dtype=np.int64)
    x[:, :k] = data
    x[:, k + t - 1] = num_symbols + 1          # the delimiter after T - 1 blanks
    y[:, t + k:] = data
    if not batch_first:
        x, y = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
    return Tensor._make(x, False, None, 0), Tensor._make(y, False, None, 0)


def copy_memory_baseline(delay, copy_length=10, num_symbols=8):
    """Mean per-step cross-entropy of the memoryless strategy: k log(S) / (T + 2k)."""
    return copy_length * math.log(num_symbols) / (delay + 2 * copy_length)
