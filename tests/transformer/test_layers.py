"""Transformer layers and stacks against PyTorch after copying weights (outputs, input and
parameter gradients, float32 and float64, norm_first both ways, relu / gelu / callable
activations, masks), positional encodings and additive attention."""
import math

import numpy as np
import pytest
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import check_module
from tests.transformer._util import bool_mask, pair, tensor

E, H, FF, N, S, T = 8, 2, 16, 3, 6, 5


def _activation(name):
    """An activation by name, for each library: the strings, a lambda, a module."""
    def make(lib):
        if name == "lambda":
            return lambda x: x.tanh() * 1.5
        if name == "module":
            return lib.SiLU()
        return name
    return make


ACTIVATIONS = ["relu", "gelu", "lambda", "module"]


def _encoder_layer(norm_first, activation, batch_first=False):
    return lambda lib: lib.TransformerEncoderLayer(E, H, FF, dropout=0.0,
                                                   activation=_activation(activation)(lib),
                                                   batch_first=batch_first,
                                                   norm_first=norm_first)


def _decoder_layer(norm_first, activation, batch_first=False):
    return lambda lib: lib.TransformerDecoderLayer(E, H, FF, dropout=0.0,
                                                   activation=_activation(activation)(lib),
                                                   batch_first=batch_first,
                                                   norm_first=norm_first)


def _masks(seed=0):
    rng = np.random.default_rng(seed)
    return dict(src_mask=bool_mask(rng, (S, S)), src_kpm=bool_mask(rng, (N, S)),
                tgt_mask=np.triu(np.ones((T, T), bool), 1), tgt_kpm=bool_mask(rng, (N, T)),
                memory_mask=bool_mask(rng, (T, S)), memory_kpm=bool_mask(rng, (N, S)))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_encoder_layer(norm_first, activation):
    masks = _masks()

    def call(m, x, lib):
        return m(x, src_mask=tensor(lib, masks["src_mask"]),
                 src_key_padding_mask=tensor(lib, masks["src_kpm"]))
    check_module(*pair(_encoder_layer(norm_first, activation), call), [(S, N, E)],
                 modes=("train", "eval"))


@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_batch_first_and_defaults(batch_first):
    shape = (N, S, E) if batch_first else (S, N, E)
    make = lambda lib: lib.TransformerEncoderLayer(E, H, batch_first=batch_first,  # noqa: E731
                                                   dropout=0.0)
    check_module(*pair(make, lambda m, x, lib: m(x)), [shape])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_decoder_layer(norm_first, activation):
    masks = _masks(1)

    def call(m, tgt, memory, lib):
        return m(tgt, memory, tgt_mask=tensor(lib, masks["tgt_mask"]),
                 memory_mask=tensor(lib, masks["memory_mask"]),
                 tgt_key_padding_mask=tensor(lib, masks["tgt_kpm"]),
                 memory_key_padding_mask=tensor(lib, masks["memory_kpm"]),
                 tgt_is_causal=True)
    check_module(*pair(_decoder_layer(norm_first, activation), call), [(T, N, E), (S, N, E)])


@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_batch_first(batch_first):
    shapes = [(N, T, E), (N, S, E)] if batch_first else [(T, N, E), (S, N, E)]
    check_module(*pair(_decoder_layer(False, "relu", batch_first),
                       lambda m, tgt, mem, lib: m(tgt, mem)), shapes)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_with_final_norm(norm_first):
    masks = _masks(2)

    def make(lib):
        kw = {} if lib is nn else dict(enable_nested_tensor=False)
        return lib.TransformerEncoder(_encoder_layer(norm_first, "gelu", True)(lib), 2,
                                      norm=lib.LayerNorm(E), **kw)

    def call(m, x, lib):
        return m(x, mask=tensor(lib, masks["src_mask"]),
                 src_key_padding_mask=tensor(lib, masks["src_kpm"]))
    check_module(*pair(make, call), [(N, S, E)])


