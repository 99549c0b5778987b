"""The encoded corpus: every sentence as int32 word ids in one contiguous array, so that
training never touches Python objects. It can live in memory or in memory-mapped .npy
files, for corpora larger than RAM."""
from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import os
import tempfile

import numpy as np

from fastw2v import _vocab
from fastw2v.corpus import check_restartable, check_sentence, iter_chunks
from fastw2v.vocab import invalid_utf8

_BATCH_TOKENS = 1 << 20
_NPY_HEADER_BYTES = 128   # fixed .npy header size, so arrays can be streamed to disk
# ids per chunk that training threads take from a shared cursor: a few milliseconds of
# work, so that one atomic step per chunk costs nothing
CHUNK_IDS = 10_000


class EncodedCorpus:
    """Sentence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``; no sentence is empty.

    Attributes
    ----------
    ids : ndarray of int32, shape (n_ids,)
    offsets : ndarray of int64, shape (n_sentences + 1,)
    n_tokens : int
        Tokens in the source corpus, dropped out-of-vocabulary ones included.
    n_source_sentences : int
        Non-empty sentences (lines) in the source corpus, before long ones were cut.
    n_iterated : int or None
        Sentences read from an iterable of token lists, empty ones included (None for
        other sources).
    """

    n_iterated = None       # (the class default: corpora pickled before it existed)

    def __init__(self, ids, offsets, n_tokens=None, n_source_sentences=None):
        # the training loop reads ids[offsets[s]:offsets[s + 1]] without bounds checks
        if (ids.ndim != 1 or ids.dtype != np.int32 or offsets.ndim != 1
                or offsets.dtype != np.int64 or not offsets.flags.c_contiguous
                or _vocab.bad_offset(offsets, len(ids)) >= 0):
            raise ValueError(f"an encoded corpus needs int32 ids and contiguous int64 "
                             f"offsets from 0 to len(ids) that never decrease; got "
                             f"{len(ids)} ids and "
                             f"offsets ending at {offsets[-1] if len(offsets) else None}")
        self.ids = ids
        self.offsets = offsets
        self.n_tokens = int(n_tokens if n_tokens is not None else len(ids))
        self.n_source_sentences = int(n_source_sentences if n_source_sentences is not None
                                      else len(offsets) - 1)
        self.n_iterated = None

    def __deepcopy__(self, memo):
        # a corpus memory-mapped read-only from encoded_dir never changes: a deep copy of
        # a model shares it (copying would read the whole file into memory)
        if all(isinstance(a, np.memmap) and not a.flags.writeable
               for a in (self.ids, self.offsets)):
            return self
        new = object.__new__(type(self))
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    @property
    def n_ids(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    def check_ids(self, n_words: int):
        """Raise IndexError unless every id is in [0, n_words); the scan runs once per
        corpus object."""
        if getattr(self, "_ids_below", None) is None:
            self._ids_below = int(self.ids.max()) + 1 if len(self.ids) else 0
            if len(self.ids) and self.ids.min() < 0:
                raise IndexError("the encoded corpus holds negative ids")
        if self._ids_below > n_words:
            raise IndexError(f"the encoded corpus holds id {self._ids_below - 1}, outside "
                             f"the vocabulary [0, {n_words})")

    def chunks(self, workers: int, max_ids: int = CHUNK_IDS, within=None) -> np.ndarray:
        """The work of one epoch for `workers` threads to take in turn: an (n, 2) array of
        id ranges [start, end) of whole sentences that cover the whole corpus, or the
        ranges `within` (what an interrupted epoch left; the first sentence of such a
        range may be partly trained already), once each.

        One worker gets them as they are, in corpus order. Several get them cut at
        sentence starts into chunks of about min(max_ids, ids / (8 * workers)) ids (more
        where a sentence is longer), so that the threads finish an epoch within about one
        chunk of each other, in an order that sends consecutive takers to `workers`
        different parts of the corpus (as fixed shards would: threads on neighbouring
        text would write the same rows of its topical words at the same time)."""
        if within is None:
            ranges = np.array([[0, self.n_ids]], np.int64)
        else:
            ranges = np.asarray(within, np.int64).reshape(-1, 2)
            if len(ranges) and (ranges.min() < 0 or ranges.max() > self.n_ids):
                raise ValueError(f"the ranges left of an interrupted epoch reach outside "
                                 f"this corpus's {self.n_ids} ids: was the model saved "
                                 f"while training on another corpus? Pass that corpus to "
                                 f"train(..., resume=True), or train without resume")
        ranges = ranges[ranges[:, 1] > ranges[:, 0]]
        if workers <= 1 or len(ranges) == 0:
            return ranges
        total = int((ranges[:, 1] - ranges[:, 0]).sum())
        size = max(1, min(max_ids, total // (8 * workers)))
        out = []
        for a, b in ranges.tolist():
            # the first sentence start at or after each step of `size` ids
            firsts = np.searchsorted(self.offsets, np.arange(a + size, b, size), side="left")
            cuts = np.unique(self.offsets[firsts])
            points = [a] + cuts[cuts < b].tolist() + [b]
            out.extend(zip(points[:-1], points[1:]))
        # part r holds chunks r * per ... r * per + per - 1; take the parts' first chunks,
        # then their second ones, and so on
        per = -(-len(out) // workers)
        order = np.arange(per * workers).reshape(workers, per).T.ravel()
        return np.array(out, np.int64).reshape(-1, 2)[order[order < len(out)]]


class _Writer:
    """Collects (ids, sentence ends) batches in memory, or streams them to .npy files in
    `directory` (ids.npy, offsets.npy) that are memory-mapped when done.

    The files are written under temporary names and renamed when complete: a corpus
    encoded earlier into the same directory may still be memory-mapped (by this model or
    another), and rewriting its files in place would change, or truncate, the ids under
    its feet."""

    def __init__(self, directory=None):
        self.directory = directory
        self.n_ids = 0
        if directory is None:
            self.ids, self.ends = [], []
            return
        check_encoded_dir(directory)
        self.paths = [os.path.join(directory, name) for name in ("ids.npy", "offsets.npy")]
        self.files, self.parts = [], []
        for name in ("ids", "offsets"):
            fd, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".npy.part", dir=directory)
            self.files.append(os.fdopen(fd, "wb"))
            self.parts.append(part)
        self.counts = [0, 1]
        for f in self.files:
            f.write(b"\0" * _NPY_HEADER_BYTES)
        self.files[1].write(np.zeros(1, np.int64).tobytes())

    def append(self, ids: np.ndarray, ends: np.ndarray):
        """ids: int32; ends: int64 positions, relative to this batch, where sentences end."""
        ends = ends + self.n_ids
        self.n_ids += len(ids)
        if self.directory is None:
            self.ids.append(ids)
            self.ends.append(ends)
        else:
            with self._naming_errors():
                for k, arr in enumerate((ids, ends)):
                    self.files[k].write(np.ascontiguousarray(arr).tobytes())
                    self.counts[k] += len(arr)

    def finish(self, n_tokens, n_source_sentences) -> EncodedCorpus:
        if self.directory is None:
            ids = np.concatenate(self.ids) if self.ids else np.zeros(0, np.int32)
            offsets = np.concatenate([np.zeros(1, np.int64)] + self.ends)
        else:
            try:
                with self._naming_errors():
                    for f, count, dtype in zip(self.files, self.counts,
                                               (np.int32, np.int64)):
                        f.flush()
                        f.seek(0)
                        f.write(_npy_header(np.dtype(dtype), count))
                        f.close()
                if os.name != "nt":              # (Windows: a read-only file cannot be
                    for part in self.parts:      # replaced by the next run's)
                        # not to be changed in place (see above); where the file system
                        # allows it (exFAT and vfat refuse)
                        with contextlib.suppress(OSError):
                            os.chmod(part, 0o444)
                # mapped before the renames: a mapping stays with its file, so another run
                # writing the same directory at the same time cannot swap a file under us
                ids, offsets = (np.load(p, mmap_mode="r") for p in self.parts)
                for part, path in zip(self.parts, self.paths):
                    os.replace(part, path)
            except BaseException:
                self.abort()
                raise
        return EncodedCorpus(ids, offsets, n_tokens, n_source_sentences)

    @contextlib.contextmanager
    def _naming_errors(self):
        """An OSError while writing (a full disk: errno's message names no file) says
        where and how much the encoded corpus needs."""
        try:
            yield
        except OSError as exc:
            raise OSError(exc.errno, f"writing the encoded corpus into encoded_dir "
                                     f"{self.directory!r}: {exc.strerror or exc} (it takes "
                                     f"4 bytes per token and 8 per sentence)") from exc

    def abort(self):
        """Close and remove the half-written files (their .npy headers are placeholders);
        the files of an earlier corpus in the same directory stay as they were."""
        if self.directory is not None:
            for f, part in zip(self.files, self.parts):
                with contextlib.suppress(OSError):       # (a full disk fails the flush)
                    f.close()
                with contextlib.suppress(OSError):
                    os.unlink(part)


def check_encoded_dir(directory):
    """Create `directory` if needed and check that files can be written in it: called
    before a corpus is counted, so that a wrong encoded_dir fails at once rather than
    after a long read."""
    if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory):
        raise ValueError(f"encoded_dir must be a directory path, got {directory!r}")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"encoded_dir {os.fspath(directory)!r} is a file, not a "
                                 f"directory; give a directory (created if missing)")
    os.makedirs(directory, exist_ok=True)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"encoded_dir {os.fspath(directory)!r}: cannot create files "
                              f"in it (permissions, or a read-only file system)")


