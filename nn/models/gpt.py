"""A character-level GPT (decoder-only Transformer), laid out as nanoGPT's model.

    idx: (B, T) int64 token ids, T <= block_size
    x = dropout(wte[idx] + wpe[0..T-1])                      (B, T, C)
    n_layer blocks, pre-norm:
        x = x + attn(ln_1(x))        causal multi-head self-attention (position t sees <= t)
        x = x + mlp(ln_2(x))         c_proj(gelu(c_fc(x))), hidden 4C
    logits = ln_f(x) wte^T                                   (B, T, vocab): lm_head tied to wte
    loss = cross_entropy(logits, targets) (targets -1 ignored)

Initialisation (GPT-2): every Linear and Embedding weight ~ N(0, 0.02^2), biases 0, the
residual projections (attn.c_proj, mlp.c_proj) ~ N(0, (0.02 / sqrt(2 n_layer))^2).
"""
import math

import numpy as np

import autograd as ag
from autograd.creation import get_rng

from .. import functional as F
from .. import init
from ..containers import ModuleList
from ..dropout import Dropout
from ..linear import Linear
from ..module import Module
from ..normalization import LayerNorm
from ..sparse import Embedding

__all__ = ["GPT", "GPTBlock", "CausalSelfAttention"]


class CausalSelfAttention(Module):
    """x: (B, T, C) -> (B, T, C): n_head heads of C / n_head, query t attends to keys <= t.
    c_attn: Linear(C, 3C) packing q, k, v; c_proj: Linear(C, C)."""

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd={n_embd} must be divisible by "
                             f"n_head={n_head}")
        self.c_attn = Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout

    def forward(self, x):
        b, t, c = x.shape
        # (B, T, 3, H, hd) -> q, k, v: (B, H, T, hd) as views of one projection
        qkv = self.c_attn(x).reshape(b, t, 3, self.n_head, c // self.n_head)
        q, k, v = (z.permute(0, 2, 1, 3) for z in qkv.unbind(2))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training
                                           else 0.0, is_causal=True)
        y = y.permute(0, 2, 1, 3).reshape(b, t, c)                  # heads side by side
        return self.resid_dropout(self.c_proj(y))


class _MLP(Module):
    def __init__(self, n_embd, dropout, bias):
        super().__init__()
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias)
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class GPTBlock(Module):
    """x: (B, T, C) -> x + attn(ln_1(x)), then + mlp(ln_2(x))."""

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = LayerNorm(n_embd, bias=bias)
        self.mlp = _MLP(n_embd, dropout, bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """idx: (B, T) int64 -> (logits (B, T, vocab_size), loss or None).

    vocab_size, block_size (the longest context), n_layer blocks, n_head heads, n_embd
    features; dropout after the embeddings, on the attention weights and on each residual
    branch; bias in the Linear and LayerNorm layers."""

    def __init__(self, vocab_size, block_size, n_layer=4, n_head=4, n_embd=128, dropout=0.0,
                 bias=True):
        super().__init__()
        self.vocab_size, self.block_size = vocab_size, block_size
        self.wte = Embedding(vocab_size, n_embd)
        self.wpe = Embedding(block_size, n_embd)
        self.drop = Dropout(dropout)
        self.blocks = ModuleList([GPTBlock(n_embd, n_head, dropout, bias)
                                  for _ in range(n_layer)])
        self.ln_f = LayerNorm(n_embd, bias=bias)
        self.lm_head = Linear(n_embd, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight                 # weight tying: one Parameter
        for module in self.modules():
            if isinstance(module, (Linear, Embedding)):
                init.normal_(module.weight, 0.0, 0.02)
            if isinstance(module, Linear) and module.bias is not None:
                init.zeros_(module.bias)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    def forward(self, idx, targets=None):
        b, t = idx.shape
        if t > self.block_size:
            raise ValueError(f"GPT: cannot forward a sequence of length {t}, the block size is "
                             f"{self.block_size} (idx of shape {tuple(idx.shape)})")
        x = self.drop(self.wte(idx) + self.wpe(ag.arange(t)))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(b * t, self.vocab_size), targets.reshape(b * t),
                               ignore_index=-1)
        return logits, loss

    def optimizer_groups(self, weight_decay):
        """nanoGPT's parameter groups: matrices (ndim >= 2) decayed, biases and LayerNorm
        weights not."""
        params = list(self.parameters())
        return [dict(params=[p for p in params if p.ndim >= 2], weight_decay=weight_decay),
                dict(params=[p for p in params if p.ndim < 2], weight_decay=0.0)]

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """idx: (B, T) int64 -> (B, T + max_new_tokens): each new token sampled from
        softmax(logits / temperature) over the top_k most likely (all when None), the context
        cropped to the last block_size tokens; temperature 0 picks the most likely token.
        Samples come from autograd's generator (ag.manual_seed makes them reproducible)."""
        if temperature < 0:
            raise ValueError(f"GPT.generate: temperature must be >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"GPT.generate: top_k must be >= 1 or None, got {top_k}")
        tokens = np.asarray(idx.data, dtype=np.int64)
        with ag.no_grad():
            for _ in range(max_new_tokens):
                context = ag.from_numpy(tokens[:, -self.block_size:])
                logits = self(context)[0].data[:, -1, :].astype(np.float64)    # (B, V)
                tokens = np.concatenate([tokens, _sample(logits, temperature, top_k)], 1)
        return ag.from_numpy(tokens)


def _sample(logits, temperature, top_k):
    """logits: (B, V) -> (B, 1) token ids."""
    if temperature == 0:
        return logits.argmax(-1)[:, None]
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.partition(logits, -top_k, axis=-1)[:, -top_k:].min(-1, keepdims=True)
        logits = np.where(logits < kth, -np.inf, logits)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    cdf = np.cumsum(p / p.sum(-1, keepdims=True), axis=-1)
    u = get_rng().random((logits.shape[0], 1))
    return np.minimum((cdf < u).sum(-1, keepdims=True), logits.shape[-1] - 1)
