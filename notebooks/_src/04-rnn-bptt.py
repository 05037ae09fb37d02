# Source of notebooks/04-rnn-bptt.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 04 · Recurrent networks and backpropagation through time
#
# A recurrent network applies the same function at every time step, carrying a hidden state
# $h_t$ from one step to the next. The course's Elman network (the notation of Goodfellow et
# al., chapter 10):
#
# $$a_t = b + W h_{t-1} + U x_t, \qquad h_t = \tanh(a_t), \qquad o_t = c + V h_t, \qquad
#   \hat y_t = \text{softmax}(o_t), \qquad L = \sum_t L_t = -\sum_t \log \hat y_{t, y_t} .$$
#
# Unrolled over $T$ steps it is a deep feed-forward network whose layers share $U, W, V$;
# backpropagation through that graph is *backpropagation through time* (BPTT). This notebook
#
# 1. builds the network from `nn.RNNCell` and `nn.Linear` and draws the unrolled graph;
# 2. writes BPTT by hand with numpy and checks every gradient, and every $\nabla_{h_t} L$,
#    against the engine, on the composed cells and on the fused `nn.RNN` layer;
# 3. measures $\lVert \nabla_{h_t} L \rVert$ over $t$: the $\gamma^{T-k}$ bound, vanishing and
#    exploding gradients, and how the gates of the LSTM and the GRU change the picture;
# 4. clips gradients by value and by norm (`nn.utils.clip_grad_value_`, `clip_grad_norm_`)
#    and shows why, on the loss cliff of a one-unit network;
# 5. adds leaky units $h_t = \mu h_{t-1} + (1 - \mu) \tanh(a_t)$ with different $\mu$.
#
# `SCALE` makes the sequences longer; the defaults run in seconds.

# %%
SCALE = 1                 # 2, 4, ...: longer sequences and wider states

import matplotlib.pyplot as plt
import numpy as np

import autograd as ag
import nn
import nn.functional as F
from autograd.autograd.functional import jacobian

try:                      # the library's leaky cell and BPTT diagnostics, when installed
    from nn.rnn_variants import LeakyRNNCell
except ImportError:
    LeakyRNNCell = None
try:
    from nn.utils.bptt import hidden_grad_norms
except ImportError:
    hidden_grad_norms = None

np.set_printoptions(precision=4, suppress=True, linewidth=110)
ag.manual_seed(0)
rng = np.random.default_rng(0)


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# %% [markdown]
# ## 1. The network, unrolled
#
# A character model on the classic toy sequence: reading `hell` it should predict `ello`.
# The vocabulary is four one-hot symbols. `nn.RNNCell` computes
# $h_t = \tanh(x_t U^\top + b_{ih} + h_{t-1} W^\top + b_{hh})$ (a row per example; its
# `weight_ih` is $U$, `weight_hh` is $W$, and $b = b_{ih} + b_{hh}$), and `nn.Linear` the
# scores $o_t$. The forward pass is a Python loop: the graph is recorded step by step.

# %%
VOCAB = "helo"
K, H = len(VOCAB), 3
text_in, text_out = "hell", "ello"
x_ids = np.array([VOCAB.index(ch) for ch in text_in])
y_ids = np.array([VOCAB.index(ch) for ch in text_out])
X_onehot = np.eye(K)[x_ids]                              # (T, K)
T = len(x_ids)


class ElmanRNN(nn.Module):
    """x: (T, B, K) -> scores o: (T, B, K) and the states [h_1 .. h_T], each (B, H)."""

    def __init__(self, vocab, hidden):
        super().__init__()
        self.cell = nn.RNNCell(vocab, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, h=None):
        states, scores = [], []
        for t in range(x.shape[0]):
            h = self.cell(x[t], h)              # h_t = tanh(b + W h_{t-1} + U x_t)
            states.append(h)
            scores.append(self.out(h))          # o_t = c + V h_t
        return ag.stack(scores), states


model = ElmanRNN(K, H).double()
x_seq = t64(X_onehot[:, None, :])                        # (T, B=1, K)
targets = ag.tensor(y_ids)
with ag.viz.trace():
    scores, states = model(x_seq)
    loss = F.cross_entropy(scores.reshape(T, K), targets, reduction="sum")
    loss.backward()
print(f"L = {loss.item():.4f}   (T log K = {T * np.log(K):.4f} for uniform predictions)")
ag.viz.draw(loss, params=model, collapse_repeats=False, rankdir="LR")

