"""nn.functional: the stateless functions layers call (PyTorch's names and signatures).

    activation     relu gelu silu softmax log_softmax ...
    linear         linear bilinear
    conv           conv1d/2d/3d conv_transpose1d/2d/3d
    pooling        max_pool* avg_pool* adaptive_* max_unpool2d interpolate
    loss           cross_entropy nll_loss binary_cross_entropy(_with_logits) ...
    loss_regression mse_loss l1_loss smooth_l1_loss huber_loss kl_div gaussian_nll_loss
    loss_margin    margin_ranking hinge_embedding cosine_embedding triplet_margin losses
    dropout        dropout dropout2d
    embedding      embedding one_hot
    normalization  batch_norm layer_norm group_norm instance_norm
    padding        pad
    attention      scaled_dot_product_attention
    rnn            rnn_tanh_cell rnn_relu_cell lstm_cell gru_cell (the composed cells)
"""
from . import (activation, attention, conv, dropout, embedding, linear, loss, loss_margin,
               loss_regression, normalization, padding, pooling, rnn)

__all__ = []
_name = None
for _module in (activation, linear, conv, pooling, loss, loss_regression, loss_margin, dropout,
                embedding, normalization, padding, attention, rnn):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
