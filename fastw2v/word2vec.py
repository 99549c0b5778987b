"""Word2Vec: wires the stages together (corpus -> vocabulary -> encoded corpus ->
training kernels -> vectors) and runs the training threads."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import logging
import math
import numbers
import os
import signal
import sys
import threading
import time

import numpy as np

from fastw2v import _train, native
from fastw2v.config import Word2VecConfig, check_learning_rate
from fastw2v import corpus as _corpus
from fastw2v.corpus import (as_id_sequences, check_path, check_restartable,
                            without_tensors)
from fastw2v.encoded import (check_encoded_dir, encode_file, encode_ids, encode_iterable,
                             encode_recorded)
from fastw2v.keyedvectors import (KeyedVectors, grown_lockf, loaded_lockf, lockf_array,
                                  missing_attribute)
from fastw2v.vocab import (RULE_KEEP, RawCounts, Vocab, count_file, count_ids,
                           count_iterable, freq_counts, python_key, select_words)

logger = logging.getLogger("fastw2v")

# gensim's corpus readers, where gensim has them (gensim.models.word2vec.LineSentence)
LineSentence, PathLineSentences = _corpus.LineSentence, _corpus.PathLineSentences
Text8Corpus = _corpus.Text8Corpus

_CALLBACK_HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")
# guards the test-and-set of a model's `_busy` (which call runs on it, and on which thread)
_BUSY_LOCK = threading.Lock()


def _one_at_a_time(method):
    """Run `method` (train, build_vocab) only while no other of them runs on the model:
    another thread's train() or build_vocab(), or one called from a training callback,
    would train into arrays that are being replaced, or share the threads' random
    streams and scratch buffers, and lose training without a word."""
    what = f"{method.__name__}()"

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        claimed = False
        try:
            with _BUSY_LOCK:
                busy = self.__dict__.get("_busy")
                if busy is not None:
                    where = ("called from within it (a callback may query or save the "
                             "model, not train it or change its vocabulary)"
                             if busy[1] == threading.get_ident() else
                             "in another thread (one train() or build_vocab() at a time "
                             "per model: wait for it to return)")
                    raise RuntimeError(f"{what} cannot start: {busy[0]} is running on "
                                       f"this model, {where}")
                if self.__dict__.get("_saving"):
                    raise RuntimeError(f"{what} cannot start: save() or to_gensim() is "
                                       f"copying this model in another thread (wait for "
                                       f"it to return)")
                # one statement: no Ctrl-C can land between the two
                token = (what, threading.get_ident())
                self.__dict__["_busy"], claimed = token, True
            return method(self, *args, **kwargs)
        finally:
            # (unless train() released the model already and another call holds it now)
            if claimed and self.__dict__.get("_busy") is token:
                self.__dict__["_busy"] = None
    return wrapper



class Word2Vec:
    """Train word2vec vectors: skip-gram or CBOW, with negative sampling and/or
    hierarchical softmax, on every core.

    Parameters
    ----------
    sentences : iterable of lists of tokens, optional
        Read once (counted and encoded in compiled code), so a generator will do; with
        ``max_vocab_size`` or ``encoded_dir`` it is read twice and must be restartable (a
        list, or an object whose ``__iter__`` starts over). Tokens may be any hashable.
        If given (or `corpus_file`), the vocabulary is built and the model trained at
        once.
    corpus_file : str or os.PathLike, optional
        A text file, plain, gzip, bz2 or xz: one sentence per line, tokens separated by
        whitespace. Counting and encoding run in C.
    callbacks : sequence, optional
        Objects with any of the methods ``on_train_begin(model)``,
        ``on_epoch_begin(model)``, ``on_epoch_end(model)``, ``on_train_end(model)``
        (gensim's ``CallbackAny2Vec`` works as is); called on the calling thread. Kept
        as ``model.callbacks``: a later ``train()`` calls them too unless given its own
        (gensim's train() calls only those passed to it).
    progress : bool
        Draw a progress bar on stderr while training (progress is also logged to the
        ``fastw2v`` logger at INFO level).
    encoded_dir : str, optional
        Keep the encoded corpus as memory-mapped .npy files in this directory instead of
        in memory, for corpora larger than RAM.
    trim_rule : callable, optional
        gensim's vocabulary rule, used by the build_vocab of this call (not stored): see
        `build_vocab`.
    **params
        Training parameters: see :class:`fastw2v.Word2VecConfig` for each name, default
        and allowed range (gensim 4's names and defaults). gensim's ``sorted_vocab=1``,
        ``null_word=0`` and any ``batch_words`` are accepted for compatibility (that is
        what fastw2v does anyway), as are gensim's defaults ``hashfxn=hash`` and
        ``comment=None``; other values are refused with the reason.

    Attributes
    ----------
    wv : KeyedVectors
        The trained vectors (float32, C-contiguous, shape (n_words, vector_size)).
    w_out_ns, w_out_hs : ndarray or None
        Output weights of negative sampling (n_words, vector_size) and hierarchical
        softmax (n_words - 1, vector_size) (gensim's ``syn1neg`` and ``syn1``). For a
        model with several workers, views whose rows each start a 64-byte cache line
        (padded to a multiple of 16 floats, so not C-contiguous unless vector_size is a
        multiple of 16): threads writing neighbouring rows then never share a line. A
        C-contiguous array of that shape may be assigned instead
        (``np.ascontiguousarray`` gives one).
    epoch_losses : list of float
        Summed training loss of each epoch trained so far.
    running_training_loss : float
        Training loss summed over the epochs of the current or last ``train()`` call
        (gensim's attribute; see :meth:`get_latest_training_loss`).
    words_trained : int
        Words kept after subsampling, over every epoch trained so far.
    examples_trained : int
        Examples trained so far: (centre, context) pairs for skip-gram, context windows
        for CBOW.
    steps_trained : int
        Binary-logistic steps trained so far, one per example and output row (Huffman
        node, target or noise word); each costs about 6 x vector_size floating-point
        operations (bench/RESULTS.md turns this into GFLOP/s).
    """

    def __init__(self, sentences=None, corpus_file=None, *, callbacks=(), progress=False,
                 encoded_dir=None, trim_rule=None, **params):
        _gensim_only("Word2Vec", {name: params.pop(name) for name in list(params)
                                  if name in _GENSIM_ONLY["Word2Vec"]})
        self.config = Word2VecConfig.from_params(**params)
        self.callbacks = tuple(callbacks)
        self.progress = progress
        self.vocab = None
        self.corpus = None
        self.wv = None
        self.w_out_ns = None
        self.w_out_hs = None
        self.epoch_losses = []
        self.running_training_loss = 0.0
        self.words_trained = 0        # words kept after subsampling, over every epoch
        self.examples_trained = 0
        self.steps_trained = 0
        self._threads = None          # per-thread state, kept across train() calls
        self._schedule = None         # learning-rate schedule of an unfinished train()
        # corpus_count and corpus_total_words of a model loaded from a file (no corpus)
        self._corpus_sizes = (0, 0)
        self._busy = None             # (the call running on the model, its thread's id)
        self._alpha_reached = None    # learning rate where the last epoch trained ended
        if sentences is not None or corpus_file is not None:
            self.build_vocab(sentences, corpus_file, encoded_dir=encoded_dir,
                             trim_rule=trim_rule)
            self.train()

    # ---- gensim-compatible accessors ----

    def __getattr__(self, name):
        # gensim's model.epochs, model.vector_size, model.window, ...: the configuration
        # (only reached for names that are not attributes of the model itself)
        config = self.__dict__.get("config")
        if config is not None and name in _CONFIG_FIELDS:
            return getattr(config, name)
        raise missing_attribute(self, name, _GENSIM3_NAMES)

    def __repr__(self):
        # gensim's form
        n = len(self.vocab) if self.vocab is not None else 0
        return (f"Word2Vec<vocab={n}, vector_size={self.config.vector_size}, "
                f"alpha={self.config.alpha}>")

    def __setattr__(self, name, value):
        # model.epochs = 10 as in gensim: a checked change of the configuration. Settings
        # that shape the weights or the vocabulary are fixed once the vocabulary is built.
        if name not in _CONFIG_FIELDS:
            object.__setattr__(self, name, value)
            return
        busy = self.__dict__.get("_busy")
        if busy is not None:
            raise AttributeError(
                f"{name} cannot change while {busy[0]} runs on this model (it read the "
                f"settings when it started, and would go on with the old value): set it "
                f"before or after that call")
        if self.__dict__.get("vocab") is not None and name in _SHAPING_FIELDS:
            raise AttributeError(
                f"{name} cannot change once the vocabulary is built (it shapes the "
                f"vocabulary, the weights or their random streams): make a new "
                f"Word2Vec({name}=...)")
        self.config = self.config.replace(**{name: value})

    def __getstate__(self):
        # a copy (deepcopy, pickle) made inside a callback is not itself training, nor
        # saving; and it leaves the callbacks out, as save() does (they may hold files,
        # or the copies a "keep the best model" callback made: a chain of models)
        return {**self.__dict__, "_busy": None, "_saving": 0, "callbacks": ()}

    def __setstate__(self, state):
        self.__dict__.update(state)
        # pickle and deepcopy give the padded output matrices back as plain arrays: lay
        # them out again as a model with these workers does
        config = state.get("config")
        if config is not None:
            pad = _pads_output(config)
            self.w_out_ns, self.w_out_hs = (_laid_out(state.get(name), pad)
                                            for name in ("w_out_ns", "w_out_hs"))

    @property
    def syn1neg(self):
        return self.w_out_ns

    @property
    def syn1(self):
        return self.w_out_hs

    @_one_at_a_time
    def drop_corpus(self):
        """Free the encoded corpus that the model keeps since build_vocab (4 bytes per
        token, so that train() needs no corpus again; pickles and deep copies carry it),
        keeping `corpus_count` and `corpus_total_words`. A later train() then needs a
        corpus, as after load()."""
        if self.corpus is not None:
            self._corpus_sizes = (self.corpus_count, self.corpus_total_words)
            self.corpus = None

    @property
    def corpus_count(self) -> int:
        """Non-empty sentences in the corpus given to build_vocab (train() also takes
        gensim's total_examples=len(sentences), which counts empty ones). Kept by
        save() and load(); after build_vocab_from_freq, its corpus_count (default 0)."""
        if self.corpus is not None:
            return self.corpus.n_source_sentences
        return self._corpus_sizes[0]

    @property
    def corpus_total_words(self) -> int:
        """Tokens in the corpus given to build_vocab, unknown ones included. Kept by
        save() and load(); 0 after build_vocab_from_freq."""
        if self.corpus is not None:
            return self.corpus.n_tokens
        return self._corpus_sizes[1]

    @property
    def min_alpha_yet_reached(self) -> float:
        """gensim's: the learning rate where the last epoch trained ended (``alpha``
        before any training); ``min_alpha`` once a train() call is over."""
        return self.config.alpha if self._alpha_reached is None else self._alpha_reached

    def get_latest_training_loss(self) -> float:
        """Loss summed over the epochs of the current or last ``train()`` call, as
        gensim's: it grows epoch by epoch (a callback's ``on_epoch_end`` sees the sum so
        far) and starts again from 0 with each new ``train()``; ``train(resume=True)``
        continues the interrupted call's sum. 0.0 before training or with
        ``compute_loss=False``. The loss of each epoch is in ``epoch_losses``."""
        return self.running_training_loss

    # ---- vocabulary ----

    @_one_at_a_time
    def build_vocab(self, corpus_iterable=None, corpus_file=None, *, update=False,
                    encoded_dir=None, trim_rule=None, **gensim_only):
        """Count the corpus, choose the vocabulary and encode the corpus once as int32 ids.

        Without `update`, replaces any earlier vocabulary and initialises the weights
        (input rows uniform in [-0.5, 0.5) / vector_size, output weights zero).

        With ``update=True``, keeps the vocabulary and the trained weights: words of the
        new corpus seen at least ``min_count`` times in it (raised by ``max_final_vocab``
        over the new corpus's words, as gensim does) are appended (their input rows
        initialised as new rows are, their output rows zero), the counts of known words
        grow by their new counts, and the noise distribution and Huffman tree follow the
        new counts. ``train()`` then trains on the new corpus.

        Parameters
        ----------
        corpus_iterable : iterable of token lists, IdSequences or list of int arrays
        corpus_file : str or os.PathLike
        update : bool
        encoded_dir : str, optional
            Keep the encoded corpus as memory-mapped .npy files in this directory.
        trim_rule : callable, optional
            ``trim_rule(word, count, min_count)`` decides word by word, as in gensim:
            ``fastw2v.RULE_KEEP`` keeps the word, ``fastw2v.RULE_DISCARD`` drops it,
            ``RULE_DEFAULT`` (or None) leaves it to min_count (the effective one, raised by
            ``max_final_vocab``); gensim.utils' constants are the same numbers. Called
            once per distinct word (with `update`, per new word: known words stay), and
            not stored with the model. ``max_vocab_size``'s pruning while counting does
            not consult it.
        progress_per, keep_raw_vocab
            gensim's, accepted for compatibility: any ``progress_per`` (counting logs
            no progress lines; the vocabulary's summary is logged at INFO when it is
            built) and ``keep_raw_vocab=False``.
        """
        _gensim_only("build_vocab", gensim_only)
        cfg = self.config
        if update and self.vocab is None:
            raise RuntimeError("build_vocab(update=True) needs an existing vocabulary: call "
                               "build_vocab(...) without update first")
        if update:
            self._check_vectors_match("build_vocab(update=True)")
            self._check_weights("build_vocab(update=True)", writable=False)
            self._lockf()
        if encoded_dir is not None:
            # before the corpus is counted (the encoder checks it again when it starts,
            # as train(), which reads the corpus once, relies on)
            check_encoded_dir(encoded_dir)
        # read once (the counter keeps the token stream for the encoder), unless pruning
        # renumbers words or the encoded corpus goes to disk
        source = _Source(corpus_iterable, corpus_file,
                         passes=2 if cfg.max_vocab_size or encoded_dir is not None else 1)
        if update and source.ids is not None:
            self.vocab.id_lookup()       # (ids beside words that are not ints: TypeError)
        t0 = time.perf_counter()
        raw = source.count(cfg)
        if raw.min_reduce > 1:
            logger.warning("max_vocab_size=%d pruned words while counting: counts below %d "
                           "are approximate", cfg.max_vocab_size, raw.min_reduce)
        if update:
            vocab = self.vocab.updated(raw, cfg.min_count, trim_rule, cfg.max_final_vocab)
        else:
            vocab = select_words(raw, cfg.min_count, cfg.max_final_vocab, trim_rule)
        t1 = time.perf_counter()
        corpus = source.encode(vocab, cfg, encoded_dir)
        t2 = time.perf_counter()
        logger.info("vocabulary: %d words (%d distinct in this corpus, min_count=%d), %d of "
                    "%d tokens kept, in %.1fs; encoded %d sentences in %.1fs", len(vocab),
                    len(raw.keys), cfg.min_count, corpus.n_ids, raw.n_tokens, t1 - t0,
                    corpus.n_sentences, t2 - t1)
        # the counts of every distinct token (often 5x the vocabulary) are done with: give
        # their memory back before the weights take theirs, so that the peak is lower
        del raw
        native.release_free_memory()
        weights = self._grown_weights(vocab) if update else self._new_weights(vocab)
        self._set_vocab(vocab, corpus, weights, update)

    @_one_at_a_time
    def reset_from(self, other_model):
        """Take another model's vocabulary (words, counts) and its encoded corpus, shared
        rather than counted again, and start this model's own weights over them (its
        vector_size, seed, negative and hs), as gensim's reset_from: several models with
        different settings then train on one vocabulary counted once. This model's
        vocabulary settings (min_count, max_final_vocab, ...) are not applied again."""
        if not isinstance(other_model, Word2Vec):
            raise TypeError(f"reset_from needs a fastw2v Word2Vec, got "
                            f"{type(other_model).__name__}")
        if other_model.vocab is None:
            raise ValueError("the other model has no vocabulary yet: build it first")
        weights = self._new_weights(other_model.vocab)
        self._set_vocab(other_model.vocab, other_model.corpus, weights, False)
        # (a model loaded from a file has no corpus, but keeps its sizes)
        self._corpus_sizes = other_model._corpus_sizes

    @classmethod
    def from_gensim(cls, model, **params):
        """A fastw2v model from a gensim 4 Word2Vec trained with negative sampling: its
        settings (``**params`` overrides any, e.g. ``workers``), vocabulary and counts,
        input vectors, ``syn1neg`` and lock factors, copied; ``corpus_count`` and
        ``corpus_total_words`` kept. Continue training with ``train(corpus, ...)``.

        gensim's hierarchical softmax (``hs=1``) is refused: ``syn1`` holds the inner
        nodes of gensim's Huffman tree, which breaks ties between equal counts otherwise
        than fastw2v's, so its rows would not match fastw2v's nodes (take
        ``KeyedVectors(model.wv.vectors, model.wv.index_to_key)`` for the vectors alone).
        """
        if not all(hasattr(model, name) for name in ("wv", "hs", "negative", "sg",
                                                     "vector_size")):
            raise TypeError(f"from_gensim needs a gensim 4 Word2Vec model, got "
                            f"{type(model).__name__}")
        wv = model.wv
        if model.hs:
            raise ValueError("from_gensim: gensim's hierarchical-softmax weights (syn1) are "
                             "laid out on gensim's Huffman tree, which fastw2v does not "
                             "build alike; convert a model trained with negative sampling "
                             "(hs=0), or take its vectors alone: KeyedVectors(model.wv."
                             "vectors, model.wv.index_to_key)")
        if not len(wv.index_to_key):
            raise ValueError("from_gensim: the gensim model has no vocabulary yet")
        fixed = sorted(name for name in {"vector_size", "hs", "negative"} & set(params)
                       if params[name] != getattr(model, name))
        if fixed:
            raise ValueError(f"from_gensim: {', '.join(fixed)} come with the gensim model's "
                             f"weights and cannot be changed")
        # gensim's null_word=1 appends a padding word "\0": not a word to carry over
        keep = [i for i, k in enumerate(wv.index_to_key)
                if not (getattr(model, "null_word", 0) and k == "\0")]
        # (by key: gensim's get_vecattr takes an int for a key first, then for a row)
        counts = np.array([wv.get_vecattr(wv.index_to_key[i], "count") for i in keep],
                          np.int64)
        sample = model.sample
        if sample >= 1:
            # gensim's shorthand: a count threshold, int(sample * (3 + sqrt 5) / 2) (its
            # prepare_vocab), here as a share of the words kept
            threshold = int(sample * (3 + np.sqrt(5)) / 2)
            sample = min(threshold / max(int(counts.sum()), 1), 0.999)
        settings = dict(
            vector_size=model.vector_size, window=model.window, min_count=model.min_count,
            sg=model.sg, hs=0, negative=model.negative, ns_exponent=model.ns_exponent,
            cbow_mean=model.cbow_mean, alpha=model.alpha, min_alpha=model.min_alpha,
            sample=sample, epochs=model.epochs, seed=model.seed, workers=model.workers,
            max_vocab_size=model.max_vocab_size, max_final_vocab=model.max_final_vocab,
            shrink_windows=getattr(model, "shrink_windows", True),
            compute_loss=bool(model.compute_loss))
        settings.update(params)
        new = cls(**settings)
        by_count = np.argsort(-counts, kind="stable")   # (gensim's order, unless unsorted)
        order = np.array(keep, np.int64)[by_count]
        vocab = Vocab([python_key(wv.index_to_key[i]) for i in order.tolist()],
                      counts[by_count])
        w_in = native.aligned_copy(np.asarray(wv.vectors)[order], np.float32)
        w_out = _output_matrix(len(vocab), new.config.vector_size, _pads_output(new.config),
                               np.asarray(model.syn1neg)[order])
        new._set_vocab(vocab, None, (w_in, w_out, None), False)
        lockf = np.asarray(getattr(wv, "vectors_lockf", np.ones(1)), np.float32).reshape(-1)
        n = len(wv.index_to_key)
        if lockf.size and (lockf != 1).any():
            # gensim's kernels take factor i % len(vectors_lockf) (shorter after an update)
            new.wv.vectors_lockf = lockf[np.arange(n) % lockf.size][order]
        new._corpus_sizes = (int(model.corpus_count or 0), int(model.corpus_total_words or 0))
        if getattr(model, "train_count", 0):
            new._alpha_reached = float(model.min_alpha_yet_reached)
        return new

    def to_gensim(self):
        """This model as a gensim 4 Word2Vec (negative sampling only: see `from_gensim`),
        with the same settings, vocabulary and counts, vectors, ``syn1neg``, lock factors
        and corpus sizes, ready for gensim's queries, ``predict_output_word`` or
        ``train()``, its words in this model's rows. Needs gensim (``pip install
        gensim``). Its noise table is computed here: gensim's own (``make_cum_table``,
        which its ``build_vocab(update=True)`` calls again) looks counts up by row number
        through a lookup that takes an int for a key first, so that for int keys
        ``0..n-1`` that are not in row order it draws noise by the wrong counts."""
        try:
            from gensim.models import Word2Vec as GensimWord2Vec
        except ImportError:
            raise ImportError("to_gensim() needs gensim: pip install gensim") from None
        if self.vocab is None:
            raise RuntimeError("to_gensim(): the model has no vocabulary yet")
        cfg = self.config
        if cfg.hs:
            raise ValueError("to_gensim(): hierarchical-softmax weights are laid out on "
                             "fastw2v's Huffman tree, which gensim builds otherwise from "
                             "the same counts; convert the vectors alone (model.wv) or a "
                             "model trained with negative sampling")
        with self._copying("to_gensim()", "the gensim model"):
            return self._to_gensim(GensimWord2Vec)

    def _to_gensim(self, GensimWord2Vec):
        cfg = self.config
        self._check_vectors_match("to_gensim()")
        g = GensimWord2Vec(
            vector_size=cfg.vector_size, window=cfg.window, min_count=cfg.min_count,
            sg=cfg.sg, hs=0, negative=cfg.negative, ns_exponent=cfg.ns_exponent,
            cbow_mean=cfg.cbow_mean, alpha=cfg.alpha, min_alpha=cfg.min_alpha,
            sample=cfg.sample, epochs=cfg.epochs, seed=cfg.seed,
            workers=cfg.resolved_workers(), max_vocab_size=cfg.max_vocab_size,
            shrink_windows=cfg.shrink_windows, compute_loss=cfg.compute_loss)
        keys = self.vocab.index_to_key
        # every word, whatever gensim's min_count would say (fastw2v chose them already)
        g.build_vocab_from_freq(dict(zip(keys, self.vocab.counts.tolist())),
                                trim_rule=lambda word, count, min_count: RULE_KEEP)
        g.max_final_vocab = cfg.max_final_vocab
        # in fastw2v's order (gensim's sort may have swapped words of equal counts): row i
        # is the same word in both, and gensim's noise table follows the order
        rows = np.array([g.wv.key_to_index[k] for k in keys], np.int64)
        for name, values in g.wv.expandos.items():
            g.wv.expandos[name] = values[rows]
        g.wv.index_to_key, g.wv.key_to_index = list(keys), dict(self.vocab.key_to_index)
        # gensim's make_cum_table, computed here: gensim's own looks counts up by row
        # number through get_vecattr, which takes an int for a key first (int item ids)
        cum = np.cumsum(self.vocab.counts.astype(np.float64) ** cfg.ns_exponent)
        g.cum_table = np.round(cum / cum[-1] * (2 ** 31 - 1)).astype(np.uint32)
        g.wv.vectors[:] = self.wv.vectors
        g.syn1neg[:] = self.w_out_ns
        lockf = self._lockf()
        if lockf is not None:
            g.wv.vectors_lockf = lockf.copy()
        g.wv.norms = None
        g.corpus_count, g.corpus_total_words = self.corpus_count, self.corpus_total_words
        if self._alpha_reached is not None:
            g.min_alpha_yet_reached = self._alpha_reached
        return g

    @_one_at_a_time
    def build_vocab_from_freq(self, word_freq, *, update=False, trim_rule=None,
                              corpus_count=None, **gensim_only):
        """Take the vocabulary from a {word: count} mapping instead of counting a corpus
        (``min_count``, ``max_final_vocab`` and `trim_rule` apply as in `build_vocab`;
        ties keep the mapping's order). Pass the corpus to ``train()`` afterwards.

        `corpus_count` (as gensim's): the number of sentences of the corpus to come, kept
        as ``model.corpus_count`` (else 0), so that ``train(corpus,
        total_examples=model.corpus_count)`` works; train() checks it against the
        corpus. gensim's ``keep_raw_vocab=False`` is accepted."""
        _gensim_only("build_vocab_from_freq", gensim_only)
        if corpus_count is not None and (
                isinstance(corpus_count, (bool, np.bool_))
                or not isinstance(corpus_count, (int, np.integer)) or corpus_count < 0):
            raise ValueError(f"corpus_count must be None or a non-negative int (the "
                             f"corpus's number of sentences), got {corpus_count!r}")
        if update and self.vocab is None:
            raise RuntimeError("build_vocab_from_freq(update=True) needs an existing "
                               "vocabulary: call it without update first")
        if update:
            self._check_vectors_match("build_vocab_from_freq(update=True)")
            self._check_weights("build_vocab_from_freq(update=True)", writable=False)
            self._lockf()
        keys, counts = freq_counts(word_freq)
        raw = RawCounts(keys, counts, np.arange(len(keys), dtype=np.int64),
                        int(counts.sum()), 0)
        cfg = self.config
        if update:
            vocab = self.vocab.updated(raw, cfg.min_count, trim_rule, cfg.max_final_vocab)
            weights = self._grown_weights(vocab)
        else:
            vocab = select_words(raw, cfg.min_count, cfg.max_final_vocab, trim_rule)
            weights = self._new_weights(vocab)
        self._set_vocab(vocab, None, weights, update)
        if corpus_count is not None:
            self._corpus_sizes = (int(corpus_count), 0)

    def _new_rows(self, rows, first_row):
        """Fill `rows` (float32, C-contiguous), the input rows of words first_row, ...:
        uniform in [-0.5, 0.5) / vector_size, from a stream that depends only on seed and
        first_row. Returns rows."""
        rng = np.random.default_rng([self.config.seed, first_row])
        rng.random(out=rows, dtype=np.float32)
        rows -= np.float32(0.5)
        rows /= np.float32(self.config.vector_size)
        return rows

    def _new_weights(self, vocab):
        """(w_in, w_out_ns, w_out_hs) for a new vocabulary: input rows uniform in
        [-0.5, 0.5) / vector_size, output weights zero (None where not used)."""
        cfg, n = self.config, len(vocab)
        dim = cfg.vector_size
        w_in = self._new_rows(native.aligned_empty((n, dim), np.float32), 0)
        pad = _pads_output(cfg)
        w_out_ns = _output_matrix(n, dim, pad) if cfg.negative else None
        w_out_hs = _output_matrix(max(n - 1, 0), dim, pad) if cfg.hs else None
        return w_in, w_out_ns, w_out_hs

    def _grown_weights(self, vocab):
        """The weights for `vocab`, the model's vocabulary with words appended: the old
        rows kept, new input rows initialised as new rows are, new output rows zero."""
        cfg, n, n_old = self.config, len(vocab), len(self.vocab)
        w_in = native.aligned_empty((n, cfg.vector_size), np.float32)
        w_in[:n_old] = self.wv.vectors
        self._new_rows(w_in[n_old:], n_old)
        pad, dim = _pads_output(cfg), cfg.vector_size
        w_out_ns = _output_matrix(n, dim, pad, self.w_out_ns) if cfg.negative else None
        # the tree is rebuilt from the new counts; its inner nodes get fresh meanings
        w_out_hs = (_output_matrix(max(n - 1, 0), dim, pad, self.w_out_hs) if cfg.hs
                    else None)
        return w_in, w_out_ns, w_out_hs

    def _set_vocab(self, vocab, corpus, weights, update):
        """Make vocab, its encoded corpus (or None) and weights the model's. Called once
        everything that can fail has succeeded, so that a failed build_vocab leaves the
        model as it was."""
        w_in, w_out_ns, w_out_hs = weights
        wv = KeyedVectors(w_in, vocab.index_to_key, vocab.counts)
        self.vocab, self.corpus = vocab, corpus
        self._corpus_sizes = (0, 0)
        self.w_out_ns, self.w_out_hs = w_out_ns, w_out_hs
        if update:
            # the same KeyedVectors object, as in gensim: a reference to model.wv taken
            # before the update sees the new words (and the lock factors, new words 1;
            # checked by build_vocab before anything changed)
            wv.vectors_lockf = grown_lockf(self.wv.vectors_lockf, len(self.wv), len(wv))
            vars(self.wv).update(vars(wv))
            self.wv._forget_norms()      # (the update of vars bypasses the assignment's)
            return
        self.wv = wv
        self.epoch_losses = []
        self.running_training_loss = 0.0
        self.words_trained = self.examples_trained = self.steps_trained = 0
        self._threads = None
        self._schedule = None
        self._alpha_reached = None      # new weights: no rate reached yet

    # ---- training ----

    @_one_at_a_time
    def train(self, corpus_iterable=None, corpus_file=None, *, epochs=None,
              start_alpha=None, end_alpha=None, total_examples=None, total_words=None,
              callbacks=None, progress=None, report_delay=1.0, encoded_dir=None,
              resume=False, compute_loss=None, **gensim_only):
        """Train the vectors.

        Parameters
        ----------
        corpus_iterable, corpus_file : optional
            A corpus to train on, encoded with the current vocabulary (unknown words are
            dropped). Default: the corpus given to build_vocab, already encoded.
        epochs : int, optional
            Default: ``config.epochs``.
        start_alpha, end_alpha : float, optional
            The learning rate goes linearly from start_alpha to end_alpha over this
            call (it may rise: start_alpha < end_alpha is accepted, as in gensim).
            Default: ``config.alpha`` and ``config.min_alpha``. As in gensim, the
            epochs and rates given become ``config.epochs``, ``config.alpha`` and
            ``config.min_alpha`` (``model.epochs``, ...), the defaults of later calls.
        total_examples, total_words : int, optional
            Accepted for gensim compatibility and checked: if given, they must equal the
            corpus's sentence or token count.
        callbacks, progress : optional
            Override those given to the constructor for this call.
        report_delay : float
            Seconds between progress reports.
        compute_loss : bool, optional
            As gensim's: sets ``config.compute_loss`` (kept for later calls).
        word_count, queue_factor
            gensim's, accepted for compatibility: ``word_count=0`` and any
            ``queue_factor`` (there is no job queue).
        resume : bool
            Finish what an earlier call left (interrupted by Ctrl-C or an exception, or
            a model saved from a callback and loaded again), on the same learning-rate
            schedule: the rest of an interrupted epoch (the parts of the corpus no
            thread trained), then the epochs after it. With ``workers=1`` and the same
            corpus the result equals an uninterrupted run, bit for bit.

        Returns
        -------
        int
            Words trained in this call (kept after subsampling, over all its epochs).

        Raises
        ------
        KeyboardInterrupt
            On Ctrl-C: the workers stop within about a second; the vectors keep what was
            trained so far.
        FloatingPointError
            If the weights became non-finite (the learning rate is too high); they are
            then unusable, and so is a later train() until the vocabulary is built again
            or a saved model loaded.
        """
        _gensim_only("train", gensim_only)
        if self.vocab is None:
            raise RuntimeError("no vocabulary yet: call build_vocab(...) first, or pass the "
                               "corpus to Word2Vec(...)")
        if compute_loss is not None:                 # checked as the configuration is
            self.config = self.config.replace(compute_loss=compute_loss)
        cfg = self.config
        # everything that does not need the corpus is checked before it is read (and
        # written to encoded_dir)
        if isinstance(report_delay, bool) or not isinstance(report_delay, numbers.Real) or (
                not report_delay >= 0):
            raise ValueError(f"report_delay must be a number of seconds >= 0, got "
                             f"{report_delay!r}")
        self._check_vectors_match("train()")
        self._check_weights("train()")
        lockf = self._lockf()
        self._check_finite()
        if resume:
            if self._schedule is None:
                raise RuntimeError("nothing to resume: train(resume=True) continues a "
                                   "train() call that did not finish")
            if any(x is not None for x in (epochs, start_alpha, end_alpha)):
                raise ValueError("train(resume=True) keeps the interrupted schedule; do not "
                                 "pass epochs, start_alpha or end_alpha")
        else:
            epochs = cfg.epochs if epochs is None else epochs
            # validated by the same rule as the configuration (and a Python int, for the
            # JSON of a save)
            epochs = cfg.replace(epochs=epochs).epochs
            alpha0 = cfg.alpha if start_alpha is None else check_learning_rate(
                "start_alpha", start_alpha)
            alpha1 = cfg.min_alpha if end_alpha is None else check_learning_rate(
                "end_alpha", end_alpha, zero_ok=True)
        if corpus_iterable is not None or corpus_file is not None:
            # a file is checked as it is encoded (one read), as build_vocab checks it:
            # invalid UTF-8 raises under unicode_errors='strict', and under 'replace' or
            # 'ignore' other spellings of a vocabulary word decode to it
            # (encoded in one pass: a generator will do, for any number of epochs)
            corpus = _Source(corpus_iterable, corpus_file, passes=1).encode(
                self.vocab, cfg, encoded_dir, unicode_errors=cfg.unicode_errors)
            if corpus.n_iterated == 0 and iter(corpus_iterable) is corpus_iterable:
                raise ValueError(
                    f"corpus_iterable ({type(corpus_iterable).__name__}) yielded no "
                    f"sentence: a generator or iterator is empty once read (by "
                    f"build_vocab?); train() without a corpus trains on the one "
                    f"build_vocab encoded")
            if corpus.n_iterated and corpus.n_tokens == 0:
                raise ValueError(
                    f"the {corpus.n_iterated} sentences of corpus_iterable hold no token: "
                    f"sentences that are iterators (map, generator) are empty once read "
                    f"(by build_vocab?); give them as lists, or call train() without a "
                    f"corpus to train on the one build_vocab encoded")
        elif self.corpus is None:
            raise ValueError("no corpus to train on: pass one to train(), e.g. "
                             "train(corpus_file=path)")
        else:
            corpus = self.corpus
        # gensim's total_examples=len(sentences) counts empty sentences too
        if total_examples is None or total_examples not in (_length(corpus_iterable),
                                                            corpus.n_iterated):
            _check_total("total_examples", total_examples, corpus.n_source_sentences,
                         "non-empty sentences")
        _check_total("total_words", total_words, corpus.n_tokens, "tokens")
        if corpus.n_ids == 0:
            raise ValueError("the corpus holds no word of the vocabulary: nothing to train")
        if resume:
            if self._schedule["words_per_epoch"] != corpus.n_ids:
                raise ValueError(
                    f"train(resume=True) needs the corpus of the interrupted run "
                    f"({self._schedule['words_per_epoch']} ids per epoch), got one of "
                    f"{corpus.n_ids}")
            schedule = self._schedule
        else:
            schedule = dict(alpha_start=alpha0, alpha_end=alpha1, epochs=epochs,
                            epochs_done=0, words_per_epoch=corpus.n_ids)
            if self._alpha_reached is not None and alpha0 > self._alpha_reached:
                # gensim's warning: a new call starting above where the last one ended
                logger.warning("Effective 'alpha' higher than previous training cycles "
                               "(%g > %g): a new train() starts its schedule again; for "
                               "more epochs of one schedule, train once with more epochs, "
                               "or pass start_alpha and end_alpha", alpha0,
                               self._alpha_reached)
            # as gensim's train(): the rates and epochs given are kept for later calls
            self.config = cfg.replace(alpha=alpha0, min_alpha=alpha1, epochs=epochs)
        callbacks = self.callbacks if callbacks is None else tuple(callbacks)
        progress = self.progress if progress is None else progress

        total = schedule["epochs"] * corpus.n_ids
        trainer = self._make_trainer(corpus, schedule["alpha_start"], schedule["alpha_end"],
                                     total, lockf)
        if not resume:
            self.running_training_loss = 0.0     # gensim's: the loss of this call
        self._schedule = schedule
        # the shared count starts where the schedule stands, so alpha continues exactly
        trainer.words_done = schedule.get("words_done", schedule["epochs_done"] * corpus.n_ids)
        chunks = corpus.chunks(cfg.resolved_workers())
        states = self._thread_states(min(cfg.resolved_workers(), len(chunks)))
        report = _Progress(total, schedule["alpha_start"], schedule["alpha_end"],
                           report_delay, progress, trainer.words_done, len(states),
                           schedule["epochs"])
        logger.info("training on %d threads: %s, %s, vector_size %d, window %d, sample %g, "
                    "%d epochs of %d words (in vocabulary), alpha %g -> %g", len(states),
                    "skip-gram" if cfg.sg else "CBOW", "hierarchical softmax" if cfg.hs
                    else f"negative {cfg.negative}", cfg.vector_size, cfg.window,
                    cfg.sample, schedule["epochs"], corpus.n_ids, schedule["alpha_start"],
                    schedule["alpha_end"])
        t_start = time.perf_counter()
        trained_before = self.words_trained
        held = self._held_arrays()
        warned_empty = False
        self._call_back(callbacks, "on_train_begin", held)
        try:
            while schedule["epochs_done"] < schedule["epochs"]:
                epoch = schedule["epochs_done"]
                self._call_back(callbacks, "on_epoch_begin", held)
                # an epoch that was interrupted continues where its threads stopped
                todo = chunks if "left" not in schedule else corpus.chunks(
                    cfg.resolved_workers(), within=schedule["left"])
                epoch_start, t_epoch = self.words_trained, time.perf_counter()
                rest = " (the rest of an interrupted epoch)" if "left" in schedule else ""
                self._run_epoch(trainer, states, todo, report, epoch)
                t_epoch = time.perf_counter() - t_epoch
                if any(a is not b for a, b in zip(self._held_arrays(), held)):
                    raise RuntimeError(
                        "model.wv or its weights were replaced while an epoch trained (by "
                        "another thread): the epoch's updates went into the arrays it "
                        "started with, which the model no longer holds. Replace or grow "
                        "them (add_vectors, build_vocab) only between train() calls; "
                        "train(resume=True) continues on the new ones")
                report.end_line()
                trained = self.words_trained - epoch_start
                logger.info("epoch %d/%d%s: %d words trained (after subsampling) in %.1fs, "
                            "%.0f words/s; %s", epoch + 1, schedule["epochs"], rest, trained,
                            t_epoch, trained / max(t_epoch, 1e-9),
                            f"loss {self.epoch_losses[-1]:.6g}" if cfg.compute_loss
                            else "loss not computed (compute_loss=False)")
                if self.words_trained == epoch_start and not warned_empty:
                    warned_empty = True          # (once per call)
                    logger.warning(
                        "an epoch trained no word: subsampling (sample=%g) dropped every "
                        "token of this corpus, whose words are all frequent in it (a small "
                        "corpus, or few distinct items); lower sample, or sample=0 to keep "
                        "every token", cfg.sample)
                self._call_back(callbacks, "on_epoch_end", held,
                                more=schedule["epochs_done"] < schedule["epochs"])
        finally:
            report.close()
            self._refresh_norms()
        self._schedule = None
        elapsed = time.perf_counter() - t_start
        trained = self.words_trained - trained_before
        logger.info("trained %d words (after subsampling) in %.1fs, %.0f words/s, %d "
                    "threads", trained, elapsed, trained / max(elapsed, 1e-9), len(states))
        # training is over: on_train_end may change settings and weights, or train again
        self.__dict__["_busy"] = None
        _call(callbacks, "on_train_end", self)
        return trained

    def _held_arrays(self):
        return self.wv, self.wv.vectors, self.w_out_ns, self.w_out_hs

    def _call_back(self, callbacks, hook, held, more=True):
        """Call `hook` of each callback, on the weights as trained so far, then, if
        `more` training follows, check that it left the arrays being trained in place."""
        if hook == "on_epoch_end":
            self._refresh_norms()
        _call(callbacks, hook, self)
        if more and any(a is not b for a, b in zip(self._held_arrays(), held)):
            raise RuntimeError(
                f"model.wv or its weights were replaced during train() (by {hook} of a "
                f"callback, or another thread): train() would go on writing the arrays "
                f"it started with. Replace or grow them (add_vectors, build_vocab) only "
                f"between train() calls; train(resume=True) continues on the new ones")

    def _refresh_norms(self):
        """The cached unit vectors, if a query made them, follow the trained vectors (and
        one a query is computing now, from vectors still training, is not kept)."""
        had_cache = self.wv._valid_cache() is not None
        self.wv._forget_norms()
        if had_cache:
            self.wv.fill_norms()

    # ---- files ----

    def save(self, path):
        """Save the whole model in fastw2v's native format (see fastw2v.native): vectors,
        output weights, vocabulary and counts, configuration, losses, the RNG state of
        each thread and an unfinished learning-rate schedule. Enough to continue training
        exactly; no pickle, written atomically. The encoded corpus is not saved: give the
        corpus again to ``train()``."""
        if self.vocab is None:
            raise RuntimeError("nothing to save: the model has no vocabulary yet")
        with self._copying("save()", "the file"):
            self._save(path)

    @contextlib.contextmanager
    def _copying(self, what, result):
        """Counted while `what` copies the model out (save(), to_gensim()), so that no
        train() or build_vocab() starts in another thread meanwhile (copies and queries
        may run together); refused while one runs in another thread."""
        claimed = False
        try:
            with _BUSY_LOCK:
                busy = self.__dict__.get("_busy")
                if busy is not None and busy[1] != threading.get_ident():
                    raise RuntimeError(
                        f"{what} cannot run while {busy[0]} runs on this model in another "
                        f"thread: {result} would hold weights in the middle of their "
                        f"updates. Call it after that returns (or, during train(), from a "
                        f"callback such as on_epoch_end)")
                # one statement: no Ctrl-C can land between the two
                self.__dict__["_saving"], claimed = self.__dict__.get("_saving", 0) + 1, True
            yield
        finally:
            if claimed:
                with _BUSY_LOCK:
                    self.__dict__["_saving"] -= 1

    def _save(self, path):
        self._check_vectors_match("save()")
        arrays = {"w_in": self.wv.vectors, "counts": self.vocab.counts}
        lockf = self._lockf()
        if lockf is not None:
            arrays["vectors_lockf"] = lockf
        if self.w_out_ns is not None:
            arrays["w_out_ns"] = self.w_out_ns
        if self.w_out_hs is not None:
            arrays["w_out_hs"] = self.w_out_hs
        if self._threads:
            arrays["rng_states"] = np.array([t.rng_state for t in self._threads], np.uint64)
        key_arrays, key_encoding = native.pack_keys(self.vocab.index_to_key)
        arrays.update(key_arrays)
        meta = {"config": self.config.to_dict(), "key_encoding": key_encoding,
                "epoch_losses": self.epoch_losses, "words_trained": self.words_trained,
                "examples_trained": self.examples_trained,
                "steps_trained": self.steps_trained,
                "running_training_loss": self.running_training_loss,
                "corpus_count": self.corpus_count,
                "alpha_reached": self._alpha_reached,
                "corpus_total_words": self.corpus_total_words,
                "schedule": self._schedule,
                # the byte forms of words that were not valid UTF-8 (unicode_errors), so
                # that the same file still encodes to them after loading
                "raw_forms": {key: [raw.hex() for raw in forms]
                              for key, forms in self.vocab.raw_forms.items()}}
        native.save_arrays(path, arrays, meta, kind="word2vec")

    @classmethod
    def load(cls, path, mmap=None):
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        mmap : {None, 'r', 'c'}
            'r' memory-maps the arrays read-only (fast, shared between processes; such a
            model can be queried but not trained); 'c' maps them copy-on-write (pages
            are copied as training writes them; the file never changes).
        """
        arrays, meta = native.load_arrays(path, mmap=mmap, kind="word2vec")
        try:
            config = Word2VecConfig.from_params(**meta["config"])
            keys = native.unpack_keys(arrays, meta["key_encoding"])
            model = cls(**config.to_dict())
            raw_forms = _raw_forms_from_meta(meta.get("raw_forms", {}), keys, path)
            try:
                model.vocab = Vocab(keys, arrays["counts"], raw_forms)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
            model.wv = KeyedVectors(arrays["w_in"], keys, model.vocab.counts)
            model.wv.vectors_lockf = loaded_lockf(arrays, len(keys), f"{path} is corrupt")
            pad = _pads_output(config)      # (a memory-mapped matrix stays as it is)
            model.w_out_ns, model.w_out_hs = (_laid_out(arrays.get(name), pad)
                                              for name in ("w_out_ns", "w_out_hs"))
            model.epoch_losses = [float(x) for x in meta["epoch_losses"]]
            model.words_trained = int(meta["words_trained"])
            model.examples_trained = int(meta["examples_trained"])
            model.steps_trained = int(meta["steps_trained"])
            # (absent from files written before they were saved)
            model.running_training_loss = float(meta.get("running_training_loss", 0.0))
            model._corpus_sizes = (int(meta.get("corpus_count", 0)),
                                   int(meta.get("corpus_total_words", 0)))
            model._schedule = _loaded_schedule(meta["schedule"], path)
            reached = meta.get("alpha_reached")     # (absent from older files)
            model._alpha_reached = None if reached is None else float(reached)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a complete fastw2v model ({exc!r}); was it "
                             f"written by Word2Vec.save()?") from None
        n, dim = len(keys), config.vector_size
        expected = {"w_in": (n, dim), "w_out_ns": (n, dim) if config.negative else None,
                    "w_out_hs": (max(n - 1, 0), dim) if config.hs else None}
        for name, shape in expected.items():
            got = None if arrays.get(name) is None else arrays[name].shape
            if got != shape:
                raise ValueError(f"{path}: array {name} has shape {got}, expected {shape} "
                                 f"for {n} words of dimension {dim}")
        if "rng_states" in arrays:
            model._threads = model._thread_states(len(arrays["rng_states"]))
            for state, rng in zip(model._threads, arrays["rng_states"].tolist()):
                state.rng_state = rng
        return model

    # ---- queries that need the output weights ----

    def predict_output_word(self, context_words, topn=10):
        """The centre words most probable given `context_words`, by the negative-sampling
        output layer: softmax over ``w_out_ns @ h`` with ``h`` the mean (``cbow_mean=1``)
        or sum of the known context words' input vectors, as gensim computes it.

        Parameters
        ----------
        topn : int or None
            How many words to return; None: every word, and 0 or less: none (as gensim).

        Returns
        -------
        list of (word, probability), most probable first.

        Raises
        ------
        RuntimeError
            If the model was trained without negative sampling.
        KeyError
            If none of the context words is in the vocabulary.
        TypeError
            If topn is neither an int nor None.
        """
        if topn is not None and (isinstance(topn, bool)
                                 or not isinstance(topn, numbers.Integral)):
            raise TypeError(f"topn must be an int (or None for every word), got "
                            f"{type(topn).__name__} {topn!r}")
        self._check_vocabulary_steady("predict_output_word()")
        if self.w_out_ns is None:
            raise RuntimeError("predict_output_word needs negative sampling output weights; "
                               "this model was trained with negative=0")
        if isinstance(context_words, (str, bytes)) or not hasattr(context_words, "__iter__"):
            context_words = [context_words]
        index = [self.wv.key_to_index[w] for w in context_words if w in self.wv.key_to_index]
        if not index:
            raise KeyError(f"none of the context words {list(context_words)!r} is in the "
                           f"vocabulary")
        h = self.wv.vectors[index].sum(axis=0, dtype=np.float64)      # (dim,)
        if self.config.cbow_mean:
            h /= len(index)
        scores = self.w_out_ns @ h                                     # (n_words,)
        scores -= scores.max()
        prob = np.exp(scores)
        prob /= prob.sum()
        k = len(prob) if topn is None else min(int(topn), len(prob))
        if k <= 0:
            return []
        top = np.argpartition(-prob, k - 1)[:k]
        top = top[np.argsort(-prob[top], kind="stable")]
        return [(self.wv.index_to_key[i], float(prob[i])) for i in top]

    def score(self, sentences, total_sentences=None, chunksize=100, queue_factor=2,
              report_delay=1):
        """Log-likelihood of each sentence under the hierarchical softmax, as gensim's
        score() computes it (Taddy, "Document classification by inversion of distributed
        language representations", 2015): for every vocabulary word of the sentence, the
        log-probability of its Huffman path given each context word of the full window
        (skip-gram) or given their mean or sum (CBOW, as ``cbow_mean``), summed over the
        sentence. Words outside the vocabulary are left out first; nothing is subsampled
        and the window does not shrink. As gensim's, log sigmoid comes from word2vec.c's
        table (indexed as gensim does) and a node whose score lies outside (-6, 6) adds
        nothing.

        Parameters
        ----------
        sentences : iterable of lists of tokens
        total_sentences : int, optional
            Score at most this many sentences (gensim's default, a million, would stop
            there; here the default is all of them).
        chunksize, queue_factor, report_delay
            gensim's, accepted for compatibility (no effect).

        Returns
        -------
        numpy.ndarray
            float32, one log-likelihood per sentence (an empty sentence, or one without a
            vocabulary word, scores 0). Unlike gensim, a sentence is not cut at 10,000
            words.

        Raises
        ------
        RuntimeError
            Without a vocabulary, or a model trained without hierarchical softmax (only
            its Huffman tree gives normalised probabilities).
        """
        if self.vocab is None:
            raise RuntimeError("no vocabulary yet: build and train the model before score()")
        self._check_vocabulary_steady("score()")
        if not self.config.hs:
            raise RuntimeError("score() needs hierarchical softmax: train the model with "
                               "hs=1 (negative sampling gives no normalised probability)")
        self._check_vectors_match("score()")
        if total_sentences is not None and (
                isinstance(total_sentences, bool)
                or not isinstance(total_sentences, numbers.Integral) or total_sentences < 0):
            raise ValueError(f"total_sentences must be None or a non-negative int, got "
                             f"{total_sentences!r}")
        if isinstance(sentences, (str, bytes)):
            raise TypeError("sentences must be an iterable of token lists, not one string")
        get = self.wv.key_to_index.get
        scorer = _HsScorer(self)
        scores, ids, lengths = [], [], []
        for n, sentence in enumerate(sentences):
            if total_sentences is not None and n >= total_sentences:
                break
            if isinstance(sentence, (str, bytes)):
                raise TypeError(f"sentence {n} is one string, not a list of tokens: split "
                                f"it first, e.g. text.split()")
            known = [i for i in map(get, sentence) if i is not None]
            ids += known
            lengths.append(len(known))
            if len(ids) >= _SCORE_CHUNK_IDS:
                scores.append(scorer.score(ids, lengths))
                ids, lengths = [], []
        scores.append(scorer.score(ids, lengths))
        return np.concatenate(scores).astype(np.float32)

    def estimate_memory(self, vocab_size=None, report=None):
        """Bytes the model's arrays take for `vocab_size` words (default: the vocabulary
        built), as gensim's estimate_memory reports them, but counted as fastw2v lays
        them out: ``vectors`` (input), ``syn1neg`` and ``syn1`` (output rows, padded to
        whole cache lines with several workers; for the model's own vocabulary, as its
        matrices are), ``vocab`` (counts and the tables training derives from them:
        subsampling, noise alias table, Huffman paths), and, once a corpus is encoded,
        ``corpus`` (4 bytes per token and 8 per sentence; on disk with
        ``encoded_dir``). Python's own objects for the keys (about 100 bytes a
        word) are not counted. Returns a dict with a ``total``, and logs it; `report`:
        a dict to add the entries to (gensim's parameter).
        """
        cfg = self.config
        if vocab_size is None:
            vocab_size = len(self.vocab) if self.vocab is not None else 0
        if (isinstance(vocab_size, bool) or not isinstance(vocab_size, numbers.Integral)
                or vocab_size < 0):
            raise ValueError(f"vocab_size must be None or a non-negative int, got "
                             f"{vocab_size!r}")
        n, dim = int(vocab_size), cfg.vector_size
        width = _train.padded_width(dim) if _pads_output(cfg) else dim

        def row_floats(array):      # (the model's own layout, for its own vocabulary)
            if array is None or self.vocab is None or n != len(self.vocab) or len(array) < 2:
                return width
            return array.strides[0] // array.itemsize
        report = {} if report is None else report
        # counts (8) and keep probabilities (4); noise table (prob 4 + alias 4); Huffman
        # paths: offsets (8) and a point (4) and a code (1) per node, ~log2(n) nodes
        per_word = 12 + (8 if cfg.negative else 0)
        if cfg.hs:
            per_word += 8 + 5 * max(1, math.ceil(math.log2(max(n, 2))))
        report["vocab"] = n * per_word
        report["vectors"] = n * dim * 4
        if cfg.hs:
            report["syn1"] = max(n - 1, 0) * row_floats(self.w_out_hs) * 4
        if cfg.negative:
            report["syn1neg"] = n * row_floats(self.w_out_ns) * 4
        if self.corpus is not None and not isinstance(self.corpus.ids, np.memmap):
            report["corpus"] = 4 * self.corpus.n_ids + 8 * (self.corpus.n_sentences + 1)
        report["total"] = sum(v for k, v in report.items() if k != "total")
        logger.info("estimated memory for %d words of %d dimensions: %d bytes", n, dim,
                    report["total"])
        return report

    def _check_vocabulary_steady(self, action):
        """A query of the model's own tables (score, predict_output_word) may run while
        another thread trains (it reads the weights as they are), not while one builds or
        grows the vocabulary (the tables and weights change one after another)."""
        busy = self.__dict__.get("_busy")
        if (busy is not None and busy[1] != threading.get_ident()
                and busy[0] != "train()"):
            raise RuntimeError(f"{action} cannot run while {busy[0]} changes this model's "
                               f"vocabulary in another thread: wait for it to return")

    def _check_vectors_match(self, action):
        """model.wv must still be the model's vocabulary: keys added to it
        (wv.add_vectors) are not words the model can train."""
        if self.wv.index_to_key != self.vocab.index_to_key:
            if (len(self.wv) == len(self.vocab)
                    and set(self.wv.index_to_key) == set(self.vocab.index_to_key)):
                raise RuntimeError(
                    f"{action}: model.wv holds the model's words in another order (after "
                    f"wv.sort_by_descending_frequency(), say): its rows no longer match "
                    f"the model's output weights and tables. Sort a copy instead "
                    f"(model.wv.vectors_for_all(model.wv.index_to_key, copy_vecattrs=True))")
            raise RuntimeError(
                f"{action}: model.wv holds {len(self.wv)} keys but the model's vocabulary "
                f"{len(self.vocab)} (or other keys): vectors added to model.wv are not part "
                f"of the model. Save them with model.wv.save(...), or add words to the "
                f"model with build_vocab(corpus, update=True)")

    def _check_weights(self, action, writable=True):
        """The weights the kernels will write through raw pointers, checked (a matrix
        reassigned by the user, of another shape, dtype or layout, would have them write
        outside it): each must be a float32 array of its shape, C-contiguous (an output
        matrix may also be laid out as _output_matrix makes it), writable unless only
        copied (an update copies them into new arrays)."""
        cfg, n, dim = self.config, len(self.vocab), self.config.vector_size
        needed = [("wv.vectors", self.wv.vectors, n, "len(vocab)")]
        if cfg.negative:
            needed.append(("w_out_ns", self.w_out_ns, n, "len(vocab)"))
        if cfg.hs:
            needed.append(("w_out_hs", self.w_out_hs, max(n - 1, 0), "len(vocab) - 1"))
        for name, a, rows, rows_are in needed:
            need = (f"a float32 C-contiguous array of shape ({rows}, {dim}), that is "
                    f"({rows_are}, vector_size)")
            if name != "wv.vectors":
                need += " (or its rows padded as fastw2v lays them out)"
            if a is None:
                raise ValueError(f"{action}: model.{name} is None, but this model needs "
                                 f"{need}; build the vocabulary again (build_vocab) for "
                                 f"new weights, or load a saved model")
            if not isinstance(a, np.ndarray):
                raise ValueError(f"{action}: model.{name} must be {need}, got "
                                 f"{type(a).__name__}")
            laid_out = a.flags.c_contiguous or (name != "wv.vectors" and a.ndim == 2
                                                and a.dtype == np.float32
                                                and _train.output_rows_fit(a))
            if a.shape != (rows, dim) or a.dtype != np.float32 or not laid_out:
                layout = "C-contiguous" if a.flags.c_contiguous else "not C-contiguous"
                raise ValueError(f"{action}: model.{name} must be {need}, got {a.dtype} "
                                 f"{a.shape} ({layout}); assign np.ascontiguousarray(x, "
                                 f"dtype=np.float32) of that shape")
            if writable and not a.flags.writeable:
                raise ValueError(f"{action}: model.{name} is read-only (a model loaded "
                                 f"with mmap='r'?); load it with mmap=None to train it")

    def _check_finite(self):
        """Training cannot bring back weights that hold NaN or inf (a diverged train())."""
        for name, a in (("wv.vectors", self.wv.vectors), ("w_out_ns", self.w_out_ns),
                        ("w_out_hs", self.w_out_hs)):
            if a is not None and not _all_finite(a):
                raise FloatingPointError(
                    f"model.{name} holds NaN or inf before training: training cannot "
                    f"make such weights usable. If an earlier train() diverged, build the "
                    f"vocabulary again (build_vocab) or load a saved model, and train "
                    f"with a lower learning rate (alpha is {self.config.alpha}); if such "
                    f"vectors were set or loaded (intersect_word2vec_format of a file "
                    f"holding nan/inf, say), replace those rows")

    _alpha_reached = None     # (the class default: models pickled before it existed)

    def _lockf(self):
        """model.wv.vectors_lockf as the kernels take it (None: all 1), checked."""
        return lockf_array(self.wv.vectors_lockf, len(self.wv), "model.wv.vectors_lockf")

    def _make_trainer(self, corpus, alpha0, alpha1, schedule_words, lockf):
        cfg, vocab = self.config, self.vocab
        corpus.check_ids(len(vocab))
        empty = np.zeros((0, cfg.vector_size), np.float32)
        noise_prob = noise_alias = None
        if cfg.negative:
            noise_prob, noise_alias = vocab.noise_table(cfg.ns_exponent)
        path_off = path_points = path_codes = None
        workers = cfg.resolved_workers()
        if cfg.hs:
            path_off, path_points, path_codes = vocab.huffman()
        return _train.Trainer(
            self.wv.vectors,
            self.w_out_ns if cfg.negative else empty,      # (checked above)
            self.w_out_hs if cfg.hs else empty,
            corpus.ids, corpus.offsets, vocab.keep_probs(cfg.sample), noise_prob,
            noise_alias, path_off, path_points, path_codes,
            sg=cfg.sg, hs=cfg.hs, negative=cfg.negative, window=cfg.window,
            shrink_windows=cfg.shrink_windows, cbow_mean=cfg.cbow_mean,
            compute_loss=cfg.compute_loss, max_span=cfg.max_sentence_length,
            shared_negatives=cfg.shared_negatives,
            # with several threads, each trains the heaviest Huffman nodes (the root is on
            # every path) in a private copy, merged every 1,000 words with two threads and
            # proportionally more often with more: between merges a thread does not see
            # the others' changes to these nodes, and 16 threads merging every 1,000 words
            # lost most of the analogy accuracy (bench/RESULTS.md, "Thread scaling")
            hot_rows=_train.HOT_ROWS if workers > 1 else 0,
            hot_sync_words=max(1, _train.HOT_SYNC_WORDS // max(1, workers - 1)),
            alpha_start=alpha0, alpha_end=alpha1, schedule_words=schedule_words,
            lockf=lockf,
            simd=os.environ.get("FASTW2V_SIMD", "auto"))

    def _thread_states(self, n):
        """Per-thread states, seeded with seed + thread id, kept across train() calls so
        that their random streams continue; made again, with the same streams, when the
        window grew past what their buffers hold (model.window = ...)."""
        cfg = self.config
        old = self._threads
        if old is not None and len(old) == n and all(t.window >= cfg.window for t in old):
            return old      # (the other sizes are fixed once the vocabulary exists)
        self._threads = [
            _train.ThreadState(cfg.vector_size, cfg.max_sentence_length, cfg.window,
                               cfg.negative, cfg.seed + i) for i in range(n)]
        if old is not None and len(old) == n:
            for state, before in zip(self._threads, old):
                state.rng_state = before.rng_state
        return self._threads

    def _run_epoch(self, trainer, states, chunks, report, epoch):
        trainer.start_epoch(chunks)
        n = len(states)
        results = [None] * n
        # The caller waits on these events, each set once its worker stored its result,
        # and not on Thread.join: on CPython 3.9-3.12 a Ctrl-C inside join() can mark a
        # thread finished while it still runs (bpo-45274), and the stopped threads' state
        # would be read before they wrote it.
        done = [threading.Event() for _ in range(n)]
        # A worker begins only while the caller has not given up on starting them: after
        # an interrupt amid the starts, a thread started late leaves its chunks to the
        # unfinished ones instead of training behind the caller's back.
        gate = threading.Lock()
        begun = [False] * n
        cancelled = [False]

        def work(i):
            with gate:
                if cancelled[0]:
                    return
                begun[i] = True
            try:
                results[i] = trainer.run_chunks(states[i])
            except BaseException as exc:  # re-raised on the calling thread
                results[i] = exc
                trainer.request_stop()
            finally:
                done[i].set()

        try:
            for i in range(n):
                threading.Thread(target=work, args=(i,), daemon=True,
                                 name=f"fastw2v-worker-{i}").start()
            for event in done:
                while not event.wait(0.1):
                    report.update(trainer.words_done, epoch)
            report.update(trainer.words_done, epoch)   # also when the epoch took < 0.1 s
        except BaseException as exc:
            # Ctrl-C (or a failed progress report): stop the workers, wait until each has
            # returned, and keep what is left for train(resume=True)
            trainer.request_stop()
            self._wait_stopped(gate, cancelled, begun, done)
            returned = [state for state, result in zip(states, results)
                        if result is not None and not isinstance(result, BaseException)]
            self._keep_unfinished(trainer, returned)
            if isinstance(exc, KeyboardInterrupt):
                report.end_line()
                logger.warning("training interrupted; the vectors keep what was trained so "
                               "far, and train(resume=True) continues from there")
            raise
        # the epoch is trained: a Ctrl-C now waits until its bookkeeping is done (cut
        # halfway, a resume would train the whole epoch again)
        with _interrupts_held():
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                self._keep_unfinished(trainer, [state for state, result in zip(states, results)
                                                if not isinstance(result, BaseException)])
                raise failed[0]
            counts = self._collect(states)
            if (any(r == _train.RUN_NONFINITE for r in results)
                    or not _all_finite(self.wv.vectors)):
                raise FloatingPointError(
                    f"training diverged in epoch {epoch + 1}: the weights became non-finite "
                    f"(NaN or inf) and are now unusable; no later train() can repair them. "
                    f"Lower the learning rate (this train() started at alpha "
                    f"{self._schedule['alpha_start']}), and build the vocabulary again "
                    f"(build_vocab) for fresh weights, or load a model saved before.")
            self._close_epoch(*counts)

    def _close_epoch(self, loss, trained, examples, steps):
        """Count a finished epoch in the model and its schedule."""
        schedule = self._schedule
        loss += schedule.pop("epoch_loss", 0.0)
        self.epoch_losses.append(loss)
        self.running_training_loss += loss
        self.words_trained += trained
        self.examples_trained += examples
        self.steps_trained += steps
        schedule.pop("left", None)
        schedule.pop("words_done", None)
        schedule["epochs_done"] += 1
        a0, a1 = schedule["alpha_start"], schedule["alpha_end"]
        done = schedule["epochs_done"] / schedule["epochs"]
        self._alpha_reached = a1 if done == 1 else a0 - (a0 - a1) * done

    @staticmethod
    def _wait_stopped(gate, cancelled, begun, done):
        """Wait until every worker that began has returned (they were asked to stop, and
        do within about a second). A second Ctrl-C does not abandon them: a worker left
        running would go on writing the weights and its state after train() raised."""
        interrupted = warned = False
        while True:
            try:
                if interrupted and not warned:
                    warned = True
                    logger.warning("stopping the training threads (within about a "
                                   "second); Ctrl-C again does not stop them sooner")
                with gate:
                    cancelled[0] = True      # a worker not yet begun never will
                    running = [event for event, b in zip(done, begun) if b]
                while not all(event.is_set() for event in running):
                    time.sleep(0.01)
                return
            except KeyboardInterrupt:
                interrupted = True

    def _keep_unfinished(self, trainer, states):
        """After the threads of an epoch were stopped: count what they trained, and keep
        in the schedule what they left (the id ranges no thread trained) and the shared
        word count, so that train(resume=True) continues exactly there. `states`: those
        of the threads whose run returned (the others left no range of their own)."""
        loss, trained, examples, steps = self._collect(states)
        left = trainer.unfinished(states).tolist()
        self.words_trained += trained
        self.examples_trained += examples
        self.steps_trained += steps
        schedule = self._schedule
        schedule["epoch_loss"] = schedule.get("epoch_loss", 0.0) + loss
        schedule["left"] = left
        schedule["words_done"] = trainer.words_done

    def _collect(self, states):
        """(loss, words kept after subsampling, examples, steps) of every thread since
        the last call."""
        loss = trained = examples = steps = 0
        for state in states:
            state_loss, _, state_trained, state_examples, state_steps = state.take_counters()
            loss += state_loss
            trained += state_trained
            examples += state_examples
            steps += state_steps
        return float(loss), int(trained), int(examples), int(steps)


def _all_finite(a) -> bool:
    """Whether no weight of `a` is NaN or inf: a sum in float64 is finite unless one is
    (or weights of about 1e300, diverged all the same), and needs no temporary of a's
    size."""
    return math.isfinite(float(a.sum(dtype=np.float64)))


def _loaded_schedule(schedule, path):
    """The schedule of an unfinished train() as save() wrote it (or None), checked: a
    file altered by hand (with its checksums mended) could otherwise resume for ever, at
    a negative learning rate, or train parts of the corpus twice."""
    if schedule is None:
        return None

    def bad(what):
        return ValueError(f"{path}: the saved learning-rate schedule (of an unfinished "
                          f"train()) {what}: the file was altered or not written by "
                          f"Word2Vec.save()")

    def whole(name, lo, hi):
        value = schedule.get(name)
        if type(value) is not int or not lo <= value <= hi:
            raise bad(f"has {name} {value!r}, not a whole number in [{lo}, {hi}]")
        return value

    if not isinstance(schedule, dict):
        raise bad(f"is a {type(schedule).__name__}, not a dict")
    known = {"alpha_start", "alpha_end", "epochs", "epochs_done", "words_per_epoch",
             "words_done", "epoch_loss", "left"}
    if set(schedule) - known:
        raise bad(f"has unknown entries {sorted(set(schedule) - known)}")
    try:
        check_learning_rate("alpha_start", schedule.get("alpha_start"))
        check_learning_rate("alpha_end", schedule.get("alpha_end"), zero_ok=True)
    except (TypeError, ValueError) as exc:
        raise bad(str(exc)) from None
    epochs = whole("epochs", 1, 1 << 20)
    whole("epochs_done", 0, epochs)
    n = whole("words_per_epoch", 1, 1 << 62)
    if "words_done" in schedule:
        whole("words_done", 0, epochs * n)
    loss = schedule.get("epoch_loss", 0.0)
    if type(loss) not in (int, float) or not math.isfinite(loss):
        raise bad(f"has epoch_loss {loss!r}, not a finite number")
    left = schedule.get("left", [])
    end = 0
    for pair in left if isinstance(left, list) else [None]:
        if (not isinstance(pair, list) or len(pair) != 2
                or any(type(x) is not int for x in pair)
                or not end <= pair[0] <= pair[1] <= n):
            raise bad(f"has left {left!r}: not ranges [start, end] of the {n} ids of an "
                      f"epoch, in order and apart")
        end = pair[1]
    return schedule


_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(Word2VecConfig))
# seed too: the initial weights and the threads' random streams come from it
_SHAPING_FIELDS = frozenset({"seed", "vector_size", "min_count", "max_vocab_size",
                             "max_final_vocab", "hs", "negative", "max_sentence_length",
                             "unicode_errors"})


class _Source:
    """One corpus given by the caller: a file, id sequences or token lists; it knows how
    to count and encode itself."""

    def __init__(self, corpus_iterable, corpus_file, passes):
        if corpus_iterable is not None and corpus_file is not None:
            raise ValueError("give either a corpus iterable or corpus_file, not both")
        if corpus_iterable is None and corpus_file is None:
            raise ValueError("no corpus: give a corpus iterable (a list of token lists) or "
                             "corpus_file (a path)")
        self.path = self.ids = self.tokens = self.recording = self.counted = None
        # times the corpus will be read: 1 (counted and encoded in one read, or only
        # encoded), or 2 (counted, then read again to encode it)
        self.passes = passes
        if corpus_file is not None:
            self.path = check_path(corpus_file)
        else:
            corpus_iterable = without_tensors(corpus_iterable)
            self.ids = as_id_sequences(corpus_iterable)
            if self.ids is None:
                self.tokens = check_restartable(corpus_iterable, passes=passes)

    def count(self, cfg):
        if self.ids is not None:
            return count_ids(self.ids, cfg.max_vocab_size)
        record = self.passes == 1       # the counter keeps the token stream for encode()
        if self.path is not None:
            self.counted = _file_state(self.path)    # (compared after the second read)
            raw = count_file(self.path, cfg.max_vocab_size, cfg.unicode_errors, record)
        else:
            raw = count_iterable(self.tokens, cfg.max_vocab_size, record)
        self.recording, raw.recording = raw.recording, None
        return raw

    def encode(self, vocab, cfg, encoded_dir=None, unicode_errors=None):
        """The encoded corpus; unicode_errors: check a file's undecodable tokens while
        encoding it (see encode_file), for a file the vocabulary was not counted from."""
        if self.recording is not None:          # (counted with passes=1: no encoded_dir)
            recording, self.recording = self.recording, None
            return encode_recorded(recording, vocab, cfg.max_sentence_length)
        if self.path is not None:
            corpus = encode_file(self.path, vocab, cfg.max_sentence_length, encoded_dir,
                                 unicode_errors)
            if self.counted is not None and _file_state(self.path) != self.counted:
                raise ValueError(f"corpus_file {self.path!r} changed between counting and "
                                 f"encoding (it is read twice with encoded_dir or "
                                 f"max_vocab_size): the counts would not match the corpus; "
                                 f"build the vocabulary again once the file stays as it is")
            return corpus
        if self.ids is not None:
            return encode_ids(self.ids, vocab, cfg.max_sentence_length, encoded_dir)
        return encode_iterable(self.tokens, vocab, cfg.max_sentence_length, encoded_dir,
                               self.passes)


def _file_state(path):
    """What tells a file changed: its inode, size and modification time."""
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def _pads_output(config):
    """Whether a model with this config pads its output rows (see _output_matrix)."""
    return config.resolved_workers() > 1


def _output_matrix(n_rows, dim, pad, rows=None):
    """An output matrix: (n_rows, dim) zeros, or `rows` then zeros, 64-byte aligned. With
    pad (a model trained on several threads), each row starts a cache line of its own (a
    view of an (n_rows, padded_width(dim)) array): neighbouring rows then never share a
    line, which two threads writing them at once would pass back and forth. One thread
    gains nothing from it, and CBOW loses a little to the larger matrix
    (bench/RESULTS.md, "Output rows on whole cache lines")."""
    width = _train.padded_width(dim) if pad else dim
    out = native.aligned_zeros((n_rows, width), np.float32)[:, :dim]
    if rows is not None:
        out[:len(rows)] = rows
    return out


def _laid_out(a, pad):
    """Output matrix `a` (loaded, or unpickled: pickle stores a padded view as a plain
    array) laid out as _output_matrix(..., pad) would: as it is if it already is, or if
    it cannot be trained anyway (read-only: memory-mapped; not a float32 matrix)."""
    if (not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype != np.float32
            or not a.flags.writeable):
        return a
    width = _train.padded_width(a.shape[1]) if pad else a.shape[1]
    if a.strides[0] == 4 * width and a.strides[1] == 4 and a.ctypes.data % native.ALIGN == 0:
        return a
    return _output_matrix(len(a), a.shape[1], pad, a)


def _raw_forms_from_meta(saved, keys, path):
    """The byte forms saved by Word2Vec.save ({word: [hex, ...]}), checked."""
    known = set(keys)
    try:
        raw_forms = {key: [bytes.fromhex(h) for h in forms] for key, forms in saved.items()}
    except (AttributeError, TypeError, ValueError):
        raw_forms = None
    if raw_forms is None or not known.issuperset(raw_forms):
        raise ValueError(f"{path}: its 'raw_forms' entry is not a map from vocabulary words "
                         f"to lists of hex strings; was it written by Word2Vec.save()?")
    return raw_forms


# gensim 4 parameters without a counterpart here, by the method that takes them: a value
# that asks for what fastw2v does anyway is accepted (None: any value), without effect;
# any other is refused, saying why
_GENSIM_ONLY = {
    "Word2Vec": {
        "sorted_vocab": ((1,), "the vocabulary is always sorted by descending count "
                               "(gensim's sorted_vocab=1)"),
        "null_word": ((0,), "there is no null word (gensim adds one for CBOW with "
                            "concatenated context vectors, which fastw2v does not have)"),
        "batch_words": (None, ""),
        "hashfxn": ((hash,), "the initial vectors are drawn from `seed` alone, the same "
                             "in every process, not from a hash of each word"),
        "comment": ((None,), "a model keeps no comment; store it beside the model"),
    },
    "build_vocab": {
        "progress_per": (None, ""),
        "keep_raw_vocab": ((False,), "the raw counts are not kept after build_vocab; "
                                     "fastw2v.vocab.count_file or count_iterable returns "
                                     "them"),
    },
    "train": {
        "word_count": ((0,), "a call's progress starts at its first word; to continue an "
                             "interrupted call, use train(resume=True)"),
        "queue_factor": (None, ""),
    },
}
_GENSIM_ONLY["build_vocab_from_freq"] = {"keep_raw_vocab":
                                         _GENSIM_ONLY["build_vocab"]["keep_raw_vocab"]}


_SCORE_CHUNK_IDS = 1 << 16       # score(): ids of whole sentences gathered for one pass
_SCORE_WORDS = 1 << 12           # score(): positions whose inputs are made at once
_SCORE_BLOCK = 1 << 14           # score(): (input, node) dot products at once


class _HsScorer:
    """score()'s arithmetic over a run of whole sentences, vectorised: the (word, context)
    pairs of one window offset at a time, every node of the word's Huffman path each."""

    def __init__(self, model):
        self.off, self.points, self.codes = model.vocab.huffman()
        self.w_in, self.w_out = model.wv.vectors, model.w_out_hs
        cfg = model.config
        self.sg, self.window, self.cbow_mean = cfg.sg, cfg.window, cfg.cbow_mean
        # log sigmoid on word2vec.c's grid of EXP_TABLE_SIZE points over (-MAX_EXP, MAX_EXP)
        size, top = _train.EXP_TABLE_SIZE, _train.MAX_EXP
        x = (np.arange(size) / size * 2 - 1) * top
        self.log_sigmoid = (-np.logaddexp(0, -x)).astype(np.float32)

    def score(self, ids, lengths):
        """Scores (float64) of the sentences of `lengths` ids each, concatenated in `ids`,
        a block of positions at a time (the memory stays small however long a sentence)."""
        lengths = np.asarray(lengths, np.int64)
        total = np.zeros(len(lengths))
        if not len(ids) or not len(self.points):   # (a one-word vocabulary has no paths)
            return total
        ids = np.asarray(ids, np.int64)
        sentence = np.repeat(np.arange(len(lengths)), lengths)
        ends = np.cumsum(lengths)[sentence]
        starts = ends - lengths[sentence]
        offsets = [d for d in range(-self.window, self.window + 1) if d]
        for a in range(0, len(ids), _SCORE_WORDS):
            pos = np.arange(a, min(a + _SCORE_WORDS, len(ids)))
            lo, hi = starts[pos], ends[pos]
            if self.sg:    # every context word's input row against the word's path
                for d in offsets:
                    word = pos[(pos + d >= lo) & (pos + d < hi)]
                    self._add(total, sentence, word, self.w_in[ids[word + d]], ids)
                continue
            h = np.zeros((len(pos), self.w_in.shape[1]), np.float32)
            count = np.zeros(len(pos), np.int64)
            for d in offsets:
                inside = (pos + d >= lo) & (pos + d < hi)
                h[inside] += self.w_in[ids[pos[inside] + d]]
                count[inside] += 1
            if self.cbow_mean:
                h /= np.maximum(count, 1)[:, None].astype(np.float32)
            self._add(total, sentence, pos, h, ids)
        return total

    def _add(self, total, sentence, word, inputs, ids):
        """total[s] += log sigmoid(+-input . node) over the path of each ids[word]."""
        first = self.off[ids[word]]
        steps = self.off[ids[word] + 1] - first
        if not steps.sum():
            return
        row = np.repeat(np.arange(len(word)), steps)
        node = np.repeat(first - np.cumsum(steps) + steps, steps) + np.arange(steps.sum())
        f = np.empty(len(row), np.float32)
        for a in range(0, len(row), _SCORE_BLOCK):
            r, k = row[a:a + _SCORE_BLOCK], node[a:a + _SCORE_BLOCK]
            f[a:a + _SCORE_BLOCK] = np.einsum("ij,ij->i", inputs[r],
                                              self.w_out[self.points[k]])
        f[self.codes[node] == 1] *= -1
        top = _train.MAX_EXP
        inside = (f > -top) & (f < top)
        # gensim's (and word2vec.c's) index: EXP_TABLE_SIZE / MAX_EXP / 2 in integers, 83
        # (not the exact 83.3 of the training kernels): the same scores as gensim's
        index = ((f[inside] + top) * (_train.EXP_TABLE_SIZE // top // 2)).astype(np.int64)
        total += np.bincount(sentence[word[row[inside]]], weights=self.log_sigmoid[index],
                             minlength=len(total))


def _gensim_only(method, given):
    """Check keyword arguments that `method` takes from gensim only (see _GENSIM_ONLY);
    any other name is an unexpected keyword argument, as Python would say."""
    known = _GENSIM_ONLY[method]
    for name, value in given.items():
        if name not in known:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")
        accepted, why = known[name]
        if accepted is None or any(
                value is ok or (isinstance(value, numbers.Number)
                                and isinstance(ok, numbers.Number) and value == ok)
                for ok in accepted):
            continue
        raise ValueError(f"{method}(): {name}={value!r} is not supported ({why}); "
                         f"leave it out")


# gensim 3 model attributes -> gensim 4's (and fastw2v's)
_GENSIM3_NAMES = {
    "iter": "epochs", "size": "vector_size", "syn0": "wv.vectors",
    "vocabulary": "wv.key_to_index and wv.get_vecattr(key, 'count')",
    "index2word": "wv.index_to_key", "syn0norm": "wv.get_normed_vectors()",
}


@contextlib.contextmanager
def _interrupts_held():
    """Ctrl-C (SIGINT) waits until the block is done, then acts as it would have (the
    handler in place is called). Only on the main thread (the only one Python delivers
    signals to) and over a Python-level handler; an exception leaving the block wins."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    held = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        previous(signal.SIGINT, held[0])


def _length(corpus):
    """len(corpus), or None for a corpus without one."""
    try:
        return len(corpus)
    except TypeError:
        return None


def _check_total(name, given, actual, what):
    if given is not None and given != actual:
        raise ValueError(f"{name}={given} but the corpus has {actual} {what}; "
                         f"leave {name} out, fastw2v counts the corpus itself")


def _call(callbacks, hook, model):
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None:
            method(model)


class _Progress:
    """Reports percent done (of the epoch and of the call), words/s, alpha and ETA: to the
    log, or, if asked, as a bar on stderr (redrawn in place on a terminal; elsewhere, a
    file or a notebook, one line per report)."""

    def __init__(self, total, alpha0, alpha1, delay, bar, done=0, threads=1, epochs=1):
        self.total, self.alpha0, self.alpha1 = max(total, 1), alpha0, alpha1
        self.delay, self.bar, self.done0, self.threads = delay, bar, done, threads
        self.per_epoch = self.total / max(epochs, 1)
        self.epochs = epochs
        self.start = self.last = time.perf_counter()
        self.in_line = False             # a bar is drawn and its line not ended
        self.redraw = bar and _is_terminal(sys.stderr)

    def update(self, done, epoch):
        now = time.perf_counter()
        if now - self.last < self.delay:
            return
        self.last = now
        frac = min(done / self.total, 1.0)
        in_epoch = min(max(done / self.per_epoch - epoch, 0.0), 1.0)
        rate = (done - self.done0) / max(now - self.start, 1e-9)
        alpha = self.alpha0 - (self.alpha0 - self.alpha1) * frac
        eta = (self.total - done) / rate if rate > 0 else math.inf
        text = (f"epoch {epoch + 1}/{self.epochs}: {100 * in_epoch:5.1f}% "
                f"({100 * frac:.1f}% of all) {rate / 1e3:6.0f}k words/s "
                f"({rate / self.threads / 1e3:.0f}k/thread) alpha {alpha:.6f} ETA {_hms(eta)}")
        if not self.bar:
            logger.info(text)
        elif self.redraw:
            filled = int(30 * frac)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {text}")
            sys.stderr.flush()
            self.in_line = True
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def end_line(self):
        """End the bar's line, so that what is written next (a log record) starts its own."""
        if self.in_line:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.in_line = False

    def close(self):
        self.end_line()


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):      # (a closed or replaced stream)
        return False


def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# Show the training parameters in help(Word2Vec) and IDEs, from the one set of defaults.
_sig = inspect.signature(Word2Vec.__init__)
Word2Vec.__init__.__signature__ = _sig.replace(parameters=[
    *[p for p in _sig.parameters.values() if p.kind != p.VAR_KEYWORD],
    *[inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
      for f in Word2VecConfig.__dataclass_fields__.values()]])
