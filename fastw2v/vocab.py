"""The vocabulary: counting tokens, choosing the words to keep, and the tables derived
from their counts (subsampling, noise distribution, Huffman tree)."""
from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from fastw2v import _vocab
from fastw2v.native import is_int_key
from fastw2v.corpus import check_restartable, check_sentence, iter_chunks


# what a trim_rule(word, count, min_count) returns (gensim.utils' values, so that its
# constants work too): DEFAULT leaves the word to min_count
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2


def apply_trim_rule(trim_rule, keys, counts, min_count, keep):
    """`keep` (bool array aligned with keys: the min_count verdicts) with trim_rule's
    verdicts applied in place; returns it. None (a rule that falls through) counts as
    RULE_DEFAULT; any other value, a bool included (True == RULE_DISCARD), is refused."""
    if trim_rule is None:
        return keep
    if not callable(trim_rule):
        raise TypeError(f"trim_rule must be a function (word, count, min_count) -> "
                        f"RULE_KEEP, RULE_DISCARD or RULE_DEFAULT, got {trim_rule!r}")
    for i, (key, count) in enumerate(zip(keys, counts.tolist())):
        verdict = trim_rule(key, count, min_count)
        if verdict is None:
            continue
        # (a number, not a bool, nor an array, whose `in` would raise its own error)
        if (isinstance(verdict, (bool, np.bool_)) or not isinstance(verdict, numbers.Number)
                or verdict not in (RULE_DEFAULT, RULE_DISCARD, RULE_KEEP)):
            raise ValueError(f"trim_rule returned {verdict!r} for {key!r}: return "
                             f"RULE_KEEP (2), RULE_DISCARD (1) or RULE_DEFAULT (0) from "
                             f"fastw2v (or gensim.utils)")
        if verdict == RULE_KEEP and count < 1:
            raise ValueError(f"trim_rule keeps {key!r}, whose count is {count}: a word "
                             f"needs a count of at least 1 (its share of the noise words "
                             f"and of subsampling)")
        if verdict != RULE_DEFAULT:
            keep[i] = verdict == RULE_KEEP
    return keep


@dataclass
class RawCounts:
    """Every distinct token with its count, before ``min_count``."""

    keys: list                  # tokens (str for files; any hashable for iterables)
    counts: np.ndarray          # int64, aligned with keys
    first: np.ndarray           # int64: order of first appearance, breaks count ties
    n_tokens: int               # tokens seen
    n_sentences: int            # sentences (lines) holding at least one token
    min_reduce: int = 1         # words rarer than this may have been pruned while counting
    raw_forms: dict = field(default_factory=dict)  # key -> [bytes] when decoding changed it
    recording: object = None    # count_file(record=True): the token stream, see Recording


@dataclass
class Recording:
    """The token stream kept while counting a file, to encode it without a second read
    (fastw2v.encoded.encode_recorded)."""

    counter: object             # the _vocab.TokenCounter (a file) or ListCounter (token
                                # lists) that recorded it
    table_keys: list            # the key of each table index
    empty_is_word: bool = False     # False: '' (a file's token that decodes to nothing) is
                                    # not a word


def count_file(path, max_vocab_size=None, unicode_errors="strict", record=False) -> RawCounts:
    """Count the tokens of a corpus file in compiled code, without the GIL.

    record=True (not with max_vocab_size) also keeps the stream of tokens (4 bytes each),
    so that encode_recorded() can encode the corpus without reading the file again."""
    if record and max_vocab_size:
        raise ValueError("record=True cannot be combined with max_vocab_size: pruning "
                         "renumbers the words")
    counter = _vocab.TokenCounter(max_vocab_size or 0, record=record)
    for chunk in iter_chunks(path):
        counter.feed(chunk)
    counter.feed(b"", final=True)
    raw_keys, counts, first = counter.export()
    keys, raw_forms = [], {}
    for raw in raw_keys:
        try:
            keys.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            if unicode_errors == "strict":
                raise invalid_utf8(path, raw) from None
            key = raw.decode("utf-8", unicode_errors)
            keys.append(key)
            raw_forms.setdefault(key, []).append(raw)
    recording = Recording(counter, list(keys)) if record else None
    if raw_forms:
        keys, counts, first = _merge_duplicates(keys, counts, first)
    return RawCounts(keys, counts, first, counter.n_tokens, counter.n_sentences,
                     counter.min_reduce, raw_forms, recording)


