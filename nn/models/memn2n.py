"""End-to-end memory network (Sukhbaatar, Szlam, Weston & Fergus 2015) for question answering.

    model = MemN2N(vocab_size=32, embedding_dim=20, memory_size=10, hops=3)
    logits = model(stories, queries)        # stories (B, S, J), queries (B, J) int64, 0 = pad
    weights = model.attention(stories, queries)            # (B, hops, S), each row sums to 1

One hop k (u^1 = the encoded question):
    m_i = sum_j l_j * A^k x_ij + T_A^k(i)       memory vectors of the sentences x_i
    c_i = sum_j l_j * C^k x_ij + T_C^k(i)       output vectors
    p_i = softmax_i(u^k . m_i)                  soft attention over the non-empty slots
    o   = sum_i p_i c_i,   u^{k+1} = H u^k + o  (H = identity unless layer-wise tying)
    logits = W (o^K + u^K)
l_j: position encoding (nn.memory.position_encoding) or 1 (bag of words); T(i): temporal
encoding, a learned vector per recency i (0 = the most recent sentence).
Weight tying: 'adjacent': A^{k+1} = C^k, B = A^1, W^T = C^K (K + 1 embedding matrices);
'layerwise': A^k = A, C^k = C for every hop, a separate B and W, and the linear map H.
linear_start=True drops the softmax (p_i = u . m_i on the non-empty slots), the paper's
"linear start" used early in training.
"""
import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..containers import ModuleList
from ..linear import Linear
from ..memory import position_encoding
from ..module import Module
from ..sparse import Embedding

__all__ = ["MemN2N"]


