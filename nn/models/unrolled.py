"""Networks from unrolled optimisation: ISTA for sparse coding, LISTA and SC2Net.

Sparse coding of x (n,) over a dictionary B (n, m): min_s f(s) = ||x - B s||^2 + lam ||s||_1.
Rows are samples: x (N, n), s (N, m), so B s is s @ B^T.

    ISTA    s <- h_{lam/L}(s - (1/L) grad),  grad = 2 B^T (B s - x),  L = 2 ||B||_2^2
            = h_theta(W_e x + S s)  with W_e = (2/L) B^T, S = I - (2/L) B^T B, theta = lam / L
    LISTA   (Gregor & LeCun 2010) the same iteration unrolled K times from s = 0 with W_e, S
            and theta learned: s_1 = h_theta(W_e x), s_{k+1} = h_theta(W_e x + S s_k)
    SC2Net  (Zhou et al. 2018) the sparse LSTM: ISTA's pre-activation is the candidate cell
            c~_t = W_e x + S h_{t-1}; an input gate i_t and forget gate f_t (sigmoids of
            W x + U h_{t-1} + b) give c_t = f_t * c_{t-1} + i_t * c~_t and h_t = h_theta(c_t)
            (adaptive momentum: with f = 0, i = 1 it is LISTA)
h_theta(v) = sign(v) max(|v| - theta, 0), the soft threshold (the proximal step of theta |.|).
Both networks can be initialised from a dictionary (`from_dictionary`) so that they start as
ISTA, and are trained on the objective itself (unsupervised) or against reference codes.
"""
import numpy as np

import autograd as ag

from .. import functional as F
from ..containers import ModuleList
from ..linear import Linear
from ..module import Module
from ..parameter import Parameter

__all__ = ["soft_threshold", "lipschitz_constant", "sparse_coding_objective", "ista",
           "LISTA", "SC2Net", "sparse_coding_problem"]


def soft_threshold(x, theta):
    """x: (..., m), theta: broadcastable to x, >= 0 -> sign(x) max(|x| - theta, 0)
    = relu(x - theta) - relu(-x - theta) (differentiable in x and theta)."""
    return F.relu(x - theta) - F.relu(-x - theta)


def _dictionary_array(B):
    return np.asarray(B.data if isinstance(B, ag.Tensor) else B)


def lipschitz_constant(B):
    """L = 2 ||B||_2^2 (largest singular value squared): the Lipschitz constant of the
    gradient of ||x - B s||^2 (a Python float)."""
    B = _dictionary_array(B)
    if B.ndim != 2:
        raise ValueError(f"lipschitz_constant: the dictionary must be (n, m), got {B.shape}")
    return 2.0 * float(np.linalg.norm(B.astype(np.float64), 2)) ** 2


def _check_problem(op, x, B, s=None):
    if x.ndim != 2 or B.ndim != 2 or x.shape[1] != B.shape[0]:
        raise ValueError(f"{op}: expected x (N, n) and the dictionary B (n, m), got x "
                         f"{tuple(x.shape)} and B {tuple(B.shape)}")
    if s is not None and tuple(s.shape) != (x.shape[0], B.shape[1]):
        raise ValueError(f"{op}: expected codes s (N, m) = ({x.shape[0]}, {B.shape[1]}), got "
                         f"{tuple(s.shape)}")


def sparse_coding_objective(x, s, B, lam, reduction="mean"):
    """x: (N, n), s: (N, m), B: (n, m) -> ||x - B s||^2 + lam ||s||_1 per sample, averaged
    ('mean'), summed ('sum') or (N,) ('none')."""
    _check_problem("sparse_coding_objective", x, B, s)
    residual = x - ag.matmul(s, B.transpose(0, 1))
    per_sample = (residual * residual).sum(dim=1) + lam * s.abs().sum(dim=1)
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "mean":
        return per_sample.mean()
    raise ValueError(f"sparse_coding_objective: reduction must be 'mean', 'sum' or 'none', "
                     f"got {reduction!r}")