def _merge_duplicates(keys, counts, first):
    """Tokens that decode to the same text (or to nothing, with 'ignore') become one word;
    a token that decodes to the empty string is not a word."""
    merged = {}
    for key, c, f in zip(keys, counts.tolist(), first.tolist()):
        if not key:
            continue
        if key in merged:
            c0, f0 = merged[key]
            merged[key] = (c0 + c, min(f0, f))
        else:
            merged[key] = (c, f)
    keys = list(merged)
    counts = np.array([merged[k][0] for k in keys], dtype=np.int64)
    first = np.array([merged[k][1] for k in keys], dtype=np.int64)
    return keys, counts, first


def python_key(key):
    """A numpy number, bool or string scalar (np.int64(3), np.str_('a')) as the Python
    value it equals, so that keys are the same whichever form a token first came in;
    anything else as it is (a datetime64 or timedelta64 would become an int or a
    datetime, which neither hashes nor compares as the token)."""
    if isinstance(key, (np.number, np.bool_, np.str_, np.bytes_)) and not isinstance(
            key, (np.datetime64, np.timedelta64)):
        return key.item()
    return key


def count_iterable(corpus, max_vocab_size=None, record=False) -> RawCounts:
    """Count the tokens of an iterable of token lists (in compiled code, one pass).
    record=True (not with max_vocab_size) also keeps the stream of tokens (4 bytes each),
    so that encode_recorded() can encode the corpus without reading it again: the corpus
    may then be a generator, and its sentences iterators; else it must be restartable,
    as it will be read again to encode it."""
    if record and max_vocab_size:
        raise ValueError("record=True cannot be combined with max_vocab_size: pruning "
                         "renumbers the words")
    passes = 1 if record else 2
    check_restartable(corpus, passes=passes)
    counter = _vocab.ListCounter(max_vocab_size or 0, record=record)
    counter.count(corpus, functools.partial(check_sentence, passes=passes))
    keys = counter.keys
    if any(issubclass(t, np.generic) for t in set(map(type, keys))):
        keys = [python_key(k) for k in keys]
    first = np.arange(len(keys), dtype=np.int64)   # the counter keeps first appearance order
    recording = Recording(counter, list(keys), empty_is_word=True) if record else None
    return RawCounts(keys, counter.export_counts(), first, counter.n_tokens,
                     counter.n_sentences, counter.min_reduce, recording=recording)


def count_ids(seqs, max_vocab_size=None) -> RawCounts:
    """Count the ids of an IdSequences (vectorised; exact). With max_vocab_size, only the
    most frequent ids are kept (ties by first appearance)."""
    if len(seqs.ids):
        keys, first, counts = np.unique(seqs.ids, return_index=True, return_counts=True)
    else:
        keys, first, counts = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    min_reduce = 1
    if max_vocab_size and len(keys) > max_vocab_size:
        keep = np.lexsort((first, -counts))[:max_vocab_size]
        min_reduce = int(counts[keep].min())
        keys, first, counts = keys[keep], first[keep], counts[keep]
    n_sentences = int(np.count_nonzero(np.diff(seqs.offsets)))
    return RawCounts(keys.tolist(), counts.astype(np.int64), first.astype(np.int64),
                     len(seqs.ids), n_sentences, min_reduce)


