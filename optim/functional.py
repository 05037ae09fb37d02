"""The optimizers' functional cores: one update of a parameter array and its state arrays,
in place (the classes are thin loops over their param groups calling these)."""
from .adadelta import adadelta_step
from .adagrad import adagrad_step
from .adam import adam_step
from .adamax import adamax_step
from .nadam import nadam_step
from .rmsprop import rmsprop_step
from .sgd import sgd_step

__all__ = ["sgd_step", "adam_step", "adagrad_step", "rmsprop_step", "adadelta_step",
           "adamax_step", "nadam_step"]
