"""Phrase detection: word pairs that occur together far more often than chance become one
token ("new york" -> "new_york"), as word2vec.c's ``word2phrase`` and gensim's ``Phrases``
do before training, so that phrases get vectors of their own.

A candidate is two consecutive words of one sentence, with only connector words (if any
are given: "of", "the", ...) between them, as in gensim 4. Its score compares its count
with its words' counts; a candidate scoring above the threshold is a phrase. A sentence is
rewritten left to right, greedily: a phrase's last word does not start another phrase, so
one pass makes pairs, and a second pass over the output (a new ``Phrases`` on the
rewritten corpus) makes phrases of up to four words, as word2vec.c's demo does.

Counting is vectorised: the corpus becomes an array of word ids (read from a file in
compiled code), cut into windows of about a million tokens (a sentence may span several:
text8 is one line); candidates are counted by sorting packed keys, and every score comes
from numpy at once, with gensim's arithmetic. Counts are exact (no pruning), kept per word
sequence, so a token that already holds the delimiter ("new_york" in the text) is never
confused with a phrase.
"""
from __future__ import annotations

import functools
import inspect
import itertools
import logging
import math
import numbers
import os
import time
import types

import numpy as np

from fastw2v import _vocab, native
from fastw2v.corpus import (check_path, check_restartable, check_sentence,
                            check_unicode_errors)
from fastw2v.formats import compressor
from fastw2v.vocab import count_file

logger = logging.getLogger("fastw2v")

# gensim's list (gensim.models.phrases.ENGLISH_CONNECTOR_WORDS): articles, prepositions
# and conjunctions that may sit inside a phrase ("bank_of_america")
ENGLISH_CONNECTOR_WORDS = frozenset(
    "a an the for of with without at from to in on by and or".split())

_SCORER_PARAMS = ("worda_count", "wordb_count", "bigram_count", "len_vocab", "min_count",
                  "corpus_word_count")
_WINDOW_TOKENS = 1 << 20        # tokens per window of counting or rewriting
_RUN_LEVELS = 8                 # connector runs longer than this are interned in Python


# ---------------------------------------------------------------------------------------
# scores: scalars or numpy arrays, with the peers' arithmetic

def original_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                    corpus_word_count):
    """gensim's default score, after Mikolov et al. (2013):
    ``(bigram_count - min_count) / (worda_count * wordb_count) * len_vocab``, where
    len_vocab is the number of distinct words (connector words aside) plus the number of
    distinct candidates."""
    if np.max(worda_count, initial=0) * np.max(wordb_count, initial=0) < 2 ** 63:
        denom = np.multiply(worda_count, wordb_count, dtype=np.int64)  # (exact, as gensim)
    else:           # (counts of billions: the product in float, as it cannot wrap there)
        denom = np.multiply(worda_count, wordb_count, dtype=np.float64)
    return np.subtract(bigram_count, min_count) / denom.astype(np.float64) * len_vocab


def npmi_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                corpus_word_count):
    """Normalised pointwise mutual information (Bouma 2009), in [-1, 1]:
    ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))`` with p(x) = count(x) / corpus_word_count;
    -inf for a candidate seen fewer than min_count times."""
    n = float(corpus_word_count)
    pa = np.divide(worda_count, n)
    pb = np.divide(wordb_count, n)
    pab = np.divide(bigram_count, n)
    ratio = np.atleast_1d(pab / (pa * pb))
    usable = np.atleast_1d(np.greater_equal(bigram_count, min_count) & (pab > 0))
    score = np.full(ratio.shape, -np.inf)
    # math.log, not numpy's: numpy's vectorised log may differ in the last bit, and a
    # score on the threshold must fall where gensim's does
    score[usable] = [math.log(r) / -math.log(p) for r, p in
                     zip(ratio[usable].tolist(), np.atleast_1d(pab)[usable].tolist())]
    return score if np.ndim(pab) else float(score[0])


def word2phrase_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                       corpus_word_count):
    """word2vec.c's word2phrase score, in float32 as it computes it:
    ``(bigram_count - min_count) / worda_count / wordb_count * corpus_word_count``
    (its default threshold is 100)."""
    f32 = np.float32
    return (np.asarray(np.subtract(bigram_count, min_count), f32) / np.asarray(worda_count, f32)
            / np.asarray(wordb_count, f32) * f32(corpus_word_count))


_SCORERS = {"default": original_scorer, "npmi": npmi_scorer,
            "word2phrase": word2phrase_scorer}
SCORINGS = tuple(_SCORERS)


# ---------------------------------------------------------------------------------------
# settings: checked here only

def check_settings(min_count, threshold, scoring, delimiter):
    """Raise TypeError or ValueError, naming the setting and a fix, for a bad value."""
    if isinstance(min_count, bool) or not isinstance(min_count, numbers.Real):
        raise TypeError(f"min_count must be a number, got {type(min_count).__name__}")
    if not 0 < min_count < 2 ** 62:
        raise ValueError(f"min_count must be a positive number below 2**62, got {min_count}")
    if isinstance(scoring, str):
        if scoring not in _SCORERS:
            raise ValueError(f"scoring must be one of {SCORINGS} or a function, "
                             f"got {scoring!r}")
    elif callable(scoring):
        _check_scorer(scoring)
    else:
        raise TypeError(f"scoring must be one of {SCORINGS} or a function, "
                        f"got {type(scoring).__name__}")
    _check_threshold(threshold)
    if scoring in ("default", "word2phrase") and threshold <= 0:
        raise ValueError(f"threshold must be positive with scoring={scoring!r}, got "
                         f"{threshold} (gensim's default is 10, word2phrase's 100)")
    if scoring == "npmi" and not -1 <= threshold <= 1:
        raise ValueError(f"threshold must be between -1 and 1 with scoring='npmi' "
                         f"(npmi scores lie there), got {threshold}; try 0.5")
    _check_delimiter(delimiter)


def _check_delimiter(delimiter):
    if not isinstance(delimiter, str):
        raise TypeError(f"delimiter must be a str, got {type(delimiter).__name__}")
    if not delimiter or any(c in " \t\n\r\x0b\x0c" for c in delimiter):
        raise ValueError(f"delimiter {delimiter!r} is empty or holds whitespace: a phrase "
                         f"written out would be ambiguous or read back as separate "
                         f"words; use e.g. '_'")


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    if not -1e300 < threshold < 1e300:
        raise ValueError(f"threshold must be a finite number, got {threshold}")


