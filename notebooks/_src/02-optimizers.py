# Source of notebooks/02-optimizers.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 02 · Optimizers: SGD, momentum, AdaGrad, RMSProp, Adam
#
# Training a network means minimising its error $J(\theta)$ with gradient-based updates. This
# notebook writes each update rule of the course as a few lines of numpy, runs it beside
# tapegrad's `optim` classes (the gradient from `backward()`, the update from `opt.step()`),
# and checks that the first steps agree to rounding error. The rules, with $g$ the gradient
# and $\epsilon$ the learning rate:
#
# * **SGD**: $\theta \leftarrow \theta - \epsilon g$, with the mini-batch gradient
#   $g = \frac1m \sum_{i \in \text{batch}} \nabla_\theta L(x_i, t_i; \theta)$
# * **momentum**: $v \leftarrow \alpha v - \epsilon g$, $\ \theta \leftarrow \theta + v$
# * **Nesterov momentum**: $v \leftarrow \alpha v - \epsilon \nabla J(\theta + \alpha v)$,
#   $\ \theta \leftarrow \theta + v$
# * **AdaGrad**: $r \leftarrow r + g \odot g$,
#   $\ \theta \leftarrow \theta - \frac{\epsilon}{\delta + \sqrt r} \odot g$
# * **RMSProp**: $r \leftarrow \rho r + (1 - \rho)\, g \odot g$,
#   $\ \theta \leftarrow \theta - \frac{\epsilon}{\sqrt{\delta + r}} \odot g$
# * **Adam** (step $t = 1, 2, \dots$): $s \leftarrow \rho_1 s + (1 - \rho_1) g$,
#   $\ r \leftarrow \rho_2 r + (1 - \rho_2)\, g \odot g$,
#   $\ \hat s = \frac{s}{1 - \rho_1^t}$, $\ \hat r = \frac{r}{1 - \rho_2^t}$,
#   $\ \theta \leftarrow \theta - \epsilon \frac{\hat s}{\sqrt{\hat r} + \delta}$
#
# Two test functions in two dimensions, so that trajectories can be drawn:
# an ill-conditioned quadratic (a long narrow valley: condition number $\kappa = 25$) and
# Rosenbrock's function $(1 - x)^2 + 100 (y - x^2)^2$ (a curved valley, minimum at $(1, 1)$).
# Then mini-batch SGD on a least-squares problem. `SCALE` multiplies the number of steps.

# %%
SCALE = 1                 # 2, 4, ...: more steps, more data

import matplotlib.pyplot as plt
import numpy as np

import autograd as ag
import optim
from autograd.data import DataLoader, TensorDataset

np.set_printoptions(precision=5, suppress=True)
ag.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The two functions and their gradients
#
# Each function is written once for the engine (tensor operations, differentiated by
# `backward()`) and its gradient once by hand; they must agree.

# %%
angle = np.deg2rad(30)
rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
H = rotation @ np.diag([1.0, 25.0]) @ rotation.T          # Hessian, eigenvalues 1 and 25
H_t = ag.tensor(H)


def quadratic(theta):                     # J = 1/2 theta^T H theta
    return 0.5 * (theta @ (H_t @ theta))


def quadratic_grad(theta):
    return H @ theta


def rosenbrock(theta):
    x, y = theta[0], theta[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def rosenbrock_grad(theta):
    x, y = theta
    return np.array([-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)])


PROBLEMS = {
    # name: (engine function, hand gradient, start, minimum)
    "quadratic": (quadratic, quadratic_grad, np.array([-4.0, -1.0]), np.zeros(2)),
    "rosenbrock": (rosenbrock, rosenbrock_grad, np.array([-1.2, 1.0]), np.ones(2)),
}
for f, grad, start, _ in PROBLEMS.values():
    for point in [start, rng.normal(size=2)]:
        theta = ag.tensor(point, requires_grad=True)
        f(theta).backward()
        np.testing.assert_allclose(theta.grad.data, grad(point), rtol=1e-13)
print("engine gradients = hand gradients")

theta = ag.tensor(PROBLEMS["rosenbrock"][2], requires_grad=True)
with ag.viz.trace():
    value = rosenbrock(theta)
    value.backward()
ag.viz.draw(value, params={"theta": theta})

# %% [markdown]
# ## 2. The course's update rules, by hand
#
# Each rule is a function `(theta, g, state, t) -> theta`, with `state` a dict of its
# accumulators (zero at the start) and `t` the step count from 1. Nesterov's rule evaluates
# the gradient at the look-ahead point $\theta + \alpha v$, so it gets the gradient function
# instead of a gradient.

