# Source of notebooks/06-attention-transformer.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 06 · Attention and the Transformer
#
# Attention computes, for a query $q$, a weighted average of values $v_j$, weighted by how
# well $q$ matches the keys $k_j$. For many queries at once, with the tokens as the columns
# of $Q$ ($D \times M$), $K$ ($D \times N$) and $V$ ($D_v \times N$), the course writes
#
# $$H = V \,\text{softmax}\!\left(\frac{K^\top Q}{\sqrt D}\right),$$
#
# the softmax taken down each column: column $j$ of the $N \times M$ matrix
# $A = \text{softmax}(K^\top Q / \sqrt D)$ holds the weights of query $j$ over the $N$ keys,
# and column $j$ of $H$ is $\sum_i A_{ij} v_i$. In *self*-attention, $Q = W_q X$,
# $K = W_k X$, $V = W_v X$ come from the same tokens $X$. Libraries store tokens as rows,
# where the same formula reads $H^\top = \text{softmax}(Q^\top K / \sqrt D)\, V^\top$.
#
# This notebook
#
# 1. works the course's example: the query $[0.6, 0.2, 0.8]$ over the five words of "The
#    weather is nice today";
# 2. checks $H = V \text{softmax}(K^\top Q / \sqrt D)$, its gradient, the causal mask and
#    positional encodings by hand against `F.scaled_dot_product_attention` and
#    `nn.MultiheadAttention`;
# 3. splits attention into heads, by hand against the module, with the maps of each head;
# 4. trains the character-level GPT (`nn.models.gpt`) briefly on tiny Shakespeare, lets it
#    write, and plots the attention maps of its heads;
# 5. trains a small BERT (`nn.models.bert`) briefly and shows its masked-character
#    predictions.
#
# Parts 4 and 5 read `tinyshakespeare.txt` from `$TAPEGRAD_DATA` and are skipped, with a
# note, when it is absent. `SCALE` makes the training runs longer.

# %%
SCALE = 1                 # 2, 4, ...: longer training of the GPT and BERT

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import erf

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.datasets.shakespeare import load_tiny_shakespeare, random_batch
from nn.attention import sinusoidal_table
from nn.models.bert import (BERT, CLS, MASK, NUM_SPECIAL, SEP, make_pretraining_batch,
                            mask_tokens, pretraining_loss)
from nn.models.gpt import GPT

np.set_printoptions(precision=4, suppress=True, linewidth=110)
ag.manual_seed(0)
rng = np.random.default_rng(0)
DATA = Path(os.environ.get("TAPEGRAD_DATA")
            or Path(ag.__file__).resolve().parents[1].parent / "shared" / "data")


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def softmax_columns(S):
    """softmax down each column of S."""
    E = np.exp(S - S.max(0, keepdims=True))
    return E / E.sum(0, keepdims=True)


# %% [markdown]
# ## 1. The worked example: "The weather is nice today"
#
# The course's slides use the query $q = [0.6, 0.2, 0.8]$ over three-dimensional vectors of
# the five words. The slides' word vectors themselves could not be retrieved here, so the
# vectors below are our own stand-ins (the same as in `tests/transformer/test_sdpa.py`); the
# computation is the slides': scores $s_j = k_j^\top q / \sqrt D$, weights
# $\alpha = \text{softmax}(s)$, output $h = \sum_j \alpha_j v_j$, with the word vectors
# serving as both keys and values.

# %%
WORDS = ["The", "weather", "is", "nice", "today"]
X_words = np.array([[0.1, 0.3, 0.2],          # columns are the words below: X is D x N
                    [0.9, 0.1, 0.7],
                    [0.2, 0.4, 0.1],
                    [0.7, 0.6, 0.9],
                    [0.4, 0.8, 0.3]]).T
q = np.array([0.6, 0.2, 0.8])
D = len(q)

scores = X_words.T @ q / np.sqrt(D)
alpha = np.exp(scores) / np.exp(scores).sum()
h = X_words @ alpha
print(f"{'word':8s} {'k.q':>6s} {'k.q/sqrt(D)':>12s} {'alpha':>7s}")
for word, raw, s, a in zip(WORDS, X_words.T @ q, scores, alpha):
    print(f"{word:8s} {raw:6.2f} {s:12.4f} {a:7.4f}")
print("h =", h)

# the numbers computed by hand in tests/transformer/test_sdpa.py
np.testing.assert_allclose(alpha, [0.1511, 0.2455, 0.1511, 0.2662, 0.1861], atol=5e-5)
np.testing.assert_allclose(h, [0.5270, 0.4389, 0.5125], atol=5e-5)
assert WORDS[alpha.argmax()] == "nice"