# %% [markdown]
# Each `cell` cluster is one time step and each `out` cluster one output; the same leaves
# `cell.weight_hh` ($W$), `cell.weight_ih` ($U$), `out.weight` ($V$) feed every step, and
# their gradients are the sums over the steps. The colour of a node is the norm of its
# gradient.
#
# ## 2. BPTT by hand
#
# Going backwards from the last step, with $\mathbf 1_{y_t}$ the one-hot target:
#
# $$\nabla_{o_t} L = \hat y_t - \mathbf 1_{y_t}, \qquad
#   \nabla_{h_T} L = V^\top \nabla_{o_T} L, \qquad
#   \nabla_{h_t} L = W^\top \text{diag}(1 - h_{t+1}^2)\, \nabla_{h_{t+1}} L
#                    + V^\top \nabla_{o_t} L ,$$
#
# $$\nabla_c L = \sum_t \nabla_{o_t} L, \quad \nabla_V L = \sum_t \nabla_{o_t} L\, h_t^\top,
#   \quad \nabla_b L = \sum_t \text{diag}(1 - h_t^2) \nabla_{h_t} L, \quad
#   \nabla_W L = \sum_t \text{diag}(1 - h_t^2) \nabla_{h_t} L\, h_{t-1}^\top, \quad
#   \nabla_U L = \sum_t \text{diag}(1 - h_t^2) \nabla_{h_t} L\, x_t^\top .$$

# %%
def softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


def bptt(X, y, U, W, b, V, c, h0):
    """Forward and BPTT for one sequence (column vectors, as the equations)
    -> L, the states h_1..h_T, the gradients dL/dh_t and the parameter gradients."""
    T, hidden = len(X), len(h0)
    h, y_hat = [h0], []
    for t in range(T):
        h.append(np.tanh(b + W @ h[t] + U @ X[t]))              # h[t + 1] is h_t
        y_hat.append(softmax(c + V @ h[t + 1]))
    L = -sum(np.log(y_hat[t][y[t]]) for t in range(T))
    grads = {name: np.zeros_like(p) for name, p in dict(U=U, W=W, b=b, V=V, c=c).items()}
    dh = [None] * T
    carry = np.zeros(hidden)                     # W^T diag(1 - h_{t+1}^2) dL/dh_{t+1}
    for t in reversed(range(T)):
        do = y_hat[t] - np.eye(len(c))[y[t]]
        dh[t] = V.T @ do + carry
        da = (1 - h[t + 1] ** 2) * dh[t]         # dL/da_t
        carry = W.T @ da
        grads["c"] += do
        grads["V"] += np.outer(do, h[t + 1])
        grads["b"] += da
        grads["W"] += np.outer(da, h[t])
        grads["U"] += np.outer(da, X[t])
    return L, h[1:], dh, grads


cell, out = model.cell, model.out
params = dict(U=cell.weight_ih.data, W=cell.weight_hh.data, b=cell.bias_ih.data + cell.bias_hh.data,
              V=out.weight.data, c=out.bias.data)
L_hand, h_hand, dh_hand, g_hand = bptt(X_onehot, y_ids, h0=np.zeros(H), **params)

np.testing.assert_allclose(loss.item(), L_hand, rtol=1e-13)
np.testing.assert_allclose(np.stack([s.data[0] for s in states]), np.stack(h_hand), rtol=1e-13)
engine_grads = dict(U=cell.weight_ih.grad, W=cell.weight_hh.grad, b=cell.bias_ih.grad,
                    V=out.weight.grad, c=out.bias.grad)
for name, g in engine_grads.items():
    np.testing.assert_allclose(g.data, g_hand[name], rtol=1e-11, atol=1e-14, err_msg=name)
np.testing.assert_allclose(cell.bias_hh.grad.data, g_hand["b"], rtol=1e-11, atol=1e-14)
print("dL/dU, dL/dW, dL/db, dL/dV, dL/dc: hand BPTT = engine")

# %% [markdown]
# The gradients with respect to the states themselves, $\nabla_{h_t} L$, come from
# `ag.grad(L, [h_1, ..., h_T])`: the engine accumulates into each $h_t$ the contributions of
# both its uses, the output $o_t$ and the next state $h_{t+1}$, exactly as the recursion.

