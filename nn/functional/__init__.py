"""nn.functional: the stateless functions layers call (PyTorch's names and signatures).

    activation     relu gelu silu softmax log_softmax ...
    linear         linear bilinear
    conv           conv1d/2d/3d conv_transpose1d/2d/3d
    pooling        max_pool* avg_pool* adaptive_* max_unpool2d interpolate
    loss           cross_entropy nll_loss mse_loss binary_cross_entropy(_with_logits) ...
    dropout        dropout dropout2d
    embedding      embedding one_hot
    normalization  batch_norm layer_norm group_norm instance_norm
"""
from . import activation, conv, dropout, embedding, linear, loss, normalization, pooling

__all__ = []
_name = None
for _module in (activation, linear, conv, pooling, loss, dropout, embedding, normalization):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
