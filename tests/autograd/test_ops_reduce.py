"""Reductions, scans and the softmax family against PyTorch: one line per case."""
import functools
import math

import numpy as np
import pytest
import torch

import autograd as ag
from autograd.autograd import gradgradcheck
from tests.helpers import check_op

INF = math.inf


def fn(name, **kw):
    """(ours, ref): the function `name` of autograd and of torch with the same kwargs."""
    return functools.partial(getattr(ag, name), **kw), functools.partial(getattr(torch, name), **kw)


def method(name, *args, **kw):
    """(ours, ref): the Tensor method `name` called with the same arguments."""
    def call(x):
        return getattr(x, name)(*args, **kw)
    return call, call


def ties(shape):
    """make_inputs: small integers, so that maxima repeat."""
    def make(rng, dtype):
        return [rng.integers(0, 3, shape).astype(dtype)]
    return make


def values(*arrays):
    """make_inputs: fixed arrays."""
    def make(rng, dtype):
        return [np.array(a, dtype) for a in arrays]
    return make


def _x(seed, shape, dtype):
    return ag.tensor(np.random.default_rng(seed).uniform(-2, 2, shape), dtype=dtype,
                     requires_grad=True)


# -- reductions over dim = None, int, negative, tuple, keepdim, 0-d, size 0 ------------------
DIMS = [
    ((3, 4), {}),
    ((3, 4), dict(dim=0)),
    ((3, 4), dict(dim=-1, keepdim=True)),
    ((2, 3, 4), dict(dim=(0, 2))),
    ((2, 3, 4), dict(dim=(-1, 0), keepdim=True)),
    ((2, 3, 4), dict(dim=1, keepdim=False)),
    ((), dict(dim=0)),
    ((), dict(dim=-1, keepdim=True)),
    ((), {}),
    ((5,), dict(dim=0)),
]
MULTI = ["sum", "mean", "amax", "amin", "var", "std", "norm", "logsumexp"]


@pytest.mark.parametrize("name", MULTI)
@pytest.mark.parametrize("shape,kw", DIMS, ids=str)
def test_multi_dim_reductions(name, shape, kw):
    if name == "logsumexp" and "dim" not in kw:
        kw = dict(kw, dim=tuple(range(len(shape))))
    check_op(*fn(name, **kw), [shape])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "norm"])
def test_empty_dim_tuple_means_all(name):
    # PyTorch's var backward takes N = 1 for dim=() (an infinite gradient): values only
    check_op(*fn(name, dim=()), [(2, 3)], grad=name != "var")


SINGLE = ["prod", "cumsum", "cumprod", "softmax", "log_softmax", "max", "min", "argmax",
          "argmin"]