class Vocab:
    """The kept words, sorted by count (descending; ties by first appearance).

    Attributes
    ----------
    index_to_key : list
        Word of each id.
    key_to_index : dict
        Id of each word.
    counts : ndarray of int64, shape (n_words,)
    """

    def __init__(self, index_to_key, counts, raw_forms=None):
        self.index_to_key = list(index_to_key)
        self.counts = np.ascontiguousarray(counts, dtype=np.int64)
        if len(self.index_to_key) != len(self.counts):
            raise ValueError(f"{len(self.index_to_key)} words but {len(self.counts)} counts")
        if len(self.counts) and self.counts.min() < 0:
            raise ValueError(f"the count of word {self.index_to_key[self.counts.argmin()]!r} "
                             f"is negative ({self.counts.min()})")
        # an int64 sum would wrap around to a negative total; near the limit, exactly
        if (self.counts.sum(dtype=np.float64) >= 2.0 ** 62
                and sum(self.counts.tolist()) >= 1 << 63):
            raise ValueError(f"the word counts add up to {sum(self.counts.tolist())}, more "
                             f"than 2**63 - 1 (the largest int64)")
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("duplicate words in the vocabulary")
        # undecodable spellings of words (unicode_errors != 'strict'), for the encoder
        self.raw_forms = raw_forms or {}

    def __len__(self):
        return len(self.index_to_key)

    def learn_raw_forms(self, raw_forms):
        """Add the undecodable spellings another file uses for words of this vocabulary
        ({word: [bytes]}, from counting it), so that encoding that file finds them."""
        for key, forms in raw_forms.items():
            if key in self.key_to_index:
                known = self.raw_forms.setdefault(key, [])
                known.extend(raw for raw in forms if raw not in known)

    @property
    def total(self) -> int:
        """Occurrences of kept words: T in the subsampling formula."""
        return int(self.counts.sum())

    def keep_probs(self, sample: float):
        """Probability of keeping each occurrence under subsampling (word2vec.c):
        ``(sqrt(c / (sample*T)) + 1) * sample*T / c``, capped at 1. None if sample == 0."""
        if sample == 0:
            return None
        threshold = sample * self.total
        # the same as word2vec.c's form, written with r = threshold / c so that a tiny
        # (subnormal) threshold cannot make c / threshold overflow to inf
        with np.errstate(divide="ignore"):    # a count of 0 (a Vocab made so): 1
            r = threshold / self.counts.astype(np.float64)
        p = np.sqrt(r) + r
        return np.minimum(p, 1.0).astype(np.float32)

    def noise_probs(self, ns_exponent: float) -> np.ndarray:
        """The noise distribution P(w) ∝ count(w) ** ns_exponent, float64."""
        w = self.counts.astype(np.float64) ** ns_exponent
        return w / w.sum()

    def noise_table(self, ns_exponent: float):
        """Alias table of the noise distribution: (prob float32, alias int32)."""
        return _vocab.alias_table(self.noise_probs(ns_exponent))

    def huffman(self):
        """Huffman paths (off int64, points int32, codes uint8); see _vocab.huffman_paths.
        A one-word vocabulary has empty paths."""
        if len(self) < 2:
            return (np.zeros(len(self) + 1, np.int64), np.zeros(0, np.int32),
                    np.zeros(0, np.uint8))
        return _vocab.huffman_paths(self.counts)

    def updated(self, raw: RawCounts, min_count: int, trim_rule=None,
                max_final_vocab=None) -> "Vocab":
        """This vocabulary plus the words of `raw` seen at least min_count times in it
        (raised by max_final_vocab over `raw`'s words, and overridden by `trim_rule`, as
        in select_words; gensim's rules for an update). Old words keep their ids and add
        their new counts (a rule cannot remove them: they have trained rows); new words are
        appended, sorted by count (descending, ties by first appearance).

        Raises ValueError, before anything changes, if the counts would no longer fit
        in int64 (their total, T in the subsampling rule, must fit too)."""
        known, added = [], []
        new_keys, new_counts, new_first = [], [], []
        for key, c, f in zip(raw.keys, raw.counts.tolist(), raw.first.tolist()):
            index = self.key_to_index.get(key)
            if index is not None:
                known.append(index)
                added.append(c)
            else:
                new_keys.append(key)
                new_counts.append(c)
                new_first.append(f)
        # the new words that stay (the rule is asked about them only)
        effective = effective_min_count(raw, min_count, max_final_vocab)
        counts_new = np.array(new_counts, np.int64)
        keep = apply_trim_rule(trim_rule, new_keys, counts_new, effective,
                               counts_new >= effective).tolist()
        new_keys = [k for k, kept in zip(new_keys, keep) if kept]
        new_counts = [c for c, kept in zip(new_counts, keep) if kept]
        new_first = [f for f, kept in zip(new_first, keep) if kept]
        total = self.total + sum(added) + sum(new_counts)     # Python ints: exact
        if total >= 1 << 63:
            raise ValueError(f"the word counts after this update would add up to {total}, "
                             f"more than 2**63 - 1: counts and their total must fit in "
                             f"64-bit integers; scale the counts down")
        counts = self.counts.copy()
        np.add.at(counts, np.array(known, np.intp), np.array(added, np.int64))
        order = np.lexsort((np.array(new_first, np.int64), -np.array(new_counts, np.int64)))
        keys = self.index_to_key + [new_keys[i] for i in order]
        counts = np.concatenate([counts, np.array(new_counts, np.int64)[order]])
        raw_forms = {k: list(forms) for k, forms in self.raw_forms.items()}
        updated = Vocab(keys, counts, raw_forms)
        # the new corpus's spellings of old words as well as of new ones
        updated.learn_raw_forms(raw.raw_forms)
        return updated

    def id_lookup(self):
        """(sorted int keys, their ids), for encoding IdSequences with searchsorted.

        Only keys that are integers (int or numpy integer, not bool) match ids: a float
        key 1.5 or a str key '1' never matches id 1. Other keys are left out, as they are
        for a text file; a vocabulary with words but no integer key raises a TypeError."""
        keys = self.index_to_key
        values = None
        if set(map(type, keys)) == {int}:       # the usual case, fast
            try:
                values = np.array(keys, dtype=np.int64)
                ids = np.arange(len(keys))
            except OverflowError:
                pass
        if values is None:
            ids = np.array([i for i, key in enumerate(keys) if _is_int64(key)], dtype=np.int64)
            values = np.array([int(keys[i]) for i in ids.tolist()], dtype=np.int64)
        if len(ids) == 0 and len(keys):
            raise TypeError(
                f"this vocabulary's keys are not integers (e.g. {type(keys[0]).__name__} "
                f"{keys[0]!r}), so no integer id can match a word: build the vocabulary "
                f"from integer ids (e.g. build_vocab on the id sequences), or pass the "
                f"corpus as token lists of the vocabulary's kind of key")
        order = np.argsort(values, kind="stable")
        return values[order], ids[order].astype(np.int32)

    def byte_lookup(self):
        """The compiled token -> id table used to encode files."""
        keys, ids = [], []
        for i, key in enumerate(self.index_to_key):
            if isinstance(key, str):
                keys.append(key.encode("utf-8"))
                ids.append(i)
                for raw in self.raw_forms.get(key, ()):
                    keys.append(raw)
                    ids.append(i)
        if not keys and len(self):
            raise TypeError("this vocabulary holds no str words, so it cannot encode a "
                            "text file; pass the corpus as an iterable instead")
        return _vocab.Lookup(keys, np.array(ids, dtype=np.int32))