def _check_scorer(scoring):
    try:
        params = inspect.signature(scoring).parameters
    except (TypeError, ValueError):
        return                                  # (a builtin without a signature)
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    missing = [p for p in _SCORER_PARAMS if p not in params]
    if missing and not takes_any:
        raise ValueError(f"a scoring function is called with the keyword arguments "
                         f"{', '.join(_SCORER_PARAMS)}; {scoring!r} lacks "
                         f"{', '.join(missing)} (add **kwargs to ignore those it needs not)")


def _connector_set(connector_words):
    if connector_words is None:
        raise TypeError("connector_words must be a collection of words; for none, "
                        "leave it out (or pass frozenset())")
    if isinstance(connector_words, (str, bytes)):
        raise TypeError(f"connector_words must be a collection of words, not one "
                        f"{type(connector_words).__name__} (its characters would be the "
                        f"words); e.g. connector_words={{{connector_words!r}}}")
    words = frozenset(connector_words)
    bad = [w for w in words if not isinstance(w, str)]
    if bad:
        raise TypeError(f"connector words must be str, got {bad[0]!r}")
    return words


# ---------------------------------------------------------------------------------------
# vectorised counting

def _pack(columns, bounds):
    """One int64 key per row, ordered as the rows (mixed radix: column i below bounds[i]),
    or None when the bounds are too large for an int64."""
    n_keys = 1
    for b in bounds:
        n_keys *= max(int(b), 1)
    if n_keys >= 2 ** 62:
        return None
    key = np.zeros(len(columns[0]), np.int64)
    for col, b in zip(columns, bounds):
        key *= max(int(b), 1)
        key += col
    return key


def _unpack(key, bounds):
    columns = []
    for b in reversed(bounds):
        key, col = np.divmod(key, max(int(b), 1))
        columns.append(col)
    return columns[::-1]


def _group(columns, bounds):
    """Dense group numbers of the rows of `columns` (int arrays, each below its bound),
    equal exactly when the rows are equal, and one row of each group: (codes, rows)."""
    key = _pack(columns, bounds)
    if key is not None:
        _, codes = np.unique(key, return_inverse=True)
        codes = codes.reshape(-1)
    else:
        order = np.lexsort(columns[::-1])
        change = np.zeros(len(order), bool)
        change[:1] = True
        for col in columns:
            change[1:] |= col[order][1:] != col[order][:-1]
        codes = np.empty(len(order), np.int64)
        codes[order] = np.cumsum(change) - 1
    rows = np.empty(int(codes.max()) + 1 if len(codes) else 0, np.int64)
    rows[codes] = np.arange(len(codes))
    return codes, rows


def _windows(ids, ends, is_conn, size):
    """Cut the id stream (sentences ending at `ends`) into windows of `size` tokens, a
    sentence possibly across several: yields (anchor, lo, hi), tokens lo:hi being the
    window's own, and anchor the last non-connector token before lo in lo's sentence (a
    candidate across the cut starts there; the window before has none starting there),
    or None."""
    n, lo, anchor = len(ids), 0, None
    while lo < n:
        hi = min(lo + size, n)
        yield anchor, lo, hi
        k = int(np.searchsorted(ends, hi, side="left"))      # the sentence holding hi
        sentence_start = int(ends[k - 1]) if k else 0
        if hi == n or ends[k] == hi:
            anchor = None
        else:
            first = max(lo, sentence_start)
            words = np.flatnonzero(~is_conn[ids[first:hi]])
            if len(words):
                anchor = first + int(words[-1])
            elif sentence_start >= lo:       # (else lo's anchor is hi's: same sentence)
                anchor = None
        lo = hi


def _candidates(ids, ends, is_conn, anchor, lo, hi):
    """Start and end positions (s, e) of the candidates of a window: consecutive
    non-connector tokens of one sentence, with only connector tokens between them, the
    first starting at the anchor if there is one."""
    pos = lo + np.flatnonzero(~is_conn[ids[lo:hi]])
    if anchor is not None:
        pos = np.concatenate([[anchor], pos])
    sentence = np.searchsorted(ends, pos, side="right")
    same = sentence[1:] == sentence[:-1]
    return pos[:-1][same], pos[1:][same]


def _run_tuples(ids, s, e, is_conn):
    """The connector runs ids[s+1:e] of the candidates: a code per candidate, equal exactly
    when the runs are equal, and the run of each code as a tuple. Interned one position
    at a time (prefixes of different lengths get different codes); runs longer than
    _RUN_LEVELS, rare, as tuples."""
    conn_code = np.cumsum(is_conn) - 1
    n_conn = max(int(is_conn.sum()), 1)
    gap = e - s - 1
    code = np.zeros(len(s), np.int64)
    live = np.flatnonzero((gap > 0) & (gap <= _RUN_LEVELS))
    n_codes, level = 1, 1
    while live.size:
        step, _ = _group([code[live], conn_code[ids[s[live] + level]]], [n_codes, n_conn])
        code[live] = n_codes + step
        n_codes += int(step.max()) + 1
        live = live[gap[live] > level]
        level += 1
    long_runs = {}
    for j in np.flatnonzero(gap > _RUN_LEVELS).tolist():
        code[j] = n_codes + long_runs.setdefault(ids[s[j] + 1:e[j]].tobytes(), len(long_runs))
    codes, runs = np.zeros(len(s), np.int64), [()]        # (most candidates: no run)
    with_run = np.flatnonzero(code)
    if with_run.size:
        sub, rows = _group([code[with_run]], [n_codes + len(long_runs)])
        codes[with_run] = sub + 1
        runs += [tuple(ids[s[j] + 1:e[j]].tolist()) for j in with_run[rows].tolist()]
    return codes, runs


class _Runs:
    """The distinct connector runs (tuples of word ids), numbered from 1; 0 is no run."""

    def __init__(self, runs=((),)):
        self.runs = list(runs)
        self.index = {r: i for i, r in enumerate(self.runs)}

    def intern(self, run) -> int:
        number = self.index.get(run)
        if number is None:
            number = self.index[run] = len(self.runs)
            self.runs.append(run)
        return number

    def truncate(self, n):
        for run in self.runs[n:]:
            del self.index[run]
        del self.runs[n:]


