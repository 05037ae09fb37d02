"""Sequence to sequence with Bahdanau attention (Bahdanau, Cho & Bengio 2015).

    Encoder: embedding, bidirectional GRU over the packed source -> annotations h_j (2H_e)
             s_0 = tanh(W_s [h_fwd_last; h_bwd_first])
    Decoder, step i (GRUCell, composed):
             e_ij = v^T tanh(W_q s_{i-1} + W_k h_j)        (nn.AdditiveAttention; pads masked)
             a_i = softmax(e_i),  c_i = sum_j a_ij h_j
             s_i = GRU(s_{i-1}, [E y_{i-1}; c_i])
             logits_i = W_o [s_i; c_i; E y_{i-1}] + b_o
    Training feeds y_{i-1} from the target (teacher forcing, or the model's own argmax with
    probability 1 - teacher_forcing); greedy decoding feeds back its own argmax.

    reverse_digits_task(n, 5, 10, seed)   the synthetic task: a digit sequence -> reversed.
    Tokens: PAD = 0, SOS = 1, EOS = 2, digit d = d + 3 (vocabulary 13).
"""
import numpy as np

import autograd as ag

from .. import functional as F
from ..attention import AdditiveAttention
from ..linear import Linear
from ..module import Module
from ..rnn import GRU, GRUCell
from ..sparse import Embedding
from ..utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["PAD", "SOS", "EOS", "DIGIT_VOCAB", "reverse_digits_task", "Seq2SeqEncoder",
           "AttentionDecoder", "Seq2Seq", "sequence_accuracy"]

PAD, SOS, EOS = 0, 1, 2
DIGIT_VOCAB = 13