engine = F.scaled_dot_product_attention(t64(q[None]), t64(X_words.T), t64(X_words.T))
np.testing.assert_allclose(engine.data[0], h, rtol=1e-13)
print("F.scaled_dot_product_attention gives the same h")

# %%
raw_alpha = np.exp(X_words.T @ q) / np.exp(X_words.T @ q).sum()
fig, ax = plt.subplots(figsize=(7, 3))
positions = np.arange(len(WORDS))
ax.bar(positions - 0.2, raw_alpha, 0.4, label="softmax(k.q)")
ax.bar(positions + 0.2, alpha, 0.4, label="softmax(k.q / sqrt(D))")
ax.set_xticks(positions, WORDS)
ax.set(ylabel="attention weight", title="query [0.6, 0.2, 0.8]")
ax.legend()
plt.show()

# %% [markdown]
# Dividing by $\sqrt D$ flattens the weights: for random vectors the dot product has
# variance $D$, and without the scaling large $D$ would push the softmax into saturation,
# where its gradient vanishes.
#
# ## 2. $H = V \text{softmax}(K^\top Q / \sqrt D)$ by hand, value and gradient
#
# Self-attention over the five words with projections $W_q, W_k$ ($D_k \times D$) and $W_v$
# ($D_v \times D$). The engine works with rows: $Q^\top, K^\top, V^\top$.

# %%
Dk, Dv = 4, 3
W_q, W_k, W_v = rng.normal(size=(Dk, D)), rng.normal(size=(Dk, D)), rng.normal(size=(Dv, D))
Q, K, V = W_q @ X_words, W_k @ X_words, W_v @ X_words           # columns = tokens
A = softmax_columns(K.T @ Q / np.sqrt(Dk))                    # (N keys, M queries)
H_hand = V @ A
np.testing.assert_allclose(A.sum(0), 1.0)

q_t, k_t, v_t = t64(Q.T, True), t64(K.T, True), t64(V.T, True)
H_engine = F.scaled_dot_product_attention(q_t, k_t, v_t)
np.testing.assert_allclose(H_engine.data, H_hand.T, rtol=1e-12)

# nn.MultiheadAttention with one head: in_proj_weight = [W_q; W_k; W_v] needs Dk = Dv = D
mha1 = nn.MultiheadAttention(D, num_heads=1, bias=False).double()
Wq3, Wk3, Wv3 = rng.normal(size=(3, D, D))
with ag.no_grad():
    mha1.in_proj_weight.copy_(t64(np.concatenate([Wq3, Wk3, Wv3])))
    mha1.out_proj.weight.copy_(t64(np.eye(D)))
out, weights = mha1(t64(X_words.T), t64(X_words.T), t64(X_words.T))
A3 = softmax_columns((Wk3 @ X_words).T @ (Wq3 @ X_words) / np.sqrt(D))
np.testing.assert_allclose(out.data, (Wv3 @ X_words @ A3).T, rtol=1e-12)
np.testing.assert_allclose(weights.data, A3.T, rtol=1e-12)      # (queries, keys)
print("H = V softmax(K^T Q / sqrt(D)): hand = scaled_dot_product_attention = MultiheadAttention")

# %% [markdown]
# The gradient by hand, for a loss $L = \sum G \odot H$ with any upstream gradient $G$
# ($D_v \times M$): with $S = K^\top Q / \sqrt D$,
#
# $$\nabla_V = G A^\top, \quad \nabla_A = V^\top G, \quad
#   (\nabla_S)_{ij} = A_{ij}\Big((\nabla_A)_{ij} - \sum_{i'} A_{i'j} (\nabla_A)_{i'j}\Big), \quad
#   \nabla_Q = K \nabla_S / \sqrt D, \quad \nabla_K = Q \nabla_S^\top / \sqrt D$$
#
# (the middle one is the softmax's Jacobian, column by column).

# %%
G = rng.normal(size=H_hand.shape)
grad_A = V.T @ G
grad_S = A * (grad_A - (A * grad_A).sum(0, keepdims=True))
hand = dict(Q=K @ grad_S / np.sqrt(Dk), K=Q @ grad_S.T / np.sqrt(Dk), V=G @ A.T)
(H_engine * t64(G.T)).sum().backward()
for name, tensor in dict(Q=q_t, K=k_t, V=v_t).items():
    np.testing.assert_allclose(tensor.grad.data, hand[name].T, rtol=1e-11, atol=1e-14)
