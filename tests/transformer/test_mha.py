"""nn.MultiheadAttention against torch.nn.MultiheadAttention after copying weights: outputs,
attention weights, gradients of the inputs and of every parameter, float32 and float64."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import check_module
from tests.transformer._util import bool_mask, float_mask, pair, tensor

E, H, N, L, S = 8, 2, 3, 5, 6


def _mha(**kw):
    return lambda lib: lib.MultiheadAttention(E, H, **kw)


def _self_call(need_weights=True, average=True, kpm=None, am=None):
    """Self-attention: one tensor as query, key and value (the packed projection)."""
    def call(m, x, lib):
        return m(x, x, x, need_weights=need_weights, average_attn_weights=average,
                 key_padding_mask=None if kpm is None else tensor(lib, kpm),
                 attn_mask=None if am is None else tensor(lib, am))
    return call


def _cross_call(need_weights=True, average=True, kpm=None, am=None, kv_same=False):
    def call(m, q, k, v=None, lib=None):
        k_in = k
        v_in = k if kv_same else v
        return m(q, k_in, v_in, need_weights=need_weights, average_attn_weights=average,
                 key_padding_mask=None if kpm is None else tensor(lib, kpm),
                 attn_mask=None if am is None else tensor(lib, am))
    return call


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_self_attention(batch_first, need_weights, average):
    shape = (N, L, E) if batch_first else (L, N, E)
    ours, theirs = pair(_mha(batch_first=batch_first), _self_call(need_weights, average))
    check_module(ours, theirs, [shape],
                 output=None if need_weights else (lambda out: out[0]))


@pytest.mark.parametrize("batch_first", [False, True])
def test_cross_attention(batch_first):
    shapes = [(N, L, E), (N, S, E), (N, S, E)] if batch_first else \
        [(L, N, E), (S, N, E), (S, N, E)]
    check_module(*pair(_mha(batch_first=batch_first), _cross_call()), shapes)


def test_cross_attention_key_is_value():
    check_module(*pair(_mha(), _cross_call(kv_same=True)), [(L, N, E), (S, N, E)])


@pytest.mark.parametrize("batch_first", [False, True])
def test_kdim_vdim_differ(batch_first):
    shapes = [(N, L, E), (N, S, 3), (N, S, 5)] if batch_first else \
        [(L, N, E), (S, N, 3), (S, N, 5)]
    check_module(*pair(_mha(kdim=3, vdim=5, batch_first=batch_first), _cross_call()), shapes)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("which", ["key_padding", "attn_2d", "attn_3d", "both"])
def test_masks(kind, which):
    rng = np.random.default_rng(7)
    kpm = bool_mask(rng, (N, S)) if which in ("key_padding", "both") else None
    am = None
    if which in ("attn_2d", "both"):
        am = bool_mask(rng, (L, S))
    elif which == "attn_3d":
        am = bool_mask(rng, (N * H, L, S))
    for dtype in (np.float32, np.float64):
        k = None if kpm is None or kind == "bool" else float_mask(kpm, dtype)
        a = None if am is None or kind == "bool" else float_mask(am, dtype, rng)
        if kind == "bool":
            k, a = kpm, am
        check_module(*pair(_mha(), _cross_call(kpm=k, am=a)), [(L, N, E), (S, N, E), (S, N, E)],
                     dtypes=(dtype,))


@pytest.mark.parametrize("kw", [dict(add_bias_kv=True), dict(add_zero_attn=True),
                                dict(add_bias_kv=True, add_zero_attn=True), dict(bias=False)],
                         ids=["bias_kv", "zero_attn", "bias_kv+zero_attn", "no_bias"])
def test_options(kw):
    rng = np.random.default_rng(8)
    kpm, am = bool_mask(rng, (N, S)), bool_mask(rng, (L, S))
    check_module(*pair(_mha(**kw), _cross_call(kpm=kpm, am=am)), [(L, N, E), (S, N, E),
                                                                  (S, N, E)])


def test_unbatched_input():
    rng = np.random.default_rng(9)
    check_module(*pair(_mha(), _cross_call(kpm=bool_mask(rng, (S,)))), [(L, E), (S, E), (S, E)])
    check_module(*pair(_mha(batch_first=True), _self_call(average=False)), [(L, E)])


def test_is_causal_hint_with_its_mask():
    mask = np.triu(np.ones((L, L), bool), 1)

    def call(m, x, lib):
        return m(x, x, x, attn_mask=tensor(lib, mask), is_causal=True, need_weights=False)[0]
    check_module(*pair(_mha(), call), [(L, N, E)])
    with pytest.raises(RuntimeError, match="is_causal"):
        nn.MultiheadAttention(E, H)(ag.randn(L, N, E), ag.randn(L, N, E), ag.randn(L, N, E),
                                    is_causal=True)


def test_dropout_is_off_in_eval_mode():
    check_module(*pair(_mha(dropout=0.5), _cross_call()), [(L, N, E), (S, N, E), (S, N, E)],
                 modes=("eval",))


def test_dropout_in_training_changes_the_output():
    m = nn.MultiheadAttention(E, H, dropout=0.5)
    x = ag.randn(L, N, E)
    ag.manual_seed(1)
    a = m(x, x, x)[0].data
    ag.manual_seed(2)
    b = m(x, x, x)[0].data
    m.eval()
    c = m(x, x, x)[0].data
    assert not np.allclose(a, b) and not np.allclose(a, c)


def test_fully_masked_query_gives_zero_weights_and_no_nan():
    """PyTorch gives zeros with need_weights=False and NaN with need_weights=True; ours gives
    zero weights (output = out_proj.bias) either way."""
    kpm = np.zeros((N, S), bool)
    kpm[1] = True                                           # batch entry 1 sees no key
    ours, theirs = pair(_mha(), _cross_call(need_weights=False, kpm=kpm))
    check_module(ours, theirs, [(L, N, E), (S, N, E), (S, N, E)], output=lambda out: out[0])
    m = nn.MultiheadAttention(E, H)
    xs = [ag.randn(*s, requires_grad=True) for s in [(L, N, E), (S, N, E), (S, N, E)]]
    y, w = m(*xs, key_padding_mask=ag.tensor(kpm))
    (y.sum() + w.sum()).backward()
    assert np.isfinite(y.data).all() and np.all(w.data[1] == 0)
    np.testing.assert_allclose(y.data[:, 1], np.broadcast_to(m.out_proj.bias.data, (L, E)))
    assert all(np.isfinite(p.grad.data).all() for p in m.parameters())
    assert all(np.isfinite(x.grad.data).all() for x in xs)


def test_parameter_layout_and_init():
    m = nn.MultiheadAttention(E, H, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(E, H, add_bias_kv=True)
    assert list(m.state_dict()) == list(t.state_dict())
    assert m.in_proj_weight.shape == (3 * E, E) and m.q_proj_weight is None
    assert np.all(m.in_proj_bias.data == 0) and np.all(m.out_proj.bias.data == 0)
    bound = np.sqrt(6.0 / (E + 3 * E))                     # xavier uniform of (3E, E)
    assert np.abs(m.in_proj_weight.data).max() <= bound
    s = nn.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False)
    ts = torch.nn.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False)
    assert [(k, tuple(v.shape)) for k, v in s.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ts.state_dict().items()]
    assert repr(m) == repr(t)


@pytest.mark.parametrize("call,error", [
    (lambda m: m(ag.randn(L, N, 7), ag.randn(S, N, E), ag.randn(S, N, E)), "embed_dim"),
    (lambda m: m(ag.randn(L, N, E), ag.randn(S, N, 3), ag.randn(S, N, E)), "key"),
    (lambda m: m(ag.randn(L, N, E), ag.randn(S, N, E), ag.randn(S + 1, N, E)), "sequence"),
    (lambda m: m(ag.randn(L, N, E), ag.randn(S, 2, E), ag.randn(S, 2, E)), "batch"),
    (lambda m: m(ag.randn(L, N, E), ag.randn(S, N, E), ag.randn(S, N, E),
                 key_padding_mask=ag.zeros(N, S + 1, dtype=ag.bool)), "key_padding_mask"),
    (lambda m: m(ag.randn(L, N, E), ag.randn(S, N, E), ag.randn(S, N, E),
                 attn_mask=ag.zeros(L, L, dtype=ag.bool)), "attn_mask"),
    (lambda m: m(ag.randn(L, N, E), ag.randn(S, N, E), ag.randn(S, N, E),
                 attn_mask=ag.zeros(L, S, dtype=ag.int64)), "attn_mask"),
])
def test_bad_inputs_raise_clear_errors(call, error):
    with pytest.raises(RuntimeError, match=error):
        call(nn.MultiheadAttention(E, H))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 1)


def test_gradcheck_with_masks_and_options():
    rng = np.random.default_rng(10)
    ag.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True, add_zero_attn=True,
                              batch_first=True).to(ag.float64)
    kpm, am = ag.tensor(bool_mask(rng, (2, 4))), ag.tensor(bool_mask(rng, (3, 4)))
    xs = [ag.tensor(rng.standard_normal(s), requires_grad=True)
          for s in [(2, 3, 4), (2, 4, 3), (2, 4, 2)]]

    def f(q, k, v):
        out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
        return out, w
    ag.autograd.gradcheck(f, xs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padded", [False, True])
def test_functional_with_static_keys_and_values(dtype, padded):
    """F.multi_head_attention_forward with static_k / static_v: (N * H, S', E / H), S' other
    than key's length; a key_padding_mask is (N, S')."""
    import torch.nn.functional as TF

    import nn.functional as F
    rng = np.random.default_rng(11)
    arrays = dict(q=rng.standard_normal((L, N, E)), k=rng.standard_normal((S, N, E)),
                  w=rng.standard_normal((3 * E, E)) * 0.3, b=rng.standard_normal(3 * E) * 0.1,
                  wo=rng.standard_normal((E, E)) * 0.3, bo=rng.standard_normal(E) * 0.1,
                  sk=rng.standard_normal((N * H, S + 2, E // H)),
                  sv=rng.standard_normal((N * H, S + 2, E // H)))
    pad = rng.random((N, S + 2)) < 0.3
    pad[:, 0] = False
    ours = {k: ag.tensor(v.astype(dtype), requires_grad=True) for k, v in arrays.items()}
    theirs = {k: torch.tensor(v.astype(dtype), requires_grad=True) for k, v in arrays.items()}
    outs = []
    for lib_f, t in ((F, ours), (TF, theirs)):
        outs.append(lib_f.multi_head_attention_forward(
            t["q"], t["k"], t["k"], E, H, t["w"], t["b"], None, None, False, 0.0, t["wo"],
            t["bo"], static_k=t["sk"], static_v=t["sv"], average_attn_weights=False,
            key_padding_mask=((ag.tensor if t is ours else torch.tensor)(pad) if padded
                              else None)))
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    for o, t in zip(outs[0], outs[1]):
        np.testing.assert_allclose(o.data, t.detach().numpy(), **tol)
    g = rng.standard_normal((L, N, E)).astype(dtype)
    outs[0][0].backward(ag.tensor(g))
    outs[1][0].backward(torch.tensor(g))
    for name in ("q", "w", "b", "wo", "sk", "sv"):
        np.testing.assert_allclose(ours[name].grad.data, theirs[name].grad.numpy(), **tol,
                                   err_msg=name)
