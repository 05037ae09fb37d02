"""`ag.autograd`: gradient utilities, laid out as `torch.autograd`.

    ag.autograd.grad, backward, Function
    ag.autograd.gradcheck, gradgradcheck       float64 finite-difference checks
    ag.autograd.functional                     jacobian, hessian, vjp, jvp, hvp
    ag.autograd.detect_anomaly                 NaN/Inf in backward, with the forward line
"""
from ..engine import backward, grad
from ..function import Function, once_differentiable
from .anomaly import detect_anomaly, set_detect_anomaly
from .gradcheck import gradcheck, gradgradcheck
from . import functional

__all__ = ["backward", "grad", "Function", "once_differentiable", "detect_anomaly",
           "set_detect_anomaly", "gradcheck", "gradgradcheck", "functional"]
