"""Every training parameter, its default and its validation, in one place.

`Word2VecConfig` is used by the Python API (``Word2Vec(**params)``), and is meant to be
used as is by the command line and the saved model's metadata, so that defaults are never
written twice.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import os
from dataclasses import dataclass, fields
from typing import Optional

import numpy as np

UNICODE_ERRORS = ("strict", "replace", "ignore")
MAX_WORKERS = 4096
# thread i seeds its generator with seed + i, a 64-bit unsigned integer
MAX_SEED = (1 << 64) - MAX_WORKERS
MAX_ALPHA = 10.0


def default_workers() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Word2VecConfig:
    """Training parameters, with gensim 4's names and defaults wherever the concept is
    the same.

    Parameters
    ----------
    vector_size : int
        Dimension of the word vectors.
    window : int
        Maximum distance between the centre word and a context word.
    min_count : int
        Words seen fewer times than this are dropped from the vocabulary.
    max_vocab_size : int or None
        Bound on distinct words held while counting: when exceeded, the rarest words are
        pruned (as word2vec.c does), so their counts may be approximate. None: no bound.
        Id sequences (``IdSequences``, or a list of integer arrays) are counted exactly
        in one vectorised pass instead and keep the ``max_vocab_size`` most frequent ids
        (ties by first appearance): with this bound the same data given as id sequences
        and as token lists or a file can give different vocabularies (pruning usually
        keeps fewer words), hence different vectors.
    max_final_vocab : int or None
        Keep at most this many words, by raising ``min_count`` as far as needed (gensim's
        rule: every word with the cut-off count goes, so the vocabulary may be smaller).
    sample : float
        Subsampling threshold in [0, 1): a word with count ``c`` out of ``T`` is kept with
        probability ``(sqrt(c / (sample*T)) + 1) * sample*T / c``. 0 disables it.
    seed : int
        Seed of every random choice, in [0, 2**64 - 4096]; with ``workers=1`` training is
        bit-for-bit reproducible.
    workers : int or None
        Training threads. None: one per core available to this process.
    alpha, min_alpha : float
        The learning rate decays linearly from ``alpha`` to ``min_alpha`` over all epochs
        (or rises, if ``min_alpha`` is the larger, as gensim and ``train(start_alpha=,
        end_alpha=)`` allow: so that a loop lowering both by hand, ``model.alpha -= d;
        model.min_alpha = model.alpha``, works in either order).
    sg : {0, 1}
        1: skip-gram; 0: CBOW.
    hs : {0, 1}
        1: hierarchical softmax.
    negative : int
        Noise words per example for negative sampling; 0 disables it.
    ns_exponent : float
        Noise distribution: P(w) proportional to count(w) ** ns_exponent.
    cbow_mean : {0, 1}
        CBOW input: 1 the mean of the context vectors, 0 their sum.
    epochs : int
        Passes over the corpus.
    shrink_windows : bool
        Draw the window of each centre word uniformly from 1..window (word2vec.c) rather
        than always using ``window``.
    compute_loss : bool
        Accumulate the training loss (cheap: one table lookup per update).
    shared_negatives : bool
        Skip-gram only: draw the noise words once per centre word and use them for all
        its context words (as Intel's pWord2Vec does), instead of once per (centre,
        context) pair as word2vec.c and gensim do; each window is then trained as one
        block: 1.7-2.1x faster at the same quality (bench/RESULTS.md, "Shared
        negatives"); off by default so that the default recipe is word2vec.c's.
    max_sentence_length : int
        Sentences longer than this many in-vocabulary tokens are trained as consecutive
        chunks of this length (context windows do not reach across a cut); no token is
        dropped.
    unicode_errors : {'strict', 'replace', 'ignore'}
        How to decode words from a ``corpus_file`` that are not valid UTF-8.
    """

    vector_size: int = 100
    window: int = 5
    min_count: int = 5
    max_vocab_size: Optional[int] = None
    max_final_vocab: Optional[int] = None
    sample: float = 1e-3
    seed: int = 1
    workers: Optional[int] = None
    alpha: float = 0.025
    min_alpha: float = 0.0001
    sg: int = 0
    hs: int = 0
    negative: int = 5
    ns_exponent: float = 0.75
    cbow_mean: int = 1
    epochs: int = 5
    shrink_windows: bool = True
    compute_loss: bool = True
    shared_negatives: bool = False
    max_sentence_length: int = 10000
    unicode_errors: str = "strict"

    def __post_init__(self):
        _int(self, "vector_size", lo=1, hi=1 << 20)
        _int(self, "window", lo=1, hi=1 << 20)
        _int(self, "min_count", lo=0)
        _int(self, "max_vocab_size", lo=1, optional=True, hint="or None for no bound")
        _int(self, "max_final_vocab", lo=1, optional=True, hint="or None for no bound")
        _real(self, "sample", lo=0.0, hi=1.0, hi_open=True, hint="(0 disables subsampling)")
        _int(self, "seed", lo=0, hi=MAX_SEED,
             hint="(thread i seeds its generator with seed + i, a 64-bit unsigned integer)")
        _int(self, "workers", lo=1, hi=MAX_WORKERS, optional=True,
             hint="or None for all cores")
        _real(self, "alpha", lo=0.0, lo_open=True, hi=MAX_ALPHA)
        _real(self, "min_alpha", lo=0.0, hi=MAX_ALPHA)
        _flag(self, "sg")
        _flag(self, "hs")
        _int(self, "negative", lo=0, hi=1000)
        _real(self, "ns_exponent", lo=-10.0, hi=10.0)
        _flag(self, "cbow_mean")
        _int(self, "epochs", lo=1, hi=1 << 20)
        _bool(self, "shrink_windows")
        _bool(self, "compute_loss")
        _bool(self, "shared_negatives")
        _int(self, "max_sentence_length", lo=1, hi=10_000_000,
             hint="(each thread holds a buffer of that many ids)")
        if self.unicode_errors not in UNICODE_ERRORS:
            raise ValueError(f"unicode_errors must be one of {UNICODE_ERRORS}, "
                             f"got {self.unicode_errors!r}")
        if not self.hs and not self.negative:
            raise ValueError("nothing to train with hs=0 and negative=0: set negative > 0 "
                             "(e.g. negative=5) or hs=1")

    @classmethod
    def from_params(cls, **params) -> "Word2VecConfig":
        """Like the constructor, but an unknown name raises a TypeError that suggests the
        parameter meant (``size`` -> ``vector_size``, as in gensim 3)."""
        names = [f.name for f in fields(cls)]
        renamed = {"size": "vector_size", "iter": "epochs"}
        for key in params:
            if key not in names:
                guess = renamed.get(key) or next(iter(difflib.get_close_matches(key, names, 1)), None)
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise TypeError(f"unknown parameter {key!r}{hint} "
                                f"(parameters: {', '.join(names)})")
        return cls(**params)

    def replace(self, **changes) -> "Word2VecConfig":
        return dataclasses.replace(self, **changes)

    def resolved_workers(self) -> int:
        return self.workers if self.workers is not None else default_workers()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_learning_rate(name, value, zero_ok=False) -> float:
    """A learning rate given to train() (start_alpha, end_alpha), checked as alpha is: a
    finite number in (0, 10], or [0, 10] with zero_ok. Returns it as a float."""
    return _real_value(name, value, lo=0.0, lo_open=not zero_ok, hi=MAX_ALPHA)


def _fail(name, value, need, hint=""):
    raise ValueError(f"{name} must be {need}{(' ' + hint) if hint else ''}, got {value!r}")


def _int(cfg, name, lo=None, hi=None, optional=False, hint=""):
    value = getattr(cfg, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int{' ' + hint if hint else ''}, "
                        f"got {type(value).__name__} {value!r}")
    if lo is not None and value < lo:
        _fail(name, value, f">= {lo}", hint)
    if hi is not None and value > hi:
        _fail(name, value, f"<= {hi}", hint)
    object.__setattr__(cfg, name, int(value))


def _real(cfg, name, lo=None, hi=None, lo_open=False, hi_open=False, hint=""):
    value = _real_value(name, getattr(cfg, name), lo, hi, lo_open, hi_open, hint)
    object.__setattr__(cfg, name, value)


def _real_value(name, value, lo=None, hi=None, lo_open=False, hi_open=False, hint=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        _fail(name, value, "finite", hint)
    if lo is not None and (value < lo or (lo_open and value == lo)):
        _fail(name, value, f"{'>' if lo_open else '>='} {lo}", hint)
    if hi is not None and (value > hi or (hi_open and value == hi)):
        _fail(name, value, f"{'<' if hi_open else '<='} {hi}", hint)
    return value


# numpy's bool (np.True_, e.g. from an array of settings) is no numbers.Integral
_INTEGRAL_OR_BOOL = (numbers.Integral, bool, np.bool_)


def _flag(cfg, name):
    value = getattr(cfg, name)
    if not isinstance(value, _INTEGRAL_OR_BOOL) or value not in (0, 1):
        raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    object.__setattr__(cfg, name, int(value))


def _bool(cfg, name):
    value = getattr(cfg, name)
    if not isinstance(value, _INTEGRAL_OR_BOOL) or value not in (0, 1):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    object.__setattr__(cfg, name, bool(value))