def reverse_digits_task(num_samples, min_len=5, max_len=10, seed=None):
    """(src (N, max_len), lengths (N,), tgt (N, max_len + 1)) int64 Tensors: src holds
    `length` random digit tokens then PAD; tgt the same digits reversed, EOS, then PAD.
    seed: an int, a numpy Generator or None."""
    if not 1 <= min_len <= max_len or num_samples < 1:
        raise ValueError(f"reverse_digits_task: need num_samples >= 1 and 1 <= min_len <= "
                         f"max_len, got {num_samples}, {min_len}, {max_len}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=num_samples)
    src = np.full((num_samples, max_len), PAD, np.int64)
    tgt = np.full((num_samples, max_len + 1), PAD, np.int64)
    for n, length in enumerate(lengths):
        digits = rng.integers(0, 10, size=length) + 3
        src[n, :length] = digits
        tgt[n, :length] = digits[::-1]
        tgt[n, length] = EOS
    return ag.tensor(src), ag.tensor(lengths.astype(np.int64)), ag.tensor(tgt)


class Seq2SeqEncoder(Module):
    """src: (N, S) int64 tokens, lengths: (N,) -> (annotations (N, S, 2H), padding mask (N, S)
    bool (True at PAD), s_0 (N, H_dec))."""

    def __init__(self, vocab_size, embed_dim, hidden_size, decoder_size, dtype=None):
        super().__init__()
        self.embedding = Embedding(vocab_size, embed_dim, padding_idx=PAD, dtype=dtype)
        self.rnn = GRU(embed_dim, hidden_size, batch_first=True, bidirectional=True,
                       dtype=dtype)
        self.bridge = Linear(2 * hidden_size, decoder_size, dtype=dtype)

    def forward(self, src, lengths):
        if src.ndim != 2 or tuple(lengths.shape) != (src.shape[0],):
            raise RuntimeError(f"Seq2SeqEncoder: expected src (N, S) and lengths (N,), got "
                               f"src {tuple(src.shape)} and lengths {tuple(lengths.shape)}")
        steps = src.shape[1]
        packed = pack_padded_sequence(self.embedding(src), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, h_n = self.rnn(packed)                                   # h_n: (2, N, H)
        keys, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
        mask = np.arange(steps)[None, :] >= np.asarray(lengths.data)[:, None]
        s0 = self.bridge(ag.cat([h_n[0], h_n[1]], -1)).tanh()
        return keys, ag.from_numpy(mask), s0


class AttentionDecoder(Module):
    """One decoder step: (y_prev (N,) tokens, s (N, H_dec), keys (N, S, K), projected keys,
    mask) -> (logits (N, V), s' (N, H_dec), attention weights (N, S))."""

    def __init__(self, vocab_size, embed_dim, key_size, hidden_size, attention_size,
                 dtype=None):
        super().__init__()
        self.embedding = Embedding(vocab_size, embed_dim, dtype=dtype)
        self.attention = AdditiveAttention(hidden_size, key_size, attention_size, dtype=dtype)
        self.cell = GRUCell(embed_dim + key_size, hidden_size, dtype=dtype)
        self.out = Linear(hidden_size + key_size + embed_dim, vocab_size, dtype=dtype)

    def forward(self, y_prev, s, keys, projected_keys, mask):
        e = self.embedding(y_prev)
        context, weights = self.attention(s, keys, key_padding_mask=mask,
                                          projected_keys=projected_keys)
        s = self.cell(ag.cat([e, context], -1), s)
        return self.out(ag.cat([s, context, e], -1)), s, weights


class Seq2Seq(Module):
    """Encoder-decoder with additive attention.

    forward(src (N, S), lengths (N,), tgt (N, T), teacher_forcing=1.0) -> logits (N, T, V):
        step i reads tgt[:, i-1] (SOS at i = 0), or, with probability 1 - teacher_forcing per
        sequence and step, the model's previous argmax.
    greedy_decode(src, lengths, max_len) -> (tokens (N, max_len) int64, each row cut at its
        first EOS and PAD after it, attention (N, max_len, S))."""

    def __init__(self, vocab_size=DIGIT_VOCAB, embed_dim=16, hidden_size=32, decoder_size=64,
                 attention_size=32, dtype=None):
        super().__init__()
        self.encoder = Seq2SeqEncoder(vocab_size, embed_dim, hidden_size, decoder_size, dtype)
        self.decoder = AttentionDecoder(vocab_size, embed_dim, 2 * hidden_size, decoder_size,
                                        attention_size, dtype)

    def _start(self, src, lengths):
        keys, mask, s = self.encoder(src, lengths)
        projected = self.decoder.attention.project_keys(keys)
        y = ag.full((src.shape[0],), SOS, dtype=ag.int64)
        return keys, mask, s, projected, y

    def forward(self, src, lengths, tgt, teacher_forcing=1.0):
        if not isinstance(tgt, ag.Tensor) or tgt.ndim != 2 or tgt.shape[0] != src.shape[0] \
                or tgt.dtype.kind not in "iu":
            got = f"{tgt.dtype} {tuple(tgt.shape)}" if isinstance(tgt, ag.Tensor) else \
                type(tgt).__name__
            raise RuntimeError(f"Seq2Seq: expected integer tgt (N, T) with the N of src "
                               f"{tuple(src.shape)}, got {got}")
        keys, mask, s, projected, y = self._start(src, lengths)
        logits = []
        for i in range(tgt.shape[1]):
            if i > 0:
                y = tgt[:, i - 1]
                if teacher_forcing < 1.0:
                    own = logits[-1].detach().argmax(-1)
                    y = ag.where(ag.rand(y.shape[0]) < teacher_forcing, y, own)
            step_logits, s, _ = self.decoder(y, s, keys, projected, mask)
            logits.append(step_logits)
        return ag.stack(logits, 1)

    def greedy_decode(self, src, lengths, max_len):
        with ag.no_grad():
            keys, mask, s, projected, y = self._start(src, lengths)
            tokens, attention = [], []
            for _ in range(max_len):
                step_logits, s, weights = self.decoder(y, s, keys, projected, mask)
                y = step_logits.argmax(-1)
                tokens.append(y.data)
                attention.append(weights.data)
        tokens = np.stack(tokens, 1)
        ended = np.cumsum(tokens == EOS, axis=1) - (tokens == EOS) > 0
        tokens[ended] = PAD
        return ag.from_numpy(tokens), ag.from_numpy(np.stack(attention, 1))

    def loss(self, src, lengths, tgt, teacher_forcing=1.0):
        """Mean cross-entropy over the non-PAD target tokens."""
        logits = self(src, lengths, tgt, teacher_forcing)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                               ignore_index=PAD)


def sequence_accuracy(pred, tgt):
    """Fraction of rows where pred equals tgt exactly up to and including tgt's EOS (pred
    (N, T1), tgt (N, T2) int tokens, PAD after EOS)."""
    pred = np.asarray(pred.data if isinstance(pred, ag.Tensor) else pred)
    tgt = np.asarray(tgt.data if isinstance(tgt, ag.Tensor) else tgt)
    width = max(pred.shape[1], tgt.shape[1])
    p = np.full((pred.shape[0], width), PAD, np.int64)
    t = np.full((tgt.shape[0], width), PAD, np.int64)
    p[:, :pred.shape[1]] = pred
    t[:, :tgt.shape[1]] = tgt
    return float((p == t).all(axis=1).mean())