# %%
scores, states = model(x_seq)
loss = F.cross_entropy(scores.reshape(T, K), targets, reduction="sum")
dh_engine = ag.grad(loss, states)
for t in range(T):
    np.testing.assert_allclose(dh_engine[t].data[0], dh_hand[t], rtol=1e-11, atol=1e-14)
print("dL/dh_t for t = 1..T:")
print(np.stack(dh_hand))

# %% [markdown]
# `nn.RNN` runs the same recurrence over the whole sequence as one fused primitive (a numba
# loop forward, and BPTT as one numba loop backward). With the cell's weights copied in, it
# gives the same loss and the same gradients; `gradcheck` confirms the composed cells
# against finite differences.

# %%
layer = nn.RNN(K, H).double()
with ag.no_grad():
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(layer, name + "_l0").copy_(getattr(cell, name))
seq_out, h_last = layer(x_seq)                        # (T, 1, H), (1, 1, H)
loss_fused = F.cross_entropy(out(seq_out).reshape(T, K), targets, reduction="sum")
grads_fused = ag.grad(loss_fused, [layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_hh_l0])
np.testing.assert_allclose(loss_fused.item(), L_hand, rtol=1e-13)
for g, name in zip(grads_fused, ("U", "W", "b")):
    np.testing.assert_allclose(g.data, g_hand[name], rtol=1e-11, atol=1e-14, err_msg=name)


def loss_of(w_hh, w_ih):
    h, total = None, 0.0
    for t in range(T):
        h = F.rnn_tanh_cell(x_seq[t], h if h is not None else ag.zeros(1, H, dtype=ag.float64),
                            w_ih, w_hh, cell.bias_ih, cell.bias_hh)
        total = total + F.cross_entropy(out(h), targets[t:t + 1])
    return total


assert ag.autograd.gradcheck(loss_of, [t64(cell.weight_hh.data, requires_grad=True),
                                       t64(cell.weight_ih.data, requires_grad=True)])
print("nn.RNN (fused) = hand BPTT; gradcheck of the composed cells passed")

# %% [markdown]
# ## 3. Vanishing and exploding gradients
#
# With the loss on the last state only, the recursion gives
# $\nabla_{h_k} L = \left(\frac{\partial h_T}{\partial h_k}\right)^{\!\top} \nabla_{h_T} L$
# with the product of Jacobians
#
# $$\frac{\partial h_T}{\partial h_k} = \prod_{t = k+1}^{T} \frac{\partial h_t}{\partial h_{t-1}}
#   = \prod_{t=k+1}^{T} \text{diag}\big(\tanh'(a_t)\big)\, W, \qquad
#   \Big\lVert \frac{\partial h_T}{\partial h_k} \Big\rVert
#   \le \big(\gamma\, \sigma_{\max}(W)\big)^{T-k},$$
#
# with $\gamma = \max |\tanh'| = 1$ and $\sigma_{\max}(W)$ the largest singular value. When
# $\gamma\,\sigma_{\max}(W) < 1$ the gradient reaching step $k$ shrinks exponentially in
# $T - k$ (it *vanishes*); when the product of Jacobians grows, it *explodes*.
#
# **A linear recurrence makes the bound exact.** With $h_t = W h_{t-1} + U x_t$ and
# $W = \lambda Q$, $Q$ orthogonal, $\partial h_T / \partial h_k = \lambda^{T-k} Q^{T-k}$, so
# $\lVert \nabla_{h_k} L \rVert = \lambda^{T-k} \lVert \nabla_{h_T} L \rVert$ exactly.

# %%
T_long, H_big, I_in, B = 60 * SCALE, 32, 4, 8
x_long = t64(rng.normal(size=(T_long, B, I_in)))
readout = t64(rng.normal(size=(B, H_big)))          # L = sum(readout * h_T): dL/dh_T = readout
Q, _ = np.linalg.qr(rng.normal(size=(H_big, H_big)))
U_in = t64(rng.normal(0, 0.01, (H_big, I_in)), requires_grad=True)     # small inputs


def state_gradient_norms(step, x, state=None):
    """Unroll state = step(x_t, state) over t; L = sum(readout * h_T)
    -> ||dL/dh_t|| for t = 1..T (and ||dL/dc_t|| when the state is a pair (h, c))."""
    hs, cs = [], []
    for t in range(x.shape[0]):
        state = step(x[t], state)
        h, c = state if isinstance(state, tuple) else (state, None)
        hs.append(h)
        if c is not None:
            cs.append(c)
    grads = ag.grad((hs[-1] * readout).sum(), hs + cs)
    norms = np.array([np.linalg.norm(g.data) for g in grads])
    return (norms[:len(hs)], norms[len(hs):]) if cs else norms