print("gradients with respect to Q, K and V: hand = engine")

# %% [markdown]
# **The causal mask** of a decoder: query $j$ may only see keys $i \le j$; the scores of the
# later keys are set to $-\infty$ before the softmax, which makes $A$ upper triangular (in
# the course's layout: keys down, queries across).
#
# **Order.** Attention treats its inputs as a set: permuting the tokens permutes the outputs
# the same way. Word order enters through positional encodings added to the token vectors,
# e.g. Vaswani et al.'s sinusoids $PE(p, 2i) = \sin(p / 10000^{2i/d})$,
# $PE(p, 2i+1) = \cos(p / 10000^{2i/d})$.

# %%
causal = np.where(np.arange(5)[:, None] <= np.arange(5)[None, :], 0.0, -np.inf)   # key <= query
A_causal = softmax_columns(K.T @ Q / np.sqrt(Dk) + causal)
H_causal = F.scaled_dot_product_attention(t64(Q.T), t64(K.T), t64(V.T), is_causal=True)
np.testing.assert_allclose(H_causal.data, (V @ A_causal).T, rtol=1e-12)
assert np.all(np.tril(A_causal, -1) == 0)

perm = np.array([3, 0, 4, 1, 2])
H_perm = F.scaled_dot_product_attention(t64(Q.T[perm]), t64(K.T[perm]), t64(V.T[perm]))
np.testing.assert_allclose(H_perm.data, H_hand.T[perm], rtol=1e-12)

d_model, length = 16, 50
p_idx, i_idx = np.arange(length)[:, None], np.arange(d_model // 2)[None, :]
pe_hand = np.zeros((length, d_model))
pe_hand[:, 0::2] = np.sin(p_idx / 10000 ** (2 * i_idx / d_model))
pe_hand[:, 1::2] = np.cos(p_idx / 10000 ** (2 * i_idx / d_model))
np.testing.assert_allclose(sinusoidal_table(length, d_model, dtype=np.float64), pe_hand,
                           atol=1e-12)
encoder = nn.SinusoidalPositionalEncoding(d_model, max_len=length, dtype=ag.float64)
zeros = t64(np.zeros((length, d_model)))
np.testing.assert_allclose(encoder(zeros).data, pe_hand, atol=1e-12)
print("causal mask, permutation equivariance and sinusoidal encodings agree with the formulas")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5), gridspec_kw=dict(width_ratios=[1, 2.5]))
ax1.imshow(A_causal, cmap="Greys", vmin=0, vmax=1)
ax1.set_xticks(range(5), WORDS, rotation=45)
ax1.set_yticks(range(5), WORDS)
ax1.set(xlabel="query", ylabel="key", title="causal attention A")
ax2.imshow(pe_hand.T, cmap="RdBu", aspect="auto")
ax2.set(xlabel="position p", ylabel="dimension", title="sinusoidal positional encoding")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Multi-head attention
#
# $h$ heads each attend in their own subspace of dimension $E / h$, and the results are
# concatenated and mixed by an output projection:
#
# $$\text{head}_m = V_m \,\text{softmax}(K_m^\top Q_m / \sqrt{E/h}), \quad
#   Q_m = W_q^{(m)} X, \ \dots, \qquad
#   Y = W_o [\text{head}_1; \dots; \text{head}_h] + b_o .$$
#
# In `nn.MultiheadAttention` the $W_q^{(m)}$ are consecutive blocks of $E/h$ rows of the
# first third of `in_proj_weight`. By hand, with random 8-dimensional embeddings of the five
# words and four heads:

# %%
E, heads = 8, 4
d_head = E // heads
X8 = rng.normal(size=(E, len(WORDS)))                            # columns = words
mha = nn.MultiheadAttention(E, heads).double()
with ag.no_grad():
    mha.in_proj_bias.copy_(t64(rng.normal(0, 0.1, 3 * E)))
    mha.out_proj.bias.copy_(t64(rng.normal(0, 0.1, E)))
out, per_head = mha(t64(X8.T), t64(X8.T), t64(X8.T), average_attn_weights=False)

W_in, b_in = mha.in_proj_weight.data, mha.in_proj_bias.data
proj = [W_in[part * E:(part + 1) * E] @ X8 + b_in[part * E:(part + 1) * E, None]
        for part in range(3)]                                    # Q, K, V: (E, N)
