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
compiled code), candidates are counted by sorting their keys, and every score comes from
numpy at once. Counts are exact (no pruning), kept per word sequence, so a token that
already holds the delimiter ("new_york" in the text) is never confused with a phrase.
"""
from __future__ import annotations

import inspect
import math
import numbers
import os

import numpy as np

from fastw2v import native
from fastw2v.corpus import check_restartable, check_sentence
from fastw2v.vocab import count_file

# gensim's list (gensim.models.phrases.ENGLISH_CONNECTOR_WORDS): articles, prepositions
# and conjunctions that may sit inside a phrase ("bank_of_america")
ENGLISH_CONNECTOR_WORDS = frozenset(
    "a an the for of with without at from to in on by and or".split())

SCORINGS = ("default", "npmi", "word2phrase")
_SCORER_PARAMS = ("worda_count", "wordb_count", "bigram_count", "len_vocab", "min_count",
                  "corpus_word_count")
_BATCH_TOKENS = 1 << 20         # tokens per counting batch (bounds the temporaries)
_WRITE_TOKENS = 1 << 20         # tokens per block of rewritten text


# ---------------------------------------------------------------------------------------
# scores

def original_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                    corpus_word_count):
    """gensim's default score, after Mikolov et al. (2013):
    ``(bigram_count - min_count) / (worda_count * wordb_count) * len_vocab``, where
    len_vocab is the number of distinct words (connector words aside) plus the number of
    distinct candidates. Works on scalars and on numpy arrays."""
    return (np.subtract(bigram_count, min_count, dtype=np.float64)
            / np.multiply(worda_count, wordb_count, dtype=np.float64) * len_vocab)


def npmi_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                corpus_word_count):
    """Normalised pointwise mutual information (Bouma 2009), in [-1, 1]:
    ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))`` with p(x) = count(x) / corpus_word_count;
    -inf for a candidate seen fewer than min_count times. Scalars or numpy arrays."""
    n = float(corpus_word_count)
    pa = np.divide(worda_count, n)
    pb = np.divide(wordb_count, n)
    pab = np.divide(bigram_count, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.log(pab / (pa * pb)) / -np.log(pab)
    score = np.where(np.greater_equal(bigram_count, min_count) & np.isfinite(score),
                     score, -np.inf)
    return score if score.ndim else float(score)


def word2phrase_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
                       corpus_word_count):
    """word2vec.c's word2phrase score:
    ``(bigram_count - min_count) / (worda_count * wordb_count) * corpus_word_count``
    (its default threshold is 100). Scalars or numpy arrays."""
    return original_scorer(worda_count, wordb_count, bigram_count, corpus_word_count,
                           min_count, corpus_word_count)


_SCORERS = {"default": original_scorer, "npmi": npmi_scorer,
            "word2phrase": word2phrase_scorer}


def _check_scoring(scoring):
    if isinstance(scoring, str):
        if scoring not in _SCORERS:
            raise ValueError(f"scoring must be one of {SCORINGS} or a function, "
                             f"got {scoring!r}")
        return
    if not callable(scoring):
        raise TypeError(f"scoring must be one of {SCORINGS} or a function, "
                        f"got {type(scoring).__name__}")
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


def _check_threshold(threshold, scoring):
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    if scoring in ("default", "word2phrase") and threshold <= 0:
        raise ValueError(f"threshold must be positive with scoring={scoring!r}, got "
                         f"{threshold} (gensim's default is 10, word2phrase's 100)")
    if scoring == "npmi" and not -1 <= threshold <= 1:
        raise ValueError(f"threshold must be between -1 and 1 with scoring='npmi' "
                         f"(npmi scores lie there), got {threshold}; try 0.5")


def _check_min_count(min_count):
    if isinstance(min_count, bool) or not isinstance(min_count, numbers.Real):
        raise TypeError(f"min_count must be a number, got {type(min_count).__name__}")
    if not min_count > 0 or not math.isfinite(min_count):
        raise ValueError(f"min_count must be a positive number, got {min_count}")


def _check_delimiter(delimiter):
    if not isinstance(delimiter, str):
        raise TypeError(f"delimiter must be a str, got {type(delimiter).__name__}")
    if any(c in " \t\n\r\x0b\x0c" for c in delimiter):
        raise ValueError(f"delimiter {delimiter!r} holds whitespace: a phrase written out "
                         f"would be read back as separate words; use e.g. '_'")


def _connector_set(connector_words):
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

def _candidates(ids, lengths, is_conn):
    """Start and end positions (s, e) of every candidate in the id stream `ids`, cut into
    sentences of `lengths` ids: consecutive non-connector tokens of one sentence, with
    only connector tokens between them."""
    pos = np.flatnonzero(~is_conn[ids])
    sentence = np.searchsorted(np.cumsum(lengths), pos, side="right")
    same = sentence[1:] == sentence[:-1]
    return pos[:-1][same], pos[1:][same]


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


def _run_codes(ids, s, e, conn_code, n_conn):
    """Codes of the connector runs ids[s+1:e] (0 for none), equal exactly when the runs
    are equal, with one candidate holding each code: interned one position at a time."""
    gap = e - s - 1
    code = np.zeros(len(s), np.int64)
    live = np.flatnonzero(gap > 0)
    n_codes, level = 1, 1
    while live.size:
        step, _ = _group([code[live], conn_code[ids[s[live] + level]]], [n_codes, n_conn])
        code[live] = n_codes + step
        n_codes += int(step.max()) + 1
        live = live[gap[live] > level]
        level += 1
    codes, first = _group([code], [n_codes])
    return codes, first


class _Runs:
    """The distinct connector runs (tuples of word ids), numbered from 1; 0 is no run."""

    def __init__(self):
        self.runs = [()]
        self.index = {(): 0}

    def numbers(self, ids, s, e, is_conn, create=False, to_word=None):
        """The run number of each candidate (s, e) in `ids`; with `to_word`, ids are first
        mapped to the word ids the runs are made of (-1: not one of them). A run not yet
        known is added (create=True) or numbered -1."""
        conn_code = np.cumsum(is_conn) - 1
        codes, first = _run_codes(ids, s, e, conn_code, max(int(is_conn.sum()), 1))
        table = np.empty(len(first), np.int64)
        for i, j in enumerate(first.tolist()):
            run = ids[s[j] + 1:e[j]]
            run = tuple((run if to_word is None else to_word[run]).tolist())
            number = self.index.get(run)
            if number is None and create:
                number = self.index[run] = len(self.runs)
                self.runs.append(run)
            table[i] = -1 if number is None else number
        return table[codes]


def _count_candidates(ids, lengths, is_conn, runs):
    """Candidates of one batch as (a, run, b, count) arrays, one row per distinct one."""
    s, e = _candidates(ids, lengths, is_conn)
    run = runs.numbers(ids, s, e, is_conn, create=True)
    a, b = ids[s].astype(np.int64), ids[e].astype(np.int64)
    return _sum_counts(a, run, b, None, len(is_conn), len(runs.runs))


def _sum_counts(a, run, b, count, n_words, n_runs):
    """The distinct rows (a, run, b) with their summed counts (count None: each row 1)."""
    if not len(a):
        return a.astype(np.int32), run.astype(np.int32), b.astype(np.int32), np.zeros(0, np.int64)
    bounds = [n_runs, n_words, n_words]
    key = _pack([run, a, b], bounds)
    if key is None:
        codes, rows = _group([run, a, b], bounds)
        weights = np.ones(len(codes)) if count is None else count
        return (a[rows].astype(np.int32), run[rows].astype(np.int32),
                b[rows].astype(np.int32), np.bincount(codes, weights, len(rows)).astype(np.int64))
    if count is None:
        key, sums = np.unique(key, return_counts=True)         # (a sort, no argsort)
    else:
        order = np.argsort(key, kind="stable")     # (merges sorted runs in linear time)
        key = key[order]
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        key, sums = key[starts], np.add.reduceat(count[order], starts)
    run, a, b = _unpack(key, bounds)
    return a.astype(np.int32), run.astype(np.int32), b.astype(np.int32), sums.astype(np.int64)


def _taken(accepted, s, e):
    """Which candidates the left-to-right rewrite joins: an accepted candidate is joined
    unless the candidate just before it, ending where it starts, was joined."""
    chained = np.zeros(len(s), bool)
    chained[1:] = accepted[:-1] & (e[:-1] == s[1:])
    starts = np.where(~chained, np.arange(len(s)), 0)
    place = np.arange(len(s)) - np.maximum.accumulate(starts)
    return accepted & (place % 2 == 0)


# ---------------------------------------------------------------------------------------
# rewriting

def _blocks(ends, size):
    """(lo, hi, first, last): token range lo:hi of sentences first:last, about `size`
    tokens a block (a longer sentence alone), for sentences ending at `ends`."""
    lo = first = 0
    while first < len(ends):
        last = max(int(np.searchsorted(ends, lo + size, side="right")), first + 1)
        hi = int(ends[last - 1])
        yield lo, hi, first, last
        lo, first = hi, last


def _gather(pool, starts, lengths) -> bytes:
    """pool[starts[0]:starts[0]+lengths[0]] + pool[starts[1]:...] + ..., as bytes."""
    out_start = np.cumsum(lengths) - lengths
    index = np.repeat(starts - out_start, lengths) + np.arange(int(lengths.sum()))
    return pool[index].tobytes()


class _Rewritten:
    """A corpus rewritten sentence by sentence, as it is iterated (gensim's
    phrases[corpus]); restartable when the corpus is."""

    def __init__(self, model, corpus):
        self.model, self.corpus = model, corpus
        self._one_shot = iter(corpus) is corpus
        self._started = False

    def __iter__(self):
        if self._one_shot and self._started:
            raise TypeError(
                "the corpus given to phrases[...] is a one-shot iterator, already read: "
                "a second pass (e.g. Word2Vec's counting, then training) would find it "
                "empty; pass a list or a restartable corpus, or list(phrases[corpus])")
        self._started = True
        for i, sentence in enumerate(self.corpus):
            check_sentence(sentence, i, passes=1)
            yield [token for token, _ in self.model.analyze_sentence(sentence)]

    def __len__(self):
        return len(self.corpus)


class _PhraseTransform:
    """What Phrases and FrozenPhrases share: rewriting sentences, given the phrases."""

    _compiled = _table = _table_for = _table_delim = None

    def _accepted(self) -> dict:
        """{(word, ..., word): score} of the phrases above the threshold."""
        raise NotImplementedError

    def _phrase_table(self):
        """The accepted phrases with their joined forms: {words: (joined, score)}."""
        accepted = self._accepted()
        if getattr(self, "_table_for", None) is not accepted or self._table_delim != self.delimiter:
            self._table = {k: (self.delimiter.join(k), s) for k, s in accepted.items()}
            self._table_for, self._table_delim = accepted, self.delimiter
            self._compiled = None
        return self._table

    def analyze_sentence(self, sentence):
        """Yield ``(token, score)`` for each token of the rewritten sentence: a phrase with
        its score, or an unchanged word with None (gensim's generator)."""
        table = self._phrase_table()
        conn = self.connector_words
        start, between = None, []
        for word in sentence:
            if word in conn:
                if start is None:
                    yield word, None
                else:
                    between.append(word)
                continue
            if start is not None:
                hit = table.get((start, *between, word))
                if hit is not None:
                    yield hit
                    start, between = None, []
                    continue
                yield start, None
                yield from ((w, None) for w in between)
            start, between = word, []
        if start is not None:
            yield start, None
            yield from ((w, None) for w in between)

    def __getitem__(self, sentence):
        """A sentence (list of str) rewritten, as a list; or, given a corpus (iterable of
        sentences), a restartable iterable of rewritten sentences (as gensim)."""
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"expected a sentence (list of str) or a corpus, got a "
                            f"{type(sentence).__name__}; split it first, e.g. line.split()")
        if isinstance(sentence, (list, tuple)):
            if not sentence or isinstance(sentence[0], str):
                return [token for token, _ in self.analyze_sentence(sentence)]
        elif isinstance(sentence, np.ndarray) and sentence.dtype.kind == "U":
            return [token for token, _ in self.analyze_sentence(sentence.tolist())]
        return _Rewritten(self, check_restartable(sentence, "the corpus to rewrite", passes=1))

    def find_phrases(self, sentences) -> dict:
        """The phrases the rewrite makes in `sentences`: {joined: score}."""
        found = {}
        for i, sentence in enumerate(check_restartable(sentences, "sentences", passes=1)):
            check_sentence(sentence, i, passes=1)
            for token, score in self.analyze_sentence(sentence):
                if score is not None:
                    found[token] = score
        return found

    def export_phrases(self) -> dict:
        """Every phrase above the threshold: {joined: score} (gensim's export_phrases)."""
        return {joined: score for joined, score in self._phrase_table().values()}

    def transform_file(self, source, output, unicode_errors="strict"):
        """Rewrite a text file (one sentence per line; .gz, .bz2 and .xz read) into
        `output`, plain text with phrases joined, as word2phrase does: ready for
        ``Word2Vec(corpus_file=output)`` or another Phrases pass.

        Tokens keep their bytes; each line holding a token becomes one line of tokens
        separated by single spaces (blank lines and extra whitespace go). The source is
        read once, into memory as 4 bytes per token. Returns the number of phrases made.
        """
        if os.path.exists(output) and os.path.exists(source) and os.path.samefile(
                source, output):
            raise ValueError(f"output {os.fspath(output)!r} is the source file: it would be "
                             f"overwritten while read; write to another file")
        raw = count_file(source, unicode_errors=unicode_errors, record=True)
        counter = raw.recording.counter
        table_keys = raw.recording.table_keys
        raw_words = counter.export()[0]
        ids, lengths = counter.take_encoded(np.arange(len(raw_words), dtype=np.int32))
        words, runs, accepted_keys, conn_words = self._compile()
        n_words = len(words) + 1
        # the file's words (table indices) as the phrases' word ids, -1 for others
        to_word = np.array([words.get(k, -1) for k in table_keys], np.int64)
        is_conn = np.array([k in conn_words for k in table_keys], bool)
        pieces = raw_words + [b" ", b"\n", self.delimiter.encode("utf-8")]
        space, newline, delim = len(raw_words), len(raw_words) + 1, len(raw_words) + 2
        pool = np.frombuffer(b"".join(pieces), np.uint8)
        piece_len = np.array([len(p) for p in pieces], np.int64)
        piece_start = np.cumsum(piece_len) - piece_len
        n_made = 0
        ends = np.cumsum(lengths)
        with native.atomic_write(output) as f:
            for lo, hi, first, last in _blocks(ends, _WRITE_TOKENS):
                block = ids[lo:hi]
                block_ends = ends[first:last] - lo
                s, e = _candidates(block, np.diff(block_ends, prepend=0), is_conn)
                run = runs.numbers(block, s, e, is_conn, to_word=to_word)
                a, b = to_word[block[s]], to_word[block[e]]
                ok = (a >= 0) & (b >= 0) & (run >= 0)
                key = (np.where(ok, run * n_words + a, 0)) * n_words + b
                at = np.minimum(np.searchsorted(accepted_keys, key), len(accepted_keys) - 1)
                found = accepted_keys[at] == key if len(accepted_keys) else np.zeros(len(key), bool)
                taken = _taken(ok & found, s, e)
                n_made += int(taken.sum())
                # a token is glued to the one before it inside a phrase: s+1 .. e
                n = len(block)
                marks = (np.bincount(s[taken] + 1, minlength=n + 1)
                         - np.bincount(e[taken] + 1, minlength=n + 1))
                glued = np.cumsum(marks[:n]) > 0
                sep = np.full(n, space, np.int64)           # what follows each token
                sep[:-1][glued[1:]] = delim
                sep[block_ends - 1] = newline
                order = np.empty(2 * n, np.int64)
                order[0::2] = block
                order[1::2] = sep
                f.write(_gather(pool, piece_start[order], piece_len[order]))
        return n_made

    def _compile(self):
        """The accepted phrases over ids of their own words, for vectorised rewriting:
        (word -> id, _Runs, sorted packed keys, connector words)."""
        self._phrase_table()
        if self._compiled is None:
            words, runs = {}, _Runs()
            keys = []
            for phrase in self._table:
                for w in phrase:
                    words.setdefault(w, len(words))
            n_words = len(words) + 1
            for phrase in self._table:
                run = tuple(words[w] for w in phrase[1:-1])
                number = runs.index.get(run)
                if number is None:
                    number = runs.index[run] = len(runs.runs)
                    runs.runs.append(run)
                keys.append((number * n_words + words[phrase[0]]) * n_words
                            + words[phrase[-1]])
            self._compiled = (words, runs, np.unique(np.array(keys, np.int64)),
                              frozenset(self.connector_words))
        return self._compiled


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
        A candidate seen fewer than min_count times is never a phrase; the default and
        word2phrase scores also subtract it from the candidate's count.
    threshold : float, default 10.0
        A candidate scoring above it is a phrase (word2phrase's default is 100 with its
        score; npmi scores lie in [-1, 1]).
    scoring : {'default', 'npmi', 'word2phrase'} or callable, default 'default'
        'default' is gensim's score (:func:`original_scorer`), 'npmi' normalised PMI
        (:func:`npmi_scorer`), 'word2phrase' word2vec.c's (:func:`word2phrase_scorer`).
        A function is called, with keyword arguments ``worda_count, wordb_count,
        bigram_count, len_vocab, min_count, corpus_word_count``, once for each distinct
        candidate seen at least min_count times (such a model cannot be saved).
    delimiter : str, default '_'
        Joins the words of a phrase (no whitespace).
    connector_words : collection of str, default none
        Words that may sit inside a phrase but neither start nor end one
        (:data:`ENGLISH_CONNECTOR_WORDS` for English: "bank_of_america"). They are not
        counted as words, and a candidate's score is that of its first and last words.
    unicode_errors : {'strict', 'replace', 'ignore'}, default 'strict'
        For `corpus_file`: what to do with tokens that are not valid UTF-8.

    Notes
    -----
    After counting, ``phrases[sentence]`` rewrites a sentence, ``phrases[corpus]`` a
    whole corpus as it is read, and :meth:`transform_file` a file. Changing
    ``threshold``, ``min_count`` or ``scoring`` afterwards takes effect at once; counts
    are kept, and :meth:`add_vocab` adds more.

    Counts are exact, so memory grows with the number of distinct candidates (about 32
    bytes each; gensim's ``max_vocab_size`` pruning is not offered), and counting a file
    holds its tokens (4 bytes each) in memory. gensim counts phrases by their joined
    text, so a token that already holds the delimiter adds to the phrase's count there;
    here it does not, and otherwise the phrases and scores are gensim's.
    """

    def __init__(self, sentences=None, *, corpus_file=None, min_count=5, threshold=10.0,
                 scoring="default", delimiter="_", connector_words=frozenset(),
                 unicode_errors="strict"):
        _check_min_count(min_count)
        _check_scoring(scoring)
        _check_threshold(threshold, scoring)
        _check_delimiter(delimiter)
        self.min_count, self.threshold, self.scoring = min_count, threshold, scoring
        self.delimiter = delimiter
        self.connector_words = _connector_set(connector_words)
        self.words = []                     # id -> word
        self._index = {}                    # word -> id
        self.word_counts = np.zeros(0, np.int64)
        self.corpus_word_count = 0
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

    def add_vocab(self, sentences=None, *, corpus_file=None, unicode_errors="strict"):
        """Count the words and candidates of more text (an iterable of sentences, or
        `corpus_file`), adding to the counts held."""
        if (sentences is None) == (corpus_file is None):
            raise TypeError("give the text to count as sentences (an iterable of token "
                            "lists) or as corpus_file (a path), not both or neither")
        if corpus_file is not None:
            batches = self._read_file(corpus_file, unicode_errors)
        else:
            batches = self._read_sentences(check_restartable(sentences, "sentences",
                                                             passes=1))
        found = [(self._a, self._run, self._b, self._count)]
        counts = [self.word_counts]
        n_tokens = 0
        for ids, lengths in batches:
            counts.append(np.bincount(ids, minlength=len(self.words)))
            found.append(_count_candidates(ids, lengths, self._connector_mask(), self._runs))
            n_tokens += len(ids)
        self.word_counts = sum(np.pad(c, (0, len(self.words) - len(c))) for c in counts)
        a, run, b, count = (np.concatenate(col) for col in zip(*found))
        self._a, self._run, self._b, self._count = _sum_counts(
            a, run, b, count, len(self.words), len(self._runs.runs))
        self.corpus_word_count += n_tokens
        self._n_updates += 1
        return self

    def _connector_mask(self):
        """Whether each word is a connector word."""
        mask = getattr(self, "_conn_mask", np.zeros(0, bool))
        if len(mask) < len(self.words):
            new = [w in self.connector_words for w in self.words[len(mask):]]
            self._conn_mask = mask = np.concatenate([mask, np.array(new, bool)])
        return mask

    def _read_sentences(self, sentences):
        """Batches (ids int32, sentence lengths) of a corpus of token lists; new words
        are added to the vocabulary."""
        index, words = self._index, self.words
        ids, lengths = [], []
        for i, sentence in enumerate(sentences):
            check_sentence(sentence, i, passes=1)
            n0 = len(ids)
            n_words = len(words)
            try:
                ids.extend([index.setdefault(w, len(index)) for w in sentence])
                new = []
                if len(index) > n_words:       # (in the order setdefault numbered them)
                    new = list(dict.fromkeys(w for w in sentence if index[w] >= n_words))
                bad = next((w for w in new if not isinstance(w, str)), None)
                if bad is not None:
                    raise TypeError(f"sentence {i} holds {bad!r} ({type(bad).__name__}): "
                                    f"Phrases joins words into text, so tokens must be "
                                    f"str; convert them, e.g. [str(t) for t in sentence]")
            except TypeError as exc:
                for w in sentence:                   # (the words stay aligned)
                    try:
                        if index.get(w, -1) >= n_words:
                            del index[w]
                    except TypeError:
                        break
                if "unhashable" in str(exc):
                    raise TypeError(f"sentence {i} holds a token that is not a str "
                                    f"({exc}); Phrases joins words into text") from None
                raise
            words.extend(str(w) for w in new)
            lengths.append(len(ids) - n0)
            if len(ids) >= _BATCH_TOKENS:
                yield np.array(ids, np.int32), np.array(lengths, np.int64)
                ids, lengths = [], []
        yield np.array(ids, np.int32), np.array(lengths, np.int64)

    def _read_file(self, path, unicode_errors):
        """Batches (ids, sentence lengths) of a text file, counted in compiled code."""
        raw = count_file(path, unicode_errors=unicode_errors, record=True)
        table_keys = raw.recording.table_keys
        remap = np.empty(len(table_keys), np.int32)
        for i, key in enumerate(table_keys):
            j = self._index.get(key)
            if j is None:
                j = self._index[key] = len(self.words)
                self.words.append(key)
            remap[i] = j
        ids, lengths = raw.recording.counter.take_encoded(remap)
        ends = np.cumsum(lengths)
        for lo, hi, first, last in _blocks(ends, _BATCH_TOKENS):
            yield ids[lo:hi], np.diff(ends[first:last] - lo, prepend=0)

    def _scores(self):
        """The score of every distinct candidate (-inf where min_count rules it out)."""
        a, b, count = self._a, self._b, self._count
        ca, cb = self.word_counts[a], self.word_counts[b]
        conn = self._connector_mask()
        len_vocab = int(np.count_nonzero((self.word_counts > 0) & ~conn)) + len(a)
        usable = count >= self.min_count
        empty = self._index.get("")      # (a token that decoded to nothing is no word)
        if empty is not None:
            usable &= (a != empty) & (b != empty)
        args = dict(len_vocab=len_vocab, min_count=self.min_count,
                    corpus_word_count=self.corpus_word_count)
        if isinstance(self.scoring, str):
            with np.errstate(divide="ignore", invalid="ignore"):
                scores = np.asarray(_SCORERS[self.scoring](ca, cb, count, **args), np.float64)
            return np.where(usable, scores, -np.inf)
        scores = np.full(len(a), -np.inf)
        for i in np.flatnonzero(usable).tolist():
            scores[i] = self.scoring(worda_count=int(ca[i]), wordb_count=int(cb[i]),
                                     bigram_count=int(count[i]), **args)
        return scores

    def _accepted(self):
        _check_min_count(self.min_count)
        _check_scoring(self.scoring)
        _check_threshold(self.threshold, self.scoring)
        _check_delimiter(self.delimiter)
        key = (self.min_count, self.threshold, self.scoring, self._n_updates)
        if self._cache[0] != key:
            scores = self._scores()
            words, runs = self.words, self._runs.runs
            accepted = {}
            for i in np.flatnonzero(scores > self.threshold).tolist():
                phrase = (words[self._a[i]], *(words[w] for w in runs[self._run[i]]),
                          words[self._b[i]])
                accepted[phrase] = float(scores[i])
            self._cache = (key, accepted)
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
        self._accepted()                        # (checks the settings)
        arrays, encoding = native.pack_keys(self.words)
        runs = self._runs.runs
        run_offsets = np.zeros(len(runs) + 1, np.int64)
        np.cumsum([len(r) for r in runs], out=run_offsets[1:])
        arrays.update(word_counts=self.word_counts, first=self._a.astype(np.int64),
                      run=self._run.astype(np.int64), last=self._b.astype(np.int64),
                      count=self._count, run_offsets=run_offsets,
                      run_words=np.array([w for r in runs for w in r], np.int64))
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
            counts, runs = arrays["word_counts"], _unpack_runs(arrays, len(words))
            columns = [arrays[k] for k in ("first", "run", "last", "count")]
            _check_ints(counts, len(words), "word_counts")
            for col in columns:
                _check_ints(col, len(columns[0]), "candidate columns")
            if len(columns[0]) and (max(columns[0].max(), columns[2].max()) >= len(words)
                                    or columns[1].max() >= len(runs)
                                    or min(c.min() for c in columns) < 0):
                raise ValueError("a candidate refers to a word or run that is not there")
            corpus_word_count = meta["corpus_word_count"]
            if not isinstance(corpus_word_count, int) or corpus_word_count < 0:
                raise ValueError(f"corpus_word_count {corpus_word_count!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{os.fspath(path)!r} is not a valid phrases file "
                             f"({type(exc).__name__}: {exc})") from None
        model.words = words
        model._index = {w: i for i, w in enumerate(words)}
        model.word_counts = counts.astype(np.int64)
        model._runs.runs = runs
        model._runs.index = {r: i for i, r in enumerate(runs)}
        model._a, model._run, model._b = (c.astype(np.int32) for c in columns[:3])
        model._count = columns[3]
        model.corpus_word_count = corpus_word_count
        return model


class FrozenPhrases(_PhraseTransform):
    """The phrases of a :class:`Phrases` model without its counts (gensim's
    ``FrozenPhrases``): ``phrasegrams`` maps each phrase, a tuple of words, to its
    score. Raising ``threshold`` drops the phrases below it; lowering it cannot bring
    back phrases that were not exported."""

    def __init__(self, phrases_model):
        self.min_count, self.threshold = phrases_model.min_count, phrases_model.threshold
        self.scoring, self.delimiter = phrases_model.scoring, phrases_model.delimiter
        self.connector_words = phrases_model.connector_words
        self.phrasegrams = dict(phrases_model._accepted())
        self._cache = (None, None, None)

    def __repr__(self):
        return (f"FrozenPhrases<{len(self.phrasegrams)} phrases, min_count={self.min_count}, "
                f"threshold={self.threshold}>")

    def _accepted(self):
        _check_delimiter(self.delimiter)
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, numbers.Real):
            raise TypeError(f"threshold must be a number, got {type(self.threshold).__name__}")
        key = (self.threshold, len(self.phrasegrams))
        if self._cache[0] != key or self._cache[2] is not self.phrasegrams:
            accepted = {k: s for k, s in self.phrasegrams.items() if s > self.threshold}
            self._cache = (key, accepted, self.phrasegrams)
        return self._cache[1]

    def save(self, path):
        """Save the phrases in fastw2v's file format (no pickle), atomically."""
        words = {}
        flat = [words.setdefault(w, len(words)) for p in self.phrasegrams for w in p]
        arrays, encoding = native.pack_keys(list(words))
        offsets = np.zeros(len(self.phrasegrams) + 1, np.int64)
        np.cumsum([len(p) for p in self.phrasegrams], out=offsets[1:])
        arrays.update(phrase_words=np.array(flat, np.int64), phrase_offsets=offsets,
                      scores=np.array(list(self.phrasegrams.values()), np.float64))
        meta = _settings(self)
        if not isinstance(self.scoring, str):
            meta["scoring"] = None                   # (the scores are stored)
        native.save_arrays(path, arrays, dict(meta, key_encoding=encoding),
                           kind="frozen_phrases")

    @classmethod
    def load(cls, path) -> "FrozenPhrases":
        """Load phrases written by :meth:`save`."""
        arrays, meta = native.load_arrays(path, kind="frozen_phrases")
        model = cls.__new__(cls)
        try:
            settings = _settings_from(meta, frozen=True)
            words = native.unpack_keys(arrays, meta["key_encoding"])
            flat, offsets, scores = (arrays[k] for k in
                                     ("phrase_words", "phrase_offsets", "scores"))
            _check_ints(flat, len(flat), "phrase_words")
            if len(flat) and (flat.min() < 0 or flat.max() >= len(words)):
                raise ValueError("a phrase refers to a word that is not there")
            if (offsets.dtype != np.int64 or offsets.ndim != 1
                    or len(offsets) != len(scores) + 1
                    or native._vocab.bad_offset(np.ascontiguousarray(offsets), len(flat)) >= 0
                    or np.any(np.diff(offsets) < 2)):
                raise ValueError("phrase_offsets do not describe the phrases")
            if scores.dtype != np.float64 or scores.ndim != 1:
                raise ValueError("scores must be 1-D float64")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{os.fspath(path)!r} is not a valid frozen phrases file "
                             f"({type(exc).__name__}: {exc})") from None
        bounds, flat_words = offsets.tolist(), [words[i] for i in flat.tolist()]
        model.phrasegrams = {tuple(flat_words[lo:hi]): s for lo, hi, s in
                             zip(bounds[:-1], bounds[1:], scores.tolist())}
        for name, value in settings.items():
            setattr(model, name, value)
        model._cache = (None, None, None)
        return model