def _sum_counts(a, run, b, count, n_words, n_runs):
    """The distinct rows (a, run, b), int32, with their summed counts (count None: each
    row counts 1)."""
    if not len(a):
        return (np.zeros(0, np.int32),) * 3 + (np.zeros(0, np.int64),)
    bounds = [n_runs, n_words, n_words]
    key = _pack([run, a, b], bounds)
    if key is None:
        codes, rows = _group([run, a, b], bounds)
        weights = np.ones(len(codes)) if count is None else count
        sums = np.bincount(codes, weights, len(rows))
        a, run, b = a[rows], run[rows], b[rows]
    elif count is None:
        key, sums = np.unique(key, return_counts=True)         # (a sort, no argsort)
        run, a, b = _unpack(key, bounds)
    else:
        order = np.argsort(key, kind="stable")     # (merges sorted runs in linear time)
        key = key[order]
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        key, sums = key[starts], np.add.reduceat(count[order], starts)
        run, a, b = _unpack(key, bounds)
    return (a.astype(np.int32), run.astype(np.int32), b.astype(np.int32),
            sums.astype(np.int64))


def _taken(accepted, s, e, first_blocked=False):
    """Which candidates the left-to-right rewrite joins: an accepted candidate is joined
    unless the one just before it, ending where it starts, was joined (first_blocked: the
    first candidate's predecessor, in the window before, was)."""
    chained = np.zeros(len(s), bool)
    chained[1:] = accepted[:-1] & (e[:-1] == s[1:])
    chain_start = np.maximum.accumulate(np.where(~chained, np.arange(len(s)), 0))
    place = np.arange(len(s)) - chain_start + (first_blocked & (chain_start == 0))
    return accepted & (place % 2 == 0)


def _gather(pool, starts, lengths) -> bytes:
    """pool[starts[0]:starts[0]+lengths[0]] + pool[starts[1]:...] + ..., as bytes."""
    out_start = np.cumsum(lengths) - lengths
    index = np.repeat(starts - out_start, lengths) + np.arange(int(lengths.sum()))
    return pool[index].tobytes()


# ---------------------------------------------------------------------------------------
# rewriting

def _is_single(obj):
    """(True, sentence) if obj is one sentence (empty, or its first item a str), else
    (False, corpus); an iterator gets its first item back (gensim's rule)."""
    it = iter(obj)
    try:
        first = next(it)
    except StopIteration:
        return True, obj
    if it is obj:
        obj = itertools.chain([first], it)
    return isinstance(first, str), obj


class _Rewritten:
    """A corpus rewritten sentence by sentence, as it is iterated (gensim's
    phrases[corpus]); restartable when the corpus is."""

    def __init__(self, model, corpus):
        self.model, self.corpus = model, corpus
        # (read by check_restartable: a rewrite of a one-shot corpus is read once too)
        self._one_shot = iter(corpus) is corpus or getattr(corpus, "_one_shot", False)
        self._started = False

    def __iter__(self):
        if self._one_shot and self._started:
            raise TypeError(
                "the corpus given to phrases[...] is a one-shot iterator, already read: "
                "a second pass would find it empty; pass a list or a restartable corpus, "
                "or list(phrases[corpus]) (Word2Vec's train() without a corpus trains on "
                "the one its build_vocab read)")
        self._started = True
        for i, sentence in enumerate(self.corpus):
            check_sentence(sentence, i, passes=1)
            yield self.model._rewrite(sentence)

    def __len__(self):
        return len(self.corpus)