maps, head_outputs = [], []
for m in range(heads):
    rows = slice(m * d_head, (m + 1) * d_head)
    Qm, Km, Vm = (p[rows] for p in proj)
    Am = softmax_columns(Km.T @ Qm / np.sqrt(d_head))
    maps.append(Am)
    head_outputs.append(Vm @ Am)
Y = mha.out_proj.weight.data @ np.concatenate(head_outputs) + mha.out_proj.bias.data[:, None]
np.testing.assert_allclose(out.data, Y.T, rtol=1e-11)
np.testing.assert_allclose(per_head.data, np.stack([Am.T for Am in maps]), rtol=1e-11)
print(f"{heads} heads: outputs and the per-head attention weights = the formulas")

fig, axes = plt.subplots(1, heads, figsize=(14, 3.2))
for m, ax in enumerate(axes):
    ax.imshow(maps[m].T, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(5), WORDS, rotation=45)
    ax.set_yticks(range(5), WORDS if m == 0 else [])
    ax.set(title=f"head {m + 1}", xlabel="key")
axes[0].set_ylabel("query")
fig.suptitle("per-head attention of an untrained layer (rows: queries)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. A character-level GPT on tiny Shakespeare
#
# `nn.models.gpt.GPT` is a decoder-only Transformer laid out as nanoGPT: token and position
# embeddings, pre-norm blocks of causal multi-head self-attention and a GELU MLP with
# residual connections, a final LayerNorm and an output layer tied to the token embedding.
# It is trained to predict the next character. Here: 2 layers, 4 heads, 64 dimensions,
# contexts of 32 characters, a few hundred steps of AdamW: seconds, not the hours of a real
# run (nanoGPT's small CPU configuration reaches a validation loss of 1.88 after 2000 steps
# of a 4-layer, 128-dimensional model), but enough to get from noise to words.

# %%
try:
    corpus = load_tiny_shakespeare(DATA)
except FileNotFoundError as exc:
    corpus = None
    print(f"tiny Shakespeare not found, skipping parts 4 and 5 ({exc})")

if corpus is not None:
    tok = corpus.tokenizer
    frequencies = np.bincount(corpus.train, minlength=tok.vocab_size) / len(corpus.train)
    unigram = -np.sum(frequencies[frequencies > 0] * np.log(frequencies[frequencies > 0]))
    print(f"{len(corpus.train) + len(corpus.val):,} characters, vocabulary of {tok.vocab_size}:"
          f" ln V = {np.log(tok.vocab_size):.3f}, unigram entropy {unigram:.3f} nats")

    block, batch_size, steps = 32, 16, 300 * SCALE
    ag.manual_seed(0)
    gpt = GPT(tok.vocab_size, block_size=block, n_layer=2, n_head=4, n_embd=64)
    opt = optim.AdamW(gpt.optimizer_groups(0.01), lr=3e-3)
    batch_rng = np.random.default_rng(0)
    gpt_losses = []
    for _ in range(steps):
        xb, yb = random_batch(corpus.train, block, batch_size, seed=batch_rng)
        _, loss = gpt(xb, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        gpt_losses.append(loss.item())
    gpt.eval()
    val_rng = np.random.default_rng(1)
    with ag.no_grad():
        val_loss = np.mean([gpt(*random_batch(corpus.val, block, 32, seed=val_rng))[1].item()
                            for _ in range(8)])
    print(f"first loss {gpt_losses[0]:.3f} (ln V = {np.log(tok.vocab_size):.3f}), validation "
          f"loss after {steps} steps {val_loss:.3f}")
    assert abs(gpt_losses[0] - np.log(tok.vocab_size)) < 0.15     # near-uniform at the start
    assert val_loss < unigram - 0.4                               # beyond letter frequencies

# %%
if corpus is not None:
    ag.manual_seed(1)
    prompt = ag.tensor([tok.encode("ROMEO:\n")])
    sample = gpt.generate(prompt, 300, temperature=0.8, top_k=20)
    print(tok.decode(sample[0]))

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(gpt_losses, lw=0.8, label="training batch")
    ax.axhline(np.log(tok.vocab_size), color="grey", ls=":", label="ln V (uniform)")
    ax.axhline(unigram, color="grey", ls="--", label="unigram entropy")
    ax.axhline(val_loss, color="k", label=f"validation, end ({val_loss:.2f})")
    ax.set(xlabel="step", ylabel="cross-entropy (nats)", title="character GPT")
    ax.legend()
    plt.show()

# %% [markdown]
# **The heads of the trained GPT.** Each block's attention is recomputed by hand from its
# weights (`c_attn` packs $W_q, W_k, W_v$ by rows, `c_proj` is $W_o$), checked against the
# block's own attention output, and drawn for one line of text: row $t$ is where the
# character at position $t$ looks (only at itself and before: the causal mask).

# %%
def gpt_attention_maps(model, idx):
    """idx: (1, T) -> per block the attention weights (heads, T, T) (rows: queries),
    recomputed from the weights and checked against the block's attention output."""
    length = idx.shape[1]
    with ag.no_grad():
        x = model.wte(idx) + model.wpe(ag.arange(length))
        maps = []
        for blk in model.blocks:
            z = blk.ln_1(x).data[0].astype(np.float64)                      # (T, C)
            attn = blk.attn
            width = attn.n_embd // attn.n_head
            qkv = z @ attn.c_attn.weight.data.T + attn.c_attn.bias.data     # (T, 3C)
            q_, k_, v_ = np.split(qkv, 3, axis=1)
            heads_out, weights = [], []
            for m in range(attn.n_head):
                cols = slice(m * width, (m + 1) * width)
                s = q_[:, cols] @ k_[:, cols].T / np.sqrt(width)
                s[np.triu_indices(length, 1)] = -np.inf                     # key > query
                a = np.exp(s - s.max(1, keepdims=True))
                a /= a.sum(1, keepdims=True)
                weights.append(a)
                heads_out.append(a @ v_[:, cols])
            y = np.concatenate(heads_out, 1) @ attn.c_proj.weight.data.T + attn.c_proj.bias.data
            np.testing.assert_allclose(y, attn(blk.ln_1(x)).data[0], rtol=1e-4, atol=1e-5)
            maps.append(np.stack(weights))
            x = blk(x)
    return maps


if corpus is not None:
    line = "First Citizen:\nBefore we proceed"[:block]
    maps = gpt_attention_maps(gpt, ag.tensor([tok.encode(line)]))
    labels = [repr(ch)[1:-1] for ch in line]
    fig, axes = plt.subplots(len(maps), gpt.blocks[0].attn.n_head, figsize=(16, 9.2))
    for layer, layer_maps in enumerate(maps):
        for m, ax in enumerate(axes[layer]):
            ax.imshow(layer_maps[m], cmap="Greys", vmin=0, vmax=1)
            ax.set_xticks(range(len(line)), labels if layer == len(maps) - 1 else [],
                          fontsize=6)
            ax.set_yticks(range(len(line)), labels if m == 0 else [], fontsize=6)
            ax.set_title(f"layer {layer + 1}, head {m + 1}", fontsize=9)
    fig.suptitle("attention of the trained GPT (rows: queries, columns: keys)")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# Even after a few hundred steps the heads differ: some look at the previous one or two
# characters (a band just below the diagonal), others at a fixed landmark such as the
# newline or the start of the line, which tells a position where it is in the line.
#
# ## 5. BERT's masked-language-model predictions
#
# BERT reads the whole text at once (no causal mask) and is trained to fill in blanks: 15 %
# of the tokens are chosen; of those 80 % are replaced by `[MASK]`, 10 % by a random token,
# 10 % left as they are, and the model predicts the originals (plus, here, BERT's second
# task: whether segment B follows segment A). Our tokens are again characters, with the four
# special tokens `[PAD] [CLS] [SEP] [MASK]` in front of the vocabulary.
#
# First the masking rule, counted on many tokens, and the MLM head by hand:
# $\text{logits} = \text{LayerNorm}(\text{gelu}(h W_t + b_t))\, E^\top + b_v$ with $E$ the
# token embedding (tied).

# %%
if corpus is not None:
    vocab = tok.vocab_size + NUM_SPECIAL
    ids = corpus.train[:60000].reshape(300, 200) + NUM_SPECIAL
    masked, mlm_labels = mask_tokens(ids, vocab, np.random.default_rng(0))
    chosen = mlm_labels != -100
    shares = [np.mean(masked[chosen] == MASK), np.mean(masked[chosen] == ids[chosen])]
    print(f"chosen {chosen.mean():.1%} of the tokens; of those [MASK] {shares[0]:.1%}, "
          f"unchanged {shares[1]:.1%}, random {1 - sum(shares):.1%}")
    assert abs(chosen.mean() - 0.15) < 0.01 and abs(shares[0] - 0.8) < 0.02

    ag.manual_seed(0)
    seq_len = 32
    bert = BERT(vocab, d_model=64, num_layers=2, nhead=4, dim_feedforward=128,
                max_len=seq_len, dropout=0.0)
    bert.eval()
    probe_ids = ag.tensor(ids[:2, :seq_len])
    with ag.no_grad():
        hidden = bert.encode(probe_ids).data.astype(np.float64)
        mlm_logits, _ = bert(probe_ids)
    t = hidden @ bert.mlm_dense.weight.data.T + bert.mlm_dense.bias.data
    t = 0.5 * t * (1 + erf(t / np.sqrt(2)))                                    # exact gelu
    t = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True) + bert.mlm_norm.eps)
    t = t * bert.mlm_norm.weight.data + bert.mlm_norm.bias.data
    logits_hand = t @ bert.token_embedding.weight.data.T + bert.mlm_bias.data
    np.testing.assert_allclose(mlm_logits.data, logits_hand, rtol=1e-4, atol=1e-5)
    print("the MLM head = LayerNorm(gelu(h W_t + b_t)) E^T + b_v")

