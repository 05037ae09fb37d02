# Source of notebooks/05-lstm-gru.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 05 · Gated recurrent networks: LSTM, GRU, sequence to sequence, recursive networks
#
# The LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000) keeps a
# cell state $c_t$ updated additively under the control of three gates:
#
# $$\begin{aligned}
# i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) &\quad& \text{input gate} \\
# f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) && \text{forget gate} \\
# g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) && \text{candidate} \\
# o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) && \text{output gate} \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t) .
# \end{aligned}$$
#
# The GRU (Cho et al. 2014) merges the cell into the state with a reset gate $r_t$ and an
# update gate $z_t$ (PyTorch's convention: $z_t$ is the share of the old state kept):
#
# $$r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), \quad
#   z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),$$
# $$n_t = \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big), \quad
#   h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1} .$$
#
# This notebook
#
# 1. computes these equations with numpy and checks them against `nn.LSTMCell`,
#    `nn.GRUCell`, a two-layer `nn.LSTM` and a bidirectional `nn.GRU`, and one backward step
#    of the LSTM by hand;
# 2. does the same for the peephole and coupled-gate variants (`nn.rnn_variants`);
# 3. trains an RNN, an LSTM and a GRU on the adding problem;
# 4. trains a sequence-to-sequence model with additive attention to reverse digit strings
#    and plots its attention maps;
# 5. builds a recursive network over parse trees, checks backpropagation through structure
#    by hand, trains it on a small sentiment grammar with negation, and draws the trees.
#
# `SCALE` makes the training runs longer.

# %%
SCALE = 1                 # 2, 4, ...: longer training runs and sequences

import matplotlib.pyplot as plt
import numpy as np

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.datasets import adding_problem
from nn.models.recursive import RecursiveNet
from nn.models.seq2seq import EOS, Seq2Seq, reverse_digits_task, sequence_accuracy
from nn.rnn_variants import CoupledLSTMCell, PeepholeLSTMCell

np.set_printoptions(precision=4, suppress=True, linewidth=110)
ag.manual_seed(0)
rng = np.random.default_rng(0)


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# %% [markdown]
# ## 1. The gate equations by hand
#
# PyTorch's layout, which tapegrad keeps: the four LSTM blocks are stacked in the order
# $[i, f, g, o]$ in `weight_ih` $(4H, I)$, `weight_hh` $(4H, H)$ and the two biases; the GRU's
# in the order $[r, z, n]$. With a batch as rows, $W x_t$ becomes $x_t W^\top$.

# %%
D_in, H, B = 3, 4, 2


