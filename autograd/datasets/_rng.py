"""The seed argument of the generated data sets: an int, a numpy Generator or None (then one
draw from tapegrad's global generator, so `ag.manual_seed` makes it reproducible)."""
import numpy as np

from ..data._random import as_generator


def make_rng(seed):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    return as_generator(seed)