# %% [markdown]
# Pre-training for a few hundred steps on pairs of 14-character segments (about 25 ms a
# step):

# %%
if corpus is not None:
    train_ids, val_ids = corpus.train + NUM_SPECIAL, corpus.val + NUM_SPECIAL
    held_out = make_pretraining_batch(val_ids, 64, seq_len, vocab, np.random.default_rng(1))
    opt = optim.Adam(bert.parameters(), lr=2e-3)
    batch_rng = np.random.default_rng(0)
    bert.train()
    for _ in range(200 * SCALE):
        batch = make_pretraining_batch(train_ids, 32, seq_len, vocab, batch_rng)
        loss = pretraining_loss(*bert(batch[0], batch[1]), batch[2], batch[3])[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    bert.eval()
    with ag.no_grad():
        mlm_logits, nsp_logits = bert(held_out[0], held_out[1])
        _, mlm_loss, nsp_loss = pretraining_loss(mlm_logits, nsp_logits, held_out[2],
                                                 held_out[3])
    targets = held_out[2].data
    picked = targets != -100
    mlm_accuracy = np.mean(mlm_logits.data.argmax(-1)[picked] == targets[picked])
    print(f"held-out masked characters: loss {mlm_loss.item():.3f} (unigram entropy "
          f"{unigram:.3f}), accuracy {mlm_accuracy:.1%} (always guessing the most frequent "
          f"character, {tok.itos[frequencies.argmax()]!r}: {frequencies.max():.1%})")
    assert mlm_loss.item() < unigram and mlm_accuracy > frequencies.max() + 0.05

# %% [markdown]
# Its guesses for blanks in a line of text, laid out as in training (`[CLS]` 14 characters
# `[SEP]` 15 characters `[SEP]`, segments 0 and 1): each masked character, the truth, and
# BERT's three most likely characters. Expect little: after 200 steps its guesses are still
# dominated by the frequent characters (space, e, h), and its held-out accuracy above is only
# about ten points over the frequency baseline. Masked prediction learns slowly from
# characters: a step trains on about 150 masked positions, where the GPT above learned from
# all 512 next characters of its batch. Larger `SCALE` trains longer.

# %%
if corpus is not None:
    len_a = (seq_len - 3) // 2
    text = "that is the question: whether"
    blanks = [2, 5, 9, 13, 17, 22, 26]
    chars = [i + NUM_SPECIAL for i in tok.encode(text)]
    row = np.array([CLS] + chars[:len_a] + [SEP] + chars[len_a:] + [SEP])
    segments = np.array([0] * (len_a + 2) + [1] * (len(text) - len_a + 1))
    position = [b + 1 if b < len_a else b + 2 for b in blanks]         # skip [CLS] and [SEP]
    row[position] = MASK
    with ag.no_grad():
        logits, _ = bert(ag.tensor(row[None]), ag.tensor(segments[None]))
    probs = logits.softmax(-1).data[0]
    print(repr("".join("_" if k in blanks else ch for k, ch in enumerate(text))))
    in_top3 = 0
    for b, pos in zip(blanks, position):
        p = probs[pos, NUM_SPECIAL:]
        top = np.argsort(-p)[:3]
        in_top3 += int(tok.stoi[text[b]] in top)
        guesses = ", ".join(f"{tok.itos[k]!r} {p[k]:.2f}" for k in top)
        print(f"  blank {b:2d}: truth {text[b]!r:5s} BERT: {guesses}")
    print(f"the truth is among the three guesses for {in_top3} of {len(blanks)} blanks")
