"""The differentiable primitives, one module per family.

    arithmetic  add sub mul div pow ... and the dtype cast
    unary       exp log tanh sigmoid relu clamp where ... (elementwise math)
    compare     eq lt logical_and isnan ... (bool results, no gradient)
    reduce      sum mean max var norm softmax cumsum ...
    shape       reshape expand permute cat stack split flip ...
    indexing    __getitem__ gather scatter index_select sort topk tril ...
    linalg      matmul mm bmm dot outer einsum

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
