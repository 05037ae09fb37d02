"""The random generators of the data pipeline: numpy Generators, seeded from tapegrad's global
generator when none is given, so that `ag.manual_seed(s)` makes shuffling reproducible (as
`torch.manual_seed` does for DataLoader)."""
import numpy as np

from .. import creation


def as_generator(generator):
    """generator if it is a numpy Generator; None -> a fresh Generator seeded from the global
    generator (one draw, as PyTorch draws a seed from its default generator)."""
    if generator is None:
        seed = int(creation.get_rng().integers(0, 2 ** 63))
        return np.random.default_rng(seed)
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError("generator must be a numpy Generator (np.random.default_rng(seed)) or "
                    f"None, got {type(generator).__name__}")
