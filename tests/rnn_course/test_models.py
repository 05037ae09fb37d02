"""The recursive net and the attention seq2seq: against PyTorch versions with the same
weights (values and every gradient), batching against the per-item form, and the data."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
from nn.models.recursive import (MINUS, NUM_TOKENS, PLUS, RecursiveNet, arithmetic_trees,
                                 evaluate, expression_string, expression_tree)
from nn.models.seq2seq import (EOS, PAD, SOS, Seq2Seq, reverse_digits_task,
                               sequence_accuracy)


def _torch_params(model):
    return {n: torch.tensor(p.data.copy(), requires_grad=True)
            for n, p in model.named_parameters()}


def _compare_grads(model, tparams, rtol, atol):
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)


# -- recursive net -------------------------------------------------------------------------
def _torch_encode(tree, p):
    if isinstance(tree, int):
        return p["embedding.weight"][tree]
    left, right = tree
    c = torch.cat([_torch_encode(left, p), _torch_encode(right, p)])
    return torch.tanh(TF.linear(c, p["compose.weight"], p["compose.bias"]))


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_recursive_net_matches_torch(dtype):
    ag.manual_seed(0)
    net = RecursiveNet(NUM_TOKENS, 6, 3, dtype=dtype)
    trees, _, _ = arithmetic_trees(7, 0, 4, seed=1)
    out = net(trees)
    tp = _torch_params(net)
    roots = torch.stack([_torch_encode(t, tp) for t in trees])
    t_out = TF.linear(roots, tp["head.weight"], tp["head.bias"])
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == ag.float64 else dict(rtol=2e-5, atol=2e-6)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), **tol)
    g = np.random.default_rng(2).standard_normal(out.shape).astype(out.dtype)
    out.backward(ag.tensor(g))
    t_out.backward(torch.tensor(g))
    _compare_grads(net, tp, **tol)


def _graph_size(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(e[0] for e in node.edges if e is not None and e[1] >= 0)
    return len(seen)


def test_recursion_equals_batch_and_the_graph_follows_the_tree():
    ag.manual_seed(1)
    net = RecursiveNet(NUM_TOKENS, 5, 2, dtype=ag.float64)
    trees = [3, (1, (PLUS, 2)), ((4, (MINUS, 5)), (PLUS, (6, (MINUS, 7))))]
    batch = net.encode_batch(trees)
    for k, tree in enumerate(trees):
        np.testing.assert_allclose(net.encode(tree).data, batch.data[k], rtol=1e-12)
    # the recorded graph of encode(tree) grows with the tree: a per-leaf plus a per-node cost
    sizes = [_graph_size(net.encode(t)) for t in trees]
    leaf, node = sizes[0], (sizes[1] - 3 * sizes[0]) / 2
    assert node > 0 and sizes[2] == 7 * leaf + 6 * node


def test_expressions():
    expr = ((3, MINUS, (4, PLUS, 1)), MINUS, 7)
    assert evaluate(expr) == -9
    assert expression_string(expr) == "(3 - (4 + 1)) - 7"
    assert expression_tree(expr) == ((3, (MINUS, (4, (PLUS, 1)))), (MINUS, 7))
    trees, values, exprs = arithmetic_trees(50, 1, 3, seed=0)
    assert values.dtype == np.int64 and len(trees) == 50
    assert [evaluate(e) for e in exprs] == values.tolist()
    again, values2, _ = arithmetic_trees(50, 1, 3, seed=0)
    assert again == trees and (values2 == values).all()


def test_recursive_net_bad_trees():
    net = RecursiveNet(NUM_TOKENS, 4, 2)
    with pytest.raises(TypeError, match=r"RecursiveNet: a leaf must be an int token in \[0, 12"):
        net([(1, 12)])
    with pytest.raises(TypeError, match="RecursiveNet: a node must be a pair"):
        net([(1, 2, 3)])
    with pytest.raises(TypeError, match="RecursiveNet: a leaf"):
        net.encode("7")
    with pytest.raises(TypeError, match="non-empty list"):
        net([])


# -- seq2seq -------------------------------------------------------------------------------
def test_reverse_digits_task():
    src, lengths, tgt = reverse_digits_task(40, 5, 10, seed=0)
    assert src.shape == (40, 10) and tgt.shape == (40, 11) and src.dtype == ag.int64
    for s, n, t in zip(src.data, lengths.data, tgt.data):
        assert 5 <= n <= 10 and (s[:n] >= 3).all() and (s[n:] == PAD).all()
        assert (t[:n] == s[:n][::-1]).all() and t[n] == EOS and (t[n + 1:] == PAD).all()
    with pytest.raises(ValueError, match="reverse_digits_task"):
        reverse_digits_task(4, 6, 5)


def _torch_seq2seq_loss(model, tp, src, lengths, tgt):
    """The same model in PyTorch (functional, with torch.nn.GRU for the packed encoder)."""
    hidden = model.encoder.rnn.hidden_size
    gru = torch.nn.GRU(model.encoder.rnn.input_size, hidden, batch_first=True,
                       bidirectional=True).double()
    cell = torch.nn.GRUCell(model.decoder.cell.input_size, model.decoder.cell.hidden_size)
    cell = cell.double()
    for prefix, module in (("encoder.rnn.", gru), ("decoder.cell.", cell)):
        module._parameters.update({n: tp[prefix + n] for n, _ in module.named_parameters()})
    src_t, tgt_t = torch.tensor(src.data), torch.tensor(tgt.data)
    emb = TF.embedding(src_t, tp["encoder.embedding.weight"], padding_idx=PAD)
    packed = torch.nn.utils.rnn.pack_padded_sequence(emb, torch.tensor(lengths.data),
                                                     batch_first=True, enforce_sorted=False)
    out, h_n = gru(packed)
    keys, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                     total_length=src.shape[1])
    s = torch.tanh(TF.linear(torch.cat([h_n[0], h_n[1]], -1), tp["encoder.bridge.weight"],
                             tp["encoder.bridge.bias"]))
    mask = torch.arange(src.shape[1])[None, :] >= torch.tensor(lengths.data)[:, None]
    pk = TF.linear(keys, tp["decoder.attention.key_proj.weight"])
    y, logits = torch.full((src.shape[0],), SOS), []
    for i in range(tgt.shape[1]):
        if i:
            y = tgt_t[:, i - 1]
        e = TF.embedding(y, tp["decoder.embedding.weight"])
        q = TF.linear(s, tp["decoder.attention.query_proj.weight"])
        scores = TF.linear(torch.tanh(q[:, None] + pk),
                           tp["decoder.attention.score_proj.weight"]).squeeze(-1)
        a = torch.softmax(scores.masked_fill(mask, float("-inf")), -1)
        context = torch.bmm(a[:, None], keys)[:, 0]
        s = cell(torch.cat([e, context], -1), s)
        logits.append(TF.linear(torch.cat([s, context, e], -1), tp["decoder.out.weight"],
                                tp["decoder.out.bias"]))
    logits = torch.stack(logits, 1)
    return TF.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_t.reshape(-1),
                            ignore_index=PAD)


def test_seq2seq_loss_and_gradients_match_torch():
    ag.manual_seed(0)
    model = Seq2Seq(embed_dim=5, hidden_size=4, decoder_size=6, attention_size=3,
                    dtype=ag.float64)
    src, lengths, tgt = reverse_digits_task(6, 2, 5, seed=3)
    loss = model.loss(src, lengths, tgt)
    tp = _torch_params(model)
    t_loss = _torch_seq2seq_loss(model, tp, src, lengths, tgt)
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-12)
    loss.backward()
    t_loss.backward()
    _compare_grads(model, tp, rtol=1e-9, atol=1e-12)


def test_encoder_padding_does_not_leak():
    ag.manual_seed(1)
    model = Seq2Seq(hidden_size=8, decoder_size=8, dtype=ag.float64)
    src, lengths, _ = reverse_digits_task(5, 2, 6, seed=4)
    keys, mask, s0 = model.encoder(src, lengths)
    assert (mask.data == (np.arange(6)[None] >= lengths.data[:, None])).all()
    for b, n in enumerate(lengths.data):
        alone_keys, _, alone_s0 = model.encoder(src[b:b + 1, :n], lengths[b:b + 1])
        np.testing.assert_allclose(keys.data[b, :n], alone_keys.data[0], rtol=1e-12)
        assert not keys.data[b, n:].any()
        np.testing.assert_allclose(s0.data[b], alone_s0.data[0], rtol=1e-12)


def test_greedy_decoding_feeds_back_its_own_argmax():
    ag.manual_seed(2)
    model = Seq2Seq()
    src, lengths, tgt = reverse_digits_task(8, seed=5)
    with ag.no_grad():
        free = model(src, lengths, tgt, teacher_forcing=0.0).data.argmax(-1)
    pred, attention = model.greedy_decode(src, lengths, tgt.shape[1])
    assert pred.shape == tgt.shape and attention.shape == (8, 11, 10)
    for row_free, row in zip(free, pred.data):
        end = np.flatnonzero(row_free == EOS)
        stop = end[0] + 1 if end.size else len(row)
        assert (row[:stop] == row_free[:stop]).all() and (row[stop:] == PAD).all()
    np.testing.assert_allclose(attention.data.sum(-1), 1.0, rtol=1e-5)
    pad = np.arange(10)[None, None, :] >= lengths.data[:, None, None]      # (8, 1, 10)
    assert not attention.data[np.broadcast_to(pad, attention.shape)].any()


def test_sequence_accuracy():
    tgt = np.array([[5, 4, EOS, PAD], [3, EOS, PAD, PAD]])
    assert sequence_accuracy(tgt, tgt) == 1.0
    assert sequence_accuracy(np.array([[5, 4, EOS], [3, 3, EOS]]), tgt) == 0.5
    assert sequence_accuracy(np.array([[5, 4, 7, EOS], [3, EOS, PAD, PAD]]), tgt) == 0.5


def test_scheduled_teacher_forcing_and_bad_inputs():
    ag.manual_seed(3)
    model = Seq2Seq(hidden_size=8, decoder_size=8)
    src, lengths, tgt = reverse_digits_task(6, seed=6)
    full = model.loss(src, lengths, tgt).item()
    with ag.no_grad():
        free = model(src, lengths, tgt, teacher_forcing=0.0)
    ag.manual_seed(4)
    mixed = model.loss(src, lengths, tgt, teacher_forcing=0.5)
    mixed.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert mixed.dtype == ag.float32 and free.dtype == ag.float32 and np.isfinite(full)
    with pytest.raises(RuntimeError, match=r"Seq2Seq: expected integer tgt \(N, T\)"):
        model(src, lengths, tgt[:2])
    with pytest.raises(RuntimeError, match="Seq2SeqEncoder: expected src"):
        model(src, lengths[:2], tgt)