def _settings(model) -> dict:
    return dict(min_count=model.min_count, threshold=model.threshold,
                scoring=model.scoring, delimiter=model.delimiter,
                connector_words=sorted(model.connector_words))


def _settings_from(meta, frozen=False) -> dict:
    settings = {k: meta[k] for k in ("min_count", "threshold", "scoring", "delimiter",
                                     "connector_words")}
    if not (frozen and settings["scoring"] is None):
        _check_scoring(settings["scoring"])
        _check_threshold(settings["threshold"], settings["scoring"])
    _check_min_count(settings["min_count"])
    _check_delimiter(settings["delimiter"])
    settings["connector_words"] = _connector_set(settings["connector_words"])
    return settings


def _check_ints(a, n, what):
    if a.dtype != np.int64 or a.ndim != 1 or len(a) != n:
        raise ValueError(f"{what} must be 1-D int64 of length {n}, got {a.dtype} {a.shape}")


def _unpack_runs(arrays, n_words):
    offsets, flat = arrays["run_offsets"], arrays["run_words"]
    _check_ints(flat, len(flat), "run_words")
    if (offsets.dtype != np.int64 or offsets.ndim != 1 or len(offsets) < 2
            or offsets[1] != 0
            or native._vocab.bad_offset(np.ascontiguousarray(offsets), len(flat)) >= 0):
        raise ValueError("run_offsets do not describe run_words")
    if len(flat) and (flat.min() < 0 or flat.max() >= n_words):
        raise ValueError("a connector run refers to a word that is not there")
    bounds, flat = offsets.tolist(), flat.tolist()
    return [tuple(flat[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