# %%
def sgd(theta, g, state, t, lr):
    return theta - lr * g


def momentum(theta, g, state, t, lr, alpha):
    state["v"] = alpha * state.get("v", 0.0) - lr * g
    return theta + state["v"]


def nesterov(theta, grad_fn, state, t, lr, alpha):
    v = state.get("v", np.zeros_like(theta))
    state["v"] = alpha * v - lr * grad_fn(theta + alpha * v)
    return theta + state["v"]


def adagrad(theta, g, state, t, lr, delta):
    state["r"] = state.get("r", 0.0) + g * g
    return theta - lr / (delta + np.sqrt(state["r"])) * g


def rmsprop(theta, g, state, t, lr, rho, delta):
    state["r"] = rho * state.get("r", 0.0) + (1 - rho) * g * g
    return theta - lr / np.sqrt(delta + state["r"]) * g


def adam(theta, g, state, t, lr, rho1, rho2, delta):
    state["s"] = rho1 * state.get("s", 0.0) + (1 - rho1) * g
    state["r"] = rho2 * state.get("r", 0.0) + (1 - rho2) * g * g
    s_hat = state["s"] / (1 - rho1 ** t)
    r_hat = state["r"] / (1 - rho2 ** t)
    return theta - lr * s_hat / (np.sqrt(r_hat) + delta)


def run_hand(rule, grad_fn, start, steps, **hyper):
    theta, state, path = start.copy(), {}, [start.copy()]
    for t in range(1, steps + 1):
        g = grad_fn if rule is nesterov else grad_fn(theta)
        theta = rule(theta, g, state, t, **hyper)
        path.append(theta.copy())
    return np.array(path)


def run_engine(make_optimizer, f, start, steps):
    """The same descent with tapegrad: loss, backward, opt.step -> the path of theta."""
    theta = ag.tensor(start.copy(), requires_grad=True)
    opt = make_optimizer([theta])
    path = [start.copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(theta).backward()
        opt.step()
        path.append(theta.data.copy())
    return np.array(path)


# %% [markdown]
# The engine's classes follow PyTorch's parametrisation, which differs from the course's in
# form but not in result:
#
# * **momentum**: `optim.SGD(momentum=α)` keeps $b \leftarrow \alpha b + g$ and steps
#   $\theta \leftarrow \theta - \epsilon b$; with $v = -\epsilon b$ this is the course's rule.
# * **Nesterov**: `nesterov=True` stores the look-ahead point $\tilde\theta = \theta + \alpha v$
#   as the parameter, and steps $\tilde\theta \leftarrow \tilde\theta - \epsilon (g + \alpha b)$
#   with $g = \nabla J(\tilde\theta)$. Substituting gives the course's rule, so the engine's
#   path is the course's $\theta + \alpha v$; we compare it as such.
# * **AdaGrad, Adam**: the same equations ($\delta$ is `eps`).
# * **RMSProp**: the course adds $\delta$ *inside* the square root, PyTorch (and `optim`)
#   outside: $\sqrt{r} + \delta$. With $\delta = 0$ the rules are identical, which is what we
#   compare; the cell after shows that for small $\delta$ the difference is negligible.

# %%
CHECK_STEPS = 20
OPTIMIZERS = {
    # name: (hand rule, its hyper-parameters, the engine's optimizer) per problem
    "quadratic": {
        "SGD": (sgd, dict(lr=0.07), lambda p: optim.SGD(p, lr=0.07)),
        "momentum": (momentum, dict(lr=0.02, alpha=0.8),
                     lambda p: optim.SGD(p, lr=0.02, momentum=0.8)),
        "Nesterov": (nesterov, dict(lr=0.02, alpha=0.8),
                     lambda p: optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True)),
        "AdaGrad": (adagrad, dict(lr=1.0, delta=1e-10), lambda p: optim.Adagrad(p, lr=1.0)),
        "RMSProp": (rmsprop, dict(lr=0.1, rho=0.9, delta=0.0),
                    lambda p: optim.RMSprop(p, lr=0.1, alpha=0.9, eps=0.0)),
        "Adam": (adam, dict(lr=0.3, rho1=0.9, rho2=0.999, delta=1e-8),
                 lambda p: optim.Adam(p, lr=0.3)),
    },
    "rosenbrock": {
        "SGD": (sgd, dict(lr=1e-3), lambda p: optim.SGD(p, lr=1e-3)),
        "momentum": (momentum, dict(lr=1e-3, alpha=0.9),
                     lambda p: optim.SGD(p, lr=1e-3, momentum=0.9)),
        "Nesterov": (nesterov, dict(lr=1e-3, alpha=0.9),
                     lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True)),
        "AdaGrad": (adagrad, dict(lr=0.3, delta=1e-10), lambda p: optim.Adagrad(p, lr=0.3)),
        "RMSProp": (rmsprop, dict(lr=0.01, rho=0.9, delta=0.0),
                    lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0)),
        "Adam": (adam, dict(lr=0.05, rho1=0.9, rho2=0.999, delta=1e-8),
                 lambda p: optim.Adam(p, lr=0.05)),
    },
}