class _PhraseTransform:
    """What Phrases and FrozenPhrases share: rewriting sentences, given the phrases."""

    def _accepted(self) -> dict:
        """{(word, ..., word): score} of the phrases above the threshold (the same
        object until something changes)."""
        raise NotImplementedError

    @property
    def connector_words(self) -> frozenset:
        """Words that may sit inside a phrase but neither start nor end one."""
        return self._connectors

    @connector_words.setter
    def connector_words(self, words):
        self._connectors = _connector_set(words)

    def _phrase_table(self):
        """The accepted phrases with their joined forms: {words: (joined, score)}."""
        accepted = self._accepted()
        # (by identity: equal dicts would be compared in full, for every sentence)
        made_for = getattr(self, "_table_for", None)
        if made_for is None or made_for[0] is not accepted or made_for[1] != self.delimiter:
            _check_delimiter(self.delimiter)
            self._table = {k: (self.delimiter.join(k), s) for k, s in accepted.items()}
            self._firsts = frozenset(k[0] for k in accepted)
            self._table_for = (accepted, self.delimiter)
        return self._table

    def _rewrite(self, sentence) -> list:
        """The tokens of analyze_sentence(sentence), as a list (what phrases[...] gives),
        in compiled code that looks phrases up only after a word that starts one."""
        table = self._phrase_table()
        return _vocab.phrase_rewrite(sentence, table, self._firsts, self.connector_words)

    def analyze_sentence(self, sentence):
        """Yield ``(token, score)`` for each token of the rewritten sentence: a phrase with
        its score, or an unchanged word with None (gensim's generator)."""
        table = self._phrase_table()
        yield from _vocab.phrase_rewrite(sentence, table, self._firsts, self.connector_words,
                                         True)

    def __getitem__(self, sentence):
        """A sentence (list of str) rewritten, as a list; or, given a corpus (iterable of
        sentences), a restartable iterable of rewritten sentences (as gensim: an empty
        input, or one whose first item is a str, is a sentence)."""
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"expected a sentence (list of str) or a corpus, got a "
                            f"{type(sentence).__name__}; split it first, e.g. line.split()")
        if isinstance(sentence, _Rewritten):       # (a corpus: peeking would start it)
            return _Rewritten(self, sentence)
        if isinstance(sentence, np.ndarray):
            sentence = sentence.tolist()          # (a 1-D str array, or 2-D: rows)
        single, sentence = _is_single(check_restartable(sentence, "the input", passes=1))
        if single:
            return self._rewrite(sentence)
        return _Rewritten(self, sentence)

    def find_phrases(self, sentences) -> dict:
        """The phrases the rewrite makes in `sentences`: {joined: score}."""
        found = {}
        for i, sentence in enumerate(check_restartable(sentences, "sentences", passes=1)):
            check_sentence(sentence, i, passes=1)
            for token, score in self.analyze_sentence(sentence):
                if score is not None:
                    found[token] = score
        return found

    def score_candidate(self, word_a, word_b, in_between):
        """gensim's: (joined phrase, score) if word_a, the connector words in_between and
        word_b make a phrase above the threshold, else (None, None)."""
        hit = self._phrase_table().get((word_a, *in_between, word_b))
        return (None, None) if hit is None else hit

    def export_phrases(self) -> dict:
        """Every phrase above the threshold: {joined: score} (gensim's export_phrases)."""
        return {joined: score for joined, score in self._phrase_table().values()}

    def transform_file(self, source, output, unicode_errors="strict") -> int:
        """Rewrite a text file (one sentence per line; .gz, .bz2 and .xz read) into
        `output` with the phrases joined, as word2phrase does: ready for
        ``Word2Vec(corpus_file=output)`` or another Phrases pass. An output named .gz,
        .bz2 or .xz is compressed; it is written atomically.

        Tokens keep their bytes; each line holding a token becomes one line of tokens
        separated by single spaces (extra whitespace goes), and lines without a token stay
        as empty lines, so that the output's lines are the source's, as word2phrase's are.
        The source's tokens are held in memory at 4 bytes each. Returns the number of
        phrases made.
        """
        check_unicode_errors(unicode_errors)
        source = check_path(source)
        output = os.fspath(output)
        directory = os.path.dirname(output) or "."
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"cannot write {output!r}: no directory {directory!r}")
        if os.path.exists(output) and os.path.samefile(source, output):
            raise ValueError(f"output {output!r} is the source file: it would be "
                             f"overwritten while read; write to another file")
        raw = count_file(source, unicode_errors=unicode_errors, record=True)
        counter = raw.recording.counter
        raw_words = counter.export()[0]
        blank_before, blank_after = counter.blank_lines()
        ids, lengths = counter.take_encoded(np.arange(len(raw_words), dtype=np.int32))
        ends = np.cumsum(lengths)
        joined_s, joined_e = self._joined(ids, ends, raw.recording.table_keys)
        with native.atomic_write(output) as raw_file, compressor(output, raw_file) as f:
            _write_joined(f, raw_words, ids, ends, joined_s, joined_e,
                          self.delimiter.encode("utf-8"), blank_before, blank_after)
        return len(joined_s)

    def _joined(self, ids, ends, table_keys):
        """The (start, end) token positions of the phrases the rewrite makes in the id
        stream, whose id i is the word table_keys[i]; window by window, the rewrite's
        state carried across."""
        words, runs, accepted_keys = self._compile()
        # the stream's words as the phrases' word ids, -1 for the others
        to_word = np.array([words.get(k, -1) for k in table_keys], np.int64)
        is_conn = np.array([k in self.connector_words for k in table_keys], bool)
        joined_s, joined_e, last_end = [], [], -1
        for anchor, lo, hi in _windows(ids, ends, is_conn, _WINDOW_TOKENS):
            s, e = _candidates(ids, ends, is_conn, anchor, lo, hi)
            codes, tuples = _run_tuples(ids, s, e, is_conn)
            run = np.array([runs.index.get(tuple(to_word[list(t)].tolist()), -1)
                            for t in tuples], np.int64)[codes]
            a, b = to_word[ids[s]], to_word[ids[e]]
            known = (a >= 0) & (b >= 0) & (run >= 0)
            accepted = known & _in_sorted(_phrase_key(run, a, b, len(words)), accepted_keys)
            taken = _taken(accepted, s, e, bool(len(s)) and s[0] == last_end)
            if taken.any():
                joined_s.append(s[taken])
                joined_e.append(e[taken])
                last_end = int(e[taken][-1])
        return (np.concatenate(joined_s or [np.zeros(0, np.int64)]),
                np.concatenate(joined_e or [np.zeros(0, np.int64)]))

    def _compile(self):
        """The accepted phrases over ids of their own words, for rewriting files:
        (word -> id, _Runs, sorted packed keys); cached."""
        table = self._phrase_table()
        made_for = getattr(self, "_compiled_for", None)       # (by identity, as above)
        if made_for is None or made_for[0] is not table or made_for[1] != self.connector_words:
            words, runs = {}, _Runs()
            for phrase in table:
                for w in phrase:
                    words.setdefault(w, len(words))
            run = [runs.intern(tuple(words[w] for w in p[1:-1])) for p in table]
            first = [words[p[0]] for p in table]
            last = [words[p[-1]] for p in table]
            keys = _phrase_key(np.array(run, np.int64), np.array(first, np.int64),
                               np.array(last, np.int64), len(words))
            self._compiled = (words, runs, np.unique(keys))
            self._compiled_for = (table, self.connector_words)
        return self._compiled


def _phrase_key(run, a, b, n_words):
    """One int64 per (run, first word, last word) of ids below n_words (the rewrite's
    phrase words: few, so it never overflows); -1 where a run or word is -1."""
    return np.where((run < 0) | (a < 0) | (b < 0), -1, (run * n_words + a) * n_words + b)


def _in_sorted(x, values):
    """Whether each of x is in the sorted array `values` (a binary search each)."""
    at = np.minimum(np.searchsorted(values, x), max(len(values) - 1, 0))
    return (values[at] == x) if len(values) else np.zeros(len(x), bool)