def _npy_header(dtype, length) -> bytes:
    """A .npy version 1.0 header for a 1-D array, padded to exactly _NPY_HEADER_BYTES."""
    body = repr({"descr": dtype.str, "fortran_order": False, "shape": (length,)}).encode()
    pad = _NPY_HEADER_BYTES - 10 - len(body) - 1
    assert pad >= 0
    body += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def chunk_ends(lengths: np.ndarray, max_len: int) -> np.ndarray:
    """End positions of sentences of the given lengths laid end to end, each cut into
    pieces of at most max_len; empty sentences give nothing."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if not len(lengths) or lengths.max() <= max_len:
        # no sentence is cut (the usual case): two arrays instead of eight, which for
        # millions of sentences made the peak memory of build_vocab
        ends = np.cumsum(lengths)
        return ends[lengths > 0]
    starts = np.cumsum(lengths) - lengths
    n_chunks = (lengths + max_len - 1) // max_len
    first_chunk = np.cumsum(n_chunks) - n_chunks
    k = np.arange(int(n_chunks.sum()), dtype=np.int64) - np.repeat(first_chunk, n_chunks)
    return np.repeat(starts, n_chunks) + np.minimum((k + 1) * max_len,
                                                    np.repeat(lengths, n_chunks))


def encode_file(path, vocab, max_sentence_length, directory=None, unicode_errors=None
                ) -> EncodedCorpus:
    """Encode a corpus file in compiled code, without the GIL.

    With unicode_errors (a file the vocabulary was not counted from), the tokens that are
    not valid UTF-8 and not known to the vocabulary in that spelling are checked as
    counting checks them: under 'strict' the first raises InvalidUTF8Error, at the end of
    the chunk that holds it (nothing is written); otherwise those that decode to a
    vocabulary word become spellings of it (vocab.learn_raw_forms) and the file is
    encoded once more with them, the only case in which it is read twice."""
    while True:
        encoder = _vocab.Encoder(vocab.byte_lookup(), max_sentence_length,
                                 track_invalid=unicode_errors is not None)
        writer = _Writer(directory)
        try:
            for chunk in itertools.chain(iter_chunks(path), [None]):
                batch = encoder.feed(b"", final=True) if chunk is None else encoder.feed(chunk)
                if unicode_errors == "strict" and encoder.dropped_invalid():
                    raise invalid_utf8(path, encoder.dropped_invalid()[0])
                writer.append(*_relative(batch, writer.n_ids))
            spellings = {}
            for raw in encoder.dropped_invalid():
                key = raw.decode("utf-8", unicode_errors)
                if key and key in vocab.key_to_index:    # ('' is never a word: see count_file)
                    spellings.setdefault(key, []).append(raw)
            if spellings:
                writer.abort()
        except BaseException:
            writer.abort()
            raise
        if not spellings:
            return writer.finish(encoder.n_tokens, encoder.n_lines)
        vocab.learn_raw_forms(spellings)
        unicode_errors = None       # every spelling that decodes to a word is known now


def encode_recorded(recording, vocab, max_sentence_length) -> EncodedCorpus:
    """Encode the token stream that count_file(record=True) or count_iterable(record=True)
    kept, in place: the same result as encode_file on the same file (encode_iterable on
    the same corpus), without reading it a second time. Can be called once per
    recording."""
    counter = recording.counter
    ids, lengths = _remapped(counter, recording.table_keys, vocab, recording.empty_is_word)
    offsets = np.concatenate(([0], chunk_ends(lengths, max_sentence_length)))
    del lengths
    corpus = EncodedCorpus(ids, offsets.astype(np.int64, copy=False), counter.n_tokens,
                           counter.n_sentences)
    if recording.empty_is_word:
        corpus.n_iterated = counter.n_iterated
    return corpus


def _remapped(counter, keys, vocab, empty_is_word):
    """The stream a recording counter kept as (ids, lengths) of the vocabulary's ids: keys
    are its tokens' keys, '' a word only if empty_is_word (a file's token that decodes to
    nothing is not one)."""
    get = vocab.key_to_index.get
    remap = np.fromiter((get(key, -1) if key or empty_is_word else -1 for key in keys),
                        np.int32, len(keys))
    return counter.take_encoded(remap)


def _relative(batch, base):
    ids, ends = batch
    return ids, ends - base


def encode_ids(seqs, vocab, max_sentence_length, directory=None) -> EncodedCorpus:
    """Encode IdSequences with vectorised lookups (searchsorted), in batches of about
    _BATCH_TOKENS ids so that temporary memory stays bounded."""
    sorted_keys, key_ids = vocab.id_lookup()
    writer = _Writer(directory)
    offsets = seqs.offsets
    n = len(offsets) - 1
    s = 0
    try:
        while s < n:
            # sentences [s, e) hold about _BATCH_TOKENS ids (at least one sentence)
            e = int(np.searchsorted(offsets, offsets[s] + _BATCH_TOKENS, side="right")) - 1
            e = min(max(e, s + 1), n)
            raw = seqs.ids[offsets[s]:offsets[e]]
            lengths = np.diff(offsets[s:e + 1])
            if len(sorted_keys):
                pos = np.minimum(np.searchsorted(sorted_keys, raw), len(sorted_keys) - 1)
                known = sorted_keys[pos] == raw
                ids = key_ids[pos[known]]
            else:
                known = np.zeros(len(raw), bool)
                ids = np.zeros(0, np.int32)
            sentence_of = np.repeat(np.arange(e - s), lengths)
            kept = np.bincount(sentence_of[known], minlength=e - s)
            writer.append(ids, chunk_ends(kept, max_sentence_length))
            s = e
    except BaseException:
        writer.abort()
        raise
    return writer.finish(len(seqs.ids), int(np.count_nonzero(np.diff(offsets))))


def encode_iterable(corpus, vocab, max_sentence_length, directory=None,
                    passes=2) -> EncodedCorpus:
    """Encode an iterable of token lists, read once, in compiled batches of about
    _BATCH_TOKENS tokens (each counted as build_vocab counts a corpus, then its distinct
    tokens looked up in the vocabulary). `passes`: how many times the caller reads the
    corpus in all (2 when it counted it first: a sentence that is a one-shot iterator
    would be empty here). The result's ``n_iterated`` counts the sentences read, empty
    ones included (gensim's total_examples for a corpus without len())."""
    check_restartable(corpus, passes=1)
    check = functools.partial(check_sentence, passes=passes)
    writer = _Writer(directory)
    sentences = iter(corpus)
    n_tokens = n_sentences = n_iterated = 0
    try:
        done = False
        while not done:
            batch = _vocab.ListCounter(record=True, first_sentence=n_iterated)
            done = batch.count(sentences, check, _BATCH_TOKENS)
            ids, kept = _remapped(batch, batch.keys, vocab, empty_is_word=True)
            writer.append(ids, chunk_ends(kept, max_sentence_length))
            n_tokens += batch.n_tokens
            n_sentences += batch.n_sentences
            n_iterated += batch.n_iterated
    except BaseException:
        writer.abort()
        raise
    corpus = writer.finish(n_tokens, n_sentences)
    corpus.n_iterated = n_iterated
    return corpus
