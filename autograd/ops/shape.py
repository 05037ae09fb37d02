"""Shape and movement ops: the gradient undoes the movement.

    reshape(x, s)        dx = reshape(g, x.shape)
    expand(x, s)         dx = sum_to_shape(g, x.shape)
"""
import numpy as np

from ..function import Function

__all__ = ["reshape", "broadcast_to"]


def _shape_arg(shape):
    """Accept f(2, 3) and f((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.data.shape
        return x.data.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.data.shape
        return np.broadcast_to(x.data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.sum_to_size(ctx.shape), None


def _infer_shape(op_name, x, shape):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op_name}: only one dimension can be inferred, got {shape}")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or x.data.size % known:
            raise RuntimeError(f"{op_name}: shape {shape} is invalid for input of size "
                               f"{x.data.size} (shape {tuple(x.shape)})")
        shape = tuple(x.data.size // known if s == -1 else s for s in shape)
    if int(np.prod(shape)) != x.data.size:
        raise RuntimeError(f"{op_name}: shape {shape} is invalid for input of size "
                           f"{x.data.size} (shape {tuple(x.shape)})")
    return shape


def reshape(input, *shape):
    shape = _infer_shape("reshape", input, _shape_arg(shape))
    return Reshape.apply(input, shape)


def broadcast_to(input, *shape):
    """expand: -1 keeps a dim; new leading dims may be added."""
    shape = _shape_arg(shape)
    nlead = len(shape) - input.ndim
    if nlead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({input.ndim}); input shape {tuple(input.shape)}")
    full = tuple(input.data.shape[i - nlead] if s == -1 and i >= nlead else int(s)
                 for i, s in enumerate(shape))
    for i, n in enumerate(input.data.shape):
        if n != 1 and n != full[nlead + i]:
            raise RuntimeError(f"expand: the expanded size of the tensor ({full[nlead + i]}) "
                               f"must match the existing size ({n}) at non-singleton "
                               f"dimension {nlead + i}; target {full}, tensor shape "
                               f"{tuple(input.shape)}")
    if full == input.data.shape:
        return input
    return Expand.apply(input, full)


TENSOR_METHODS = {"reshape": reshape, "expand": broadcast_to, "broadcast_to": broadcast_to,
                  "view": reshape}
INPLACE = []
