"""ag.autograd.functional against torch.autograd.functional (float64, values)."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import autograd as ag
import autograd.autograd.functional as AF

HAS_TANH = hasattr(ag, "tanh")
needs_tanh = pytest.mark.skipif(not HAS_TANH, reason="ag.tanh (unary family) not available")
needs_stack = pytest.mark.skipif(not hasattr(ag, "stack"),
                                 reason="ag.stack (shape/join family) not available")

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 2))
W = RNG.standard_normal((2, 2))


def _pair(*shapes, seed=0):
    """Equal float64 inputs for both libraries."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(0.5, 1.5, size=s) for s in shapes]
    return [ag.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def _cmp(ours, ref):
    """Compare nested tuples of Tensors."""
    if isinstance(ref, (tuple, list)):
        assert isinstance(ours, tuple), f"expected a tuple, got {type(ours).__name__}"
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref):
            _cmp(o, r)
        return
    assert isinstance(ours, ag.Tensor), f"expected a Tensor, got {type(ours).__name__}"
    rn = ref.detach().numpy()
    assert ours.shape == rn.shape, f"shape {ours.shape} vs PyTorch {rn.shape}"
    assert ours.dtype == rn.dtype
    np.testing.assert_allclose(ours.data, rn, rtol=1e-10, atol=1e-12)


# functions written once for both libraries (same operators and methods)
def f_single(x):                       # (3, 2) -> (3, 2)
    return x ** 3 * 2.0 + x / (x + 1.0)


def f_matrix(x, lib):                   # (3, 2) -> (2,)
    return (x * x).sum(0) + (x @ lib.tensor(W)).sum(0) ** 2


def f_two(x, y):                        # (3,), (3,) -> (3,)
    return x * y ** 2 + x / y


def f_two_out(x, y):                    # -> ((3,), ())
    return x * y, (x ** 2 * y).sum()


def f_scalar(x):                        # (3,) -> ()
    return (x ** 3).sum() + (x * x).sum() ** 2


def f_scalar_two(x, y):                 # (3,), (2, 3) -> ()
    return ((y * x) ** 2).sum() * (x ** 3).sum() + (y ** 3).sum()


# -- vjp -------------------------------------------------------------------------------------
def test_vjp_single():
    (x,), (tx,) = _pair((3, 2))
    v = np.random.default_rng(1).standard_normal((3, 2))
    ours = AF.vjp(f_single, x, ag.tensor(v))
    ref = TF.vjp(f_single, tx, torch.tensor(v))
    _cmp(ours, ref)


def test_vjp_tuple():
    (x, y), (tx, ty) = _pair((3,), (3,))
    v = ag.tensor(np.array([1.0, -2.0, 0.5]))
    _cmp(AF.vjp(f_two, (x, y), v), TF.vjp(f_two, (tx, ty), torch.tensor(v.data)))
    v2 = (ag.tensor(np.array([1.0, 2.0, 3.0])), ag.tensor(np.array(0.7)))
    tv2 = tuple(torch.tensor(t.data) for t in v2)
    _cmp(AF.vjp(f_two_out, (x, y), v2), TF.vjp(f_two_out, (tx, ty), tv2))


def test_vjp_scalar_output_v_none():
    (x,), (tx,) = _pair((3,))
    _cmp(AF.vjp(f_scalar, x), TF.vjp(f_scalar, tx))


def test_vjp_matmul():
    (x,), (tx,) = _pair((3, 2))
    v = ag.tensor(np.array([0.3, -1.0]))
    _cmp(AF.vjp(lambda a: f_matrix(a, ag), x, v),
         TF.vjp(lambda a: f_matrix(a, torch), tx, torch.tensor(v.data)))


def test_vjp_outputs_detached_and_inputs_untouched():
    (x,), _ = _pair((3,))
    x.requires_grad = True
    out, g = AF.vjp(f_scalar, x)
    assert not out.requires_grad and not g.requires_grad
    assert x.grad is None


def test_vjp_create_graph_is_differentiable():
    (x,), (tx,) = _pair((3,))
    x.requires_grad = True
    tx.requires_grad = True
    _, g = AF.vjp(f_scalar, x, create_graph=True)
    _, tg = TF.vjp(f_scalar, tx, create_graph=True)
    h, = ag.grad(g.sum(), x)
    th, = torch.autograd.grad(tg.sum(), tx)
    _cmp(h, th)


