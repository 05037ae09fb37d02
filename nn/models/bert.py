"""A small BERT: an encoder-only Transformer pre-trained by masked-language modelling (MLM)
and next-sentence prediction (NSP), as in Devlin et al. (2019).

    ids, segments: (N, L) int64
    x = LayerNorm(tok[ids] + pos[0..L-1] + seg[segments]), dropout        (N, L, d)
    h = TransformerEncoder(x)      post-norm layers, GELU feed-forward, key padding mask
    MLM head:  logits = LayerNorm(gelu(h W_t + b_t)) tok^T + b_v          (N, L, vocab)
               (the decoder is tied to the token embedding)
    NSP head:  pooled = tanh(h[:, 0] W_p + b_p),  nsp = pooled W_n + b_n  (N, 2)
               (label 0: segment B follows A in the text, 1: B is a random span)

Pre-training data for a token stream (e.g. tiny Shakespeare's characters):
    make_pretraining_batch(tokens, ...)  [CLS] A [SEP] B [SEP] pairs, NSP labels, and BERT's
    masking (15 % of the non-special positions: 80 % -> [MASK], 10 % a random token, 10 %
    unchanged; labels -100 elsewhere).
"""
import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..dropout import Dropout
from ..linear import Linear
from ..module import Module
from ..normalization import LayerNorm
from ..parameter import Parameter
from ..sparse import Embedding
from ..transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = ["BERT", "SPECIAL_TOKENS", "NUM_SPECIAL", "PAD", "CLS", "SEP", "MASK", "mask_tokens",
           "make_pretraining_batch", "pretraining_loss"]

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")
PAD, CLS, SEP, MASK = range(4)
NUM_SPECIAL = len(SPECIAL_TOKENS)


class BERT(Module):
    """input_ids: (N, L) int64 -> (mlm_logits (N, L, vocab_size), nsp_logits (N, 2)).

    token_type_ids: (N, L) segment ids (default 0); attention_mask: (N, L), 1 (True) at real
    tokens and 0 at padding (default: ids != pad_id, so [PAD] is never attended to)."""

    def __init__(self, vocab_size, d_model=128, num_layers=2, nhead=4, dim_feedforward=512,
                 max_len=128, type_vocab_size=2, dropout=0.1, layer_norm_eps=1e-12, pad_id=PAD):
        super().__init__()
        self.vocab_size, self.max_len, self.pad_id = vocab_size, max_len, pad_id
        self.token_embedding = Embedding(vocab_size, d_model)
        self.position_embedding = Embedding(max_len, d_model)
        self.segment_embedding = Embedding(type_vocab_size, d_model)
        self.embedding_norm = LayerNorm(d_model, eps=layer_norm_eps)
        self.embedding_dropout = Dropout(dropout)
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                        activation="gelu", layer_norm_eps=layer_norm_eps,
                                        batch_first=True)
        self.encoder = TransformerEncoder(layer, num_layers)
        self.mlm_dense = Linear(d_model, d_model)
        self.mlm_norm = LayerNorm(d_model, eps=layer_norm_eps)
        self.mlm_bias = Parameter(ag.zeros(vocab_size))
        self.pooler = Linear(d_model, d_model)
        self.nsp_head = Linear(d_model, 2)
        # BERT's initialisation: matrices ~ N(0, 0.02^2), biases 0, LayerNorm (1, 0)
        for name, p in self.named_parameters():
            if p.ndim >= 2:
                init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                init.zeros_(p)

    def encode(self, input_ids, token_type_ids=None, attention_mask=None):
        """-> the encoder's output h: (N, L, d_model)."""
        if input_ids.ndim != 2 or input_ids.shape[1] > self.max_len:
            raise ValueError(f"BERT: expected input_ids of shape (N, L) with L <= max_len="
                             f"{self.max_len}, got {tuple(input_ids.shape)}")
        n, length = input_ids.shape
        if token_type_ids is None:
            token_type_ids = ag.zeros(n, length, dtype=ag.int64)
        x = (self.token_embedding(input_ids) + self.position_embedding(ag.arange(length))
             + self.segment_embedding(token_type_ids))
        x = self.embedding_dropout(self.embedding_norm(x))
        if attention_mask is None:
            padding = input_ids.data == self.pad_id
        else:
            padding = ~np.asarray(attention_mask.data, dtype=bool)
        padding = ag.from_numpy(padding) if padding.any() else None
        return self.encoder(x, src_key_padding_mask=padding)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        h = self.encode(input_ids, token_type_ids, attention_mask)
        t = self.mlm_norm(F.gelu(self.mlm_dense(h)))
        mlm_logits = F.linear(t, self.token_embedding.weight, self.mlm_bias)   # tied decoder
        nsp_logits = self.nsp_head(self.pooler(h[:, 0]).tanh())
        return mlm_logits, nsp_logits


