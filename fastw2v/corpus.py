"""Reading corpora: byte chunks from plain, gzip, bz2 or xz files, and checks on
iterables.

A corpus file holds one sentence per line, tokens separated by ASCII whitespace; a
text8-style file that is one huge line works too (see ``max_sentence_length``).
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import itertools
import lzma
import os
import stat
import zlib
from collections.abc import Iterable, Iterator

import numpy as np

from fastw2v import _vocab
from fastw2v.config import UNICODE_ERRORS

CHUNK_BYTES = 1 << 22   # 4 MiB: big enough to amortise calls, small enough to bound memory

_GZIP_MAGIC = b"\x1f\x8b\x08"                     # gzip, deflate
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZ2_BLOCK_MAGIC = (b"1AY&SY", b"\x17\x72\x45\x38\x50\x90")  # first block, or empty stream


def check_path(path) -> str:
    """Return path as a str, or raise if it is not a readable file."""
    if isinstance(path, (bytes, bytearray)):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"corpus_file must be a path (str or os.PathLike), "
                        f"got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"corpus_file {path!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"corpus_file {path!r} is a directory; give a text file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        # a pipe (<(zcat ...)) or a device: read more than once (its format sniffed,
        # counted, encoded), the second read would miss what the first took
        raise ValueError(f"corpus_file {path!r} is not a regular file (a pipe or a "
                         f"device?): it is read more than once; write it to a file first "
                         f"(gzip, bz2 and xz files are read as they are)")
    return path


# formats that would otherwise be read as text (their bytes taken for tokens)
_OTHER_MAGICS = ((b"PK\x03\x04", "a zip archive"), (b"\x28\xb5\x2f\xfd", "zstd"),
                 (b"\x04\x22\x4d\x18", "lz4"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"))


def refuse_other_compression(head: bytes, path, what: str):
    """Raise ValueError if the first bytes `head` of file `path` are those of a
    compressed format fastw2v does not read (zip, zstd, lz4, 7z)."""
    for magic, name in _OTHER_MAGICS:
        if head.startswith(magic):
            raise ValueError(f"{what} {os.fspath(path)!r} is {name}, which fastw2v does not "
                             f"read (plain, gzip, bz2 and xz are read as they are); "
                             f"decompress it first")


def _open(path: str):
    """Open a file for binary reading, decompressing gzip, bz2 or xz (told by the magic
    bytes, whatever the extension)."""
    with open(path, "rb") as f:
        head = f.read(10)
    refuse_other_compression(head, path, "corpus_file")
    if head.startswith(_GZIP_MAGIC):
        return gzip.open(path, "rb")
    if head.startswith(_XZ_MAGIC):
        return lzma.open(path, "rb")
    # "BZh", a block size digit, a block magic: text starting with "BZh" stays text
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in _BZ2_BLOCK_MAGIC:
        return bz2.open(path, "rb")
    return open(path, "rb")


def iter_chunks(path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield the (decompressed) bytes of a corpus file in chunks, without a UTF-8
    byte-order mark at its start (an editor's marker, not text: it would be part of the
    first word). A truncated or corrupt compressed file raises ValueError naming the
    file."""
    path = check_path(path)
    with broken_compression_named(path, "corpus_file "), _open(path) as f:
        first = f.read(max(chunk_bytes, 3)).removeprefix(b"\xef\xbb\xbf")
        if first:
            yield first
        while True:
            chunk = f.read(chunk_bytes)
            if not chunk:
                return
            yield chunk


STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


@contextlib.contextmanager
def broken_compression_named(path, what="", compressed=True):
    """Read errors of a (compressed) file as one ValueError that names it: gzip, bz2 and
    lzma raise EOFError, OSError, zlib.error or LZMAError for truncated or corrupt data.
    A missing file or a denied permission stays itself; so does any error of a file
    that is not compressed."""
    try:
        yield
    except STREAM_ERRORS as exc:
        if not compressed or isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(f"cannot read {what}{os.fspath(path)!r}: the compressed data is "
                         f"truncated or corrupt ({exc})") from exc


# why a corpus may be read twice
TWO_PASSES = ("counted, then encoded: Word2Vec reads its corpus twice with max_vocab_size "
              "or encoded_dir, else once")