def linear_step(lam):
    W = t64(lam * Q)
    return lambda x_t, h: F.linear(x_t, U_in) + (0 if h is None else F.linear(h, W))


steps_back = np.arange(T_long)[::-1]                  # T - k for k = 1..T
linear_norms = {}
for lam in (0.8, 0.9, 1.0, 1.1):
    norms = state_gradient_norms(linear_step(lam), x_long)
    np.testing.assert_allclose(norms / norms[-1], lam ** steps_back, rtol=1e-9)
    linear_norms[lam] = norms / norms[-1]
print("linear recurrence: ||dL/dh_k|| = lambda^(T-k) ||dL/dh_T||, to 1e-9")

# %% [markdown]
# **With tanh** the Jacobians carry $\text{diag}(1 - h_t^2) \le I$: the bound
# $(\sigma_{\max}(W))^{T-k}$ holds (the assertion below checks it at every $k$) and is reached
# only while the units stay in their linear range. Below, $W = \gamma Q$ for several
# $\gamma$ and small inputs: below 1 the gradient vanishes at the rate $\gamma^{T-k}$;
# above 1 it explodes, at a lower rate than the bound once the states grow and the units
# saturate.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
for lam, ratio in linear_norms.items():
    ax1.semilogy(np.arange(1, T_long + 1), ratio, label=f"lambda = {lam}")
ax1.set(xlabel="step k", ylabel="||dL/dh_k|| / ||dL/dh_T||",
        title="linear RNN, W = lambda Q: exactly lambda^(T-k)")
ax1.legend()
for gain in (0.8, 0.9, 1.0, 1.1, 1.5, 3.0):
    rnn_cell = nn.RNNCell(I_in, H_big).double()
    with ag.no_grad():
        rnn_cell.weight_hh.copy_(t64(gain * Q))
        rnn_cell.weight_ih.copy_(U_in)
        rnn_cell.bias_ih.zero_()
        rnn_cell.bias_hh.zero_()
    norms = state_gradient_norms(rnn_cell, x_long)
    bound = gain ** steps_back * norms[-1]
    assert np.all(norms <= bound * (1 + 1e-10)), gain
    line, = ax2.semilogy(np.arange(1, T_long + 1), norms / norms[-1], label=f"gamma = {gain}")
    ax2.semilogy(np.arange(1, T_long + 1), bound / norms[-1], ":", color=line.get_color())
ax2.set(xlabel="step k", title="tanh RNN, W = gamma Q (dotted: the bound gamma^(T-k))")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# **RNN, LSTM and GRU.** At PyTorch's default initialisation all three forget quickly: the
# LSTM's forget gate and the GRU's update gate start near $\sigma(0) = 1/2$, so the cell path
# $c_t = f_t \odot c_{t-1} + \dots$ halves the gradient at each step. The gates are learned,
# though: a forget-gate bias of 3 ($f \approx 0.95$; Jozefowicz et al. 2015 recommend 1) or a
# GRU update-gate bias of 3 lets the gradient cross the whole sequence, where the tanh RNN,
# whose Jacobian is fixed by $W$, cannot. (When `nn.utils.bptt` is installed, its
# `hidden_grad_norms` is checked to give the same norms.)

# %%
T_gate = 100 * SCALE
x_gate = t64(rng.normal(size=(T_gate, B, I_in)))
cells = {}
for name, kind, gate_bias in [("RNN", nn.RNNCell, None), ("LSTM", nn.LSTMCell, None),
                              ("GRU", nn.GRUCell, None), ("LSTM, b_f = 3", nn.LSTMCell, 3.0),
                              ("GRU, b_z = 3", nn.GRUCell, 3.0)]:
    ag.manual_seed(1)
    cells[name] = kind(I_in, H_big).double()
    if gate_bias is not None:            # LSTM blocks [i f g o], GRU blocks [r z n]: block 1
        with ag.no_grad():
            cells[name].bias_hh[H_big:2 * H_big].fill_(gate_bias)