def _write_joined(f, raw_words, ids, ends, joined_s, joined_e, delimiter, blank_before,
                  blank_after):
    """Write the id stream as text: raw_words[id] for each token, a newline after each
    sentence, the delimiter inside the phrases joined_s[k] .. joined_e[k] (positions,
    sorted, disjoint), else a space; blank_before[s] empty lines before sentence s and
    blank_after after the last; window by window."""
    # what follows each sentence: its newline and the empty lines before the next one
    newlines, which = np.unique(np.append(blank_before[1:], blank_after) + 1,
                                return_inverse=True)
    pieces = raw_words + [b" ", delimiter] + [b"\n" * int(k) for k in newlines]
    space, delim = len(raw_words), len(raw_words) + 1
    sentence_newline = len(raw_words) + 2 + which.reshape(-1)
    f.write(b"\n" * int(blank_before[0] if len(ids) else blank_after))
    pool = np.frombuffer(b"".join(pieces), np.uint8)
    piece_len = np.array([len(p) for p in pieces], np.int64)
    piece_start = np.cumsum(piece_len) - piece_len
    for lo in range(0, len(ids), _WINDOW_TOKENS):
        hi = min(lo + _WINDOW_TOKENS, len(ids))
        n = hi - lo
        # token t is glued to the one before when s < t <= e for a phrase (s, e)
        k0, k1 = np.searchsorted(joined_e, lo), np.searchsorted(joined_s, hi + 1)
        marks = (np.bincount(np.clip(joined_s[k0:k1] + 1 - lo, 0, n + 1), minlength=n + 2)
                 - np.bincount(np.clip(joined_e[k0:k1] + 1 - lo, 0, n + 1), minlength=n + 2))
        glued_next = np.cumsum(marks)[1:n + 1] > 0        # token lo + i + 1 is glued
        sep = np.where(glued_next, delim, space)          # what follows each token
        k0, k1 = np.searchsorted(ends, lo + 1), np.searchsorted(ends, hi, "right")
        sep[ends[k0:k1] - 1 - lo] = sentence_newline[k0:k1]
        order = np.empty(2 * n, np.int64)
        order[0::2] = ids[lo:hi]
        order[1::2] = sep
        f.write(_gather(pool, piece_start[order], piece_len[order]))


# ---------------------------------------------------------------------------------------
# the models