ONE_DIM = [((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((), 0), ((), -1), ((6,), 0)]


@pytest.mark.parametrize("name", SINGLE)
@pytest.mark.parametrize("shape,dim", ONE_DIM, ids=str)
def test_single_dim_ops(name, shape, dim):
    check_op(*fn(name, dim=dim), [shape], low=0.5 if "prod" in name else -2.0)


@pytest.mark.parametrize("name", ["prod", "max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((2, 3, 4), -2), ((), 0)], ids=str)
def test_single_dim_keepdim(name, shape, dim):
    check_op(*fn(name, dim=dim, keepdim=True), [shape], low=0.5 if name == "prod" else -2.0)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("shape", [(3, 4), (), (5,)], ids=str)
def test_whole_tensor(name, shape):
    check_op(*fn(name), [shape], low=0.5 if name == "prod" else -2.0)


@pytest.mark.parametrize("case", [
    ("sum", (0, 3), {}), ("sum", (0, 3), dict(dim=0)), ("mean", (0,), {}),
    ("mean", (0, 3), dict(dim=0)), ("mean", (0, 3), dict(dim=1)), ("prod", (0,), {}),
    ("prod", (0, 3), dict(dim=0)), ("prod", (2, 0), dict(dim=0)), ("var", (0, 3), dict(dim=1)),
    ("std", (2, 0), dict(dim=0)), ("amax", (0, 3), dict(dim=1)), ("norm", (0, 3), {}),
    ("norm", (0, 3), dict(dim=0)), ("logsumexp", (2, 0), dict(dim=1)),
    ("logsumexp", (0, 3), dict(dim=1)), ("cumsum", (0, 3), dict(dim=0)),
    ("cumprod", (2, 0), dict(dim=1)), ("softmax", (0, 3), dict(dim=1)),
    ("log_softmax", (2, 0), dict(dim=1)), ("max", (0, 3), dict(dim=1)),
    ("argmin", (0, 3), dict(dim=1)),
], ids=str)
def test_size_zero(case):
    name, shape, kw = case
    check_op(*fn(name, **kw), [shape])


@pytest.mark.parametrize("case", [
    ("max", (0,), {}), ("min", (2, 0), {}), ("max", (0, 3), dict(dim=0)),
    ("amax", (0, 3), {}), ("amin", (0,), {}), ("amax", (0, 3), dict(dim=0)),
    ("argmax", (0,), {}), ("argmin", (0, 3), dict(dim=0)),
    ("norm", (0,), dict(p=INF)), ("norm", (0, 3), dict(p=-INF, dim=0)),
], ids=str)
def test_empty_errors_match_torch(case):
    name, shape, kw = case
    with pytest.raises(Exception) as want:
        getattr(torch, name)(torch.zeros(shape), **kw)
    with pytest.raises(want.type):
        getattr(ag, name)(ag.zeros(shape), **kw)


# -- variants: methods, correction, p, dtype -------------------------------------------------
@pytest.mark.parametrize("ours,ref", [
    method("sum", 1), method("mean", (0, 1), keepdim=True), method("prod", 0),
    method("max", 1), method("min"), method("amax", -1), method("amin", (0, 1)),
    method("argmax", 0, True), method("argmin"), method("var", 1), method("std"),
    method("norm", 3, 1), method("cumsum", -1), method("cumprod", 0), method("softmax", 0),
    method("log_softmax", -1), method("logsumexp", 1, True),
])
def test_tensor_methods(ours, ref):
    check_op(ours, ref, [(3, 4)], low=0.5)


@pytest.mark.parametrize("kw", [
    dict(correction=0), dict(correction=2, dim=1), dict(correction=0.5, dim=(0,)),
    dict(unbiased=False), dict(dim=0, unbiased=True, keepdim=True), dict(correction=5, dim=0),
    dict(correction=1, dim=0),
], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_correction(name, kw):
    shape = (1, 4) if kw.get("correction") == 1 else (3, 4)     # 1 element: nan, as PyTorch
    check_op(*fn(name, **kw), [shape], gradcheck=not shape[0] == 1 and kw.get("correction") != 5)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_without_dim_and_too_few_elements(name):
    # N <= correction over everything: PyTorch's gradient is nan where x == mean, else inf
    check_op(*fn(name, correction=3), [(2,)], gradcheck=False)
    check_op(*fn(name), None, make_inputs=values([1.5, 1.5]), gradcheck=False)


def test_var_legacy_positional_unbiased():
    check_op(lambda x: ag.var(x, False), lambda x: torch.var(x, False), [(3, 4)])
    check_op(lambda x: ag.std(x, 1, False, True), lambda x: torch.std(x, 1, False, True),
             [(3, 4)])


def test_std_of_constant_has_zero_gradient():
    check_op(*fn("std", dim=1), None, make_inputs=values([[1, 1, 1], [1, 2, 3]]),
             gradcheck=False)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 1.5, 2.5, INF, -INF, 0, "fro", -1])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)], ids=str)
def test_norm_p(p, dim):
    kw = dict(p=p, dim=dim)
    check_op(*fn("norm", **kw), [(3, 4)], low=0.3, high=2, gradcheck=p != 0)
    check_op(*fn("norm", **kw), [(3, 4)], low=-2, high=-0.3, gradcheck=p != 0)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 1.5, INF, -INF, "fro"])
