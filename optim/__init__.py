"""optim: optimizers, lr schedulers and gradient clipping (see issue "nn and optim")."""
