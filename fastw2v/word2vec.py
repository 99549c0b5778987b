"""Word2Vec: wires the stages together (corpus -> vocabulary -> encoded corpus ->
training kernels -> vectors) and runs the training threads."""
from __future__ import annotations

import inspect
import logging
import math
import os
import sys
import threading
import time

import numpy as np

from fastw2v import _train
from fastw2v.config import Word2VecConfig
from fastw2v.corpus import check_path, check_restartable
from fastw2v.encoded import encode_file, encode_iterable
from fastw2v.keyedvectors import KeyedVectors
from fastw2v.vocab import count_file, count_iterable, select_words

logger = logging.getLogger("fastw2v")

_CALLBACK_HOOKS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")


class Word2Vec:
    """Train word2vec vectors: skip-gram or CBOW, with negative sampling and/or
    hierarchical softmax, on every core.

    Parameters
    ----------
    sentences : iterable of lists of tokens, optional
        A restartable iterable (a list, or an object whose ``__iter__`` starts over);
        tokens may be any hashable. If given (or `corpus_file`), the vocabulary is built
        and the model trained at once.
    corpus_file : str or os.PathLike, optional
        A text file, plain, gzip or bz2: one sentence per line, tokens separated by
        whitespace. Counting and encoding run in C.
    callbacks : sequence, optional
        Objects with any of the methods ``on_train_begin(model)``,
        ``on_epoch_begin(model)``, ``on_epoch_end(model)``, ``on_train_end(model)``
        (gensim's ``CallbackAny2Vec`` works as is); called on the calling thread.
    progress : bool
        Draw a progress bar on stderr while training (progress is also logged to the
        ``fastw2v`` logger at INFO level).
    encoded_dir : str, optional
        Keep the encoded corpus as memory-mapped .npy files in this directory instead of
        in memory, for corpora larger than RAM.
    **params
        Training parameters: see :class:`fastw2v.Word2VecConfig` for each name, default
        and allowed range (gensim 4's names and defaults).

    Attributes
    ----------
    wv : KeyedVectors
        The trained vectors (float32, C-contiguous, shape (n_words, vector_size)).
    w_out_ns, w_out_hs : ndarray or None
        Output weights of negative sampling (n_words, vector_size) and hierarchical
        softmax (n_words - 1, vector_size) (gensim's ``syn1neg`` and ``syn1``).
    epoch_losses : list of float
        Summed training loss of each epoch trained so far.
    """

    def __init__(self, sentences=None, corpus_file=None, *, callbacks=(), progress=False,
                 encoded_dir=None, **params):
        self.config = Word2VecConfig.from_params(**params)
        self.callbacks = tuple(callbacks)
        self.progress = progress
        self.vocab = None
        self.corpus = None
        self.wv = None
        self.w_out_ns = None
        self.w_out_hs = None
        self.epoch_losses = []
        self.words_trained = 0        # words kept after subsampling, over every epoch
        self._threads = None          # per-thread state, kept across train() calls
        if sentences is not None or corpus_file is not None:
            self.build_vocab(sentences, corpus_file, encoded_dir=encoded_dir)
            self.train()

    # ---- gensim-compatible accessors ----

    @property
    def syn1neg(self):
        return self.w_out_ns

    @property
    def syn1(self):
        return self.w_out_hs

    @property
    def corpus_count(self) -> int:
        """Non-empty sentences in the corpus given to build_vocab."""
        return self.corpus.n_source_sentences if self.corpus is not None else 0

    @property
    def corpus_total_words(self) -> int:
        """Tokens in the corpus given to build_vocab, unknown ones included."""
        return self.corpus.n_tokens if self.corpus is not None else 0

    def get_latest_training_loss(self) -> float:
        """Loss summed over the last epoch trained (0.0 before training)."""
        return self.epoch_losses[-1] if self.epoch_losses else 0.0

    # ---- vocabulary ----

    def build_vocab(self, corpus_iterable=None, corpus_file=None, *, encoded_dir=None):
        """Count the corpus, choose the vocabulary, encode the corpus once as int32 ids and
        initialise the weights (input rows uniform in [-0.5, 0.5) / vector_size, output
        weights zero). Replaces any earlier vocabulary and weights."""
        cfg = self.config
        source = _one_source(corpus_iterable, corpus_file)
        t0 = time.perf_counter()
        if corpus_file is not None:
            raw = count_file(source, cfg.max_vocab_size, cfg.unicode_errors)
        else:
            raw = count_iterable(source, cfg.max_vocab_size)
        if raw.min_reduce > 1:
            logger.warning("max_vocab_size=%d pruned words while counting: counts below %d "
                           "are approximate", cfg.max_vocab_size, raw.min_reduce)
        vocab = select_words(raw, cfg.min_count, cfg.max_final_vocab)
        t1 = time.perf_counter()
        if corpus_file is not None:
            corpus = encode_file(source, vocab, cfg.max_sentence_length, encoded_dir)
        else:
            corpus = encode_iterable(source, vocab, cfg.max_sentence_length, encoded_dir)
        t2 = time.perf_counter()
        logger.info("vocabulary: %d words of %d distinct (min_count=%d), %d of %d tokens "
                    "kept, in %.1fs; encoded %d sentences in %.1fs", len(vocab),
                    len(raw.keys), cfg.min_count, corpus.n_ids, raw.n_tokens, t1 - t0,
                    corpus.n_sentences, t2 - t1)
        self.vocab = vocab
        self.corpus = corpus
        self._reset_weights()

    def _reset_weights(self):
        cfg, n = self.config, len(self.vocab)
        rng = np.random.default_rng(cfg.seed)
        w_in = rng.random((n, cfg.vector_size), dtype=np.float32)
        w_in -= np.float32(0.5)
        w_in /= np.float32(cfg.vector_size)
        self.wv = KeyedVectors(w_in, self.vocab.index_to_key, self.vocab.counts)
        dim = cfg.vector_size
        self.w_out_ns = np.zeros((n, dim), np.float32) if cfg.negative else None
        self.w_out_hs = np.zeros((max(n - 1, 0), dim), np.float32) if cfg.hs else None
        self.epoch_losses = []
        self.words_trained = 0
        self._threads = None

    # ---- training ----

    def train(self, corpus_iterable=None, corpus_file=None, *, epochs=None,
              start_alpha=None, end_alpha=None, total_examples=None, total_words=None,
              callbacks=None, progress=None, report_delay=1.0, encoded_dir=None):
        """Train the vectors.

        Parameters
        ----------
        corpus_iterable, corpus_file : optional
            A corpus to train on, encoded with the current vocabulary (unknown words are
            dropped). Default: the corpus given to build_vocab, already encoded.
        epochs : int, optional
            Default: ``config.epochs``.
        start_alpha, end_alpha : float, optional
            The learning rate decays linearly from start_alpha to end_alpha over this
            call. Default: ``config.alpha`` and ``config.min_alpha``.
        total_examples, total_words : int, optional
            Accepted for gensim compatibility and checked: if given, they must equal the
            corpus's sentence or token count.
        callbacks, progress : optional
            Override those given to the constructor for this call.
        report_delay : float
            Seconds between progress reports.

        Raises
        ------
        KeyboardInterrupt
            On Ctrl-C: the workers stop within about a second; the vectors keep what was
            trained so far.
        FloatingPointError
            If the weights became non-finite (the learning rate is too high).
        """
        if self.vocab is None:
            raise RuntimeError("no vocabulary yet: call build_vocab(...) first, or pass the "
                               "corpus to Word2Vec(...)")
        cfg = self.config
        if corpus_iterable is not None or corpus_file is not None:
            source = _one_source(corpus_iterable, corpus_file)
            encode = encode_file if corpus_file is not None else encode_iterable
            corpus = encode(source, self.vocab, cfg.max_sentence_length, encoded_dir)
        else:
            corpus = self.corpus
        _check_total("total_examples", total_examples, corpus.n_source_sentences, "sentences")
        _check_total("total_words", total_words, corpus.n_tokens, "tokens")
        if corpus.n_ids == 0:
            raise ValueError("the corpus holds no word of the vocabulary: nothing to train")
        epochs = cfg.epochs if epochs is None else epochs
        alpha0 = cfg.alpha if start_alpha is None else start_alpha
        alpha1 = cfg.min_alpha if end_alpha is None else end_alpha
        # validated by the same rules as the configuration
        cfg.replace(epochs=epochs, alpha=alpha0, min_alpha=alpha1)
        callbacks = self.callbacks if callbacks is None else tuple(callbacks)
        progress = self.progress if progress is None else progress

        trainer = self._make_trainer(corpus, alpha0, alpha1, epochs * corpus.n_ids)
        shards = corpus.shards(cfg.resolved_workers())
        states = self._thread_states(len(shards))
        report = _Progress(epochs * corpus.n_ids, alpha0, alpha1, report_delay, progress)
        _call(callbacks, "on_train_begin", self)
        try:
            for epoch in range(epochs):
                _call(callbacks, "on_epoch_begin", self)
                loss, trained = self._run_epoch(trainer, states, shards, report, epoch)
                self.epoch_losses.append(loss)
                self.words_trained += trained
                logger.info("epoch %d/%d: loss %.6g, %d words trained", epoch + 1, epochs,
                            loss, trained)
                _call(callbacks, "on_epoch_end", self)
        finally:
            report.close()
            self.wv.fill_norms(force=True) if self.wv._unit is not None else None
        _call(callbacks, "on_train_end", self)
        return self.words_trained

    def _make_trainer(self, corpus, alpha0, alpha1, schedule_words):
        cfg, vocab = self.config, self.vocab
        if len(corpus.ids) and (corpus.ids.min() < 0 or corpus.ids.max() >= len(vocab)):
            raise IndexError("the encoded corpus holds ids outside the vocabulary "
                             f"[0, {len(vocab)})")
        empty = np.zeros((0, cfg.vector_size), np.float32)
        noise_prob = noise_alias = None
        if cfg.negative:
            noise_prob, noise_alias = vocab.noise_table(cfg.ns_exponent)
        path_off = path_points = path_codes = None
        if cfg.hs:
            path_off, path_points, path_codes = vocab.huffman()
        return _train.Trainer(
            self.wv.vectors,
            self.w_out_ns if self.w_out_ns is not None else empty,
            self.w_out_hs if self.w_out_hs is not None else empty,
            corpus.ids, corpus.offsets, vocab.keep_probs(cfg.sample), noise_prob,
            noise_alias, path_off, path_points, path_codes,
            sg=cfg.sg, hs=cfg.hs, negative=cfg.negative, window=cfg.window,
            shrink_windows=cfg.shrink_windows, cbow_mean=cfg.cbow_mean,
            compute_loss=cfg.compute_loss, max_span=cfg.max_sentence_length,
            alpha_start=alpha0, alpha_end=alpha1, schedule_words=schedule_words,
            simd=os.environ.get("FASTW2V_SIMD", "auto"))

    def _thread_states(self, n):
        """Per-thread states, seeded with seed + thread id, kept across train() calls so
        that their random streams continue."""
        cfg = self.config
        if self._threads is None or len(self._threads) != n:
            self._threads = [
                _train.ThreadState(cfg.vector_size, cfg.max_sentence_length, cfg.window,
                                   cfg.negative, cfg.seed + i) for i in range(n)]
        return self._threads

    def _run_epoch(self, trainer, states, shards, report, epoch):
        results = [None] * len(shards)

        def work(i, begin, end):
            try:
                results[i] = trainer.run(states[i], begin, end)
            except BaseException as exc:  # re-raised on the calling thread
                results[i] = exc
                trainer.request_stop()

        threads = [threading.Thread(target=work, args=(i, b, e), daemon=True,
                                    name=f"fastw2v-worker-{i}")
                   for i, (b, e) in enumerate(shards)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.1)
                    report.update(trainer.words_done, epoch)
        except KeyboardInterrupt:
            trainer.request_stop()
            for t in threads:
                t.join()
            self._collect(states)
            logger.warning("training interrupted; the vectors keep what was trained so far")
            raise
        loss, trained = self._collect(states)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        if any(r == _train.RUN_NONFINITE for r in results) or not np.isfinite(
                self.wv.vectors).all():
            raise FloatingPointError(
                f"training diverged in epoch {epoch + 1}: the weights became non-finite. "
                f"Lower the learning rate (alpha is {self.config.alpha}).")
        return loss, trained

    def _collect(self, states):
        loss = trained = 0
        for s in states:
            l_, words, t_, examples = s.take_counters()
            loss += l_
            trained += t_
        return float(loss), int(trained)