for problem, (f, grad_fn, start, _) in PROBLEMS.items():
    for name, (rule, hyper, make) in OPTIMIZERS[problem].items():
        hand = run_hand(rule, grad_fn, start, CHECK_STEPS, **hyper)
        engine = run_engine(make, f, start, CHECK_STEPS)
        if rule is nesterov:                        # the engine holds theta + alpha v
            v = np.diff(hand, axis=0, prepend=hand[:1])
            hand = hand + hyper["alpha"] * v
        np.testing.assert_allclose(engine, hand, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name} on {problem}")
        print(f"{problem:10s} {name:9s} first {CHECK_STEPS} steps agree: theta_1 = {engine[1]}, "
              f"theta_{CHECK_STEPS} = {engine[-1]}")

# %% [markdown]
# RMSProp with $\delta$ inside the square root (course) or outside (engine), for a small
# $\delta$: the paths differ by far less than the step sizes.

# %%
f, grad_fn, start, _ = PROBLEMS["quadratic"]
inside = run_hand(rmsprop, grad_fn, start, CHECK_STEPS, lr=0.05, rho=0.9, delta=1e-8)
outside = run_engine(lambda p: optim.RMSprop(p, lr=0.05, alpha=0.9, eps=1e-8), f, start,
                     CHECK_STEPS)
gap = np.abs(inside - outside).max()
step_size = np.linalg.norm(np.diff(outside, axis=0), axis=1).min()
print(f"max |course - engine| = {gap:.1e}, smallest step = {step_size:.1e}")
assert gap < 1e-4 * step_size

# %% [markdown]
# ## 3. Trajectories
#
# The full runs, with the engine's optimizers. On the quadratic, SGD's step is limited by the
# steep direction ($\epsilon < 2/\lambda_{max}$) and it zig-zags across the valley while
# creeping along it; momentum builds up speed along the valley; the adaptive methods rescale
# each coordinate (here the valley is rotated, so the rescaling helps only in part).
# On Rosenbrock's function the valley is curved and narrow.

# %%
STEPS = {"quadratic": 100 * SCALE, "rosenbrock": 1500 * SCALE}
paths, losses = {}, {}
for problem, (f, _, start, minimum) in PROBLEMS.items():
    for name, (_, _, make) in OPTIMIZERS[problem].items():
        path = run_engine(make, f, start, STEPS[problem])
        paths[problem, name] = path
        with ag.no_grad():
            losses[problem, name] = np.array([f(ag.tensor(p)).item() for p in path])
    final = {name: np.linalg.norm(paths[problem, name][-1] - minimum)
             for name in OPTIMIZERS[problem]}
    print(problem, "distance to the minimum after", STEPS[problem], "steps:",
          {k: round(float(v), 4) for k, v in final.items()})

assert losses["quadratic", "momentum"][-1] < losses["quadratic", "SGD"][-1]
assert losses["rosenbrock", "Adam"][-1] < losses["rosenbrock", "SGD"][-1]

# %%
fig, axes = plt.subplots(2, 2, figsize=(13, 10))
views = {"quadratic": ((-4.5, 3), (-3, 2.5)), "rosenbrock": ((-1.6, 1.6), (-0.6, 2.2))}
for row, (problem, (f, _, start, minimum)) in enumerate(PROBLEMS.items()):
    (x0, x1), (y0, y1) = views[problem]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    with ag.no_grad():
        grid_values = np.array([f(ag.tensor(p)).item()
                                for p in np.stack([gx.ravel(), gy.ravel()], 1)])
    ax = axes[row, 0]
    ax.contour(gx, gy, np.log10(grid_values.reshape(gx.shape) + 1e-3), levels=25,
               cmap="Greys", linewidths=0.6)
    for name in OPTIMIZERS[problem]:
        path = paths[problem, name]
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=name)
    ax.plot(*minimum, "k*", ms=12)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=f"{problem}: trajectories from {start}")
    ax.legend(fontsize=8)
    ax = axes[row, 1]
    for name in OPTIMIZERS[problem]:
        ax.semilogy(losses[problem, name] + 1e-16, label=name)
    ax.set(xlabel="step", ylabel="J(theta)", title=f"{problem}: loss")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Mini-batch SGD
