"""The differentiable primitives, one module per family (a family's extra files in brackets).

    arithmetic  add sub mul div pow remainder ... and the dtype cast
    unary       exp log sqrt sigmoid relu erf rounding       [unary_trig: sin ... tanh atan2]
                                                             [unary_select: clamp where lerp
                                                              maximum masked_fill]
                                                             [unary_fill: fill_ zero_ copy_]
    compare     eq lt logical_and isnan any all ... (bool results, no gradient)
    reduce      sum mean prod var std norm                   [extrema: max min amax argmax]
                                                             [softmax: softmax log_softmax
                                                              logsumexp] [cumulative: cumsum
                                                              cumprod]
    shape       reshape view expand permute squeeze ...      [join: cat stack split chunk
                                                              unbind] [movement: flip roll
                                                              repeat tile]
    indexing    __getitem__ __setitem__ (index_put) take     [scatter: gather scatter
                                                              index_select index_add]
                                                             [sorting: sort argsort topk]
                                                             [triangular: tril triu diagonal]
    linalg      matmul mm bmm dot outer addmm ...            [einsum: einsum tensordot]

Each module lists its public functions in `__all__`, the Tensor methods it provides in
`TENSOR_METHODS`, and the names that get an in-place `name_` variant in `INPLACE`.
"""
from . import arithmetic, compare, indexing, linalg, reduce, shape, unary

FAMILIES = (arithmetic, unary, compare, reduce, shape, indexing, linalg)

__all__ = []
for _family in FAMILIES:
    for _name in _family.__all__:
        globals()[_name] = getattr(_family, _name)
        __all__.append(_name)
del _family, _name