class InvalidUTF8Error(ValueError):
    """A corpus or vocabulary file holds a word that is not valid UTF-8
    (unicode_errors='strict')."""


def invalid_utf8(path, raw) -> InvalidUTF8Error:
    """The error for token bytes `raw` of corpus file `path` under unicode_errors='strict'."""
    return InvalidUTF8Error(
        f"corpus_file {path!r} holds a token that is not valid UTF-8: {raw[:60]!r}; pass "
        f"unicode_errors='replace' (or 'ignore') to decode such tokens anyway")


def freq_counts(word_freq):
    """The keys of a {word: count} mapping and their counts as int64, checked: every count
    must be a non-negative whole number (an int, or an integer-valued float such as 3.0).
    Raises ValueError naming the word otherwise, rather than truncating 2.7 to 2."""
    keys = list(word_freq)
    values = list(word_freq.values())
    if set(map(type, values)) <= {int}:     # the usual case: Python ints, checked at once
        try:
            counts = np.array(values, dtype=np.int64)
        except OverflowError:
            counts = None
        if counts is not None and (not len(counts) or counts.min() >= 0) \
                and sum(values) < 1 << 63:
            return keys, counts
    # otherwise word by word, so that the error names the word
    counts = np.zeros(len(keys), dtype=np.int64)
    total = 0
    for i, key in enumerate(keys):
        c = word_freq[key]
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            n = int(c)
        elif (isinstance(c, (float, np.floating)) and math.isfinite(c)
              and float(c).is_integer()):
            n = int(c)
        else:
            raise ValueError(f"the count of word {key!r} is {type(c).__name__} {c!r}: word "
                             f"counts must be non-negative whole numbers")
        if n < 0:
            raise ValueError(f"the count of word {key!r} is {c!r}: word counts must be "
                             f"non-negative")
        total += n
        if total >= 1 << 63:
            raise ValueError(f"the word counts add up to more than 2**63 - 1 (at word "
                             f"{key!r}): they must fit in 64-bit integers")
        counts[i] = n
    return keys, counts


