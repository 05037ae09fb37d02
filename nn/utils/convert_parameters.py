"""parameters_to_vector / vector_to_parameters: all parameters as one flat vector and back."""
from autograd.ops import cat
from autograd.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One 1-d Tensor concatenating the flattened parameters (differentiable, as PyTorch's).

    parameters: an iterable of Tensors; result: (sum of numel,).
    """
    parameters = list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got an empty iterable of parameters")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-d `vec` into each parameter, in place.

    vec: (sum of numel,). The parameters keep their arrays and dtypes (values are copied and
    cast) and their version counters are bumped.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.data.size for p in parameters)
    if vec.data.ndim != 1 or vec.data.size != total:
        raise ValueError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} does not "
                         f"match the parameters' total number of elements ({total},)")
    pointer = 0
    for p in parameters:
        n = p.data.size
        p.data[...] = vec.data[pointer:pointer + n].reshape(p.data.shape)
        p._vc[0] += 1
        pointer += n