def check_restartable(corpus, name: str = "corpus_iterable", passes: int = 2) -> Iterable:
    """Reject what is not a corpus of token lists at all, or, if it must be read `passes`
    > 1 times, what cannot be iterated twice (a generator, an iterator)."""
    if isinstance(corpus, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} is a {type(corpus).__name__}, not an iterable of token "
                        f"lists; to read a file, pass corpus_file={corpus!r}")
    if not isinstance(corpus, Iterable):
        raise TypeError(f"{name} must be an iterable of token lists, "
                        f"got {type(corpus).__name__}")
    # (a phrases[...] rewrite of a one-shot corpus says so in _one_shot)
    if passes > 1 and (iter(corpus) is corpus or getattr(corpus, "_one_shot", False) is True):
        raise TypeError(
            f"{name} is a one-shot iterator ({type(corpus).__name__}): it would be empty "
            f"on the second pass ({TWO_PASSES}). Pass a list, or an object "
            f"whose __iter__ starts a new pass each time, e.g.\n"
            f"    class Corpus:\n"
            f"        def __iter__(self):\n"
            f"            return make_sentences()")
    return corpus


def check_sentence(sentence, index: int, passes: int = 2):
    """Reject a sentence that is a string (a common slip: its characters would become
    the tokens), not a sequence, or, if the corpus is read `passes` > 1 times, a one-shot
    iterator (a map, filter or generator: counted while building the vocabulary, it
    would be empty when encoded). Called before the sentence is read; returns it, a
    torch tensor as a numpy array (a 0-d tensor hashes by identity: as a token, each
    would be a word of its own)."""
    if isinstance(sentence, (str, bytes)):
        raise TypeError(f"sentence {index} is a {type(sentence).__name__}, not a list of "
                        f"tokens; split it first, e.g. line.split()")
    if not isinstance(sentence, Iterable) or getattr(sentence, "ndim", None) == 0:
        raise TypeError(f"sentence {index} must be a list of tokens, "
                        f"got {type(sentence).__name__} {sentence!r}"[:200])
    if passes > 1 and iter(sentence) is sentence:
        raise TypeError(
            f"sentence {index} is a one-shot iterator ({type(sentence).__name__}): it "
            f"would be empty on the second pass ({TWO_PASSES}), and its words "
            f"never trained. Give each sentence as a list (or tuple, or array) of tokens, "
            f"e.g. list(map(str.lower, words)) instead of map(str.lower, words)")
    return numpy_if_torch(sentence)


_HUGE_IDS = ("ids of 2**63 or more are not supported (keys are int64): for 64-bit hashes, "
              "pass ids.view(np.int64) (the same bits read as signed, so distinct ids "
              "stay distinct), or map the ids to 0..n-1 with np.unique(ids, "
              "return_inverse=True)")


def _is_torch_type(t) -> bool:
    return t.__module__.split(".")[0] == "torch" and hasattr(t, "detach")


def without_tensors(corpus):
    """The corpus with torch tensors as numpy arrays: the corpus itself, or each of its
    sentences when it is a list or tuple (a 0-d tensor hashes by identity: as a token,
    each would be a word of its own)."""
    corpus = numpy_if_torch(corpus)
    if isinstance(corpus, np.ndarray) and corpus.ndim == 1 and corpus.dtype == object:
        corpus = list(corpus)            # (what a groupby into arrays or tensors gives)
    # (over the distinct sentence types: a Python call per sentence would cost ~0.3 s
    # per million sentences)
    if isinstance(corpus, (list, tuple)) and any(map(_is_torch_type, set(map(type, corpus)))):
        corpus = [numpy_if_torch(s) for s in corpus]
    return corpus


def numpy_if_torch(x):
    """A torch tensor as a numpy array (copied to the host if it is on a device); anything
    else as it is. torch is not imported."""
    return np.asarray(x.detach().cpu()) if _is_torch_type(type(x)) else x