class Phrases(_PhraseTransform):
    """Detect phrases from word and word-pair counts (gensim's ``Phrases``, word2vec.c's
    ``word2phrase``).

    Parameters
    ----------
    sentences : iterable of list of str, optional
        The corpus to count (read once; a generator will do). Or give `corpus_file`.
    corpus_file : str or os.PathLike, optional
        A text file, one sentence per line, tokens separated by whitespace (.gz, .bz2
        and .xz are decompressed), counted in compiled code.
    min_count : int or float, default 5
        gensim's: the default and word2phrase scores subtract it from a candidate's
        count, and npmi gives -inf below it.
    threshold : float, default 10.0
        A candidate scoring above it is a phrase (word2phrase's default is 100 with its
        score; npmi scores lie in [-1, 1]).
    scoring : {'default', 'npmi', 'word2phrase'} or callable, default 'default'
        'default' is gensim's score (:func:`original_scorer`), 'npmi' normalised PMI
        (:func:`npmi_scorer`), 'word2phrase' word2vec.c's, in float32 as it computes it
        (:func:`word2phrase_scorer`). A function is called, as gensim calls it, with the
        keyword arguments ``worda_count, wordb_count, bigram_count, len_vocab,
        min_count, corpus_word_count``, once for each distinct candidate (a Python call
        each: slower; such a model cannot be saved, its frozen phrases can).
    delimiter : str, default '_'
        Joins the words of a phrase (not empty, no whitespace).
    connector_words : collection of str, default none
        Words that may sit inside a phrase but neither start nor end one
        (:data:`ENGLISH_CONNECTOR_WORDS` for English: "bank_of_america"). They are not
        counted as words, and a candidate's score is that of its first and last words.
        Fixed once words are counted (the counts depend on them).
    unicode_errors : {'strict', 'replace', 'ignore'}, default 'strict'
        For `corpus_file`: what to do with tokens that are not valid UTF-8.
    max_vocab_size, progress_per
        gensim's, accepted for compatibility: ``max_vocab_size=None`` (counts are exact,
        never pruned; another value is refused) and any ``progress_per`` (one INFO line
        is logged per corpus counted).

    Notes
    -----
    After counting, ``phrases[sentence]`` rewrites a sentence, ``phrases[corpus]`` a
    whole corpus as it is read, and :meth:`transform_file` a file. Changing
    ``threshold``, ``min_count``, ``scoring`` or ``delimiter`` afterwards takes effect at
    once; counts are kept, and :meth:`add_vocab` adds more (its time grows with the
    counts held: give it large batches).

    Counts are exact, so memory grows with the number of distinct candidates (about 20
    bytes each, a few times that while they are merged; gensim's ``max_vocab_size``
    pruning is not offered), and counting a file holds its tokens (4 bytes each) in
    memory. gensim counts phrases by their joined text, so a token that already holds
    the delimiter adds to the phrase's count there, and its export_phrases (hence its
    FrozenPhrases) splits such tokens again; here a token is a token. On text without
    such tokens (a first pass) the phrases, scores and rewrites are gensim's; on a
    second pass over rewritten text the rewrites still equal gensim's unfrozen model's,
    the exported phrases differ.
    """

    def __init__(self, sentences=None, *positional, corpus_file=None, min_count=5,
                 threshold=10.0, scoring="default", delimiter="_",
                 connector_words=frozenset(), unicode_errors="strict", max_vocab_size=None,
                 progress_per=None):
        if positional:
            raise TypeError("Phrases takes its settings by keyword after the sentences: "
                            "Phrases(sentences, min_count=5, threshold=10.0, ...)")
        if max_vocab_size is not None and (isinstance(max_vocab_size, bool) or not isinstance(
                max_vocab_size, int) or max_vocab_size < 1):
            raise ValueError(f"max_vocab_size must be None or an int >= 1, got "
                             f"{max_vocab_size!r}")
        self.max_vocab_size = max_vocab_size
        check_settings(min_count, threshold, scoring, delimiter)
        check_unicode_errors(unicode_errors)
        self.min_count, self.threshold, self.scoring = min_count, threshold, scoring
        self.delimiter = delimiter
        self.connector_words = connector_words
        self.words = []                     # id -> word
        self._index = {}                    # word -> id
        self.word_counts = np.zeros(0, np.int64)
        self.corpus_word_count = 0
        self._conn_mask = np.zeros(0, bool)
        self._runs = _Runs()
        # the distinct candidates: first word, connector run, last word (ids), count
        self._a = self._run = self._b = np.zeros(0, np.int32)
        self._count = np.zeros(0, np.int64)
        self._n_updates = 0
        self._cache = (None, None)
        if sentences is not None or corpus_file is not None:
            self.add_vocab(sentences, corpus_file=corpus_file, unicode_errors=unicode_errors)

    def __repr__(self):
        return (f"Phrases<{len(self.words)} words, {len(self._a)} candidates, "
                f"min_count={self.min_count}, threshold={self.threshold}, "
                f"scoring={self.scoring!r}>")

    @_PhraseTransform.connector_words.setter
    def connector_words(self, words):
        words = _connector_set(words)
        if getattr(self, "words", None) and words != self._connectors:
            raise ValueError("connector_words are fixed once words are counted (the counts "
                             "depend on them): make a new Phrases with the new ones")
        self._connectors = words

    def add_vocab(self, sentences=None, *, corpus_file=None, unicode_errors="strict"):
        """Count the words and candidates of more text (an iterable of sentences, or
        `corpus_file`), adding to the counts held. On any error the model is left as it
        was."""
        if sentences is not None and corpus_file is not None:
            raise TypeError("give the text to count as sentences (an iterable of token "
                            "lists) or as corpus_file (a path), not both")
        if sentences is None and corpus_file is None:
            raise TypeError("add_vocab needs text: sentences (an iterable of token lists) "
                            "or corpus_file (a path)")
        check_unicode_errors(unicode_errors)
        n_words, n_runs = len(self.words), len(self._runs.runs)
        t0 = time.perf_counter()
        try:
            if corpus_file is not None:
                batches = self._read_file(corpus_file, unicode_errors)
            else:
                batches = self._read_sentences(check_restartable(sentences, "sentences",
                                                                 passes=1))
            found = [(self._a, self._run, self._b, self._count)]
            counts = [self.word_counts]
            n_tokens = 0
            for ids, ends in batches:
                is_conn = self._connector_mask()
                counts.append(np.bincount(ids, minlength=len(self.words)))
                for anchor, lo, hi in _windows(ids, ends, is_conn, _WINDOW_TOKENS):
                    s, e = _candidates(ids, ends, is_conn, anchor, lo, hi)
                    codes, tuples = _run_tuples(ids, s, e, is_conn)
                    run = np.array([self._runs.intern(t) for t in tuples], np.int64)[codes]
                    found.append(_sum_counts(ids[s].astype(np.int64), run,
                                             ids[e].astype(np.int64), None,
                                             len(self.words), len(self._runs.runs)))
                n_tokens += len(ids)
            word_counts = sum(np.pad(c, (0, len(self.words) - len(c))) for c in counts)
            a, run, b, count = (np.concatenate(col) for col in zip(*found))
            table = _sum_counts(a, run, b, count, len(self.words), len(self._runs.runs))
        except BaseException:
            for word in list(self._index)[n_words:]:     # (ids are in insertion order)
                del self._index[word]
            del self.words[n_words:]
            self._conn_mask = self._conn_mask[:n_words]
            self._runs.truncate(n_runs)
            raise
        self.word_counts = word_counts
        self._a, self._run, self._b, self._count = table
        self.corpus_word_count += n_tokens
        self._n_updates += 1
        logger.info("phrases: counted %d words (%d distinct) and %d distinct candidates in "
                    "%.1fs", n_tokens, len(self.words), len(self._a), time.perf_counter() - t0)
        if self.max_vocab_size and len(self.words) + len(self._a) > self.max_vocab_size:
            logger.warning("phrases: %d distinct words and pairs, more than max_vocab_size=%d:"
                           " gensim would have pruned its counts there (and its phrases would"
                           " differ); fastw2v keeps them all", len(self.words) + len(self._a),
                           self.max_vocab_size)
        return self

    def _connector_mask(self):
        """Whether each word is a connector word."""
        mask = self._conn_mask
        if len(mask) < len(self.words):
            new = [w in self.connector_words for w in self.words[len(mask):]]
            self._conn_mask = mask = np.concatenate([mask, np.array(new, bool)])
        return mask

    def _read_sentences(self, sentences):
        """Batches (ids int32, sentence ends) of a corpus of token lists, counted in
        compiled code (about _WINDOW_TOKENS tokens each); new words are added to the
        vocabulary."""
        index = self._index
        sentences = iter(sentences)
        check = functools.partial(check_sentence, passes=1)

        def check_new(token, i):             # each token the first time a batch meets it
            if not isinstance(token, str) and token not in index:
                raise TypeError(f"sentence {i} holds {token!r} ({type(token).__name__}): "
                                f"Phrases joins words into text, so tokens must be str; "
                                f"convert them, e.g. [str(t) for t in sentence]")

        n_read, done = 0, False
        while not done:
            batch = _vocab.ListCounter(record=True, first_sentence=n_read, check_new=check_new)
            try:
                done = batch.count(sentences, check, _WINDOW_TOKENS)
            except TypeError as exc:
                if "unhashable token" not in str(exc):
                    raise
                raise TypeError(f"{exc}; Phrases joins words into text, so tokens must be "
                                f"str") from None
            ids, lengths = batch.take_encoded(self._word_ids(batch.keys))
            n_read += batch.n_iterated
            yield ids, np.cumsum(lengths)[lengths > 0]

    def _read_file(self, path, unicode_errors):
        """The ids and sentence ends of a text file, counted in compiled code."""
        raw = count_file(path, unicode_errors=unicode_errors, record=True)
        ids, lengths = raw.recording.counter.take_encoded(
            self._word_ids(raw.recording.table_keys))
        yield ids, np.cumsum(lengths)

    def _word_ids(self, keys):
        """The word id of each of keys (int32), the new ones added to the vocabulary."""
        index, words = self._index, self.words
        ids = np.empty(len(keys), np.int32)
        for i, key in enumerate(keys):
            j = index.get(key)
            if j is None:
                j = index[key] = len(words)
                words.append(str(key))
            ids[i] = j
        return ids

    def _scores(self):
        """The score of every distinct candidate, as gensim computes it."""
        a, b, count = self._a, self._b, self._count
        ca, cb = self.word_counts[a], self.word_counts[b]
        conn = self._connector_mask()
        len_vocab = int(np.count_nonzero((self.word_counts > 0) & ~conn)) + len(a)
        args = dict(len_vocab=len_vocab, min_count=self.min_count,
                    corpus_word_count=self.corpus_word_count)
        if isinstance(self.scoring, str):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asarray(_SCORERS[self.scoring](ca, cb, count, **args))
        scores = np.empty(len(a))
        for i, (x, y, z) in enumerate(zip(ca.tolist(), cb.tolist(), count.tolist())):
            score = self.scoring(worda_count=x, wordb_count=y, bigram_count=z, **args)
            if isinstance(score, bool) or not isinstance(score, numbers.Real):
                raise TypeError(f"the scoring function returned {score!r} for the "
                                f"candidate {self._words_of(i)}: it must return a number")
            if math.isnan(score):
                raise ValueError(f"the scoring function returned nan for the candidate "
                                 f"{self._words_of(i)}")
            scores[i] = score
        return scores

    @property
    def vocab(self) -> dict:
        """gensim's ``vocab``: {word: count} for the words that are not connector words,
        and {joined candidate: count} for every candidate (a joined form that is also a
        word of the text adds to its count, as in gensim). Built from the counts on the
        first access after they change (a few seconds for millions of candidates), then
        kept: read it, do not change it (the model uses its arrays, ``words``,
        ``word_counts`` and :meth:`export_phrases`)."""
        made_for = (self._n_updates, self.delimiter)
        if getattr(self, "_vocab_for", None) != made_for:
            conn = self.connector_words
            vocab = {w: c for w, c in zip(self.words, self.word_counts.tolist())
                     if c and w not in conn}
            join = self.delimiter.join
            for i, c in enumerate(self._count.tolist()):
                key = join(self._words_of(i))
                vocab[key] = vocab.get(key, 0) + c
            self._vocab, self._vocab_for = vocab, made_for
        return self._vocab

    def _words_of(self, i):
        words = self.words
        return (words[self._a[i]], *(words[w] for w in self._runs.runs[self._run[i]]),
                words[self._b[i]])

    def _accepted(self):
        key = (self.min_count, self.threshold, self.scoring, self._n_updates)
        if self._cache[0] != key:
            check_settings(self.min_count, self.threshold, self.scoring, self.delimiter)
            scores = self._scores()
            threshold = (np.float32(self.threshold) if self.scoring == "word2phrase"
                         else self.threshold)        # (word2phrase compares in float32)
            self._cache = (key, {self._words_of(i): float(scores[i])
                                 for i in np.flatnonzero(scores > threshold).tolist()})
        return self._cache[1]

    def freeze(self) -> "FrozenPhrases":
        """The phrases alone, without the counts: smaller, and all a rewrite needs."""
        return FrozenPhrases(self)

    def save(self, path):
        """Save the counts and settings in fastw2v's file format (no pickle), atomically."""
        if not isinstance(self.scoring, str):
            raise ValueError("a model with a scoring function cannot be saved (fastw2v "
                             "files hold no code): save phrases.freeze() instead, or set "
                             "phrases.scoring to one of " + ", ".join(SCORINGS))
        check_settings(self.min_count, self.threshold, self.scoring, self.delimiter)
        arrays, encoding = native.pack_keys(self.words)
        flat, offsets = _flatten(self._runs.runs)
        arrays.update(word_counts=self.word_counts, first=self._a.astype(np.int64),
                      run=self._run.astype(np.int64), last=self._b.astype(np.int64),
                      count=self._count, run_words=flat, run_offsets=offsets)
        native.save_arrays(path, arrays, dict(_settings(self), key_encoding=encoding,
                                              corpus_word_count=self.corpus_word_count),
                           kind="phrases")

    @classmethod
    def load(cls, path) -> "Phrases":
        """Load a model written by :meth:`save`."""
        arrays, meta = native.load_arrays(path, kind="phrases")
        try:
            model = cls(**_settings_from(meta))
            words = native.unpack_keys(arrays, meta["key_encoding"])
            counts = _int_array(arrays, "word_counts", len(words))
            first, run, last, count = (_int_array(arrays, k, len(arrays["count"]))
                                       for k in ("first", "run", "last", "count"))
            runs = _unflatten(arrays, "run_words", "run_offsets", len(words))
            if runs[:1] != [()]:
                raise ValueError("run 0 must be empty")
            if len(count) and (min(first.min(), last.min(), run.min()) < 0
                               or max(first.max(), last.max()) >= len(words)
                               or run.max() >= len(runs)):
                raise ValueError("a candidate refers to a word or run that is not there")
            if len(count) and (count.min() < 1 or counts[first].min() < 1
                               or counts[last].min() < 1):
                raise ValueError("a count is below 1")
            if counts.min(initial=0) < 0:
                raise ValueError("a word count is negative")
            corpus_word_count = meta["corpus_word_count"]
            if not isinstance(corpus_word_count, int) or corpus_word_count < 0:
                raise ValueError(f"corpus_word_count {corpus_word_count!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{os.fspath(path)!r} is not a valid phrases file "
                             f"({type(exc).__name__}: {exc})") from None
        model.words = words
        model._index = {w: i for i, w in enumerate(words)}
        model.word_counts = counts
        model._runs = _Runs(runs)
        model._a, model._run, model._b = (c.astype(np.int32) for c in (first, run, last))
        model._count = count
        model.corpus_word_count = corpus_word_count
        return model