# -- jvp -------------------------------------------------------------------------------------
def test_jvp_single():
    (x,), (tx,) = _pair((3, 2))
    v = np.random.default_rng(2).standard_normal((3, 2))
    _cmp(AF.jvp(f_single, x, ag.tensor(v)), TF.jvp(f_single, tx, torch.tensor(v)))


def test_jvp_tuple():
    (x, y), (tx, ty) = _pair((3,), (3,))
    v = (ag.tensor(np.array([1.0, -2.0, 0.5])), ag.tensor(np.array([0.1, 0.2, 0.3])))
    tv = tuple(torch.tensor(t.data) for t in v)
    _cmp(AF.jvp(f_two, (x, y), v), TF.jvp(f_two, (tx, ty), tv))
    _cmp(AF.jvp(f_two_out, (x, y), v), TF.jvp(f_two_out, (tx, ty), tv))


def test_jvp_identity_and_matmul():
    (x,), (tx,) = _pair((3, 2))
    v = ag.tensor(np.ones((3, 2)))
    _cmp(AF.jvp(lambda a: a, x, v), TF.jvp(lambda a: a, tx, torch.tensor(v.data)))
    _cmp(AF.jvp(lambda a: f_matrix(a, ag), x, v),
         TF.jvp(lambda a: f_matrix(a, torch), tx, torch.tensor(v.data)))


def test_jvp_scalar_input_v_none():
    x, tx = ag.tensor(np.array(1.3)), torch.tensor(1.3, dtype=torch.float64)
    _cmp(AF.jvp(lambda a: a ** 3, x), TF.jvp(lambda a: a ** 3, tx))


# -- jacobian --------------------------------------------------------------------------------
def test_jacobian_single():
    (x,), (tx,) = _pair((3, 2))
    _cmp(AF.jacobian(f_single, x), TF.jacobian(f_single, tx))
    _cmp(AF.jacobian(lambda a: f_matrix(a, ag), x), TF.jacobian(lambda a: f_matrix(a, torch), tx))


def test_jacobian_tuple_inputs_and_outputs():
    (x, y), (tx, ty) = _pair((3,), (3,))
    _cmp(AF.jacobian(f_two, (x, y)), TF.jacobian(f_two, (tx, ty)))
    _cmp(AF.jacobian(f_two_out, (x, y)), TF.jacobian(f_two_out, (tx, ty)))
    _cmp(AF.jacobian(lambda a: (a * 2.0, a ** 2), x), TF.jacobian(lambda a: (a * 2.0, a ** 2), tx))


def test_jacobian_unused_input_is_zero_or_strict_error():
    (x, y), (tx, ty) = _pair((3,), (2,))
    _cmp(AF.jacobian(lambda a, b: a * 2.0, (x, y)), TF.jacobian(lambda a, b: a * 2.0, (tx, ty)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2.0, (x, y), strict=True)


def test_jacobian_vectorize_accepted():
    (x,), (tx,) = _pair((3,))
    _cmp(AF.jacobian(f_scalar, x, vectorize=True), TF.jacobian(f_scalar, tx, vectorize=True))


@needs_stack
def test_jacobian_create_graph():
    (x,), (tx,) = _pair((3,))
    x.requires_grad = True
    tx.requires_grad = True
    j = AF.jacobian(lambda a: a ** 3, x, create_graph=True)
    tj = TF.jacobian(lambda a: a ** 3, tx, create_graph=True)
    _cmp(j, tj)
    _cmp(ag.grad(j.sum(), x)[0], torch.autograd.grad(tj.sum(), tx)[0])


# -- hessian, hvp, vhp -----------------------------------------------------------------------
def test_hessian_single():
    (x,), (tx,) = _pair((3,))
    _cmp(AF.hessian(f_scalar, x), TF.hessian(f_scalar, tx))


def test_hessian_tuple():
    (x, y), (tx, ty) = _pair((3,), (2, 3))
    _cmp(AF.hessian(f_scalar_two, (x, y)), TF.hessian(f_scalar_two, (tx, ty)))


def test_hessian_linear_function_is_zero():
    (x,), (tx,) = _pair((3,))
    _cmp(AF.hessian(lambda a: (a * 2.0).sum(), x), TF.hessian(lambda a: (a * 2.0).sum(), tx))
    with pytest.raises(RuntimeError):
        AF.hessian(lambda a: (a * 2.0).sum(), x, strict=True)


def test_hessian_requires_scalar_output():
    (x,), _ = _pair((3,))
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda a: a * a, x)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(name):
    (x, y), (tx, ty) = _pair((3,), (2, 3))
    rng = np.random.default_rng(5)
    v = (rng.standard_normal(3), rng.standard_normal((2, 3)))
    ours = getattr(AF, name)(f_scalar_two, (x, y), tuple(ag.tensor(a) for a in v))
    ref = getattr(TF, name)(f_scalar_two, (tx, ty), tuple(torch.tensor(a) for a in v))
    _cmp(ours, ref)
    ours = getattr(AF, name)(f_scalar, x, ag.tensor(v[0]))
    ref = getattr(TF, name)(f_scalar, tx, torch.tensor(v[0]))
    _cmp(ours, ref)