def ista(x, B, lam, num_iterations, s0=None, return_all=False):
    """ISTA from s0 (default 0): x (N, n), B (n, m) -> s (N, m) after num_iterations steps
    s <- h_{lam/L}(s - (2/L) B^T (B s - x)); with return_all, the list of every iterate.
    Composed of Tensor ops, so it is differentiable in x and B."""
    _check_problem("ista", x, B, s0)
    L = lipschitz_constant(B)
    s = ag.zeros(x.shape[0], B.shape[1], dtype=x.dtype) if s0 is None else s0
    iterates = []
    for _ in range(num_iterations):
        gradient = 2 * ag.matmul(ag.matmul(s, B.transpose(0, 1)) - x, B)
        s = soft_threshold(s - gradient / L, lam / L)
        iterates.append(s)
    return iterates if return_all else s


def _ista_weights(B, lam):
    """W_e (m, n), S (m, m), theta of ISTA as float64 arrays."""
    B = _dictionary_array(B).astype(np.float64)
    L = lipschitz_constant(B)
    return (2.0 / L) * B.T, np.eye(B.shape[1]) - (2.0 / L) * B.T @ B, lam / L


def _copy_(param, value):
    with ag.no_grad():
        param.copy_(ag.tensor(np.broadcast_to(value, param.shape), dtype=param.dtype))


class LISTA(Module):
    """LISTA(input_size, code_size, num_layers=5, shared=True): x (N, n) -> s (N, m).
    encoder: Linear (m, n) = W_e; S: Linear (m, m) (one shared, or num_layers - 1 of them);
    theta: (m,) (or (num_layers, m) unshared), one threshold per code unit.
    forward(x, return_all=False): the last layer's codes, or the list of every layer's."""

    def __init__(self, input_size, code_size, num_layers=5, shared=True):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"LISTA: num_layers must be >= 1, got {num_layers}")
        self.input_size, self.code_size = input_size, code_size
        self.num_layers, self.shared = num_layers, shared
        self.encoder = Linear(input_size, code_size, bias=False)
        count = 1 if shared else max(num_layers - 1, 1)
        self.S = ModuleList([Linear(code_size, code_size, bias=False) for _ in range(count)])
        self.theta = Parameter(ag.full((1 if shared else num_layers, code_size), 0.1))

    @classmethod
    def from_dictionary(cls, B, lam, num_layers=5, shared=True, dtype=None):
        """A LISTA whose every layer is an ISTA step for min ||x - B s||^2 + lam ||s||_1."""
        B_arr = _dictionary_array(B)
        model = cls(B_arr.shape[0], B_arr.shape[1], num_layers, shared)
        if dtype is not None:
            model.to(dtype)
        W_e, S, theta = _ista_weights(B_arr, lam)
        _copy_(model.encoder.weight, W_e)
        for layer in model.S:
            _copy_(layer.weight, S)
        _copy_(model.theta, theta)
        return model

    def _layer_S(self, k):
        return self.S[0] if self.shared else self.S[k - 1]

    def _theta(self, k):
        return self.theta[0] if self.shared else self.theta[k]

    def forward(self, x, return_all=False):
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"LISTA: expected x (N, {self.input_size}), got {tuple(x.shape)}")
        b = self.encoder(x)                                     # W_e x: (N, m)
        s = soft_threshold(b, self._theta(0))
        layers = [s]
        for k in range(1, self.num_layers):
            s = soft_threshold(b + self._layer_S(k)(s), self._theta(k))
            layers.append(s)
        return layers if return_all else s

    def extra_repr(self):
        return (f"input_size={self.input_size}, code_size={self.code_size}, "
                f"num_layers={self.num_layers}, shared={self.shared}")