def test_decoder_stack():
    masks = _masks(3)

    def make(lib):
        return lib.TransformerDecoder(_decoder_layer(True, "relu")(lib), 2, norm=lib.LayerNorm(E))

    def call(m, tgt, memory, lib):
        return m(tgt, memory, tgt_mask=tensor(lib, masks["tgt_mask"]),
                 memory_key_padding_mask=tensor(lib, masks["memory_kpm"]))
    check_module(*pair(make, call), [(T, N, E), (S, N, E)])


NESTED_WARNING = "ignore:enable_nested_tensor is True"


@pytest.mark.filterwarnings(NESTED_WARNING)
@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer(batch_first, norm_first):
    masks = _masks(4)

    def make(lib):
        return lib.Transformer(E, H, 2, 2, FF, dropout=0.0, batch_first=batch_first,
                               norm_first=norm_first)

    def call(m, src, tgt, lib):
        causal = m.generate_square_subsequent_mask(T, dtype=src.dtype)
        return m(src, tgt, src_mask=tensor(lib, masks["src_mask"]), tgt_mask=causal,
                 src_key_padding_mask=tensor(lib, masks["src_kpm"]),
                 memory_key_padding_mask=tensor(lib, masks["src_kpm"]), tgt_is_causal=True)
    shapes = [(N, S, E), (N, T, E)] if batch_first else [(S, N, E), (T, N, E)]
    check_module(*pair(make, call), shapes)


@pytest.mark.filterwarnings(NESTED_WARNING)
def test_transformer_structure_and_init():
    m = nn.Transformer(E, H, 2, 1, FF)
    t = torch.nn.Transformer(E, H, 2, 1, FF)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    w = m.encoder.layers[0].linear1.weight.data                 # xavier uniform (FF, E)
    assert np.abs(w).max() <= math.sqrt(6.0 / (E + FF))
    assert m.encoder.layers[0].self_attn is not m.encoder.layers[1].self_attn
    assert repr(m.encoder.layers[0]) == repr(t.encoder.layers[0])


def test_generate_square_subsequent_mask():
    got = nn.Transformer.generate_square_subsequent_mask(4)
    want = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.data, want.numpy())
    assert nn.generate_square_subsequent_mask(3, dtype=ag.float64).dtype == np.float64