class FrozenPhrases(_PhraseTransform):
    """The phrases of a :class:`Phrases` model without its counts (gensim's
    ``FrozenPhrases``).

    ``phrasegrams`` maps each phrase, a tuple of words, to its score (read-only; assign
    a new dict to change it: tuple keys, or gensim's joined strings, split at the
    delimiter). Raising ``threshold`` drops the phrases below it; lowering it cannot
    bring back phrases that were not exported.
    """

    def __init__(self, phrases_model):
        if not isinstance(phrases_model, Phrases):
            raise TypeError(f"FrozenPhrases(model) takes a fastw2v Phrases, got "
                            f"{type(phrases_model).__module__}.{type(phrases_model).__name__};"
                            f" for gensim's, use FrozenPhrases.from_gensim(model)")
        self.min_count, self.threshold = phrases_model.min_count, phrases_model.threshold
        self.scoring, self.delimiter = phrases_model.scoring, phrases_model.delimiter
        self.connector_words = phrases_model.connector_words
        self.phrasegrams = phrases_model._accepted()
        self._cache = (None, None)

    def __repr__(self):
        return (f"FrozenPhrases<{len(self._phrasegrams)} phrases, "
                f"min_count={self.min_count}, threshold={self.threshold}>")

    @property
    def phrasegrams(self):
        return types.MappingProxyType(self._phrasegrams)

    @phrasegrams.setter
    def phrasegrams(self, phrases):
        grams = {}
        for key, score in dict(phrases).items():
            words = tuple(key.split(self.delimiter)) if isinstance(key, str) else key
            if (not isinstance(words, tuple) or len(words) < 2
                    or not all(isinstance(w, str) for w in words)):
                raise ValueError(f"phrase {key!r}: a phrase is a tuple of two or more "
                                 f"words (str), or a str of them joined by the delimiter")
            if isinstance(score, bool) or not isinstance(score, numbers.Real) or math.isnan(score):
                raise ValueError(f"phrase {key!r}: its score must be a number, got {score!r}")
            grams[words] = float(score)
        self._phrasegrams = grams
        self._cache = (None, None)

    def _accepted(self):
        if self._cache[0] != self.threshold:
            _check_threshold(self.threshold)
            self._cache = (self.threshold, {k: s for k, s in self._phrasegrams.items()
                                 if s > self.threshold})
        return self._cache[1]

    @classmethod
    def from_gensim(cls, model) -> "FrozenPhrases":
        """The phrases of a gensim 4 ``Phrases`` or ``FrozenPhrases`` (its settings,
        connector words and phrase scores; gensim's joined phrases are split at its
        delimiter). On text without tokens that hold the delimiter (a first pass) they
        rewrite as gensim's do; on a second pass gensim also joins "new_york" + "city"
        where it learnt "new_york_city", fastw2v only "new" + "york" + "city"."""
        phrasegrams = (model.phrasegrams if hasattr(model, "phrasegrams")
                       else model.export_phrases())
        scoring = {"original_scorer": "default", "npmi_scorer": "npmi"}.get(
            getattr(model.scoring, "__name__", None))
        frozen = cls.__new__(cls)
        frozen.min_count, frozen.threshold = model.min_count, model.threshold
        frozen.scoring, frozen.delimiter = scoring, model.delimiter
        frozen.connector_words = model.connector_words
        frozen.phrasegrams = phrasegrams
        return frozen

    def save(self, path):
        """Save the phrases in fastw2v's file format (no pickle), atomically."""
        words = {}
        ids = [[words.setdefault(w, len(words)) for w in p] for p in self._phrasegrams]
        arrays, encoding = native.pack_keys(list(words))
        flat, offsets = _flatten(ids)
        arrays.update(phrase_words=flat, phrase_offsets=offsets,
                      scores=np.array(list(self._phrasegrams.values()), np.float64))
        meta = _settings(self)
        if not isinstance(self.scoring, str) or self.scoring not in SCORINGS:
            meta["scoring"] = None                   # (the scores are stored)
        native.save_arrays(path, arrays, dict(meta, key_encoding=encoding),
                           kind="frozen_phrases")

    @classmethod
    def load(cls, path) -> "FrozenPhrases":
        """Load phrases written by :meth:`save`."""
        arrays, meta = native.load_arrays(path, kind="frozen_phrases")
        model = cls.__new__(cls)
        try:
            for name, value in _settings_from(meta, frozen=True).items():
                setattr(model, name, value)
            words = native.unpack_keys(arrays, meta["key_encoding"])
            phrases = _unflatten(arrays, "phrase_words", "phrase_offsets", len(words))
            scores = arrays["scores"]
            if scores.dtype != np.float64 or scores.shape != (len(phrases),):
                raise ValueError(f"scores must be float64 of shape ({len(phrases)},)")
            model.phrasegrams = {tuple(words[i] for i in p): s
                                 for p, s in zip(phrases, scores.tolist())}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{os.fspath(path)!r} is not a valid frozen phrases file "
                             f"({type(exc).__name__}: {exc})") from None
        return model