def test_norm_at_zero_vector_has_zero_gradient(p):
    check_op(*fn("norm", p=p, dim=1), None, gradcheck=False,
             make_inputs=values([[0, 0, 0], [1, -2, 0.5]]))
    check_op(*fn("norm", p=p), None, make_inputs=values([0, 0]), gradcheck=False)


def test_norm_keepdim_and_0d():
    check_op(*fn("norm", dim=(0, 2), keepdim=True), [(2, 3, 4)])
    check_op(*fn("norm", p=1, dim=0), [()])


def test_norm_fro_rejects_three_dims_and_int_input():
    with pytest.raises(RuntimeError, match=r"norm"):
        ag.norm(ag.ones(2, 3, 4), p="fro", dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match=r"norm.*int64"):
        ag.norm(ag.tensor([1, 2]))


@pytest.mark.parametrize("name,kw", [("softmax", dict(dim=1)), ("log_softmax", dict(dim=0))])
def test_softmax_dtype_kwarg(name, kw):
    check_op(functools.partial(getattr(ag, name), dtype=ag.float64, **kw),
             functools.partial(getattr(torch, name), dtype=torch.float64, **kw), [(3, 4)],
             dtypes=(np.float32,))


def test_softmax_of_integers_needs_dtype():
    with pytest.raises(RuntimeError, match=r"softmax.*int64"):
        ag.softmax(ag.tensor([1, 2]), 0)
    ours = ag.softmax(ag.tensor([1, 2]), 0, dtype=ag.float32)
    np.testing.assert_allclose(ours.data, torch.softmax(torch.tensor([1, 2]), 0,
                                                        dtype=torch.float32).numpy(),
                               rtol=1e-6)


# -- ties: max(x) and amax split the gradient evenly, max(x, dim) gives it to the index ------
@pytest.mark.parametrize("ours,ref", [
    fn("max"), fn("min"), fn("amax"), fn("amin", dim=1), fn("amax", dim=(0, 2), keepdim=True),
    fn("max", dim=1), fn("min", dim=0, keepdim=True), fn("argmax", dim=2), fn("argmin"),
    fn("norm", p=INF, dim=1), fn("norm", p=-INF), fn("logsumexp", dim=1),
    fn("softmax", dim=0),
])
def test_ties(ours, ref):
    check_op(ours, ref, None, make_inputs=ties((2, 3, 4)), gradcheck=False)


# -- zeros in prod / cumprod -----------------------------------------------------------------
ZEROS = [
    [[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 3.0, 1.0], [0.0, 0.0, 2.0, 1.0]],    # one, none, two
    [[0.0, 0.0, 0.0, 2.0], [2.0, -1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]],
]


@pytest.mark.parametrize("arr", ZEROS, ids=["a", "b"])
@pytest.mark.parametrize("ours,ref", [
    fn("prod"), fn("prod", dim=1), fn("prod", dim=0, keepdim=True), fn("cumprod", dim=1),
    fn("cumprod", dim=0), fn("cumprod", dim=-1),
], ids=["prod", "prod1", "prod0k", "cumprod1", "cumprod0", "cumprod-1"])
def test_zeros(arr, ours, ref):
    check_op(ours, ref, None, make_inputs=values(arr))


def test_integer_sums_accumulate_in_int64():
    for name, kw in [("sum", {}), ("prod", {}), ("cumsum", dict(dim=0)),
                     ("cumprod", dict(dim=0)), ("sum", dict(dim=1))]:
        for dt in ("int32", "int8", "bool", "uint8"):
            x = np.ones((2, 3), dt)
            want = getattr(torch, name)(torch.tensor(x), **kw).numpy()
            got = getattr(ag, name)(ag.tensor(x), **kw)
            assert got.dtype == want.dtype, (name, dt)
            np.testing.assert_array_equal(got.data, want)


