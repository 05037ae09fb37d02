# Source of notebooks/01-mlp-backprop.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 01 · The multilayer perceptron and backpropagation
#
# A feed-forward network computes, unit by unit,
#
# $$a_j = \sum_i w_{ji} z_i, \qquad z_j = h(a_j)$$
#
# (a bias is the weight $w_{j0}$ of a constant input $z_0 = 1$). Backpropagation computes the
# gradient of the error $E$ from the *errors* $\delta_j = \partial E / \partial a_j$ of the units:
#
# $$\delta_k = y_k - t_k \ \text{(output units)}, \qquad
#   \delta_j = h'(a_j) \sum_k w_{kj} \delta_k \ \text{(hidden units)}, \qquad
#   \frac{\partial E}{\partial w_{ji}} = \delta_j z_i .$$
#
# This notebook writes these equations with numpy and checks, number by number, that
# tapegrad's reverse-mode engine computes the same gradients. It covers:
#
# 1. activation functions $h$ and their derivatives $h'$ (hand formulas against the engine);
# 2. one example through a small network, index by index, exactly as the equations read;
# 3. the same in matrix form for a batch, and for a deeper network with mixed activations;
# 4. output units and losses: why $\delta_k = y_k - t_k$ holds for the three matching pairs
#    (identity + squared error, sigmoid + binary cross-entropy, softmax + cross-entropy), and
#    what goes wrong with a mismatched pair;
# 5. the recorded graph, drawn;
# 6. gradient descent with the hand-written backward pass against the engine with `optim.SGD`.
#
# `SCALE` makes the networks and the training run larger; the defaults run in seconds.

# %%
SCALE = 1                 # 2, 4, ...: wider networks, more data, more training steps

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import erf

import autograd as ag
import nn
import nn.functional as F
import optim

np.set_printoptions(precision=4, suppress=True)
ag.manual_seed(0)
rng = np.random.default_rng(0)


def t64(a, requires_grad=False):
    """A float64 tensor (the engine agrees with the hand formulas to ~1e-15 in float64)."""
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# %% [markdown]
# ## 1. Activation functions and their derivatives
#
# Each entry holds the engine's function and the hand formulas for $h$ and $h'$. The engine's
# derivative is the gradient of $\sum_n h(a_n)$ with respect to the vector $a$: since $h$ acts
# element by element, its $n$-th entry is $h'(a_n)$.

# %%
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def normal_pdf(a):
    return np.exp(-0.5 * a * a) / np.sqrt(2.0 * np.pi)