Phraser = FrozenPhrases          # (gensim's older name, which gensim 4 keeps)


def _settings(model) -> dict:
    return dict(min_count=model.min_count, threshold=model.threshold,
                scoring=model.scoring, delimiter=model.delimiter,
                connector_words=sorted(model.connector_words))


def _settings_from(meta, frozen=False) -> dict:
    settings = {k: meta[k] for k in ("min_count", "threshold", "scoring", "delimiter",
                                     "connector_words")}
    if frozen:          # (the scores are stored: any finite threshold filters them)
        _check_threshold(settings["threshold"])
        _check_delimiter(settings["delimiter"])
        if settings["scoring"] is not None and settings["scoring"] not in SCORINGS:
            raise ValueError(f"unknown scoring {settings['scoring']!r}")
    else:
        check_settings(settings["min_count"], settings["threshold"], settings["scoring"],
                       settings["delimiter"])
    settings["connector_words"] = _connector_set(settings["connector_words"])
    return settings


def _flatten(sequences):
    """Lists of ints as (flat int64, offsets int64 of shape (n + 1,))."""
    offsets = np.zeros(len(sequences) + 1, np.int64)
    np.cumsum([len(x) for x in sequences], out=offsets[1:])
    return np.array([i for x in sequences for i in x], np.int64), offsets


def _unflatten(arrays, flat_name, offsets_name, n_words):
    """The tuples _flatten stored, checked: offsets that describe the flat array, ids
    below n_words."""
    flat, offsets = arrays[flat_name], arrays[offsets_name]
    _int_array(arrays, flat_name, len(flat))
    if (offsets.dtype != np.int64 or offsets.ndim != 1 or len(offsets) < 1
            or _vocab.bad_offset(np.ascontiguousarray(offsets), len(flat)) >= 0):
        raise ValueError(f"{offsets_name} do not describe {flat_name}")
    if len(flat) and (flat.min() < 0 or flat.max() >= n_words):
        raise ValueError(f"{flat_name} refers to a word that is not there")
    bounds, flat = offsets.tolist(), flat.tolist()
    return [tuple(flat[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _int_array(arrays, name, n):
    a = arrays[name]
    if a.dtype != np.int64 or a.shape != (n,):
        raise ValueError(f"{name} must be int64 of shape ({n},), got {a.dtype} {a.shape}")
    return a
