"""Embedding: a lookup table of num_embeddings vectors of size embedding_dim.

    Embedding(V, D)     idx: (*) int64 in [0, V) -> (*, D);  y[...] = weight[idx[...]]
        weight (V, D) ~ N(0, 1), the row padding_idx zeroed (it gets no gradient either);
        max_norm: rows looked up whose norm exceeds it are rescaled in place first.
    Embedding.from_pretrained(weights, freeze=True): a layer sharing the given (V, D) table.
"""
import autograd as ag

from . import functional as F
from . import init
from .linear import empty_parameter, factory_dtype, layer_name
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """idx: (*) integer indices -> (*, embedding_dim). weight: (num_embeddings,
    embedding_dim)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype("Embedding", device, dtype)
        if sparse:
            raise NotImplementedError("Embedding: sparse=True (sparse gradients) is not "
                                      "supported; use sparse=False")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx={padding_idx} must be within "
                                 f"num_embeddings={num_embeddings} (in [-{num_embeddings}, "
                                 f"{num_embeddings}))")
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = empty_parameter((num_embeddings, embedding_dim), dtype,
                                          requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: weight of shape {tuple(_weight.shape)} does not "
                                 f"match (num_embeddings, embedding_dim) = ({num_embeddings}, "
                                 f"{embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        # weight ~ N(0, 1), then the padding row set to zero
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with ag.no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):
        if not isinstance(input, ag.Tensor) or input.dtype.kind not in "iu":
            what = (f"dtype {input.dtype} with shape {tuple(input.shape)}"
                    if isinstance(input, ag.Tensor) else type(input).__name__)
            raise RuntimeError(f"{layer_name(self)}: expected an integer (int64) tensor of "
                               f"indices, got {what}")
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """embeddings: (V, D) Tensor, shared (not copied) as the weight; freeze=True: the
        weight does not require grad."""
        if not isinstance(embeddings, ag.Tensor):
            embeddings = ag.tensor(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional "
                             f"(num_embeddings, embedding_dim), got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   dtype=embeddings.dtype)