def test_max_min_of_integers_and_bools_keep_dtype():
    for dt in ("int32", "bool", "int64"):
        x = np.array([[1, 0, 1], [0, 0, 1]], dt)
        for name, kw in [("max", {}), ("amin", dict(dim=0)), ("argmax", dict(dim=1))][
                :2 if dt == "bool" else 3]:         # PyTorch has no argmax of bools
            want = getattr(torch, name)(torch.tensor(x), **kw).numpy()
            got = getattr(ag, name)(ag.tensor(x), **kw)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got.data, want)


def test_mean_var_of_integers_are_errors():
    for f in (ag.mean, ag.var, ag.std):
        with pytest.raises(RuntimeError, match=r"int64"):
            f(ag.tensor([1, 2, 3]))
    check_op(lambda x: ag.mean(x.to(ag.int64), dtype=ag.float64),
             lambda x: torch.mean(x.to(torch.int64), dtype=torch.float64), [(3,)], low=0, high=9,
             grad=False)


def test_logsumexp_of_integers_gives_float32():
    got = ag.logsumexp(ag.tensor([1, 2, 3]), 0)
    want = torch.logsumexp(torch.tensor([1, 2, 3]), 0)
    assert got.dtype == want.numpy().dtype
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6)


def test_max_binary_form_delegates_to_maximum():
    if not hasattr(ag, "maximum"):
        pytest.skip("unary.maximum not written yet")
    check_op(lambda a, b: ag.max(a, b), lambda a, b: torch.max(a, b), [(3, 4), (4,)])
    check_op(lambda a, b: a.min(b), lambda a, b: a.min(b), [(3, 4), (3, 1)])


def test_max_with_dim_returns_named_tuple():
    x = ag.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    out = ag.max(x, dim=1)
    assert out.values.tolist() == [5.0, 7.0] and out.indices.tolist() == [1, 0]
    values_, indices = ag.min(x, 0, keepdim=True)
    assert values_.shape == (1, 3) and indices.dtype == np.int64
    assert type(out).__name__ == "max"


# -- large logits ----------------------------------------------------------------------------
LOGITS = [[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4, -1e4 + 2.0, -1e4 + 1.0],
          [3.0, 1e4, -1e4, 2.0]]


@pytest.mark.parametrize("ours,ref", [
    fn("softmax", dim=1), fn("log_softmax", dim=1), fn("softmax", dim=0),
    fn("log_softmax", dim=0), fn("logsumexp", dim=1), fn("logsumexp", dim=(0, 1)),
    fn("logsumexp", dim=0, keepdim=True),
], ids=str)
def test_large_logits_are_finite_and_exact(ours, ref):
    check_op(ours, ref, None, make_inputs=values(LOGITS))
    x = ag.tensor(LOGITS, requires_grad=True)
    y = ours(x)
    (g,) = ag.grad(y, x, ag.ones(*y.shape))
    assert np.isfinite(y.data).all() and np.isfinite(g.data).all()


def test_all_minus_inf_rows_match_torch():
    check_op(*fn("logsumexp", dim=1), None, make_inputs=values([[-INF, -INF], [0.0, -INF]]),
             grad=False)
    check_op(*fn("softmax", dim=1), None, make_inputs=values([[0.0, -INF], [1.0, 2.0]]),
             gradcheck=False)


# -- second derivatives ----------------------------------------------------------------------
def _recording(f):
    """f with recording forced on: gradgradcheck evaluates its finite differences under
    no_grad, where the first-order gradient it differentiates would not be recorded."""
    def call(*args):
        with ag.enable_grad():
            return f(*args)
    return call


