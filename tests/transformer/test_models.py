"""nn.models.gpt and nn.models.bert: structure, weight tying, generation, masking, and
learning on tiny Shakespeare (skipped when the data is absent)."""
import math
import os

import numpy as np
import pytest
import torch

import autograd as ag
import optim
from nn.models.bert import (BERT, CLS, MASK, NUM_SPECIAL, SEP, make_pretraining_batch,
                            mask_tokens, pretraining_loss)
from nn.models.gpt import GPT

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("TAPEGRAD_DATA", os.path.join(ROOT, "..", "shared", "data"))


@pytest.fixture
def one_blas_thread():
    """The learning tests multiply small matrices: one BLAS thread is as fast, and on a
    shared machine two threads waiting on each other can be ten times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _shakespeare():
    if not os.path.exists(os.path.join(DATA, "tinyshakespeare.txt")):
        pytest.skip(f"tinyshakespeare.txt not found in {DATA} (set TAPEGRAD_DATA)")
    from autograd.datasets.shakespeare import load_tiny_shakespeare
    return load_tiny_shakespeare(DATA)


# -- GPT --------------------------------------------------------------------------------------
def test_gpt_shapes_tying_and_causality():
    ag.manual_seed(0)
    m = GPT(11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    assert m.lm_head.weight is m.wte.weight
    names = [n for n, _ in m.named_parameters()]
    assert "lm_head.weight" not in names and "wte.weight" in names
    rng = np.random.default_rng(0)
    idx, targets = (ag.tensor(rng.integers(0, 11, (3, 8))) for _ in range(2))
    logits, loss = m(idx, targets)
    assert logits.shape == (3, 8, 11) and loss.ndim == 0
    assert abs(loss.item() - math.log(11)) < 0.1           # small init: near uniform
    loss.backward()
    assert m.wte.weight.grad is not None and np.isfinite(m.wte.weight.grad.data).all()
    # position t depends on tokens <= t only
    changed = idx.data.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % 11
    other = m(ag.tensor(changed))[0]
    np.testing.assert_allclose(other.data[:, :5], logits.data[:, :5], rtol=1e-5, atol=1e-6)
    assert not np.allclose(other.data[:, 5:], logits.data[:, 5:])
    with pytest.raises(ValueError, match="block size"):
        m(ag.zeros(1, 9, dtype=ag.int64))


def test_gpt_matches_a_pytorch_forward_with_the_same_weights():
    """Our GPT against the same architecture written in PyTorch (nanoGPT's block)."""
    from benchmarks.nanogpt import TorchGPT, copy_gpt_weights
    ag.manual_seed(1)
    m = GPT(13, block_size=6, n_layer=2, n_head=2, n_embd=8, bias=False)
    t = TorchGPT(13, 6, 2, 2, 8, bias=False).double()
    copy_gpt_weights(m.to(ag.float64), t)
    idx = np.random.default_rng(1).integers(0, 13, (2, 6))
    logits, loss = m(ag.tensor(idx), ag.tensor(idx))
    t_logits, t_loss = t(torch.tensor(idx), torch.tensor(idx))
    np.testing.assert_allclose(logits.data, t_logits.detach().numpy(), rtol=1e-9, atol=1e-10)
    loss.backward()
    t_loss.backward()
    t_grads = dict(t.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_grads[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-10, err_msg=name)


def test_gpt_generate():
    ag.manual_seed(0)
    m = GPT(7, block_size=4, n_layer=1, n_head=1, n_embd=8)
    start = ag.zeros(2, 1, dtype=ag.int64)
    out = m.generate(start, 10, temperature=0.8, top_k=3)
    assert out.shape == (2, 11) and out.dtype == np.int64
    assert out.data.min() >= 0 and out.data.max() < 7
    ag.manual_seed(5)
    a = m.generate(start, 6).data
    ag.manual_seed(5)
    np.testing.assert_array_equal(a, m.generate(start, 6).data)
    greedy = m.generate(start, 5, temperature=0).data
    logits = m(ag.tensor(greedy[:, :1]))[0].data[:, -1]
    np.testing.assert_array_equal(greedy[:, 1], logits.argmax(-1))
    top1 = m.generate(start, 5, top_k=1).data
    np.testing.assert_array_equal(top1, greedy)
    with pytest.raises(ValueError, match="temperature"):
        m.generate(start, 1, temperature=-1.0)


def test_gpt_learns_tiny_shakespeare(one_blas_thread):
    """A few hundred steps of a small GPT bring the validation loss well below ln 65."""
    corpus = _shakespeare()
    from autograd.datasets.shakespeare import random_batch
    ag.manual_seed(0)
    vocab = corpus.tokenizer.vocab_size
    m = GPT(vocab, block_size=32, n_layer=2, n_head=4, n_embd=64)
    opt = optim.AdamW(m.optimizer_groups(0.01), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, y = random_batch(corpus.train, 32, 16, seed=rng)
        loss = m(x, y)[1]
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    val_rng = np.random.default_rng(1)
    with ag.no_grad():
        val = np.mean([m(*random_batch(corpus.val, 32, 32, seed=val_rng))[1].item()
                       for _ in range(8)])
    assert val < 2.7 < math.log(vocab), val
    text = corpus.tokenizer.decode(m.generate(ag.zeros(1, 1, dtype=ag.int64), 50)[0])
    assert len(text) == 51


# -- BERT -------------------------------------------------------------------------------------
def test_mask_tokens_follows_bert_rules():
    rng = np.random.default_rng(0)
    ids = rng.integers(NUM_SPECIAL, 50, (200, 40))
    ids[:, 0] = CLS
    ids[:, 20] = SEP
    masked, labels = mask_tokens(ids, 50, rng)
    chosen = labels != -100
    assert abs(chosen.mean() - 0.15) < 0.02
    assert not chosen[:, [0, 20]].any()                     # special tokens never chosen
    np.testing.assert_array_equal(labels[chosen], ids[chosen])
    np.testing.assert_array_equal(masked[~chosen], ids[~chosen])
    as_mask = (masked[chosen] == MASK).mean()
    unchanged = (masked[chosen] == ids[chosen]).mean()
    assert abs(as_mask - 0.8) < 0.03 and 0.07 < unchanged < 0.14
    one = mask_tokens(np.array([[CLS, 9, SEP]]), 50, rng, mlm_probability=0.0)[1]
    assert (one != -100).sum() == 1                          # at least one per row


def test_make_pretraining_batch():
    rng = np.random.default_rng(1)
    stream = np.arange(NUM_SPECIAL, NUM_SPECIAL + 500) % 60 + NUM_SPECIAL
    ids, seg, labels, nsp = make_pretraining_batch(stream, 8, 16, 70, rng, mlm_probability=0)
    assert ids.shape == seg.shape == labels.shape == (8, 16) and nsp.shape == (8,)
    row = np.where(labels.data != -100, labels.data, ids.data)   # the unmasked row
    assert (row[:, 0] == CLS).all() and (row[:, 7] == SEP).all() and (row[:, -1] == SEP).all()
    np.testing.assert_array_equal(seg.data[0], [0] * 8 + [1] * 8)


def test_bert_shapes_tying_and_padding():
    ag.manual_seed(0)
    m = BERT(20, d_model=16, num_layers=2, nhead=2, dim_feedforward=32, max_len=12, dropout=0.0)
    ids = ag.tensor(np.random.default_rng(0).integers(NUM_SPECIAL, 20, (3, 10)))
    mlm, nsp = m(ids)
    assert mlm.shape == (3, 10, 20) and nsp.shape == (3, 2)
    labels = ag.tensor(np.where(np.arange(10) % 3 == 0, ids.data, -100))
    loss, mlm_loss, nsp_loss = pretraining_loss(mlm, nsp, labels, ag.tensor([0, 1, 0]))
    loss.backward()
    names = [n for n, _ in m.named_parameters()]
    assert "token_embedding.weight" in names and not any("decoder" in n for n in names)
    assert np.abs(m.token_embedding.weight.grad.data).sum() > 0
    # padding at the end changes nothing for the real tokens
    padded = np.concatenate([ids.data, np.zeros((3, 2), np.int64)], 1)
    m.eval()
    a = m(ids)[0].data
    b = m(ag.tensor(padded))[0].data[:, :10]
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="max_len"):
        m(ag.zeros(1, 13, dtype=ag.int64))


def test_bert_mlm_pretraining_lowers_the_loss(one_blas_thread):
    corpus = _shakespeare()
    ag.manual_seed(0)
    vocab = corpus.tokenizer.vocab_size + NUM_SPECIAL
    train, val = corpus.train + NUM_SPECIAL, corpus.val + NUM_SPECIAL
    m = BERT(vocab, d_model=64, num_layers=2, nhead=4, dim_feedforward=128, max_len=32,
             dropout=0.0)
    opt = optim.Adam(m.parameters(), lr=2e-3)
    held_out = make_pretraining_batch(val, 64, 32, vocab, np.random.default_rng(1))

    def mlm_loss():
        m.eval()
        with ag.no_grad():
            value = pretraining_loss(*m(held_out[0], held_out[1]), held_out[2],
                                     held_out[3])[1].item()
        m.train()
        return value

    before = mlm_loss()
    rng = np.random.default_rng(0)
    for _ in range(150):
        ids, seg, labels, nsp = make_pretraining_batch(train, 32, 32, vocab, rng)
        loss = pretraining_loss(*m(ids, seg), labels, nsp)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = mlm_loss()
    assert before > 4.0 and after < 3.2, (before, after)
