"""nn: Module, Parameter, layers, losses and nn.functional (see issue "nn and optim")."""