def _is_int64(key) -> bool:
    """Whether key is an integer key (native.is_int_key) that an int64 id can equal."""
    return is_int_key(key) and -(1 << 63) <= int(key) < (1 << 63)


def effective_min_count(raw: RawCounts, min_count: int, max_final_vocab=None) -> int:
    """min_count (at least 1), raised if needed so that at most max_final_vocab words of
    `raw` reach it: gensim's rule drops every word with the count of the
    (max_final_vocab+1)-th."""
    effective = max(min_count, 1)
    if max_final_vocab is not None and len(raw.keys) > max_final_vocab:
        ranked = np.sort(raw.counts)[::-1]
        effective = max(effective, int(ranked[max_final_vocab]) + 1)
    return effective


def select_words(raw: RawCounts, min_count: int, max_final_vocab=None,
                 trim_rule=None) -> Vocab:
    """Keep the words seen at least min_count times (raised, if needed, so that at most
    max_final_vocab words remain), sorted by count descending, ties by first appearance.

    trim_rule(word, count, min_count), as gensim's, overrides that word by word: it
    returns RULE_KEEP, RULE_DISCARD or RULE_DEFAULT (the min_count verdict), and is given
    the effective min_count (raised by max_final_vocab)."""
    effective = effective_min_count(raw, min_count, max_final_vocab)
    keep = np.flatnonzero(apply_trim_rule(trim_rule, raw.keys, raw.counts, effective,
                                          raw.counts >= effective))
    order = keep[np.lexsort((raw.first[keep], -raw.counts[keep]))]
    if len(order) == 0:
        detail = (f"the corpus has {raw.n_tokens} tokens, {len(raw.keys)} distinct"
                  if raw.n_tokens else "the corpus holds no tokens")
        if trim_rule is not None:
            raise ValueError(f"Empty vocabulary: trim_rule, with min_count={effective}, "
                             f"keeps no word ({detail}); check what the rule returns")
        raise ValueError(f"Empty vocabulary: no word occurs at least min_count="
                         f"{effective} times ({detail}). Lower min_count or give more text.")
    keys = [raw.keys[i] for i in order]
    raw_forms = {k: raw.raw_forms[k] for k in keys if k in raw.raw_forms}
    return Vocab(keys, raw.counts[order], raw_forms)