def pretraining_loss(mlm_logits, nsp_logits, mlm_labels, nsp_labels):
    """(total, mlm, nsp): cross-entropy of the masked positions (labels -100 ignored) and of
    the next-sentence labels; total = mlm + nsp."""
    vocab = mlm_logits.shape[-1]
    mlm = F.cross_entropy(mlm_logits.reshape(-1, vocab), mlm_labels.reshape(-1),
                          ignore_index=-100)
    nsp = F.cross_entropy(nsp_logits, nsp_labels)
    return mlm + nsp, mlm, nsp


def mask_tokens(input_ids, vocab_size, rng, mlm_probability=0.15, num_special=NUM_SPECIAL,
                mask_id=MASK):
    """BERT's masking of ids: (N, L) int64 ndarray -> (masked ids, labels), labels = the
    original id at the chosen positions and -100 elsewhere. Positions holding special ids
    (< num_special) are never chosen; at least one position per row is."""
    ids = np.array(input_ids, dtype=np.int64)
    candidates = ids >= num_special
    chosen = (rng.random(ids.shape) < mlm_probability) & candidates
    for row in np.flatnonzero(~chosen.any(1) & candidates.any(1)):
        chosen[row, rng.choice(np.flatnonzero(candidates[row]))] = True
    labels = np.where(chosen, ids, -100)
    action = rng.random(ids.shape)
    ids[chosen & (action < 0.8)] = mask_id                                   # 80 %: [MASK]
    swap = chosen & (action >= 0.8) & (action < 0.9)                        # 10 %: random
    ids[swap] = rng.integers(num_special, vocab_size, size=int(swap.sum()))
    return ids, labels                                                      # 10 %: unchanged


def make_pretraining_batch(tokens, batch_size, seq_len, vocab_size, rng,
                           mlm_probability=0.15, num_special=NUM_SPECIAL):
    """NSP pairs from a 1-d stream of token ids (already offset past the special ids).

    Row: [CLS] A [SEP] B [SEP] with |A| = (seq_len - 3) // 2 and |B| the rest; B follows A
    in the stream (label 0) or starts at a random place (label 1), each with probability 1/2.
    Returns Tensors (input_ids, token_type_ids, mlm_labels: (N, seq_len); nsp_labels: (N,)).
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    len_a = (seq_len - 3) // 2
    len_b = seq_len - 3 - len_a
    if len_a < 1 or len(tokens) <= len_a + len_b:
        raise ValueError(f"make_pretraining_batch: seq_len={seq_len} needs >= 5 and a stream "
                         f"longer than {len_a + len_b} tokens, got {len(tokens)}")
    starts = rng.integers(0, len(tokens) - len_a - len_b, size=batch_size)
    nsp = rng.integers(0, 2, size=batch_size)
    b_starts = np.where(nsp == 0, starts + len_a,
                        rng.integers(0, len(tokens) - len_b, size=batch_size))
    a = tokens[starts[:, None] + np.arange(len_a)]
    b = tokens[b_starts[:, None] + np.arange(len_b)]
    col = np.full((batch_size, 1), 0, dtype=np.int64)
    ids = np.concatenate([col + CLS, a, col + SEP, b, col + SEP], axis=1)
    segments = np.concatenate([np.zeros((batch_size, len_a + 2), np.int64),
                               np.ones((batch_size, len_b + 1), np.int64)], axis=1)
    masked, labels = mask_tokens(ids, vocab_size, rng, mlm_probability, num_special)
    return (ag.from_numpy(masked), ag.from_numpy(segments), ag.from_numpy(labels),
            ag.from_numpy(nsp.astype(np.int64)))