fig, ax = plt.subplots(figsize=(8, 4.2))
ratios = {}
for name, c in cells.items():
    result = state_gradient_norms(c, x_gate)
    norms = result[0] if isinstance(result, tuple) else result
    ratios[name] = norms[0] / norms[-1]
    if hidden_grad_norms is not None:        # the library's diagnostic gives the same norms
        library_norms = hidden_grad_norms(c, x_gate, lambda out, state: (out[-1] * readout).sum())
        np.testing.assert_allclose(library_norms, norms, rtol=1e-10)
    line, = ax.semilogy(np.arange(1, T_gate + 1), norms / norms[-1], label=name)
    if isinstance(result, tuple):
        ax.semilogy(np.arange(1, T_gate + 1), result[1] / norms[-1], "--", lw=1,
                    color=line.get_color(), label=name + ": ||dL/dc_k||")
ax.set(xlabel="step k", ylabel="||dL/dh_k|| / ||dL/dh_T||", title=f"T = {T_gate}")
ax.legend(fontsize=8)
plt.show()
for name, r in ratios.items():
    print(f"{name:14s} ||dL/dh_1|| / ||dL/dh_T|| = {r:.2e}")
assert ratios["RNN"] < 1e-8 and ratios["LSTM"] < 1e-8
assert ratios["LSTM, b_f = 3"] > 1e-3 and ratios["GRU, b_z = 3"] > 1e-3

# %% [markdown]
# ## 4. Gradient clipping
#
# Two remedies for exploding gradients, both applied between `backward()` and the optimiser
# step:
#
# * by value, element by element: $g_i \leftarrow \max(-v, \min(v, g_i))$
#   (`nn.utils.clip_grad_value_`): bounded, but the direction changes;
# * by norm, the whole gradient as one vector: if $\lVert g \rVert > v$,
#   $g \leftarrow g\, v / \lVert g \rVert$ (`nn.utils.clip_grad_norm_`, which returns
#   $\lVert g \rVert$ and, as PyTorch, divides by $\lVert g \rVert + 10^{-6}$): same direction,
#   bounded step (Pascanu et al. 2013).
#
# Checked on the gradients of a tanh RNN in its exploding regime ($\gamma = 1.5$).

# %%
ag.manual_seed(0)
exploding = nn.RNN(I_in, H_big).double()
with ag.no_grad():
    exploding.weight_hh_l0.copy_(t64(1.5 * Q))
    exploding.weight_ih_l0.copy_(U_in)


def rnn_gradients():
    exploding.zero_grad()
    seq_out, _ = exploding(x_long)
    (seq_out[-1] * readout).sum().backward()
    return [p.grad.data.copy() for p in exploding.parameters()]


raw = rnn_gradients()
flat = np.concatenate([g.ravel() for g in raw])
clip_value, max_norm = 0.5, 1.0

nn.utils.clip_grad_value_(exploding.parameters(), clip_value)
by_value = [p.grad.data.copy() for p in exploding.parameters()]
for g, clipped in zip(raw, by_value):
    np.testing.assert_array_equal(clipped, np.clip(g, -clip_value, clip_value))

rnn_gradients()
total = nn.utils.clip_grad_norm_(exploding.parameters(), max_norm)
by_norm = [p.grad.data.copy() for p in exploding.parameters()]
np.testing.assert_allclose(total.item(), np.linalg.norm(flat), rtol=1e-12)
for g, clipped in zip(raw, by_norm):
    np.testing.assert_allclose(clipped, g * min(1.0, max_norm / (np.linalg.norm(flat) + 1e-6)),
                               rtol=1e-12)


def cosine(a, b):
    a, b = np.concatenate([x.ravel() for x in a]), np.concatenate([x.ravel() for x in b])
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


print(f"||g|| = {np.linalg.norm(flat):.1f}; after clipping by value: "
      f"||g|| = {np.linalg.norm(np.concatenate([g.ravel() for g in by_value])):.2f}, "
      f"cosine with g = {cosine(raw, by_value):.3f}")
print(f"after clipping by norm: ||g|| = "
      f"{np.linalg.norm(np.concatenate([g.ravel() for g in by_norm])):.6f}, "
      f"cosine with g = {cosine(raw, by_norm):.12f}")
assert abs(cosine(raw, by_norm) - 1) < 1e-12 and cosine(raw, by_value) < 0.999