#
# Least squares $J(\theta) = \frac{1}{2N} \sum_n (x_n^\top \theta - t_n)^2$ with two strongly
# correlated features: the Hessian $X^\top X / N$ is ill-conditioned. A `DataLoader` shuffles
# the examples every epoch and yields mini-batches of $m$ examples; each step uses the
# gradient of the batch's mean error, an unbiased but noisy estimate of $\nabla J$. The
# dataset carries each example's index, so the hand computation can use the same batches.

# %%
N = 256 * SCALE
features = rng.normal(size=(N, 2)) @ np.array([[1.0, 0.9], [0.0, 0.45]])
theta_true = np.array([1.5, -2.0])
targets = features @ theta_true + 0.3 * rng.normal(size=N)
hessian = features.T @ features / N
theta_best = np.linalg.solve(features.T @ features, features.T @ targets)
print("Hessian eigenvalues:", np.linalg.eigvalsh(hessian), " least-squares solution:",
      theta_best)

dataset = TensorDataset(ag.tensor(features), ag.tensor(targets), ag.arange(N))


def batch_grad(theta, idx):
    """The course's mini-batch gradient: (1/m) sum_i x_i (x_i^T theta - t_i)."""
    x, t = features[idx], targets[idx]
    return x.T @ (x @ theta - t) / len(idx)


# averaged over the batches of one epoch, the mini-batch gradient is the full gradient
theta0 = np.array([-2.0, 2.0])
epoch = [idx.data for _, _, idx in DataLoader(dataset, batch_size=32, shuffle=True,
                                               generator=np.random.default_rng(1))]
np.testing.assert_allclose(np.mean([batch_grad(theta0, i) for i in epoch], axis=0),
                           hessian @ theta0 - features.T @ targets / N, rtol=1e-12)


def minibatch_sgd(batch_size, lr, epochs, seed):
    """optim.SGD on mini-batches, and the course's update on the same batches."""
    theta = ag.tensor(theta0.copy(), requires_grad=True)
    opt = optim.SGD([theta], lr=lr)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        generator=np.random.default_rng(seed))
    hand = theta0.copy()
    path, hand_path = [theta0.copy()], [theta0.copy()]
    for _ in range(epochs):
        for x, t, idx in loader:
            loss = 0.5 * ((x @ theta - t) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            hand = hand - lr * batch_grad(hand, idx.data)          # theta <- theta - eps g
            path.append(theta.data.copy())
            hand_path.append(hand.copy())
    return np.array(path), np.array(hand_path)


runs = {}
for m, lr in [(N, 0.3), (32, 0.3), (4, 0.3), (1, 0.05)]:
    path, hand_path = minibatch_sgd(m, lr, epochs=4 * SCALE, seed=2)
    np.testing.assert_allclose(path, hand_path, rtol=1e-11, atol=1e-13)
    runs[m] = path
    J = 0.5 * np.mean((features @ path[-1] - targets) ** 2)
    print(f"batch size {m:4d}: {len(path) - 1:4d} steps, final J = {J:.4f} "
          f"(optimum {0.5 * np.mean((features @ theta_best - targets) ** 2):.4f})")

# %%
gx, gy = np.meshgrid(np.linspace(-3, 4, 200), np.linspace(-4, 3, 200))
grid_theta = np.stack([gx.ravel(), gy.ravel()], 1)
J_grid = 0.5 * np.mean((grid_theta @ features.T - targets) ** 2, axis=1).reshape(gx.shape)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
ax1.contour(gx, gy, np.log10(J_grid), levels=25, cmap="Greys", linewidths=0.6)
for m, path in runs.items():
    ax1.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=0.8, label=f"m = {m}")
ax1.plot(*theta_best, "k*", ms=12)
ax1.set(title="mini-batch SGD on least squares", xlabel="theta_1", ylabel="theta_2")
ax1.legend()
for m, path in runs.items():
    J = 0.5 * np.mean((path @ features.T - targets) ** 2, axis=1)
    ax2.semilogy(np.arange(len(J)) * m / N, J, label=f"m = {m}")
ax2.set(xlabel="epochs (examples seen / N)", ylabel="J(theta)", title="J over the epochs")
ax2.legend()
fig.tight_layout()
plt.show()