def test_bad_inputs():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(E, H, activation="tanh")
    m = nn.Transformer(E, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch size"):
        m(ag.randn(S, 2, E), ag.randn(T, 3, E))
    with pytest.raises(RuntimeError, match="d_model"):
        m(ag.randn(S, N, E + 1), ag.randn(T, N, E))


# -- positional encodings ---------------------------------------------------------------------
def test_sinusoidal_positional_encoding_is_vaswani_table():
    d, length = 6, 7
    pe = nn.SinusoidalPositionalEncoding(d, max_len=50)
    x = ag.zeros(length, 2, d)
    y = pe(x).data
    for p in range(length):
        for i in range(d // 2):
            angle = p / 10000 ** (2 * i / d)
            np.testing.assert_allclose(y[p, :, 2 * i], math.sin(angle), atol=1e-6)
            np.testing.assert_allclose(y[p, :, 2 * i + 1], math.cos(angle), atol=1e-6)
    assert "pe" not in pe.state_dict()
    bf = nn.SinusoidalPositionalEncoding(d, max_len=50, batch_first=True)
    np.testing.assert_allclose(bf(ag.zeros(2, length, d)).data[1], y[:, 0])
    np.testing.assert_allclose(pe(ag.zeros(3, 2, d), offset=4).data, y[4:7])
    with pytest.raises(RuntimeError, match="max_len"):
        pe(ag.zeros(51, 1, d))
    odd = nn.SinusoidalPositionalEncoding(5, max_len=4)(ag.zeros(4, 5))
    assert odd.shape == (4, 5)


def test_learned_positional_embedding():
    ag.manual_seed(0)
    pe = nn.LearnedPositionalEmbedding(10, 4, batch_first=True)
    x = ag.randn(2, 3, 4, requires_grad=True)
    y = pe(x)
    np.testing.assert_allclose(y.data - x.data, np.broadcast_to(pe.embedding.weight.data[:3],
                                                               (2, 3, 4)), atol=1e-6)
    y.sum().backward()
    g = pe.embedding.weight.grad.data
    np.testing.assert_allclose(g[:3], 2.0)
    np.testing.assert_allclose(g[3:], 0.0)
    assert abs(pe.embedding.weight.data.std() - 0.02) < 0.01
    with pytest.raises(RuntimeError, match="max_len"):
        pe(ag.zeros(1, 11, 4))


# -- additive attention -----------------------------------------------------------------------
class TorchAdditive(torch.nn.Module):
    """Bahdanau attention written directly in PyTorch (the reference)."""

    def __init__(self, dq, dk, h, bias):
        super().__init__()
        self.query_proj = torch.nn.Linear(dq, h, bias=bias)
        self.key_proj = torch.nn.Linear(dk, h, bias=bias)
        self.score_proj = torch.nn.Linear(h, 1, bias=bias)

    def forward(self, query, keys, values, pad=None):
        single = query.dim() == 2
        q = self.query_proj(query.unsqueeze(1) if single else query)
        e = self.score_proj(torch.tanh(q.unsqueeze(2) + self.key_proj(keys).unsqueeze(1)))
        e = e.squeeze(-1)
        if pad is not None:
            e = e.masked_fill(pad[:, None, :], float("-inf"))
        a = torch.softmax(e, -1)
        c = a @ values
        return (c.squeeze(1), a.squeeze(1)) if single else (c, a)


@pytest.mark.parametrize("query_shape", [(N, 4), (N, T, 4)], ids=["step", "sequence"])
@pytest.mark.parametrize("bias", [False, True])
def test_additive_attention(query_shape, bias):
    pad = bool_mask(np.random.default_rng(5), (N, S))

    def ours():
        m = nn.AdditiveAttention(4, 3, 7, bias=bias)
        return _Bound(m, pad)

    def theirs():
        return _TorchBound(TorchAdditive(4, 3, 7, bias), pad)
    check_module(ours, theirs, [query_shape, (N, S, 3), (N, S, 2)])


class _Bound(nn.Module):
    def __init__(self, m, pad):
        super().__init__()
        self.inner, self.pad = m, pad

    def forward(self, q, k, v):
        return self.inner(q, k, v, key_padding_mask=ag.tensor(self.pad))


class _TorchBound(torch.nn.Module):
    def __init__(self, m, pad):
        super().__init__()
        self.inner, self.pad = m, pad

    def forward(self, q, k, v):
        return self.inner(q, k, v, torch.tensor(self.pad))


def test_additive_attention_fully_padded_row_and_projected_keys():
    m = nn.AdditiveAttention(4, 3, 5)
    q = ag.randn(2, 4, requires_grad=True)
    k = ag.randn(2, 6, 3, requires_grad=True)
    pad = np.zeros((2, 6), bool)
    pad[1] = True
    c, a = m(q, k, key_padding_mask=ag.tensor(pad))
    (c.sum() + a.sum()).backward()
    assert np.all(a.data[1] == 0) and np.all(c.data[1] == 0)
    assert np.isfinite(q.grad.data).all() and np.isfinite(k.grad.data).all()
    np.testing.assert_allclose(a.data[0].sum(), 1.0, rtol=1e-6)
    c2, a2 = m(q, k, key_padding_mask=ag.tensor(pad), projected_keys=m.project_keys(k))
    np.testing.assert_allclose(c2.data, c.data)
    with pytest.raises(RuntimeError, match="AdditiveAttention"):
        m(ag.randn(3, 4), k)


@pytest.mark.parametrize("call,match", [
    (lambda: nn.TransformerEncoderLayer(8, 2)(ag.randn(4, 3, 6)),
     r"TransformerEncoderLayer: src of shape \(4, 3, 6\).*d_model = 8"),
    (lambda: nn.TransformerDecoderLayer(8, 2)(ag.randn(4, 3, 8), ag.randn(5, 3, 7)),
     r"TransformerDecoderLayer: memory of shape \(5, 3, 7\)"),
    (lambda: nn.TransformerDecoderLayer(8, 2)(ag.randn(4, 3, 5), ag.randn(5, 3, 8)),
     r"TransformerDecoderLayer: tgt of shape \(4, 3, 5\)"),
])
def test_layers_name_themselves_in_width_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
