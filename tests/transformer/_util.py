"""Shared pieces of the attention and Transformer tests: wrappers that give our modules and
PyTorch's the same call signature (masks and flags bound), and mask makers."""
import numpy as np
import torch

import autograd as ag
import nn


def wrapped(lib, make_inner, call):
    """A module `m` of library `lib` (our nn or torch.nn) holding make_inner() as `inner`,
    whose forward(*inputs) is call(inner, *inputs, lib=lib)."""
    class Wrapper(lib.Module):
        def __init__(self):
            super().__init__()
            self.inner = make_inner(lib)

        def forward(self, *inputs):
            return call(self.inner, *inputs, lib=lib)
    return Wrapper()


def pair(make_inner, call):
    """(make_ours, make_theirs) for check_module."""
    return (lambda: wrapped(nn, make_inner, call),
            lambda: wrapped(torch.nn, make_inner, call))


def tensor(lib, array):
    """array as a constant tensor of lib (a bool mask stays bool)."""
    return ag.tensor(array.copy()) if lib is nn else torch.tensor(array.copy())


def bool_mask(rng, shape, p=0.3, keep_one=True):
    """A random bool mask (True with probability p); with keep_one, the last axis of every
    row keeps at least one False entry (not masked for PyTorch MHA semantics)."""
    mask = rng.random(shape) < p
    if keep_one:
        mask[..., 0] = False
    return mask


def float_mask(bool_masked, dtype, rng=None):
    """-inf where bool_masked, else 0 (or small random values when rng is given)."""
    base = np.zeros(bool_masked.shape) if rng is None else rng.normal(0, 0.5, bool_masked.shape)
    return np.where(bool_masked, -np.inf, base).astype(dtype)