GRADGRAD = [
    (functools.partial(ag.softmax, dim=1), (3, 4)),
    (functools.partial(ag.log_softmax, dim=0), (3, 4)),
    (functools.partial(ag.logsumexp, dim=(0, 1)), (3, 4)),
    (functools.partial(ag.logsumexp, dim=1, keepdim=True), (3, 4)),
    (functools.partial(ag.var, dim=1), (3, 4)),
    (functools.partial(ag.std, dim=0, correction=0), (3, 4)),
    (ag.mean, (3, 4)),
    (functools.partial(ag.norm, dim=1), (3, 4)),
    (functools.partial(ag.norm, p=3), (3, 4)),
    (functools.partial(ag.norm, p=1.5, dim=0), (3, 4)),
    (functools.partial(ag.norm, p=INF, dim=1), (3, 4)),
    (ag.prod, (2, 3)),
    (functools.partial(ag.prod, dim=1), (3, 4)),
    (functools.partial(ag.cumprod, dim=1), (3, 4)),
    (functools.partial(ag.cumsum, dim=0), (3, 4)),
    (functools.partial(ag.amax, dim=1), (3, 4)),
]


@pytest.mark.parametrize("f,shape", GRADGRAD, ids=str)
def test_gradgradcheck(f, shape):
    x = _x(0, shape, ag.float64)
    assert gradgradcheck(_recording(f), (x,))


def test_max_dim_values_second_derivative():
    x = _x(1, (3, 4), ag.float64)
    assert gradgradcheck(_recording(_max_values_times_sum), (x,))


def _max_values_times_sum(t):
    return ag.max(t, 1).values * t.sum()


@pytest.mark.parametrize("f", [ag.prod, functools.partial(ag.prod, dim=1),
                               functools.partial(ag.cumprod, dim=1),
                               functools.partial(ag.cumprod, dim=0)], ids=str)
@pytest.mark.parametrize("arr", ZEROS, ids=["a", "b"])
def test_gradgradcheck_with_zeros(f, arr):
    """The second derivative of a product is not zero where the input is: exact paths."""
    x = ag.tensor(arr, dtype=ag.float64, requires_grad=True)
    assert gradgradcheck(_recording(f), (x,))


def test_hessian_of_prod_with_zeros_matches_torch():
    arr = np.array([0.0, 0.0, 2.0, 3.0])
    x = ag.tensor(arr, requires_grad=True)
    (g,) = ag.grad(ag.prod(x), x, create_graph=True)
    rows = [ag.grad((g * ag.tensor(np.eye(4)[i])).sum(), x, retain_graph=True)[0].data
            for i in range(4)]
    want = torch.autograd.functional.hessian(torch.prod, torch.tensor(arr))
    np.testing.assert_allclose(np.stack(rows), want.numpy())


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    functools.partial(ag.sum, dim=2), functools.partial(ag.mean, dim=(0, -3)),
    functools.partial(ag.amax, dim=5), functools.partial(ag.var, dim=-4),
    functools.partial(ag.norm, dim=2), functools.partial(ag.logsumexp, dim=3),
    functools.partial(ag.prod, dim=2), functools.partial(ag.max, dim=-3),
    functools.partial(ag.argmin, dim=2), functools.partial(ag.cumsum, dim=2),
    functools.partial(ag.cumprod, dim=-3), functools.partial(ag.softmax, dim=2),
    functools.partial(ag.log_softmax, dim=9),
], ids=lambda f: f.func.__name__)
def test_dim_out_of_range_names_op_and_shape(call):
    name = call.func.__name__
    with pytest.raises(IndexError, match=rf"{name}.*out of range.*\(2, 3\)"):
        call(ag.ones(2, 3))


def test_repeated_dim_is_an_error():
    with pytest.raises(RuntimeError, match=r"sum.*multiple"):
        ag.sum(ag.ones(2, 3), dim=(0, -2))


def test_float32_stays_float32_in_gradients():
    for f in [ag.mean, ag.var, ag.std, functools.partial(ag.norm, p=3),
              functools.partial(ag.softmax, dim=0), functools.partial(ag.logsumexp, dim=0)]:
        x = ag.randn(3, 4, requires_grad=True)
        y = f(x)
        (g,) = ag.grad(y.sum() if y.ndim else y, x)
        assert y.dtype == ag.float32 and g.dtype == ag.float32


def test_inplace_cumsum():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    x.cumsum_(1)
    assert x.tolist() == [[1.0, 3.0], [3.0, 7.0]]