class IdSequences:
    """Sequences of integer ids (items in sessions, songs in playlists, nodes on walks) in
    CSR form: sequence ``s`` is ``ids[offsets[s]:offsets[s + 1]]``.

    The ids are any integers of the int64 range (int8 ... uint64, e.g. raw product ids);
    they become the vocabulary keys, as Python ints. uint64 ids are copied to int64;
    those of 2**63 or more (64-bit hashes) are refused: pass ``ids.view(np.int64)``. Counting and encoding are vectorised numpy, with no
    Python object per token.

    Parameters
    ----------
    ids : array-like of int, shape (n_tokens,)
        Taken without a copy when it is already a contiguous integer array.
    offsets : array-like of int, shape (n_sequences + 1,)
        Non-decreasing, starting at 0 and ending at n_tokens.
    """

    def __init__(self, ids, offsets):
        ids = np.asarray(ids)
        offsets = np.asarray(offsets)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError(f"ids must be a 1-D array of integers, got dtype {ids.dtype} "
                            f"and shape {ids.shape}")
        if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) < 1:
            raise TypeError(f"offsets must be a 1-D array of integers with at least one "
                            f"entry (0), got dtype {offsets.dtype} and shape {offsets.shape}")
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        bad = _vocab.bad_offset(offsets, len(ids))
        if bad == 0 or bad == len(offsets) - 1 and offsets[-1] != len(ids):
            raise ValueError(f"offsets must start at 0 and end at len(ids) = {len(ids)}, "
                             f"got {offsets[0]} ... {offsets[-1]}")
        if bad > 0:
            raise ValueError(f"offsets must be non-decreasing: offsets[{bad - 1}] = "
                             f"{offsets[bad - 1]} > offsets[{bad}] = {offsets[bad]}")
        if ids.dtype == np.uint64:
            if len(ids) and int(ids.max()) > np.iinfo(np.int64).max:
                raise ValueError(_HUGE_IDS)
            ids = ids.astype(np.int64)
        self.ids = np.ascontiguousarray(ids)
        self.offsets = offsets

    @classmethod
    def from_arrays(cls, sequences) -> "IdSequences":
        """From a list of 1-D integer arrays (one copy, into one flat array)."""
        arrays = [np.asarray(s) for s in sequences]
        for i, a in enumerate(arrays):
            if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
                raise TypeError(f"sequence {i} must be a 1-D integer array, got dtype "
                                f"{a.dtype} and shape {a.shape}")
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        nonempty = [a for a in arrays if a.size]
        dtype = np.result_type(*nonempty) if nonempty else np.int64
        if dtype.kind == "f":
            # uint64 beside signed ids: numpy's common type is float64, which would merge
            # ids above 2**53; int64 holds every id this class accepts
            dtype = np.dtype(np.int64)
            for a in nonempty:
                if a.dtype == np.uint64 and int(a.max()) > np.iinfo(np.int64).max:
                    raise ValueError(_HUGE_IDS)
        # empty arrays (np.array([]) is float64) take no part in the type
        ids = np.concatenate([a.astype(dtype, copy=False) for a in nonempty] or
                             [np.zeros(0, dtype)])
        return cls(ids, offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def __iter__(self):
        """Each sequence as a list of Python ints (slow path; training never uses it)."""
        for s in range(len(self)):
            yield self.ids[self.offsets[s]:self.offsets[s + 1]].tolist()


def as_id_sequences(corpus):
    """IdSequences for id input (an IdSequences; a list or tuple of integer numpy arrays;
    a 2-D integer numpy array, one sequence per row); None for any other corpus (a list
    of arrays of str is token lists). Torch tensors and object arrays are taken after
    `without_tensors` has made them numpy arrays and lists."""
    if isinstance(corpus, IdSequences):
        return corpus
    if isinstance(corpus, np.ndarray) and corpus.ndim == 2 and corpus.dtype.kind in "iu":
        rows, width = corpus.shape
        return IdSequences(np.ascontiguousarray(corpus).reshape(-1),
                           np.arange(rows + 1, dtype=np.int64) * width)
    if (isinstance(corpus, (list, tuple)) and corpus
            and all(isinstance(s, np.ndarray) for s in corpus)
            # arrays of strings (or objects) are token lists, as lists of str are (an
            # empty line split into np.array([]) is float64: it decides nothing)
            and not (all(s.dtype.kind in "USO" or s.size == 0 for s in corpus)
                     and any(s.size for s in corpus))):
        return IdSequences.from_arrays(corpus)
    return None


# ---------------------------------------------------------------------------------------
# gensim's corpus iterables, for code written against them (corpus_file= is faster: the
# file is then read in compiled code, not in Python)

def _check_reader_args(max_sentence_length, limit, unicode_errors):
    if isinstance(max_sentence_length, bool) or not isinstance(max_sentence_length, int) \
            or max_sentence_length < 1:
        raise ValueError(f"max_sentence_length must be an int >= 1, got "
                         f"{max_sentence_length!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 0):
        raise ValueError(f"limit must be None or an int >= 0 (lines read), got {limit!r}")
    check_unicode_errors(unicode_errors)


def check_unicode_errors(unicode_errors):
    """ValueError unless it is one of Python's decoders' strict, replace or ignore."""
    if unicode_errors not in UNICODE_ERRORS:
        raise ValueError(f"unicode_errors must be one of {UNICODE_ERRORS}, "
                         f"got {unicode_errors!r}")


def _line_sentences(lines, name, max_sentence_length, limit, unicode_errors):
    """The token lists of lines (bytes or str): each line split at whitespace (str.split,
    as gensim), cut into pieces of at most max_sentence_length; empty lines give none."""
    for number, line in enumerate(itertools.islice(lines, limit)):
        if isinstance(line, bytes):
            if number == 0:
                line = line.removeprefix(b"\xef\xbb\xbf")
            try:
                line = line.decode("utf-8", unicode_errors)
            except UnicodeDecodeError as exc:
                raise ValueError(f"{name}, line {number + 1}: not UTF-8 ({exc}); pass "
                                 f"unicode_errors='replace' (or 'ignore')") from None
        elif number == 0:
            line = line.removeprefix("\ufeff")
        words = line.split()
        for i in range(0, len(words), max_sentence_length):
            yield words[i:i + max_sentence_length]


class LineSentence:
    """gensim's ``LineSentence``: a file (plain, gzip, bz2 or xz, told by its content) or
    an open file object, one sentence per line, tokens separated by whitespace; restartable.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A file object is rewound (``seek(0)``) before each pass, as gensim does.
    max_sentence_length : int, default 10000
        Longer lines are cut into sentences of this many tokens.
    limit : int, optional
        Read only the first `limit` lines.
    unicode_errors : {'strict', 'replace', 'ignore'}, default 'strict'
        For bytes that are not UTF-8 (gensim: always strict).
    """

    def __init__(self, source, max_sentence_length=10000, limit=None,
                 unicode_errors="strict"):
        _check_reader_args(max_sentence_length, limit, unicode_errors)
        if not hasattr(source, "read"):
            source = check_path(source)
        self.source, self.max_sentence_length, self.limit = source, max_sentence_length, limit
        self.unicode_errors = unicode_errors

    def __iter__(self):
        args = (self.max_sentence_length, self.limit, self.unicode_errors)
        if hasattr(self.source, "read"):
            self.source.seek(0)
            yield from _line_sentences(self.source, repr(self.source), *args)
            return
        with broken_compression_named(self.source, "corpus_file "), _open(self.source) as f:
            yield from _line_sentences(f, repr(self.source), *args)


class PathLineSentences:
    """gensim's ``PathLineSentences``: like :class:`LineSentence` over every file of a
    directory (not its subdirectories), in name order, or over one file; `limit` counts
    the lines of each file."""

    def __init__(self, source, max_sentence_length=10000, limit=None,
                 unicode_errors="strict"):
        _check_reader_args(max_sentence_length, limit, unicode_errors)
        if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
            names = sorted(os.listdir(source))
            self.input_files = [os.path.join(source, n) for n in names
                                if os.path.isfile(os.path.join(source, n))]
        elif isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
            self.input_files = [os.fspath(source)]
        else:
            raise ValueError(f"source {source!r} is neither a file nor a directory")
        self.source, self.max_sentence_length, self.limit = source, max_sentence_length, limit
        self.unicode_errors = unicode_errors

    def __iter__(self):
        for path in self.input_files:
            yield from LineSentence(path, self.max_sentence_length, self.limit,
                                    self.unicode_errors)


class Text8Corpus:
    """gensim's ``Text8Corpus``: the tokens of a file read as one stream (line breaks are
    whitespace like any other), in sentences of max_sentence_length tokens."""

    def __init__(self, fname, max_sentence_length=10000, unicode_errors="strict"):
        _check_reader_args(max_sentence_length, None, unicode_errors)
        self.fname = check_path(fname)
        self.max_sentence_length, self.unicode_errors = max_sentence_length, unicode_errors

    def __iter__(self):
        sentence, rest = [], b""
        for chunk in itertools.chain(iter_chunks(self.fname, 1 << 16), [None]):
            if chunk is None:
                text, rest = rest, b""
            else:
                text = rest + chunk
                cut = max(text.rfind(c) for c in (b" ", b"\t", b"\n", b"\r", b"\v", b"\f"))
                text, rest = (text[:cut], text[cut:]) if cut >= 0 else (b"", text)
            try:
                sentence.extend(text.decode("utf-8", self.unicode_errors).split())
            except UnicodeDecodeError as exc:
                raise ValueError(f"{self.fname!r}: not UTF-8 ({exc}); pass "
                                 f"unicode_errors='replace' (or 'ignore')") from None
            while len(sentence) >= self.max_sentence_length:
                yield sentence[:self.max_sentence_length]
                sentence = sentence[self.max_sentence_length:]
        if sentence:
            yield sentence