# %% [markdown]
# **Why: the cliff.** A single unit $h_t = \tanh(w h_{t-1} + b)$ with $b = -0.1$,
# $h_0 = 0.5$, run for 30 steps, with the loss $(h_T - 0.7)^2$. As $w$ crosses about 1.28
# the state stops decaying towards the negative fixed point and settles on the positive one:
# the loss drops by 2 over a tiny interval of $w$, and the gradient there is in the hundreds.
# The engine computes the loss and $dL/dw$ for a whole grid of $w$ at once (the grid is a
# vector; the recurrence acts element by element). Gradient descent started at the top edge
# of the cliff takes one huge step and is thrown far away, onto a plateau where the gradient
# vanishes; the clipped step, bounded by $\eta v$, goes down the cliff and converges to the
# minimum at $w = (\operatorname{artanh} 0.7 - b) / 0.7 \approx 1.382$.

# %%
T_cliff, b_cliff, h0_cliff, target = 30, -0.1, 0.5, 0.7


def cliff_loss(w):
    h = ag.full(tuple(w.shape), h0_cliff, dtype=ag.float64)
    for _ in range(T_cliff):
        h = (w * h + b_cliff).tanh()
    return (h - target) ** 2


w_grid = t64(np.linspace(0.6, 2.2, 1601), requires_grad=True)
L_grid = cliff_loss(w_grid)
L_grid.sum().backward()
slope = w_grid.grad.data
print(f"max |dL/dw| = {np.abs(slope).max():.0f} at w = {w_grid.data[np.argmax(np.abs(slope))]:.3f}")
assert np.abs(slope).max() > 100

# dL/dw at one point, by hand: h_t = tanh(w h_{t-1} + b),
# dh_t/dw = (1 - h_t^2) (h_{t-1} + w dh_{t-1}/dw), dL/dw = 2 (h_T - 0.7) dh_T/dw
w0 = 1.25
h_val, dh_dw = h0_cliff, 0.0
for _ in range(T_cliff):
    h_new = np.tanh(w0 * h_val + b_cliff)
    dh_dw = (1 - h_new ** 2) * (h_val + w0 * dh_dw)
    h_val = h_new
w_one = t64([w0], requires_grad=True)
(g_one,) = ag.grad(cliff_loss(w_one).sum(), [w_one])
np.testing.assert_allclose(g_one.data[0], 2 * (h_val - target) * dh_dw, rtol=1e-10)


def descend(w_start, lr, steps, clip=None):
    path = [w_start]
    for _ in range(steps):
        w = t64([path[-1]], requires_grad=True)
        cliff_loss(w).sum().backward()
        if clip is not None:
            nn.utils.clip_grad_norm_([w], clip)
        path.append(path[-1] - lr * w.grad.item())
    return np.array(path)


w_start, lr = 1.275, 0.1
plain = descend(w_start, lr, 30)
clipped = descend(w_start, lr, 30, clip=1.0)
loss_plain, loss_clipped = cliff_loss(t64([plain[-1], clipped[-1]])).data
print(f"from w = {w_start}: plain gradient descent ends at w = {plain[-1]:.2f} (loss "
      f"{loss_plain:.3f}); clipped by norm at w = {clipped[-1]:.4f} (loss {loss_clipped:.1e})")
assert plain[1] - plain[0] > 5 and loss_plain > 0.05
assert abs(clipped[-1] - (np.arctanh(target) - b_cliff) / target) < 1e-3 and loss_clipped < 1e-6

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
ax1.plot(w_grid.data, L_grid.data, "k", lw=1)
ax1.plot(clipped, cliff_loss(t64(clipped)).data, "s-", ms=4, label="SGD, clipped by norm")
ax1.plot(plain[:1], cliff_loss(t64(plain[:1])).data, "o", color="tab:red", ms=8,
         label=f"start; plain SGD's first step goes to w = {plain[1]:.1f}")
ax1.set(xlabel="w", ylabel="L(w)", title="the loss cliff of a one-unit RNN, T = 30")
ax1.legend()
ax2.semilogy(w_grid.data, np.abs(slope) + 1e-12)
ax2.set(xlabel="w", ylabel="|dL/dw| (engine)", title="the gradient on the same grid")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Leaky units
#
# A leaky unit mixes the previous state with the new candidate,
#
# $$h_t = \mu\, h_{t-1} + (1 - \mu) \tanh(b + W h_{t-1} + U x_t),$$
#
# so that its Jacobian $\partial h_t / \partial h_{t-1} = \mu I + (1 - \mu)\,
# \text{diag}(1 - \tilde h_t^2)\, W$ ($\tilde h_t$ the tanh term) stays close to $\mu I$:
# for $\mu \to 1$ the state, and the gradient, decay on a time scale of about
# $1 / (1 - \mu)$ steps. $\mu = 0$ is the plain RNN. Here it is written from `nn.RNNCell`
# in one line, checked against the formula with numpy (and against the library's
# `LeakyRNNCell` when `nn.rnn_variants` is installed).

