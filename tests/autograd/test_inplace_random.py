"""Random programs of views and in-place writes against PyTorch: a base with history, views
of it and of views (slices, transposes, unsqueeze, reshape, integer indexing), in-place ops
with numbers and with a tensor that requires grad, on the base or on any view, in any order;
then a loss over every tensor made. Where PyTorch runs the program, ours must give the same
values and gradients (PyTorch refusing one, e.g. a version error, is skipped)."""
import numpy as np
import pytest
import torch

import autograd as ag

PROGRAMS = 300
STEPS = 8


def _view(t, rng):
    kind = rng.integers(5)
    if kind == 0 and t.ndim >= 1 and t.shape[0] > 1:
        start = int(rng.integers(t.shape[0] - 1))
        return t[start:start + 1 + int(rng.integers(t.shape[0] - start))]
    if kind == 1 and t.ndim == 2:
        return t.transpose(0, 1)
    if kind == 2:
        return t.unsqueeze(0)
    if kind == 3 and t.ndim >= 1 and t.shape[0] > 0:
        return t[int(rng.integers(t.shape[0]))]
    return t.reshape(-1)


def _write(t, other, rng):
    kind = rng.integers(6)
    if kind == 0:
        t.add_(float(rng.normal()))
    elif kind == 1:
        t.mul_(float(rng.uniform(0.5, 1.5)))
    elif kind == 2:
        t.mul_(other)
    elif kind == 3:
        t.sub_(other * 0.5)
    elif kind == 4:
        t.tanh_()
    else:
        t += other


def _run(lib, seed):
    """The program of `seed` in lib (ag or torch): (values, gradients) as arrays."""
    rng = np.random.default_rng(seed)
    make = ag.tensor if lib is ag else torch.tensor
    w = make(rng.normal(size=(3, 4)), requires_grad=True)
    other = make(np.float64(rng.uniform(0.5, 1.5)), requires_grad=True)
    made = [w * 1.0]
    for _ in range(STEPS):
        t = made[int(rng.integers(len(made)))]
        if rng.random() < 0.5:
            made.append(_view(t, rng))
        else:
            _write(t, other, rng)
    weights = rng.normal(size=len(made))
    loss = sum((t * t).sum() * float(c) for t, c in zip(made, weights))
    grads = (ag.grad if lib is ag else torch.autograd.grad)(loss, [w, other])
    values = [np.asarray(t.data) if lib is ag else t.detach().numpy() for t in made]
    return values, [np.asarray(g.data) if lib is ag else g.numpy() for g in grads]


@pytest.mark.parametrize("block", range(3))
def test_random_view_and_inplace_programs_match_torch(block):
    ran = 0
    for seed in range(block * PROGRAMS // 3, (block + 1) * PROGRAMS // 3):
        try:
            want = _run(torch, seed)
        except RuntimeError:                 # PyTorch refuses the program: nothing to compare
            continue
        ours = _run(ag, seed)
        for a, b in zip(ours[0] + ours[1], want[0] + want[1]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"seed {seed}")
        ran += 1
    assert ran > PROGRAMS // 6                  # most programs are comparable