class MemN2N(Module):
    """MemN2N(vocab_size, embedding_dim, memory_size, hops=3, weight_tying='adjacent',
    temporal_encoding=True, position_encoding=True, sentence_length=None, init_std=0.1)
    forward(story (B, S, J), query (B, J)) -> logits (B, vocab_size); S <= memory_size; word
    id 0 is padding and a sentence of only padding is an empty slot (never attended)."""

    def __init__(self, vocab_size, embedding_dim, memory_size, hops=3, weight_tying="adjacent",
                 temporal_encoding=True, position_encoding=True, sentence_length=None,
                 init_std=0.1):
        super().__init__()
        if weight_tying not in ("adjacent", "layerwise"):
            raise ValueError(f"MemN2N: weight_tying must be 'adjacent' or 'layerwise', got "
                             f"{weight_tying!r}")
        if hops < 1:
            raise ValueError(f"MemN2N: hops must be >= 1, got {hops}")
        self.vocab_size, self.embedding_dim = vocab_size, embedding_dim
        self.memory_size, self.hops, self.weight_tying = memory_size, hops, weight_tying
        self.use_position_encoding = position_encoding
        self.sentence_length = sentence_length
        self.linear_start = False
        count = hops + 1 if weight_tying == "adjacent" else 3          # A^1, C^1..C^K | A, C, B
        self.embeddings = ModuleList([Embedding(vocab_size, embedding_dim, padding_idx=0)
                                      for _ in range(count)])
        self.temporal = None
        if temporal_encoding:
            self.temporal = ModuleList([Embedding(memory_size, embedding_dim)
                                        for _ in range(count - (weight_tying == "layerwise"))])
        if weight_tying == "layerwise":
            self.H = Linear(embedding_dim, embedding_dim, bias=False)
            self.W = Linear(embedding_dim, vocab_size, bias=False)
        self.init_std = init_std
        self.reset_parameters()

    def reset_parameters(self):
        # every weight ~ N(0, init_std^2) as in the paper (section 4.2); padding rows stay 0
        for p in self.parameters():
            init.normal_(p, std=self.init_std)
        with ag.no_grad():
            for emb in self.embeddings:
                emb.weight[0].fill_(0.0)

    # -- the embedding matrices of hop k (0-based) -------------------------------------------
    def _memory_embedding(self, k):
        """(A^k, T_A^k): input memory embedding and its temporal table."""
        index = k if self.weight_tying == "adjacent" else 0
        temporal = None if self.temporal is None else self.temporal[index]
        return self.embeddings[index], temporal

    def _output_embedding(self, k):
        """(C^k, T_C^k)."""
        index = k + 1 if self.weight_tying == "adjacent" else 1
        temporal = None if self.temporal is None else self.temporal[index]
        return self.embeddings[index], temporal

    def _query_embedding(self):
        return self.embeddings[0] if self.weight_tying == "adjacent" else self.embeddings[2]

    # -- encodings ---------------------------------------------------------------------------
    def _check(self, story, query):
        if not isinstance(story, ag.Tensor) or not isinstance(query, ag.Tensor):
            raise TypeError("MemN2N: story and query must be integer Tensors")
        if story.ndim != 3 or query.ndim != 2 or story.shape[0] != query.shape[0]:
            raise ValueError(f"MemN2N: expected story (B, S, J) and query (B, J), got story "
                             f"{tuple(story.shape)} and query {tuple(query.shape)}")
        if story.shape[1] > self.memory_size:
            raise ValueError(f"MemN2N: the story has {story.shape[1]} sentences, more than "
                             f"memory_size={self.memory_size}")
        if self.sentence_length is not None and max(story.shape[2], query.shape[1]) > \
                self.sentence_length:
            raise ValueError(f"MemN2N: sentences of {story.shape[2]} / {query.shape[1]} words "
                             f"exceed sentence_length={self.sentence_length}")

    def _encode(self, embedding, words):
        """words: (..., J) -> (..., d): sum_j l_j * E x_j."""
        embedded = embedding(words)                                   # (..., J, d)
        if self.use_position_encoding:
            embedded = embedded * position_encoding(words.shape[-1], self.embedding_dim,
                                                    embedded.dtype)
        return embedded.sum(dim=-2)

    @staticmethod
    def _slots(story):
        """valid (B, S) bool, recency (B, S) int64: 0 for the last non-empty sentence."""
        valid = np.asarray(story.data).any(axis=2)
        if not valid.any(axis=1).all():
            raise ValueError("MemN2N: every story needs at least one non-empty sentence")
        order = np.cumsum(valid, axis=1) - 1                          # 0-based sentence index
        recency = np.where(valid, valid.sum(axis=1, keepdims=True) - 1 - order, 0)
        return valid, ag.tensor(recency, dtype=ag.int64)

    def _hops(self, story, query):
        self._check(story, query)
        valid, recency = self._slots(story)
        invalid = ag.tensor(~valid)
        u = self._encode(self._query_embedding(), query)              # (B, d)
        weights = []
        for k in range(self.hops):
            a_emb, a_time = self._memory_embedding(k)
            c_emb, c_time = self._output_embedding(k)
            m = self._encode(a_emb, story)                            # (B, S, d)
            c = self._encode(c_emb, story)
            if a_time is not None:
                m = m + a_time(recency)
                c = c + c_time(recency)
            scores = ag.matmul(m, u.unsqueeze(2)).squeeze(2)          # u . m_i: (B, S)
            if self.linear_start:
                p = scores.masked_fill(invalid, 0.0)
            else:
                p = F.softmax(scores.masked_fill(invalid, float("-inf")), dim=1)
            o = ag.matmul(p.unsqueeze(1), c).squeeze(1)               # sum_i p_i c_i: (B, d)
            u = (self.H(u) if self.weight_tying == "layerwise" else u) + o
            weights.append(p)
        return u, weights

    def forward(self, story, query):
        u, _ = self._hops(story, query)
        if self.weight_tying == "layerwise":
            return self.W(u)
        # W^T = C^K: logits_v = <C^K_v, o^K + u^K>; the padding word's logit is the constant
        # 0 (its row of C^K stays zero and receives no gradient, as for the look-ups)
        words = self.embeddings[self.hops].weight[1:]
        logits = ag.matmul(u, words.transpose(0, 1))
        return ag.cat([ag.zeros(u.shape[0], 1, dtype=logits.dtype), logits], dim=1)

    def attention(self, story, query):
        """The attention of every hop over the memory slots: (B, hops, S)."""
        _, weights = self._hops(story, query)
        return ag.stack(weights, dim=1)

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, embedding_dim={self.embedding_dim}, "
                f"memory_size={self.memory_size}, hops={self.hops}, "
                f"weight_tying={self.weight_tying!r}")