def lstm_hand(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, rows = examples -> h', c' and the gates."""
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, dict(i=i, f=f, g=g, o=o)


def gru_hand(x, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step -> h' and the gates."""
    ar, az, an = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ W_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(ar + hr), sigmoid(az + hz)
    n = np.tanh(an + r * hn)
    return (1 - z) * n + z * h, dict(r=r, z=z, n=n)


def weights(module, suffix=""):
    return [getattr(module, name + suffix).data for name in
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


lstm_cell = nn.LSTMCell(D_in, H).double()
gru_cell = nn.GRUCell(D_in, H).double()
x = rng.normal(size=(B, D_in))
h, c = rng.normal(size=(B, H)), rng.normal(size=(B, H))

h1, c1 = lstm_cell(t64(x), (t64(h), t64(c)))
h_hand, c_hand, gates = lstm_hand(x, h, c, *weights(lstm_cell))
np.testing.assert_allclose(h1.data, h_hand, rtol=1e-13)
np.testing.assert_allclose(c1.data, c_hand, rtol=1e-13)
h_gru = gru_cell(t64(x), t64(h))
h_gru_hand, gru_gates = gru_hand(x, h, *weights(gru_cell))
np.testing.assert_allclose(h_gru.data, h_gru_hand, rtol=1e-13)
print("nn.LSTMCell and nn.GRUCell = the gate equations")
print("LSTM gates of example 0:", {k: v[0] for k, v in gates.items()})

# %% [markdown]
# Over a sequence: a two-layer `nn.LSTM` (the second layer reads the first layer's $h_t$)
# and a bidirectional `nn.GRU` (a second GRU reads the sequence backwards; the outputs of
# the two directions are concatenated) against loops of the hand steps. Both layers run on
# the fused scan primitive; the hand loop is plain numpy.

# %%
T = 6
xs = rng.normal(size=(T, B, D_in))

lstm = nn.LSTM(D_in, H, num_layers=2).double()
out, (h_n, c_n) = lstm(t64(xs))
layer_in = xs
for layer in range(2):
    h_t, c_t, outs = np.zeros((B, H)), np.zeros((B, H)), []
    for t in range(T):
        h_t, c_t, _ = lstm_hand(layer_in[t], h_t, c_t, *weights(lstm, f"_l{layer}"))
        outs.append(h_t)
    np.testing.assert_allclose(h_n.data[layer], h_t, rtol=1e-12)
    np.testing.assert_allclose(c_n.data[layer], c_t, rtol=1e-12)
    layer_in = np.stack(outs)
np.testing.assert_allclose(out.data, layer_in, rtol=1e-12)

gru = nn.GRU(D_in, H, bidirectional=True).double()
out, h_n = gru(t64(xs))
for direction, suffix, order in [(0, "_l0", range(T)), (1, "_l0_reverse", reversed(range(T)))]:
    h_t, outs = np.zeros((B, H)), {}
    for t in order:
        h_t, _ = gru_hand(xs[t], h_t, *weights(gru, suffix))
        outs[t] = h_t
    np.testing.assert_allclose(out.data[:, :, direction * H:(direction + 1) * H],
                               np.stack([outs[t] for t in range(T)]), rtol=1e-12)
    np.testing.assert_allclose(h_n.data[direction], h_t, rtol=1e-12)
print("two-layer nn.LSTM and bidirectional nn.GRU = loops of the hand steps")

# %% [markdown]
# **One backward step of the LSTM by hand.** Given the gradients $\bar h' = \partial L /
# \partial h_t$ and $\bar c' = \partial L / \partial c_t$ arriving from later steps:
#
# $$\bar c = \bar c' + \bar h' \odot o \odot (1 - \tanh^2 c_t), \qquad
#   \bar o = \bar h' \odot \tanh c_t, \quad \bar i = \bar c \odot g, \quad
#   \bar g = \bar c \odot i, \quad \bar f = \bar c \odot c_{t-1}, \qquad
#   \frac{\partial L}{\partial c_{t-1}} = \bar c \odot f ,$$
#
# then through the nonlinearities ($\sigma' = \sigma (1 - \sigma)$, $\tanh' = 1 - \tanh^2$) to
# the pre-activations $\bar a = [\bar a_i, \bar a_f, \bar a_g, \bar a_o]$, and
# $\nabla W_{ih} = \bar a^\top x$, $\nabla W_{hh} = \bar a^\top h_{t-1}$,
# $\partial L / \partial x = \bar a W_{ih}$, $\partial L / \partial h_{t-1} = \bar a W_{hh}$.
# The cell path $\partial L / \partial c_{t-1} = \bar c \odot f$ is multiplied by the
# forget gate only, with no weight matrix and no squashing: the *constant error carousel*.

# %%
gh, gc = rng.normal(size=(B, H)), rng.normal(size=(B, H))
i_, f_, g_, o_ = gates["i"], gates["f"], gates["g"], gates["o"]
c_bar = gc + gh * o_ * (1 - np.tanh(c_hand) ** 2)
a_bar = np.concatenate([c_bar * g_ * i_ * (1 - i_),            # input gate
                        c_bar * c * f_ * (1 - f_),             # forget gate
                        c_bar * i_ * (1 - g_ ** 2),            # candidate
                        gh * np.tanh(c_hand) * o_ * (1 - o_)],  # output gate
                       axis=1)
W_ih, W_hh = weights(lstm_cell)[:2]
hand = dict(x=a_bar @ W_ih, h=a_bar @ W_hh, c=c_bar * f_, W_ih=a_bar.T @ x, W_hh=a_bar.T @ h,
            b=a_bar.sum(0))

xt, ht, ct = t64(x, True), t64(h, True), t64(c, True)
h1, c1 = lstm_cell(xt, (ht, ct))
lstm_cell.zero_grad()
((h1 * t64(gh)).sum() + (c1 * t64(gc)).sum()).backward()
engine = dict(x=xt.grad, h=ht.grad, c=ct.grad, W_ih=lstm_cell.weight_ih.grad,
              W_hh=lstm_cell.weight_hh.grad, b=lstm_cell.bias_ih.grad)
for name, g in engine.items():
    np.testing.assert_allclose(g.data, hand[name], rtol=1e-11, atol=1e-14, err_msg=name)
print("one LSTM backward step by hand = engine (inputs, states, weights, biases)")

# %% [markdown]
# ## 2. Peephole and coupled-gate variants
#
# **Peepholes** (Gers & Schmidhuber 2000) let the gates read the cell: diagonal weights
# $v_i, v_f, v_o$ add $v \odot c_{t-1}$ to the gates' pre-activations,
# $i_t = \sigma(a_i + v_i \odot c_{t-1})$, $f_t = \sigma(a_f + v_f \odot c_{t-1})$,
# $o_t = \sigma(a_o + v_o \odot c_{t-1})$ (Gers & Schmidhuber feed the output gate $c_t$; the
# library follows the course and uses $c_{t-1}$ for all three).
#
# **Coupled gates** (the CIFG of Greff et al. 2017) tie input and forget gate, $i_t = 1 - f_t$:
# $c_t = f_t \odot c_{t-1} + (1 - f_t) \odot g_t$, a convex mix of old and new, with three
# weight blocks $[f, g, o]$ instead of four, like the GRU.
#
# `nn.rnn_variants.PeepholeLSTMCell` and `CoupledLSTMCell` against the formulas, value and
# gradient (gradcheck), and the parameter counts.

# %%
def peephole_hand(x, h, c, W_ih, W_hh, b_ih, b_hh, v_i, v_f, v_o):
    a_i, a_f, a_g, a_o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    i, f, o = sigmoid(a_i + v_i * c), sigmoid(a_f + v_f * c), sigmoid(a_o + v_o * c)
    c_new = f * c + i * np.tanh(a_g)
    return o * np.tanh(c_new), c_new


def coupled_hand(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a_f, a_g, a_o = np.split(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 3, axis=1)
    f = sigmoid(a_f)
    c_new = f * c + (1 - f) * np.tanh(a_g)
    return sigmoid(a_o) * np.tanh(c_new), c_new


peephole = PeepholeLSTMCell(D_in, H, dtype=ag.float64)
coupled = CoupledLSTMCell(D_in, H, dtype=ag.float64)
peep_w = weights(peephole) + [getattr(peephole, n).data for n in ("weight_ci", "weight_cf",
                                                                   "weight_co")]
for cell_module, hand_step, w in [(peephole, peephole_hand, peep_w),
                                  (coupled, coupled_hand, weights(coupled))]:
    h1, c1 = cell_module(t64(x), (t64(h), t64(c)))
    h_ref, c_ref = hand_step(x, h, c, *w)
    np.testing.assert_allclose(h1.data, h_ref, rtol=1e-13)
    np.testing.assert_allclose(c1.data, c_ref, rtol=1e-13)
    assert ag.autograd.gradcheck(lambda x_, h_, c_, m=cell_module: m(x_, (h_, c_)),
                                 [t64(x, True), t64(h, True), t64(c, True)])


def count(module):
    return sum(p.numel() for p in module.parameters())


Hp, Ip = 128, 64
counts = {"LSTM": (nn.LSTMCell(Ip, Hp), 4 * Hp * (Ip + Hp + 2)),
          "peephole LSTM": (PeepholeLSTMCell(Ip, Hp), 4 * Hp * (Ip + Hp + 2) + 3 * Hp),
          "coupled LSTM": (CoupledLSTMCell(Ip, Hp), 3 * Hp * (Ip + Hp + 2)),
          "GRU": (nn.GRUCell(Ip, Hp), 3 * Hp * (Ip + Hp + 2)),
          "RNN": (nn.RNNCell(Ip, Hp), Hp * (Ip + Hp + 2))}
print(f"parameters for I = {Ip}, H = {Hp} (two bias vectors per gate block, as PyTorch):")
for name, (module, formula) in counts.items():
    assert count(module) == formula, name
    print(f"  {name:14s} {count(module):7d}")
print("peephole and coupled cells = their formulas; gradcheck passed")

# %% [markdown]
# ## 3. The adding problem
#
# Each step of the input carries a pair (value, marker); two steps are marked, one in each
# half of the sequence, and the target is the sum of their values (Hochreiter & Schmidhuber
# 1997; here the form of Le et al. 2015: values in $[0, 1]$). Predicting the mean, 1, gives
# the mean squared error $\text{Var}(X_1 + X_2) = 1/6$: a network has learned something only
# below that line. The network must carry the first value across half the sequence, with
# nothing to learn from until it does. One layer of 32 units, the last output read by a
# linear layer, Adam, gradients clipped to norm 1.

# %%
T_add, steps_add = 20 * SCALE, 600 * SCALE
x_val, y_val = adding_problem(500, T_add, seed=1)


class AddingModel(nn.Module):
    def __init__(self, kind, hidden=32):
        super().__init__()
        self.rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](2, hidden,
                                                                         batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        seq_out, _ = self.rnn(x)
        return self.head(seq_out[:, -1])


curves = {}
for kind in ("RNN", "LSTM", "GRU"):
    ag.manual_seed(0)
    model = AddingModel(kind)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    data_rng = np.random.default_rng(0)
    curve = []
    for step in range(steps_add + 1):
        if step % 25 == 0:
            with ag.no_grad():
                curve.append((step, F.mse_loss(model(x_val), y_val).item()))
        if step == steps_add:
            break
        x_batch, y_batch = adding_problem(32, T_add, seed=data_rng)
        loss = F.mse_loss(model(x_batch), y_batch)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    curves[kind] = np.array(curve)
    print(f"{kind:4s}: validation MSE {curve[-1][1]:.4f} after {steps_add} steps")
assert curves["LSTM"][-1, 1] < 0.02 and curves["GRU"][-1, 1] < 0.02

fig, ax = plt.subplots(figsize=(8, 4))
for kind, curve in curves.items():
    ax.semilogy(curve[:, 0], curve[:, 1], label=kind)
ax.axhline(1 / 6, color="k", ls="--", lw=1, label="predict the mean (1/6)")
ax.set(xlabel="training step", ylabel="validation MSE", title=f"adding problem, T = {T_add}")
ax.legend()
plt.show()

# %% [markdown]
# The gated networks sit on the baseline for a while, then find the marked values and the
# error falls by two orders of magnitude; the plain RNN stays at the baseline (with this
# budget): the gradient from the target reaches the first marked step through ~15
# Jacobians, and notebook 04 showed what that does to it.
#
# ## 4. Sequence to sequence with attention
#
# An encoder reads the source; a decoder writes the target one token at a time. Bahdanau,
# Cho & Bengio (2015) let the decoder look back at every encoder state $h_j$ (the
# *annotations*) at every step $i$, with additive attention:
#
# $$e_{ij} = v^\top \tanh(W_q s_{i-1} + W_k h_j), \qquad
#   \alpha_{ij} = \frac{\exp e_{ij}}{\sum_k \exp e_{ik}}, \qquad
#   c_i = \sum_j \alpha_{ij} h_j, \qquad s_i = \text{GRU}(s_{i-1}, [E y_{i-1}; c_i]).$$
#
# First `nn.AdditiveAttention` against these formulas, including a padded key.

# %%
attention = nn.AdditiveAttention(5, 6, 7).double()
query, keys = rng.normal(size=(2, 5)), rng.normal(size=(2, 4, 6))
pad = np.array([[False] * 4, [False, False, False, True]])
context, alpha = attention(t64(query), t64(keys), key_padding_mask=ag.tensor(pad))
Wq, Wk = attention.query_proj.weight.data, attention.key_proj.weight.data
v = attention.score_proj.weight.data[0]
e = np.tanh((query @ Wq.T)[:, None, :] + keys @ Wk.T) @ v          # (N, S)
e[pad] = -np.inf
alpha_hand = np.exp(e - e.max(1, keepdims=True))
alpha_hand /= alpha_hand.sum(1, keepdims=True)
np.testing.assert_allclose(alpha.data, alpha_hand, rtol=1e-12, atol=1e-15)
np.testing.assert_allclose(context.data, np.einsum("ns,nsd->nd", alpha_hand, keys), rtol=1e-12)
print("additive attention = the formulas; padded key weight:", alpha.data[1, 3])

# %% [markdown]
# The task: reverse a string of 4 to 8 digits. `nn.models.seq2seq.Seq2Seq` has a
# bidirectional GRU encoder over the packed (variable-length) source, the decoder above
# (teacher forcing in training, greedy decoding after), and an end-of-sequence token.

# %%
ag.manual_seed(0)
s2s = Seq2Seq(embed_dim=16, hidden_size=32, decoder_size=32, attention_size=32)
opt = optim.Adam(s2s.parameters(), lr=1e-2)
data_rng = np.random.default_rng(0)
src_test, len_test, tgt_test = reverse_digits_task(200, 4, 8, seed=1)
history = []
for _ in range(150 * SCALE):
    src, lengths, tgt = reverse_digits_task(64, 4, 8, seed=data_rng)
    loss = s2s.loss(src, lengths, tgt)
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(s2s.parameters(), 1.0)
    opt.step()
    history.append(loss.item())
pred, attn = s2s.greedy_decode(src_test, len_test, 9)
accuracy = sequence_accuracy(pred, tgt_test)
print(f"held-out strings reversed exactly: {accuracy:.1%}")
assert accuracy > 0.8

# %% [markdown]
# To reverse, output $i$ must copy input $L - 1 - i$: the attention should learn that
# alignment, an anti-diagonal, without ever being told. Measured over the test strings:
# the share of output digits whose largest attention weight is on the mirrored input.

# %%
lengths_np = len_test.data
on_mirror = [attn.data[n, i].argmax() == lengths_np[n] - 1 - i
             for n in range(len(lengths_np)) for i in range(lengths_np[n])]
print(f"attention peaks on the mirrored position for {np.mean(on_mirror):.1%} of the outputs")
assert np.mean(on_mirror) > 0.7

fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), gridspec_kw=dict(width_ratios=[1.4, 1, 1, 1]))
axes[0].plot(history)
axes[0].set(yscale="log", xlabel="step", ylabel="cross-entropy", title="training loss")
for ax, n in zip(axes[1:], (0, 1, 2)):
    length = lengths_np[n]
    digits = [str(d - 3) for d in src_test.data[n, :length]]
    out_tokens = pred.data[n]
    out_len = length + 1
    ax.imshow(attn.data[n, :out_len, :length], cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(length), digits)
    ax.set_yticks(range(out_len), [str(t - 3) if t >= 3 else "EOS" if t == EOS else "?"
                                   for t in out_tokens[:out_len]])
    ax.set(xlabel="source", ylabel="output")
fig.suptitle("attention weights a_ij (dark: close to 1)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Recursive networks
#
# A recursive network applies one composition function at every internal node of a tree,
# bottom-up: with children vectors $c_1, c_2$,
#
# $$p = \tanh\big(W [c_1; c_2] + b\big), \qquad \hat y = \text{softmax}(V p + d),$$
#
# leaves being word embeddings. The gradient flows back down the same tree
# (*backpropagation through structure*): with $\delta_p = \partial L / \partial p$,
# $\bar a = \delta_p \odot (1 - p^2)$, $\nabla W \mathrel{+}= \bar a [c_1; c_2]^\top$ and
# $[\delta_{c_1}; \delta_{c_2}] \mathrel{+}= W^\top \bar a$, the same $W$ at every node.
#
# The data: a small sentiment grammar with negation. A sentence is
# `((the NOUN) (was PHRASE))`, a phrase is an adjective or `(not PHRASE)` or
# `(very PHRASE)`; "not" flips the polarity, "very" keeps it. Every phrase node is labelled
# with its polarity (as in the Stanford Sentiment Treebank), so the network is taught at
# every level of the tree.

# %%
POSITIVE, NEGATIVE = ["good", "great", "fun"], ["bad", "dull", "boring"]
WORDS = ["the", "was", "not", "very", "movie", "plot", "film"] + POSITIVE + NEGATIVE
WORD_ID = {w: i for i, w in enumerate(WORDS)}


def make_sentence(noun, modifiers, adjective):
    """A tree (nested tuples of words) and its labels: [(subtree, polarity 0/1)]."""
    phrase, polarity = adjective, int(adjective in POSITIVE)
    labelled = [(phrase, polarity)]
    for word in reversed(modifiers):
        phrase = (word, phrase)
        polarity = 1 - polarity if word == "not" else polarity
        labelled.append((phrase, polarity))
    verb_phrase = ("was", phrase)
    tree = (("the", noun), verb_phrase)
    return tree, labelled + [(verb_phrase, polarity), (tree, polarity)]


sentences = []
for noun in ("movie", "plot", "film"):
    for adjective in POSITIVE + NEGATIVE:
        for depth in range(4):
            for code in range(2 ** depth):
                modifiers = ["not" if (code >> k) & 1 else "very" for k in range(depth)]
                sentences.append(make_sentence(noun, modifiers, adjective))
order = rng.permutation(len(sentences))
train_set = [sentences[k] for k in order[:200]]
test_set = [sentences[k] for k in order[200:]]
print(f"{len(sentences)} sentences ({len(train_set)} for training), e.g.")
for tree, labels in sentences[-3:]:
    print("  ", tree, "->", "positive" if labels[-1][1] else "negative")

# %% [markdown]
# The network is `nn.models.recursive.RecursiveNet`: an embedding, the composition
# `compose = nn.Linear(2D, D)` followed by tanh, and a linear `head`. Its leaves are token
# ids, so the word trees are converted. `encode(tree)` is the recursion exactly as written;
# every labelled phrase is scored from its own vector.

# %%
D_tree = 8


def to_ids(tree):
    return WORD_ID[tree] if isinstance(tree, str) else (to_ids(tree[0]), to_ids(tree[1]))


def labelled_nodes(data):
    """[(tree, labels)] -> the labelled subtrees (as id trees) and their labels."""
    nodes = [to_ids(node) for _, labels in data for node, _ in labels]
    return nodes, ag.tensor([y for _, labels in data for _, y in labels])


def recursion_loss(net, data):
    """Sum of the cross-entropies of every labelled node, each encoded by the recursion."""
    nodes, targets = labelled_nodes(data)
    logits = net.head(ag.stack([net.encode(node) for node in nodes]))
    return F.cross_entropy(logits, targets, reduction="sum")


ag.manual_seed(0)
tree_net = RecursiveNet(len(WORDS), D_tree, 2, dtype=ag.float64)

# %% [markdown]
# Backpropagation through structure by hand on one tree, against the engine.

# %%
def bpts_hand(tree, labels, E, W, b, V, d):
    """Forward and backward by hand -> loss and the gradients of E, W, b, V, d.
    (A subtree occurs once per tree in this grammar, so it can key its node.)"""
    vec, kids = {}, {}

    def forward(node):
        if isinstance(node, str):
            vec[node] = E[WORD_ID[node]]
        else:
            kids[node] = np.concatenate([forward(node[0]), forward(node[1])])
            vec[node] = np.tanh(W @ kids[node] + b)
        return vec[node]

    forward(tree)
    grads = dict(E=np.zeros_like(E), W=np.zeros_like(W), b=np.zeros_like(b),
                 V=np.zeros_like(V), d=np.zeros_like(d))
    delta = {node: np.zeros(len(b)) for node in kids}      # dL/dp of the internal nodes
    loss = 0.0
    for node, y in labels:
        probs = np.exp(V @ vec[node] + d)
        probs /= probs.sum()
        loss -= np.log(probs[y])
        probs[y] -= 1                                       # dL/dlogits = y_hat - 1_y
        grads["V"] += np.outer(probs, vec[node])
        grads["d"] += probs
        if isinstance(node, str):
            grads["E"][WORD_ID[node]] += V.T @ probs
        else:
            delta[node] += V.T @ probs

    def backward(node):                                     # delta[node] is complete here
        a_bar = delta[node] * (1 - vec[node] ** 2)
        grads["W"] += np.outer(a_bar, kids[node])
        grads["b"] += a_bar
        down = W.T @ a_bar                                  # [delta_c1; delta_c2]
        for child, part in zip(node, (down[:len(b)], down[len(b):])):
            if isinstance(child, str):
                grads["E"][WORD_ID[child]] += part
            else:
                delta[child] += part
                backward(child)

    backward(tree)
    return loss, grads


tree, labels = train_set[0]
tree_net.zero_grad()
loss = recursion_loss(tree_net, [(tree, labels)])
loss.backward()
loss_hand, g_hand = bpts_hand(tree, labels, tree_net.embedding.weight.data,
                              tree_net.compose.weight.data, tree_net.compose.bias.data,
                              tree_net.head.weight.data, tree_net.head.bias.data)
np.testing.assert_allclose(loss.item(), loss_hand, rtol=1e-13)
engine = dict(E=tree_net.embedding.weight.grad, W=tree_net.compose.weight.grad,
              b=tree_net.compose.bias.grad, V=tree_net.head.weight.grad,
              d=tree_net.head.bias.grad)
for name, g in engine.items():
    np.testing.assert_allclose(g.data, g_hand[name], rtol=1e-11, atol=1e-14, err_msg=name)
print(f"tree {tree}: loss {loss_hand:.4f}; hand backpropagation through structure = engine")

# %% [markdown]
# The recorded graph of a short sentence, scored at the root: a cluster per call of
# `compose` (one per internal node) and of `embedding` (one per word). Its shape is the
# tree's.

# %%
small_tree, small_labels = make_sentence("film", ["not"], "fun")
with ag.viz.trace():
    root_logits = tree_net.head(tree_net.encode(to_ids(small_tree)))
    loss = F.cross_entropy(root_logits[None], ag.tensor([small_labels[-1][1]]))
    loss.backward()
ag.viz.draw(loss, params=tree_net, collapse_repeats=False)

# %% [markdown]
# One graph per tree is slow to train: every node is a handful of small operations.
# `RecursiveNet.forward(trees)` evaluates a list of trees together *level by level*: all
# leaves in one embedding lookup, then all nodes of height 1 in one matrix product, then
# height 2, ..., each level gathering its children's rows from the table of the levels below.
# It computes the same values and gradients as the recursion (checked below, on every
# labelled phrase of 20 sentences), with a few dozen operations per batch.

# %%
batch = train_set[:20]
tree_net.zero_grad()
recursion_loss(tree_net, batch).backward()
grads_recursive = [p.grad.data.copy() for p in tree_net.parameters()]
tree_net.zero_grad()
nodes, targets = labelled_nodes(batch)
together = F.cross_entropy(tree_net(nodes), targets, reduction="sum")
together.backward()
np.testing.assert_allclose(together.item(), recursion_loss(tree_net, batch).item(), rtol=1e-12)
for g_rec, p in zip(grads_recursive, tree_net.parameters()):
    np.testing.assert_allclose(p.grad.data, g_rec, rtol=1e-10, atol=1e-13)
print(f"{len(nodes)} labelled phrases of 20 sentences level by level: same loss and "
      "gradients as the recursion")

# %% [markdown]
# Training with Adam on mini-batches of 20 sentences (all their labelled phrases).

# %%
def node_accuracy(net, data):
    nodes, targets = labelled_nodes(data)
    with ag.no_grad():
        predicted = net(nodes).data.argmax(1)
    return float(np.mean(predicted == targets.data))


batches = [labelled_nodes(train_set[k:k + 20]) for k in range(0, len(train_set), 20)]
opt = optim.Adam(tree_net.parameters(), lr=0.05)
tree_curve = []
for _ in range(12 * SCALE):
    for nodes, targets in batches:
        loss = F.cross_entropy(tree_net(nodes), targets, reduction="sum") / 20
        opt.zero_grad()
        loss.backward()
        opt.step()
    tree_curve.append((loss.item(), node_accuracy(tree_net, test_set)))
root_accuracy = node_accuracy(tree_net, [(tree, labels[-1:]) for tree, labels in test_set])
print(f"held-out sentences: {tree_curve[-1][1]:.1%} of the phrase labels and "
      f"{root_accuracy:.1%} of the sentence labels right")
assert root_accuracy > 0.9


# %% [markdown]
# Three held-out trees drawn with the network's prediction at every labelled node (green:
# positive, red: negative; the probability of "positive" in the node).

# %%
def layout(tree):
    """-> {node key: (x, y)} and the edges: x is the order of the leaves (an internal node
    centred over its children), y = -depth."""
    positions, edges, next_leaf = {}, [], [0]

    def place(node, depth):
        if isinstance(node, str):
            key = (node, next_leaf[0])
            positions[key] = (next_leaf[0], -depth)
            next_leaf[0] += 1
            return key
        left, right = place(node[0], depth + 1), place(node[1], depth + 1)
        key = (node, -depth)
        positions[key] = ((positions[left][0] + positions[right][0]) / 2, -depth)
        edges.extend([(key, left), (key, right)])
        return key

    place(tree, 0)
    return positions, edges


fig, axes = plt.subplots(1, 4, figsize=(18, 4.5), gridspec_kw=dict(width_ratios=[0.8, 1, 1, 1]))
axes[0].plot([c[0] for c in tree_curve], "o-", label="training loss (last batch)")
axes[0].plot([c[1] for c in tree_curve], "s-", label="held-out phrase accuracy")
axes[0].set(xlabel="epoch", title="recursive network")
axes[0].legend()
for ax, (tree, labels) in zip(axes[1:], test_set[:3]):
    positions, edges = layout(tree)
    for parent, child in edges:
        (x0, y0), (x1, y1) = positions[parent], positions[child]
        ax.plot([x0, x1], [y0, y1], color="grey", lw=1, zorder=1)
    labelled = dict(labels)
    for (node, _), (px, py) in positions.items():
        if isinstance(node, str):
            ax.text(px, py - 0.35, node, ha="center", va="top", fontsize=10)
        if node in labelled:
            with ag.no_grad():
                p_pos = tree_net.head(tree_net.encode(to_ids(node))).softmax(-1).data[1]
            ax.scatter(px, py, s=520, c=[p_pos], cmap="RdYlGn", vmin=0, vmax=1,
                       edgecolors="k", zorder=2)
            ax.text(px, py, f"{p_pos:.2f}", ha="center", va="center", fontsize=7, zorder=3,
                    color="white" if abs(p_pos - 0.5) > 0.3 else "black")
        else:
            ax.scatter(px, py, s=60, color="lightgrey", edgecolors="k", zorder=2)
    truth = "positive" if labels[-1][1] else "negative"
    ax.set_title(f"label: {truth}")
    ax.axis("off")
    ax.margins(0.1, 0.2)
fig.tight_layout()
plt.show()
