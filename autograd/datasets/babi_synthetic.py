"""Synthetic bAbI-style question answering (in the spirit of Weston et al. 2015, tasks 1 and 2),
generated with a seed, no download.

    data = babi_synthetic(1000, task=1, seed=0)
    data.stories   (n, S, J) int64: S sentences of J word ids, 0 = padding (sentences first,
                   empty sentences after them)
    data.queries   (n, J) int64, data.answers (n,) int64 (a word id: a place)
    data.supports  ndarray (n, 2): the indices of the supporting sentences (-1 = unused)
    data.vocab     tuple of words, vocab[0] = '<pad>'; the same for every call and task
    data.text(i)   the i-th story, question and answer as strings

task=1, single supporting fact: people move between places ("mary went to the kitchen");
    "where is mary ?" -> the place of her last move (one supporting sentence).
task=2, two supporting facts: people also pick up and drop objects ("john got the apple");
    "where is the apple ?" -> the place of the person carrying it (the pick-up and that
    person's last move), or of the person when they dropped it (the drop and the move before).
Every answer is determined by the story. Each story has between min_sentences and
max_sentences sentences (S = max_sentences).
"""
import numpy as np

from ..tensor import Tensor
from ._rng import make_rng

__all__ = ["babi_synthetic", "BabiTask", "BABI_VOCAB"]

PEOPLE = ("mary", "john", "daniel", "sandra")
PLACES = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")
MOVES = ("moved", "went", "journeyed", "travelled")
PICKS = (("picked", "up"), ("got",), ("grabbed",), ("took",))
DROPS = (("dropped",), ("discarded",), ("put", "down"), ("left",))
SENTENCE_LENGTH = 5


def _vocabulary():
    words = set(PEOPLE + PLACES + OBJECTS + MOVES + ("to", "the", "where", "is"))
    for phrase in PICKS + DROPS:
        words.update(phrase)
    return ("<pad>",) + tuple(sorted(words))


BABI_VOCAB = _vocabulary()
_WORD_ID = {word: i for i, word in enumerate(BABI_VOCAB)}


class BabiTask:
    """The arrays of one generated set (see the module docstring)."""

    def __init__(self, stories, queries, answers, supports, task):
        self.stories = Tensor._make(stories, False, None, 0)
        self.queries = Tensor._make(queries, False, None, 0)
        self.answers = Tensor._make(answers, False, None, 0)
        self.supports = supports
        self.task = task
        self.vocab = BABI_VOCAB

    def __len__(self):
        return self.answers.shape[0]

    def __repr__(self):
        return (f"BabiTask(task={self.task}, samples={len(self)}, "
                f"stories={tuple(self.stories.shape)}, vocab={len(self.vocab)})")

    def text(self, i):
        """(sentences, question, answer) of sample i as strings."""
        def words(ids):
            return " ".join(self.vocab[k] for k in ids if k != 0)
        sentences = [words(s) for s in self.stories.data[i] if s.any()]
        return sentences, words(self.queries.data[i]) + " ?", self.vocab[self.answers.data[i]]


def _encode(words):
    ids = np.zeros(SENTENCE_LENGTH, dtype=np.int64)
    ids[:len(words)] = [_WORD_ID[w] for w in words]
    return ids


class _World:
    """The state of one story: where each person is, who holds what, where objects lie, and
    the sentences (with their index) that established each fact."""

    def __init__(self, rng):
        self.rng = rng
        self.sentences = []
        self.place = {}            # person -> (place, sentence of the move)
        self.holder = {}           # object -> (person, sentence of the pick-up)
        self.dropped = {}          # object -> (place, sentence of the drop, sentence of the move)

    def _choice(self, options):
        return options[self.rng.integers(len(options))]

    def move(self):
        person, place = self._choice(PEOPLE), self._choice(PLACES)
        self.place[person] = (place, len(self.sentences))
        self.sentences.append([person, self._choice(MOVES), "to", "the", place])

    def pick(self):
        candidates = [(p, o) for p in self.place for o in OBJECTS if o not in self.holder
                      and (o not in self.dropped or self.dropped[o][0] == self.place[p][0])]
        if not candidates:
            return self.move()
        person, obj = self._choice(candidates)
        self.dropped.pop(obj, None)
        self.holder[obj] = (person, len(self.sentences))
        self.sentences.append([person, *self._choice(PICKS), "the", obj])

    def drop(self):
        if not self.holder:
            return self.move()
        obj = self._choice(sorted(self.holder))
        person, _ = self.holder.pop(obj)
        place, moved_at = self.place[person]
        self.dropped[obj] = (place, len(self.sentences), moved_at)
        self.sentences.append([person, *self._choice(DROPS), "the", obj])

    def object_question(self):
        """(object, place, supports) for a random object whose place is known, or None."""
        known = sorted(self.holder) + sorted(self.dropped)
        if not known:
            return None
        obj = self._choice(known)
        if obj in self.holder:
            person, picked_at = self.holder[obj]
            place, moved_at = self.place[person]
            return obj, place, sorted((picked_at, moved_at))
        place, dropped_at, moved_at = self.dropped[obj]
        return obj, place, sorted((moved_at, dropped_at))


def _story(rng, task, length):
    """One (sentences, question words, answer, supports) with `length` sentences."""
    while True:
        world = _World(rng)
        for _ in range(length):
            if task == 1 or not world.place:
                world.move()
            else:
                action = rng.choice(3, p=(0.4, 0.35, 0.25))
                (world.move, world.pick, world.drop)[action]()
        if task == 1:
            person = world._choice(sorted(world.place))
            place, moved_at = world.place[person]
            return world.sentences, ["where", "is", person], place, [moved_at]
        question = world.object_question()
        if question is not None:
            obj, place, supports = question
            return world.sentences, ["where", "is", "the", obj], place, supports


def babi_synthetic(num_samples, task=1, seed=None, min_sentences=None, max_sentences=None):
    """A BabiTask of num_samples stories. task: 1 (single supporting fact) or 2 (two
    supporting facts); story lengths uniform in [min_sentences, max_sentences] (defaults
    2..10 for task 1, 4..20 for task 2). seed: an int, a numpy Generator or None."""
    if task not in (1, 2):
        raise ValueError(f"babi_synthetic: task must be 1 or 2, got {task!r}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples < 1:
        raise ValueError(f"babi_synthetic: num_samples must be an integer >= 1, got "
                         f"{num_samples!r}")
    low = (2 if task == 1 else 4) if min_sentences is None else min_sentences
    high = (10 if task == 1 else 20) if max_sentences is None else max_sentences
    if not 1 <= low <= high:
        raise ValueError(f"babi_synthetic: need 1 <= min_sentences <= max_sentences, got "
                         f"{low} and {high}")
    rng = make_rng(seed)
    n = int(num_samples)
    stories = np.zeros((n, high, SENTENCE_LENGTH), dtype=np.int64)
    queries = np.zeros((n, SENTENCE_LENGTH), dtype=np.int64)
    answers = np.zeros(n, dtype=np.int64)
    supports = np.full((n, 2), -1, dtype=np.int64)
    for i in range(n):
        sentences, question, answer, support = _story(rng, task, int(rng.integers(low, high + 1)))
        for j, sentence in enumerate(sentences):
            stories[i, j] = _encode(sentence)
        queries[i] = _encode(question)
        answers[i] = _WORD_ID[answer]
        supports[i, :len(support)] = support
    return BabiTask(stories, queries, answers, supports, task)