ACTIVATIONS = {
    # name: (engine, h(a), h'(a))
    "sigmoid": (F.sigmoid, sigmoid, lambda a: sigmoid(a) * (1 - sigmoid(a))),
    "tanh": (F.tanh, np.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "relu": (F.relu, lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(float)),
    "leaky_relu(0.1)": (lambda a: F.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
                        lambda a: np.where(a > 0, 1.0, 0.1)),
    "elu": (F.elu, lambda a: np.where(a > 0, a, np.expm1(a)),
            lambda a: np.where(a > 0, 1.0, np.exp(a))),
    "softplus": (F.softplus, lambda a: np.log1p(np.exp(a)), sigmoid),
    "gelu": (F.gelu, lambda a: 0.5 * a * (1 + erf(a / np.sqrt(2))),
             lambda a: 0.5 * (1 + erf(a / np.sqrt(2))) + a * normal_pdf(a)),
    "silu": (F.silu, lambda a: a * sigmoid(a),
             lambda a: sigmoid(a) * (1 + a * (1 - sigmoid(a)))),
}

grid = np.linspace(-4, 4, 401)          # includes a = 0: relu'(0) = 0, as PyTorch
curves = {}
for name, (engine_h, h, dh) in ACTIVATIONS.items():
    a = t64(grid, requires_grad=True)
    z = engine_h(a)
    z.sum().backward()
    np.testing.assert_allclose(z.data, h(grid), rtol=1e-12, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(a.grad.data, dh(grid), rtol=1e-12, atol=1e-14, err_msg=name)
    curves[name] = (z.data, a.grad.data)
print(f"{len(ACTIVATIONS)} activations: values and derivatives agree with the hand formulas")

# %%
fig, axes = plt.subplots(2, 4, figsize=(14, 5.5), sharex=True)
for ax, (name, (value, slope)) in zip(axes.flat, curves.items()):
    ax.plot(grid, value, label="h(a)")
    ax.plot(grid, slope, "--", label="h'(a) (engine)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(name)
    ax.set_ylim(-1.5, 4)
axes[0, 0].legend(loc="upper left")
fig.suptitle("Activation functions and the engine's derivatives")
fig.tight_layout()
plt.show()

# %% [markdown]
# The saturating units (sigmoid, tanh) have derivatives that vanish for large $|a|$: a deep
# stack of them multiplies many small $h'(a_j)$ in the $\delta_j$ recursion. Higher
# derivatives come from differentiating the engine's own backward pass
# (`create_graph=True`): for tanh, $h'' = -2 \tanh(a)\,(1 - \tanh^2 a)$.

# %%
a = t64(grid, requires_grad=True)
(d1,) = ag.grad(a.tanh().sum(), [a], create_graph=True)
(d2,) = ag.grad(d1.sum(), [a])
np.testing.assert_allclose(d2.data, -2 * np.tanh(grid) * (1 - np.tanh(grid) ** 2), atol=1e-14)
print("tanh'' from the differentiated backward pass agrees")

# %% [markdown]
# ## 2. One example, index by index
#
# A network with $D$ inputs, $M$ tanh hidden units and $K$ linear outputs, trained with the
# sum-of-squares error $E = \tfrac12 \sum_k (y_k - t_k)^2$. The forward and backward passes
# below are loops over the indices of the equations, with the bias as weight $w_{j0}$ of the
# constant input $z_0 = 1$ (the first column of each weight matrix).

# %%
D, M, K = 3, 4, 2
W1 = rng.normal(0, 0.5, (M, D + 1))       # w_ji, column 0 = bias
W2 = rng.normal(0, 0.5, (K, M + 1))
x_n = rng.normal(size=D)
t_n = rng.normal(size=K)

# forward: a_j = sum_i w_ji z_i, z_j = h(a_j)
z_in = np.concatenate([[1.0], x_n])       # z_0 = 1, z_i = x_i
a_hid = np.array([sum(W1[j, i] * z_in[i] for i in range(D + 1)) for j in range(M)])
z_hid = np.concatenate([[1.0], np.tanh(a_hid)])
y = np.array([sum(W2[k, j] * z_hid[j] for j in range(M + 1)) for k in range(K)])
E = 0.5 * sum((y[k] - t_n[k]) ** 2 for k in range(K))

# backward: delta_k = y_k - t_k, delta_j = h'(a_j) sum_k w_kj delta_k, dE/dw_ji = delta_j z_i
delta_out = np.array([y[k] - t_n[k] for k in range(K)])
delta_hid = np.array([(1 - np.tanh(a_hid[j]) ** 2)
                      * sum(W2[k, j + 1] * delta_out[k] for k in range(K)) for j in range(M)])
dW2 = np.array([[delta_out[k] * z_hid[j] for j in range(M + 1)] for k in range(K)])
dW1 = np.array([[delta_hid[j] * z_in[i] for i in range(D + 1)] for j in range(M)])
print("E =", E)
print("delta_k =", delta_out, "   delta_j =", delta_hid)

# %% [markdown]
# The same network in tapegrad: `nn.Linear` holds $w_{ji}$ for $i \ge 1$ as `weight` (shape
# $(M, D)$, row $j$) and $w_{j0}$ as `bias`. We copy the hand weights in, run forward and
# `backward()`, and compare every gradient. `retain_grad()` keeps the gradient of the output
# pre-activations, which is $\delta_k$.

# %%
net = nn.Sequential(nn.Linear(D, M), nn.Tanh(), nn.Linear(M, K)).double()
with ag.no_grad():
    net[0].weight.copy_(t64(W1[:, 1:]))
    net[0].bias.copy_(t64(W1[:, 0]))
    net[2].weight.copy_(t64(W2[:, 1:]))
    net[2].bias.copy_(t64(W2[:, 0]))

x_t = t64(x_n[None])                       # a batch of one example: (1, D)
out = net(x_t)
out.retain_grad()
loss = 0.5 * ((out - t64(t_n[None])) ** 2).sum()
loss.backward()

np.testing.assert_allclose(loss.item(), E, rtol=1e-14)
np.testing.assert_allclose(out.grad.data[0], delta_out, rtol=1e-13)      # delta_k = y_k - t_k
np.testing.assert_allclose(net[2].weight.grad.data, dW2[:, 1:], rtol=1e-13)
np.testing.assert_allclose(net[2].bias.grad.data, dW2[:, 0], rtol=1e-13)
np.testing.assert_allclose(net[0].weight.grad.data, dW1[:, 1:], rtol=1e-12, atol=1e-15)
np.testing.assert_allclose(net[0].bias.grad.data, dW1[:, 0], rtol=1e-12, atol=1e-15)
print("engine gradients = delta_j z_i for every weight and bias")

# %% [markdown]
# ## 3. A batch in matrix form, and a deeper network
#
# For $N$ examples as rows of $X$, the equations become matrix products. With $A^{(l)}$ the
# pre-activations of layer $l$ and $Z^{(l)} = h_l(A^{(l)})$ ($Z^{(0)} = X$):
#
# $$A^{(l)} = Z^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad
#   \Delta^{(L)} = Y - T, \qquad
#   \Delta^{(l)} = h_l'(A^{(l)}) \odot \Delta^{(l+1)} W^{(l+1)}, \qquad
#   \frac{\partial E}{\partial W^{(l)}} = \Delta^{(l)\top} Z^{(l-1)}, \quad
#   \frac{\partial E}{\partial b^{(l)}} = \textstyle\sum_n \Delta^{(l)}_{n\cdot}$$
#
# (the sum over examples of the per-example gradients). Below: four hidden layers with
# different activations, the hand backward pass written once as a loop over layers.

# %%
sizes = [5, 16 * SCALE, 12 * SCALE, 12 * SCALE, 8 * SCALE, 3]
hidden = ["tanh", "relu", "sigmoid", "gelu"]
layers = []
for i, name in enumerate(hidden):
    layers += [nn.Linear(sizes[i], sizes[i + 1]),
               {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}[name]()]
layers.append(nn.Linear(sizes[-2], sizes[-1]))
deep = nn.Sequential(*layers).double()
linears = [m for m in deep if isinstance(m, nn.Linear)]

N = 32 * SCALE
X = rng.normal(size=(N, sizes[0]))
T = rng.normal(size=(N, sizes[-1]))


def backprop(X, T, weights, biases, activations):
    """Hand forward and backward pass of E = 1/2 sum (Y - T)^2 -> (E, dW list, db list)."""
    Z, A = [X], []
    for i, (W, b) in enumerate(zip(weights, biases)):
        A.append(Z[-1] @ W.T + b)
        Z.append(ACTIVATIONS[activations[i]][1](A[-1]) if i < len(activations) else A[-1])
    Y = Z[-1]
    delta = Y - T                                         # output units
    dW, db = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        dW[i] = delta.T @ Z[i]                            # dE/dw_ji = sum_n delta_j z_i
        db[i] = delta.sum(0)
        if i > 0:                                         # delta_j = h'(a_j) sum_k w_kj delta_k
            delta = ACTIVATIONS[activations[i - 1]][2](A[i - 1]) * (delta @ weights[i])
    return 0.5 * np.sum((Y - T) ** 2), dW, db


weights = [m.weight.data.copy() for m in linears]
biases = [m.bias.data.copy() for m in linears]
E, dW, db = backprop(X, T, weights, biases, hidden)

loss = 0.5 * ((deep(t64(X)) - t64(T)) ** 2).sum()
loss.backward()
np.testing.assert_allclose(loss.item(), E, rtol=1e-13)
for i, m in enumerate(linears):
    np.testing.assert_allclose(m.weight.grad.data, dW[i], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m.bias.grad.data, db[i], rtol=1e-10, atol=1e-13)
print(f"{len(linears)} layers, {sum(p.numel() for p in deep.parameters())} parameters: "
      "hand backprop = engine")

# %% [markdown]
# Both could be wrong in the same way; finite differences are an independent check.
# `gradcheck` compares the engine's gradient with $(E(w + \epsilon) - E(w - \epsilon)) / 2\epsilon$
# for every entry of its inputs (here the input batch and the first weight matrix).

# %%
first = linears[0]


def error_of(x, w):
    h = F.linear(x, w, first.bias)
    for m in list(deep)[1:]:
        h = m(h)
    return 0.5 * ((h - t64(T[:4])) ** 2).sum()


assert ag.autograd.gradcheck(error_of, [t64(X[:4], requires_grad=True),
                                        t64(first.weight.data, requires_grad=True)])
print("gradcheck passed")

# %% [markdown]
# ## 4. Output units and losses
#
# The simple output error $\delta_k = y_k - t_k$ is no accident: it holds whenever the output
# activation is the *canonical link* of the error function:
#
# | output $y = f(a)$ | error $E$ | $\partial E / \partial a$ |
# |---|---|---|
# | identity | $\tfrac12 \sum_k (y_k - t_k)^2$ | $y - t$ |
# | sigmoid | $-\sum_k t_k \ln y_k + (1 - t_k) \ln(1 - y_k)$ | $y - t$ |
# | softmax | $-\sum_k t_k \ln y_k$ | $y - t$ |
#
# The engine's losses take the pre-activations $a$ (`cross_entropy` and
# `binary_cross_entropy_with_logits` apply softmax and sigmoid inside, in a numerically stable
# form). We check their values against the formulas and their gradients against $y - t$.

# %%
B, C = 8, 4                # examples, classes
logits = rng.normal(0, 2, (B, C))
labels = rng.integers(0, C, B)
onehot = np.eye(C)[labels]
probs = np.exp(logits - logits.max(1, keepdims=True))
probs /= probs.sum(1, keepdims=True)
targets01 = rng.integers(0, 2, (B, C)).astype(float)
real_t = rng.normal(size=(B, C))

cases = {
    # name: (engine loss of the logits a, hand E, hand dE/da)
    "identity + squared error": (
        lambda a: 0.5 * F.mse_loss(a, t64(real_t), reduction="sum"),
        0.5 * np.sum((logits - real_t) ** 2), logits - real_t),
    "sigmoid + binary cross-entropy": (
        lambda a: F.binary_cross_entropy_with_logits(a, t64(targets01), reduction="sum"),
        -np.sum(targets01 * np.log(sigmoid(logits))
                + (1 - targets01) * np.log(1 - sigmoid(logits))),
        sigmoid(logits) - targets01),
    "softmax + cross-entropy": (
        lambda a: F.cross_entropy(a, ag.tensor(labels), reduction="sum"),
        -np.sum(onehot * np.log(probs)), probs - onehot),
}
for name, (engine_loss, E_hand, delta_hand) in cases.items():
    a = t64(logits, requires_grad=True)
    E_engine = engine_loss(a)
    E_engine.backward()
    np.testing.assert_allclose(E_engine.item(), E_hand, rtol=1e-13)
    np.testing.assert_allclose(a.grad.data, delta_hand, rtol=1e-12, atol=1e-15)
    print(f"{name:32s} E = {E_hand:9.4f}   dE/da = y - t  (max |diff| "
          f"{np.abs(a.grad.data - delta_hand).max():.1e})")

# %% [markdown]
# With a mismatched pair, sigmoid outputs with the squared error, the output error picks up
# a factor $h'(a) = y(1 - y)$: $\partial E / \partial a = (y - t)\, y (1 - y)$. When the unit
# is confidently wrong ($y \approx 0$, $t = 1$) the gradient vanishes and learning stalls;
# with cross-entropy it stays close to $-1$. The engine reproduces both.

# %%
a_grid = np.linspace(-8, 8, 321)
y_grid = sigmoid(a_grid)
a = t64(a_grid, requires_grad=True)
squared = 0.5 * ((a.sigmoid() - 1.0) ** 2).sum()
squared.backward()
grad_squared = a.grad.data.copy()
a = t64(a_grid, requires_grad=True)
xent = F.binary_cross_entropy_with_logits(a, ag.ones_like(a), reduction="sum")
xent.backward()
grad_xent = a.grad.data.copy()
np.testing.assert_allclose(grad_squared, (y_grid - 1) * y_grid * (1 - y_grid), atol=1e-15)
np.testing.assert_allclose(grad_xent, y_grid - 1, atol=1e-15)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
ax1.plot(a_grid, 0.5 * (y_grid - 1) ** 2, label="squared error of sigmoid(a)")
ax1.plot(a_grid, -np.log(y_grid), label="cross-entropy")
ax1.set(title="E for target t = 1", xlabel="a", ylim=(0, 4))
ax2.plot(a_grid, grad_squared, label="squared error: (y - t) y (1 - y)")
ax2.plot(a_grid, grad_xent, label="cross-entropy: y - t")
ax2.set(title="dE/da (engine)", xlabel="a")
for ax in (ax1, ax2):
    ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. The recorded graph
#
# Each operation run on tensors that require gradients is recorded as a node of the graph;
# `backward()` walks it from the loss back to the leaves. Inside `ag.viz.trace()` the nodes
# are grouped by the module that created them, and after `backward()` each node shows the
# norm of its gradient (colour: blue vanishing, white healthy, red exploding).

# %%
small = nn.Sequential(nn.Linear(D, M), nn.Tanh(), nn.Linear(M, K)).double()
x_small, t_small = t64(rng.normal(size=(4, D))), t64(rng.normal(size=(4, K)))
with ag.viz.trace():
    loss = 0.5 * ((small(x_small) - t_small) ** 2).sum()
    loss.backward()
ag.viz.draw(loss, params=small)

# %% [markdown]
# ## 6. Training: the hand backward pass against the engine
#
# Gradient descent $w \leftarrow w - \eta\, \partial E / \partial w$ on a two-class problem
# (two interleaved half-moons), with a sigmoid output and the binary cross-entropy, averaged
# over the examples. One copy of the network is trained with the hand-written backward pass
# in numpy, the other with `loss.backward()` and `optim.SGD`, from the same initial weights:
# the two loss curves are the same curve.

# %%
def two_moons(n, noise, rng):
    angle = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None],
                 np.stack([np.cos(angle), np.sin(angle)], 1),
                 np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    return x + noise * rng.normal(size=(n, 2)), upper.astype(float)


Xm, tm = two_moons(200 * SCALE, 0.12, rng)
hidden_units, steps, lr = 16 * SCALE, 300 * SCALE, 0.5
model = nn.Sequential(nn.Linear(2, hidden_units), nn.Tanh(), nn.Linear(hidden_units, 1)).double()
hand_w = [model[0].weight.data.copy(), model[2].weight.data.copy()]
hand_b = [model[0].bias.data.copy(), model[2].bias.data.copy()]
opt = optim.SGD(model.parameters(), lr=lr)
X_t, t_t = t64(Xm), t64(tm[:, None])

hand_curve, engine_curve = [], []
for _ in range(steps):
    # hand: forward, delta_k = (y_k - t_k) / N (mean error), backward, update
    A1 = Xm @ hand_w[0].T + hand_b[0]
    Z1 = np.tanh(A1)
    y = sigmoid(Z1 @ hand_w[1].T + hand_b[1])[:, 0]
    hand_curve.append(-np.mean(tm * np.log(y) + (1 - tm) * np.log(1 - y)))
    delta2 = ((y - tm) / len(tm))[:, None]
    delta1 = (1 - Z1 ** 2) * (delta2 @ hand_w[1])
    grads = [(delta1.T @ Xm, delta1.sum(0)), (delta2.T @ Z1, delta2.sum(0))]
    for i, (gw, gb) in enumerate(grads):
        hand_w[i] -= lr * gw
        hand_b[i] -= lr * gb
    # engine
    loss = F.binary_cross_entropy_with_logits(model(X_t), t_t)
    opt.zero_grad()
    loss.backward()
    opt.step()
    engine_curve.append(loss.item())

np.testing.assert_allclose(engine_curve, hand_curve, rtol=1e-9)
np.testing.assert_allclose(model[0].weight.data, hand_w[0], rtol=1e-8, atol=1e-10)
accuracy = np.mean((model(X_t).data[:, 0] > 0) == (tm > 0.5))
print(f"after {steps} steps: loss {engine_curve[-1]:.4f} (hand {hand_curve[-1]:.4f}), "
      f"training accuracy {accuracy:.1%}")
assert engine_curve[-1] < 0.5 * engine_curve[0]

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(hand_curve, lw=4, alpha=0.4, label="hand backward pass")
ax1.plot(engine_curve, "k", lw=1, label="engine + optim.SGD")
ax1.set(xlabel="step", ylabel="mean cross-entropy", title="Learning curves")
ax1.legend()
gx, gy = np.meshgrid(np.linspace(-1.5, 2.5, 120), np.linspace(-1, 1.5, 100))
with ag.no_grad():
    grid_logit = model(t64(np.stack([gx.ravel(), gy.ravel()], 1))).data.reshape(gx.shape)
ax2.contourf(gx, gy, sigmoid(grid_logit), levels=20, cmap="RdBu_r", alpha=0.6)
ax2.contour(gx, gy, grid_logit, levels=[0], colors="k")
ax2.scatter(Xm[:, 0], Xm[:, 1], c=tm, cmap="RdBu_r", s=10, edgecolors="k", linewidths=0.3)
ax2.set_title("p(class 1 | x) and the decision boundary")
fig.tight_layout()
plt.show()