def test_v_validation():
    (x, y), _ = _pair((3,), (2,))
    with pytest.raises(RuntimeError, match=r"vjp.*shape \(2,\).*\(3,\)"):
        AF.vjp(lambda a: a * 2.0, x, ag.ones(2, dtype=ag.float64))
    with pytest.raises(RuntimeError, match=r"jvp.*None"):
        AF.jvp(lambda a: a * 2.0, x)
    with pytest.raises(RuntimeError, match=r"hvp.*2 Tensors.*1"):
        AF.hvp(f_scalar, x, (x, x))
    with pytest.raises(TypeError, match=r"jacobian.*inputs"):
        AF.jacobian(f_scalar, [1.0, 2.0])


def test_strict_output_independent_of_inputs():
    (x,), _ = _pair((3,))
    const = ag.ones(3, dtype=ag.float64)
    out, g = AF.vjp(lambda a: const * 2.0, x, const)
    np.testing.assert_array_equal(g.data, 0)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.vjp(lambda a: const * 2.0, x, const, strict=True)


# -- a small MLP -----------------------------------------------------------------------------
def _mlp_data():
    rng = np.random.default_rng(7)
    params = [rng.standard_normal((3, 4)) * 0.7, rng.standard_normal(4) * 0.3,
              rng.standard_normal((4, 1)) * 0.7, rng.standard_normal(1) * 0.3]
    return params, rng.standard_normal((5, 3)), rng.standard_normal((5, 1))


def _mlp_loss(lib, x, y):
    """3 inputs -> 4 hidden tanh -> 1 output; loss = mean squared error."""
    x, y = lib.tensor(x), lib.tensor(y)

    def loss(w1, b1, w2, b2):
        h = (x @ w1 + b1).tanh()
        err = h @ w2 + b2 - y
        return (err * err).sum() / 5.0
    return loss


@needs_tanh
def test_hessian_mlp_loss_tuple_of_weights():
    params, x, y = _mlp_data()
    ours = AF.hessian(_mlp_loss(ag, x, y), tuple(ag.tensor(p) for p in params))
    ref = TF.hessian(_mlp_loss(torch, x, y), tuple(torch.tensor(p) for p in params))
    _cmp(ours, ref)


@needs_tanh
def test_hessian_mlp_loss_flat_parameters():
    # theta: the 21 parameters in one vector; each weight is a (constant) selection matmul of
    # theta, reshaped -- the Hessian is a (21, 21) matrix
    params, x, y = _mlp_data()
    sizes = [p.size for p in params]
    offsets = np.cumsum([0] + sizes)
    select = [np.eye(offsets[-1])[o:o + n] for o, n in zip(offsets, sizes)]
    theta = np.concatenate([p.ravel() for p in params])

    def flat(lib):
        loss = _mlp_loss(lib, x, y)
        sel = [lib.tensor(s) for s in select]

        def f(t):
            return loss(*[(s @ t).reshape(p.shape) for s, p in zip(sel, params)])
        return f

    ours = AF.hessian(flat(ag), ag.tensor(theta))
    ref = TF.hessian(flat(torch), torch.tensor(theta))
    assert ours.shape == (21, 21)
    _cmp(ours, ref)
    np.testing.assert_allclose(ours.data, ours.data.T, atol=1e-12)


@needs_tanh
def test_third_derivative_of_tanh():
    a = np.linspace(-2, 2, 7)
    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ys, tys = x.tanh(), tx.tanh()
    for _ in range(3):
        ys, = ag.grad(ys.sum(), x, create_graph=True)
        tys, = torch.autograd.grad(tys.sum(), tx, create_graph=True)
        _cmp(ys, tys)
    t = np.tanh(a)
    # d3 tanh = -2 (1 - t^2)(1 - 3 t^2)
    np.testing.assert_allclose(ys.data, -2 * (1 - t ** 2) * (1 - 3 * t ** 2), rtol=1e-12)