class SC2Net(Module):
    """SC2Net(input_size, code_size, num_layers=5): the sparse LSTM unrolled num_layers steps
    (weights shared across steps); x (N, n) -> h (N, m).
        c~_t = W_e x + S h_{t-1}                   encoder (m, n), S (m, m)
        i_t  = sigmoid(W_i x + U_i h_{t-1} + b_i)  input_x, input_h
        f_t  = sigmoid(W_f x + U_f h_{t-1} + b_f)  forget_x, forget_h
        c_t  = f_t * c_{t-1} + i_t * c~_t,   h_t = h_theta(c_t),   h_0 = c_0 = 0
    forward(x, return_all=False): h_K, or the list h_1 .. h_K."""

    def __init__(self, input_size, code_size, num_layers=5):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"SC2Net: num_layers must be >= 1, got {num_layers}")
        self.input_size, self.code_size, self.num_layers = input_size, code_size, num_layers
        self.encoder = Linear(input_size, code_size, bias=False)
        self.S = Linear(code_size, code_size, bias=False)
        self.input_x = Linear(input_size, code_size)
        self.input_h = Linear(code_size, code_size, bias=False)
        self.forget_x = Linear(input_size, code_size)
        self.forget_h = Linear(code_size, code_size, bias=False)
        self.theta = Parameter(ag.full((code_size,), 0.1))

    @classmethod
    def from_dictionary(cls, B, lam, num_layers=5, gate_bias=4.0, dtype=None):
        """W_e, S, theta of ISTA; gate weights 0, input bias +gate_bias, forget bias
        -gate_bias, so that it starts close to ISTA (i ~ 1, f ~ 0)."""
        B_arr = _dictionary_array(B)
        model = cls(B_arr.shape[0], B_arr.shape[1], num_layers)
        if dtype is not None:
            model.to(dtype)
        W_e, S, theta = _ista_weights(B_arr, lam)
        _copy_(model.encoder.weight, W_e)
        _copy_(model.S.weight, S)
        _copy_(model.theta, theta)
        for layer in (model.input_x, model.input_h, model.forget_x, model.forget_h):
            _copy_(layer.weight, 0.0)
        _copy_(model.input_x.bias, gate_bias)
        _copy_(model.forget_x.bias, -gate_bias)
        return model

    def forward(self, x, return_all=False):
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"SC2Net: expected x (N, {self.input_size}), got {tuple(x.shape)}")
        b, gate_i, gate_f = self.encoder(x), self.input_x(x), self.forget_x(x)
        # t = 1: h_0 = c_0 = 0
        c = F.sigmoid(gate_i) * b
        h = soft_threshold(c, self.theta)
        states = [h]
        for _ in range(1, self.num_layers):
            candidate = b + self.S(h)
            i = F.sigmoid(gate_i + self.input_h(h))
            f = F.sigmoid(gate_f + self.forget_h(h))
            c = f * c + i * candidate
            h = soft_threshold(c, self.theta)
            states.append(h)
        return states if return_all else h

    def extra_repr(self):
        return (f"input_size={self.input_size}, code_size={self.code_size}, "
                f"num_layers={self.num_layers}")


def sparse_coding_problem(num_samples, input_size=20, code_size=50, sparsity=0.1, noise=0.01,
                          seed=None, dictionary=None, dtype=None):
    """Synthetic sparse-coding data: (x (N, n), s_true (N, m), B (n, m)) Tensors.
    B: a random Gaussian dictionary with unit-norm columns (or `dictionary`); s_true:
    Bernoulli(sparsity) support with N(0, 1) values; x = B s_true + noise * N(0, 1)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if dictionary is None:
        B = rng.standard_normal((input_size, code_size))
        B /= np.linalg.norm(B, axis=0, keepdims=True)
    else:
        B = _dictionary_array(dictionary).astype(np.float64)
        input_size, code_size = B.shape
    support = rng.random((num_samples, code_size)) < sparsity
    s = support * rng.standard_normal((num_samples, code_size))
    x = s @ B.T + noise * rng.standard_normal((num_samples, input_size))
    dtype = ag.get_default_dtype() if dtype is None else dtype
    return (ag.tensor(x, dtype=dtype), ag.tensor(s, dtype=dtype), ag.tensor(B, dtype=dtype))
