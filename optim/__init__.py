"""optim: optimizers, lr schedulers and gradient clipping (see issue "nn and optim").

    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    opt.zero_grad(); loss.backward(); opt.step(); sched.step()

Each optimizer is a thin class over a functional update on arrays (`optim.functional`);
gradient clipping lives in `nn.utils` (clip_grad_norm_, clip_grad_value_), as in PyTorch.
"""
from . import functional, lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer, required
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "required", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta",
           "Adamax", "NAdam", "lr_scheduler", "functional"]