def _one_source(corpus_iterable, corpus_file):
    if corpus_iterable is not None and corpus_file is not None:
        raise ValueError("give either a corpus iterable or corpus_file, not both")
    if corpus_iterable is None and corpus_file is None:
        raise ValueError("no corpus: give a corpus iterable (a list of token lists) or "
                         "corpus_file (a path)")
    if corpus_file is not None:
        return check_path(corpus_file)
    return check_restartable(corpus_iterable)


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
    """Reports percent done, words/s, alpha and ETA to the log and, if asked, as a bar on
    stderr."""

    def __init__(self, total, alpha0, alpha1, delay, bar):
        self.total, self.alpha0, self.alpha1 = max(total, 1), alpha0, alpha1
        self.delay, self.bar = delay, bar
        self.start = self.last = time.perf_counter()

    def update(self, done, epoch):
        now = time.perf_counter()
        if now - self.last < self.delay:
            return
        self.last = now
        frac = min(done / self.total, 1.0)
        rate = done / max(now - self.start, 1e-9)
        alpha = self.alpha0 - (self.alpha0 - self.alpha1) * frac
        eta = (self.total - done) / rate if rate > 0 else math.inf
        text = (f"epoch {epoch + 1}: {100 * frac:5.1f}% {rate / 1e3:8.0f}k words/s "
                f"alpha {alpha:.6f} ETA {_hms(eta)}")
        logger.info(text)
        if self.bar:
            filled = int(30 * frac)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {text}")
            sys.stderr.flush()

    def close(self):
        if self.bar:
            sys.stderr.write("\n")
            sys.stderr.flush()


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