# %%
def leaky_step(rnn_cell, mu):
    return lambda x_t, h: (mu * (0 if h is None else h)
                           + (1 - mu) * rnn_cell(x_t, h))


ag.manual_seed(2)
base = nn.RNNCell(I_in, H_big).double()
Wl, Ul = base.weight_hh.data, base.weight_ih.data
bl = base.bias_ih.data + base.bias_hh.data
x_few = x_long[:5]
for mu in (0.0, 0.5, 0.9, 0.99):
    h_np = np.zeros((B, H_big))
    h_eng = None
    step = leaky_step(base, mu)
    library = None
    if LeakyRNNCell is not None:
        library = LeakyRNNCell(I_in, H_big, mu=mu, dtype=ag.float64)
        library.load_state_dict({**base.state_dict(), "mu": library.mu})
    h_lib = None
    for t in range(5):
        h_np = mu * h_np + (1 - mu) * np.tanh(bl + h_np @ Wl.T + x_few.data[t] @ Ul.T)
        h_eng = step(x_few[t], h_eng)
        np.testing.assert_allclose(h_eng.data, h_np, rtol=1e-12, atol=1e-14)
        if library is not None:
            h_lib = library(x_few[t], h_lib)
            np.testing.assert_allclose(h_lib.data, h_np, rtol=1e-12, atol=1e-14)
    # the one-step Jacobian of one example's state
    h_prev = t64(rng.normal(0, 0.5, H_big))
    J = jacobian(lambda h, step=step: step(x_few[0, :1], h[None])[0], h_prev)
    g_tilde = np.tanh(bl + Wl @ h_prev.data + Ul @ x_few.data[0, 0])
    np.testing.assert_allclose(J.data, mu * np.eye(H_big) + (1 - mu) * (1 - g_tilde ** 2)[:, None]
                               * Wl, rtol=1e-11, atol=1e-14)
print("leaky units: states and Jacobians agree with the formulas"
      + (", and nn.rnn_variants.LeakyRNNCell with them" if LeakyRNNCell is not None else
         " (nn.rnn_variants not installed: library check skipped)"))

# %% [markdown]
# Two consequences. Without recurrent weights and input after a first impulse, the state
# decays exactly as $h_t = \mu^{t-1} h_1$ (the time constant). With the same random $W$, a
# larger $\mu$ carries the gradient much further back.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
impulse_np = np.zeros((40, 1, I_in))
impulse_np[0] = 1.0
impulse = t64(impulse_np)
silent = nn.RNNCell(I_in, H_big).double()
with ag.no_grad():
    silent.weight_hh.zero_()
    silent.bias_ih.zero_()
    silent.bias_hh.zero_()
decay_at_1 = {}
for mu in (0.0, 0.5, 0.9, 0.99):
    h, trace = None, []
    step = leaky_step(silent, mu)
    for t in range(40):
        h = step(impulse[t], h)
        trace.append(h.data[0].copy())
    trace = np.array(trace)
    np.testing.assert_allclose(trace, mu ** np.arange(40)[:, None] * trace[0], rtol=1e-12,
                               atol=1e-300)
    ax1.plot(trace[:, 0] / trace[0, 0], label=f"mu = {mu}")
    norms = state_gradient_norms(leaky_step(base, mu), x_long)
    decay_at_1[mu] = norms[0] / norms[-1]
    ax2.semilogy(np.arange(1, T_long + 1), norms / norms[-1], label=f"mu = {mu}")
ax1.set(xlabel="t - 1", ylabel="h_t / h_1", title="impulse response: mu^(t-1)")
ax2.set(xlabel="step k", ylabel="||dL/dh_k|| / ||dL/dh_T||", title="gradient over time")
for ax in (ax1, ax2):
    ax.legend()
fig.tight_layout()
plt.show()
print({mu: f"{r:.1e}" for mu, r in decay_at_1.items()})
assert decay_at_1[0.0] < decay_at_1[0.5] < decay_at_1[0.9] < decay_at_1[0.99]
