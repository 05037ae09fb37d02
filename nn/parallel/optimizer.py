"""DistributedOptimizer: an optimizer whose step() first averages the gradients (Horovod's
pattern), for DistributedDataParallel(..., auto_sync=False) or as a safety net with auto_sync.

    ddp = DistributedDataParallel(model, auto_sync=False)
    opt = DistributedOptimizer(optim.Adam(ddp.parameters(), lr=1e-3), ddp)
    opt.zero_grad(); loss.backward(); opt.step()     # step: allreduce_gradients(), then Adam

With auto_sync=True the gradients are already averaged in backward and the extra call costs
nothing, except for buckets that backward left incomplete (unused parameters), which it
averages. Everything else (param_groups, state, zero_grad, state_dict, load_state_dict) is
the wrapped optimizer's; give the wrapped optimizer (`opt.optimizer`) to an lr scheduler.
"""

__all__ = ["DistributedOptimizer"]


class DistributedOptimizer:
    """DistributedOptimizer(optimizer, ddp): step() = ddp.allreduce_gradients(), then
    optimizer.step(). With a closure, the gradients are averaged after the closure's backward.
    """

    def __init__(self, optimizer, ddp):
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError("DistributedOptimizer: optimizer must be an optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        if not hasattr(ddp, "allreduce_gradients"):
            raise TypeError("DistributedOptimizer: ddp must be a DistributedDataParallel, got "
                            f"{type(ddp).__name__}")
        self.optimizer = optimizer
        self.ddp = ddp

    def step(self, closure=None):
        if closure is None:
            self.ddp.allreduce_gradients()
            return self.optimizer.step()

        def closure_then_average():
            loss = closure()
            self.ddp.allreduce_gradients()
            return loss
        return self.optimizer.step(closure_then_average)

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(state_dict)

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    def __repr__(self):
        return f"DistributedOptimizer({self.optimizer!r})"
