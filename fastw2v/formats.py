"""word2vec.c's vector files, text and binary: read and write, interoperable with
word2vec.c and gensim.

Both formats start with a text header line ``"<n_vectors> <vector_size>\\n"``. A text
file then has one line per vector, ``word v1 v2 ... vd``; a binary file has, per vector,
the word's UTF-8 bytes, a space, and ``vector_size`` little-endian float32 (word2vec.c
writes a newline after each vector; readers skip newlines in front of a word).

Reading is streamed into one float32 matrix (plain binary files are memory-mapped;
gzip, bz2 and xz files, told by their magic bytes, are decompressed in chunks): binary
vectors are copied as raw bytes, all those of a chunk in one numpy gather; text numbers
are parsed by numpy a batch of lines at a time.
A header is checked against the file's length before the matrix is allocated; a short,
over-long or malformed file raises ``ValueError`` naming the byte offset (binary) or the
line (text) where it goes wrong.
"""
from __future__ import annotations

import bz2
import codecs
import gzip
import itertools
import logging
import lzma
import mmap
import os
import re
import stat

import numpy as np

from fastw2v import _vocab
from fastw2v.corpus import broken_compression_named, refuse_other_compression
from fastw2v.native import aligned_empty, atomic_write
from fastw2v.vocab import InvalidUTF8Error

logger = logging.getLogger("fastw2v")

CHUNK_BYTES = 1 << 24
# encodings in which byte 0x0a is always "\n": words can be joined and split on it
_ASCII_SAFE = ("utf-8", "iso8859-1", "ascii")
MAX_WORD_BYTES = 1 << 20     # a "word" longer than this means a wrong header or format
TEXT_BATCH_LINES = 4096
_HEADER_MAX_BYTES = 256
_GZIP_MAGIC, _XZ_MAGIC = b"\x1f\x8b", b"\xfd7zXZ\x00"
# "BZh", a block size digit, then a block or end-of-stream magic: a text file whose first
# word happens to start with "BZh" is not mistaken for bzip2
_BZ2_MAGIC = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)", re.DOTALL)
_MAX_ARRAY_BYTES = np.iinfo(np.intp).max     # the most bytes a numpy array can hold


def read_word2vec(path, *, binary=False, limit=None, unicode_errors="strict",
                  no_header=False, encoding="utf-8"):
    """Read a word2vec.c text or binary vector file.

    Parameters
    ----------
    path : str or os.PathLike
        Plain, gzip, bz2 or xz file (compression told by its magic bytes).
    binary : bool
        The binary format (else text).
    limit : int, optional
        Read only the first `limit` vectors. None or 0 reads them all (gensim's rule).
    unicode_errors : str
        How to decode words that are not valid in `encoding`: ``'strict'`` (raise),
        ``'replace'``, ``'ignore'``, ``'surrogateescape'`` (keeps the bytes, and
        :func:`write_word2vec` writes them back unchanged), ...
    no_header : bool
        Text files without the header line (GloVe); the size is found while reading.
    encoding : str
        Encoding of the words.

    Returns
    -------
    keys : list of str
        The words, duplicates dropped (the first occurrence is kept, with a warning).
    vectors : ndarray of float32, shape (len(keys), vector_size)
    n_records : int
        Vectors read from the file, duplicates included (gensim's fake counts use it).

    Raises
    ------
    ValueError
        A malformed, truncated or over-long file, or a header that disagrees with the
        data; the message gives the byte offset or line.
    """
    path = os.fspath(path)
    limit = check_row_count("limit", limit)
    try:
        codecs.lookup_error(unicode_errors)
    except LookupError:
        raise ValueError(f"unicode_errors={unicode_errors!r} is not an error handler; use "
                         f"'strict', 'replace', 'ignore' or 'surrogateescape'") from None
    if no_header and binary:
        raise ValueError("no_header=True works only for text files (binary=False): a binary "
                         "word2vec file always has a header line")
    f, compressed = open_binary(path)
    with f, broken_compression_named(path, compressed=compressed):
        if no_header:
            n_declared, dim, header_bytes = None, None, 0
        else:
            n_declared, dim, header_bytes = _read_header(f, path, binary)
        n_max = n_declared if not limit else (
            limit if n_declared is None else min(limit, n_declared))
        # the vectors to read (limit= applies), also for compressed files, whose
        # length is not known up front; at least one, so that a header declaring 0
        # vectors still has its vector size checked
        n_rows = max(n_max or 0, 1)
        if n_declared is not None and 4 * n_rows * dim > _MAX_ARRAY_BYTES:
            raise ValueError(
                f"{path!r} line 1: the header declares {n_declared} "
                f"vector{'' if n_declared == 1 else 's'} of {dim} "
                f"dimensions: {'one vector' if n_rows == 1 else f'{n_rows} vectors'} "
                f"would take {4 * n_rows * dim} bytes of float32, more than an array "
                f"can hold ({_MAX_ARRAY_BYTES} bytes); the header's count or vector "
                f"size is wrong")
        if not compressed and n_declared is not None:
            _check_declared_size(path, binary, n_max, dim, header_bytes)
        reader = _BinaryReader if binary else _TextReader
        return reader(f, path, n_declared, n_max, dim, header_bytes, compressed,
                      limit, encoding, unicode_errors).read()


def check_row_count(name, value):
    """A number of rows given as an argument (``limit`` here; ``restrict_vocab``,
    ``clip_start`` and ``clip_end`` of the queries): None or a non-negative int, returned
    as int. A bool, float or negative number is refused rather than used as a slice bound
    (``[:-1]`` or ``[:True]`` would silently read or search the wrong rows)."""
    if value is None:
        return None
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or value < 0):
        raise ValueError(f"{name} must be None or a non-negative int (a number of rows), "
                         f"got {value!r}")
    return int(value)


def open_binary(path):
    """Open a file for binary reading, decompressing gzip, bz2 or xz (told by the magic
    bytes, whatever the name).

    Returns
    -------
    file : binary file object
    compressed : bool
        Whether it is compressed (then its uncompressed length is unknown up front).
    """
    f = open(path, "rb")
    head = f.peek(10)[:10]               # (not read: a pipe cannot seek back)
    opener = (gzip.open if head.startswith(_GZIP_MAGIC)
              else lzma.open if head.startswith(_XZ_MAGIC)
              else bz2.open if _BZ2_MAGIC.match(head) else None)
    try:
        refuse_other_compression(head, path, "file")
        if opener is not None and not f.seekable():
            raise ValueError(f"{os.fspath(path)!r} is a compressed pipe: decompress into "
                             f"it (zcat file.gz), or give the file itself")
    except ValueError:
        f.close()
        raise
    if opener is None:
        return f, False
    f.close()
    return opener(path, "rb"), True


def _read_header(f, path, binary):
    raw = f.readline(_HEADER_MAX_BYTES)
    # (without a UTF-8 byte-order mark, an editor's; the length returned is the raw one)
    line = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    parts = line.split()
    ok = len(parts) == 2 and all(p.isdigit() for p in parts) and line.endswith(b"\n")
    if not ok:
        shown = line[:60]
        hint = (" If the file has no header line (GloVe), pass no_header=True." if not binary
                else "")
        if not line:
            raise ValueError(f"{path!r} is empty: expected a word2vec header line "
                             f"'<n_vectors> <vector_size>'")
        raise ValueError(f"{path!r} line 1: expected the word2vec header "
                         f"'<n_vectors> <vector_size>', got {shown!r}.{hint}")
    n, dim = int(parts[0]), int(parts[1])
    if dim < 1:
        raise ValueError(f"{path!r} line 1: the header declares vector_size {dim}; it must be "
                         f"at least 1")
    return n, dim, len(raw)


def _check_declared_size(path, binary, n, dim, header_bytes):
    # The smallest record: an empty word, then 4 bytes per number (binary) or a space and
    # one digit per number (text). Checked before allocating n x dim floats.
    available = os.path.getsize(path) - header_bytes
    need = n * (dim * 4 + 1) if binary else n * 2 * dim
    if need > available:
        raise ValueError(
            f"{path!r}: the header (line 1) declares {n} vectors of {dim} dimensions, which "
            f"need at least {need} bytes, but only {available} bytes follow the header: "
            f"the file is truncated or its header is wrong"
            + ("" if binary else " (or it is a binary file: pass binary=True)"))


class _Rows:
    """The output matrix: allocated at once when the (checked) count is known, else grown
    as rows actually arrive, so a lying header never makes us allocate."""

    def __init__(self, dim, n_max, preallocate):
        self.dim = dim
        self.n_max = n_max
        self.array = aligned_empty((n_max if preallocate else 0, dim), np.float32)
        self.n = 0

    def reserve(self, n_rows):
        """Room for n_rows rows; called only for rows already read (never on a promise)."""
        if n_rows > len(self.array):
            cap = max(n_rows, 2 * len(self.array))
            if self.n_max is not None:
                cap = min(cap, self.n_max)
            grown = aligned_empty((cap, self.dim), np.float32)
            grown[:self.n] = self.array[:self.n]
            self.array = grown

    def finish(self):
        if self.n == len(self.array):
            return self.array
        rows = aligned_empty((self.n, self.dim), np.float32)   # release the unused capacity
        rows[...] = self.array[:self.n]
        return rows


def _decode_words(raw_words, path, encoding, errors, where, dim=None):
    """Decode word bytes; `where(i)` says where word i is, for the error message; `dim`
    (binary files) is the header's vector size, suspected when a word holds control
    bytes (then words and vectors are misaligned)."""
    try:
        return [w.decode(encoding, errors) for w in raw_words]
    except UnicodeDecodeError:
        for i, w in enumerate(raw_words):
            try:
                w.decode(encoding, errors)
            except UnicodeDecodeError as exc:
                msg = f"{path!r} {where(i)}: the word {w[:40]!r} is not valid {encoding}"
                if dim is not None and any(c < 0x20 for c in w):
                    raise ValueError(f"{msg} and holds control bytes: the header's vector "
                                     f"size ({dim}) is probably wrong, so that words and "
                                     f"vectors are misaligned") from None
                raise ValueError(f"{msg} ({exc.reason}); pass unicode_errors='replace' or "
                                 f"'ignore' (or 'surrogateescape' to keep the bytes) to load "
                                 f"it anyway") from None
        raise


def _drop_duplicates(keys, vectors, path):
    """gensim's rule for a word that appears twice: keep its first vector, warn."""
    if len(set(keys)) == len(keys):
        return keys, vectors
    seen, keep = set(), []
    for i, k in enumerate(keys):
        if k in seen:
            logger.warning("duplicate word %r in %s (vector %d), ignoring all but the first",
                           k, path, i + 1)
        else:
            seen.add(k)
            keep.append(i)
    kept = aligned_empty((len(keep), vectors.shape[1]), vectors.dtype)
    np.take(vectors, keep, axis=0, out=kept)
    return [keys[i] for i in keep], kept


class _BinaryReader:
    def __init__(self, f, path, n_declared, n_max, dim, header_bytes, compressed, limit,
                 encoding, unicode_errors):
        self.f, self.path, self.dim = f, path, dim
        self.n_declared, self.n_max, self.limit = n_declared, n_max, limit
        self.encoding, self.errors = encoding, unicode_errors
        self.record = 4 * dim
        self.header_bytes = header_bytes
        self.compressed = compressed
        self.rows = _Rows(dim, n_max, preallocate=not compressed)
        self.keys = []
        self.n_records = 0

    def read(self):
        if self.compressed:
            self._read_stream()
        else:
            self._read_mapped()
        keys, vectors = _drop_duplicates(self.keys, self.rows.finish(), self.path)
        return keys, vectors, self.n_records

    def _read_mapped(self):
        size = os.path.getsize(self.path)
        with mmap.mmap(self.f.fileno(), size, access=mmap.ACCESS_READ) as buf:
            pos = self._parse(buf, self.header_bytes, 0, size)
            if self.n_records < self.n_max:
                self._truncated(pos, size)
            self._check_trailing((buf[i:i + CHUNK_BYTES] for i in range(pos, size, CHUNK_BYTES)),
                                 pos)

    def _read_stream(self):
        buf, base = b"", self.header_bytes      # base: file offset of buf[0]
        pos = 0
        while self.n_records < self.n_max:
            chunk = self.f.read(CHUNK_BYTES)
            buf = buf[pos:] + chunk
            base += pos
            pos = self._parse(buf, 0, base, base + len(buf))
            if not chunk and self.n_records < self.n_max:
                self._truncated(base + pos, base + len(buf))
        self._check_trailing(itertools.chain([buf[pos:]],
                                             iter(lambda: self.f.read(CHUNK_BYTES), b"")),
                             base + pos)

    def _parse(self, buf, pos, base, file_end):
        """Copy the complete records of buf[pos:] into the matrix; return where the first
        incomplete one starts. base is the file offset of buf[0], file_end that of its end.

        A compiled scan finds where records are; words are decoded and
        vectors copied for all of them at once afterwards.
        """
        record = self.record
        n_left = self.n_max - self.n_records
        starts, spaces, pos, bad = _vocab.scan_binary_records(buf, pos, n_left, record,
                                                              MAX_WORD_BYTES)
        if bad:
            raise ValueError(
                f"{self.path!r} byte offset {base + pos}: no space (end of word) "
                f"within {MAX_WORD_BYTES} bytes for vector "
                f"{self.n_records + len(spaces) + 1}: the header's vector size "
                f"({self.dim}) is wrong or this is not a binary word2vec file")
        if not len(spaces):
            return pos
        if self.n_records == 0:
            self._check_looks_binary(buf[spaces[0] + 1:spaces[0] + 1 + record],
                                     base + spaces[0] + 1)
        # word2vec.c writes a newline after each vector: it starts the next word.
        # Fast path: decode all words at once; any doubt -> word by word, for exact
        # errors and policies.
        words = None
        if self.errors == "strict" and codecs.lookup(self.encoding).name in _ASCII_SAFE:
            try:
                words = _vocab.join_words(buf, starts, spaces).decode(
                    self.encoding).split("\n")
            except UnicodeDecodeError:
                words = None
            if words is not None and len(words) != len(spaces):
                words = None
        if words is None:
            raw = [buf[a:b].lstrip(b"\n") for a, b in zip(starts.tolist(), spaces.tolist())]
            # word2vec.c's words never hold a newline, gensim's may (it writes any key
            # and reads it back): loaded, but said, since more often the vector before it
            # held more bytes than the header's vector size says
            odd = [i for i, w in enumerate(raw) if b"\n" in w]
            if odd:
                i = odd[0]
                logger.warning(
                    "%r byte offset %d: the word of vector %d holds a newline (%r), and %d "
                    "more words in this block do; a key written so by gensim, or a "
                    "vector before it longer than the header's %d float32 (a damaged "
                    "file)", self.path, base + int(spaces[i]) - len(raw[i]),
                    self.n_records + i + 1, raw[i][:40], len(odd) - 1, self.dim)
            words = _decode_words(raw, self.path, self.encoding, self.errors,
                                  lambda i: f"byte offset {base + int(spaces[i]) - len(raw[i])}",
                                  self.dim)
        self.keys += words
        rows = self.rows
        rows.reserve(rows.n + len(spaces))
        out = rows.array.reshape(-1).view(np.uint8).reshape(-1, record)
        if len(spaces) and record:
            _vocab.copy_records(buf, spaces, record, out[rows.n:rows.n + len(spaces)])
        rows.n += len(spaces)
        self.n_records += len(spaces)
        return pos

    def _check_looks_binary(self, data, offset):
        if len(data) >= 16 and all(c in b"0123456789.-+eE \n\r\t" for c in data):
            raise ValueError(f"{self.path!r} byte offset {offset}: the first vector's bytes "
                             f"are all digits and spaces: this looks like a text file; pass "
                             f"binary=False")

    def _truncated(self, offset, end):
        raise ValueError(
            f"{self.path!r} ends at byte offset {end} after {self.n_records} complete "
            f"vectors, but the header declares {self.n_declared} of {self.dim} float32 "
            f"({self.record} bytes each, after the word): the file is truncated, or the "
            f"header's count or vector size is wrong (the incomplete record starts at byte "
            f"offset {offset})")

    def _check_trailing(self, chunks, offset):
        """Raise if anything but whitespace follows the declared vectors; `chunks` are the
        rest of the file (read one at a time), starting at file offset `offset`."""
        if self.limit and self.limit < self.n_declared:
            return                               # stopped early on purpose
        for chunk in chunks:
            rest = chunk.lstrip()
            if rest:
                raise ValueError(
                    f"{self.path!r} byte offset {offset + len(chunk) - len(rest)}: data "
                    f"continues after the {self.n_declared} vectors the header declares: "
                    f"the header's count or vector size ({self.dim}) is wrong")
            offset += len(chunk)


class _TextReader:
    def __init__(self, f, path, n_declared, n_max, dim, header_bytes, compressed, limit,
                 encoding, unicode_errors):
        self.f, self.path, self.dim = f, path, dim
        self.n_declared, self.n_max, self.limit = n_declared, n_max, limit
        self.encoding, self.errors = encoding, unicode_errors
        self.dim_from = "the header (line 1)"
        preallocate = not compressed and n_declared is not None
        self.rows = None if dim is None else _Rows(dim, n_max, preallocate)
        self.keys = []
        self.n_records = 0
        self.warned_nonfinite = False

    def read(self):
        n_max = self.n_max
        line_no = 0 if self.n_declared is None else 1      # the header is line 1
        words, word_lines, flat = [], [], []
        cut = False                              # the last vector's line had no newline
        for raw in self.f:
            line_no += 1
            if line_no == 1:                     # no header: a byte-order mark, if any
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            line = raw.rstrip()
            if not line:
                continue                         # blank lines carry no vector
            if n_max is not None and self.n_records >= n_max:
                if self.limit and (self.n_declared is None or self.limit < self.n_declared):
                    break                        # stopped early on purpose
                raise ValueError(f"{self.path!r} line {line_no}: another vector after the "
                                 f"{self.n_declared} the header declares: the header's "
                                 f"count is wrong")
            word, _, rest = line.partition(b" ")
            values = rest.split()
            if b"_" in rest:                     # float() takes "1_0" as 10, strtof as 1
                token = next(t for t in values if b"_" in t)
                raise ValueError(f"{self.path!r} line {line_no}: {token[:40]!r} is not a "
                                 f"number")
            if self.dim is None:                 # no header: the first line sets the size
                if not values:
                    raise ValueError(f"{self.path!r} line {line_no}: no numbers after the "
                                     f"word {word[:40]!r}")
                self.dim = len(values)
                self.dim_from = f"line {line_no}"
                self.rows = _Rows(self.dim, n_max, False)
            if len(values) != self.dim:
                raise ValueError(
                    f"{self.path!r} line {line_no}: {len(values)} numbers after the word "
                    f"{word[:40]!r}, but {self.dim_from} says vectors have {self.dim}"
                    f"{_binary_hint(line)}")
            self.n_records += 1
            cut = not raw.endswith(b"\n")
            words.append(word)
            word_lines.append(line_no)
            flat += values
            if len(word_lines) == TEXT_BATCH_LINES:
                self._store(words, word_lines, flat)
                words, word_lines, flat = [], [], []
        self._store(words, word_lines, flat)
        if self.n_declared is not None and self.n_records < self.n_max:
            raise ValueError(
                f"{self.path!r} ends at line {line_no} after {self.n_records} vectors, but "
                f"the header declares {self.n_declared}: the file is truncated or its "
                f"header's count is wrong")
        if cut:
            # a file cut inside its last number still holds dim numbers on that line
            logger.warning("%r line %d, the last vector's, does not end with a newline: "
                           "if the file was cut short, its last number may be cut too "
                           "(word2vec.c and gensim end every line with one)",
                           self.path, line_no)
        if self.rows is None:
            raise ValueError(f"{self.path!r} holds no vectors")
        keys, vectors = _drop_duplicates(self.keys, self.rows.finish(), self.path)
        return keys, vectors, self.n_records

    def _store(self, words, lines, flat):
        if not lines:
            return
        self.keys += _decode_words(words, self.path, self.encoding, self.errors,
                                   lambda i: f"line {lines[i]}")
        try:
            numbers = np.array(flat, dtype=np.float64)
        except ValueError:
            self._find_bad_number(flat, lines)
            raise
        rows = self.rows
        rows.reserve(rows.n + len(lines))
        # parsed as float64, then rounded to float32, as gensim's np.float32(str) does:
        # identical vectors
        block = rows.array[rows.n:rows.n + len(lines)]
        with np.errstate(over="ignore"):     # said below, with the line
            block[...] = numbers.reshape(len(lines), self.dim)
        rows.n += len(lines)
        if self.warned_nonfinite:
            return
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            self.warned_nonfinite = True
            i = int(np.argmin(finite))
            logger.warning("%r line %d: the vector holds inf or nan (a number written so, "
                           "or beyond float32's range, about 3.4e38); it loads as it is "
                           "(said once per file)", self.path, lines[i])

    def _find_bad_number(self, flat, lines):
        for i, line_no in enumerate(lines):
            for token in flat[i * self.dim:(i + 1) * self.dim]:
                try:
                    float(token)
                except ValueError:
                    raise ValueError(
                        f"{self.path!r} line {line_no}: {token[:40]!r} is not a number"
                        f"{_binary_hint(token)}") from None


def _binary_hint(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return " (this looks like a binary file: pass binary=True)"
    return ""


def read_vocab_counts(path, unicode_errors="strict", encoding="utf-8"):
    """Read a word2vec.c ``-save-vocab`` file (``word count`` per line) into a dict.

    The one reader of this format (``load_word2vec_format(fvocab=)`` and the command
    line's ``-read-vocab`` both use it). Reads the files gensim reads: word and count
    separated by spaces or tabs, trailing whitespace ignored. Unlike gensim, which strips
    each line and so refuses an empty word, leading whitespace is part of the word, so
    that an empty key, which :func:`write_vocab_counts` writes as ``" count"``, reads
    back; and blank lines are skipped (gensim refuses them). A key ending in a tab does
    not read back (nor in gensim). The count is digits only (no sign, no ``_``).

    Raises
    ------
    ValueError
        A line that is not a word and a count (no separator, or no count at its end), or
        a word already read on an earlier line (gensim keeps the last count, word2vec.c
        makes two entries: neither is what the file meant), naming the file and the line.
        Different spellings that decode to one word (under 'replace' or 'ignore') are
        that word, their counts summed, as when a corpus is counted.
    InvalidUTF8Error
        (a ValueError) Under ``unicode_errors='strict'``, a word that is not valid in
        `encoding`, naming the file and the line.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"vocabulary file {os.fspath(path)!r} does not exist") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"vocabulary file {os.fspath(path)!r} is a directory; give "
                                f"the file")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        # (/dev/zero would be read into memory as one endless line)
        raise ValueError(f"{os.fspath(path)!r} is a device, not a vocabulary file of "
                         f"'word count' lines")
    f, compressed = open_binary(os.fspath(path))
    with f, broken_compression_named(path, compressed=compressed):
        return _read_vocab_lines(f, os.fspath(path), unicode_errors, encoding)


def _read_vocab_lines(f, path, unicode_errors, encoding):
    counts, first_line = {}, {}      # first_line: of each spelling, as bytes
    for line_no, line in enumerate(f, 1):
        if line_no == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")        # (a byte-order mark)
        line = line.rstrip(b" \t\r\n\x0b\x0c")
        if not line:
            continue
        # the count is the digits at the end; the word is what precedes the spaces or
        # tabs before them (a word holding a tab, "x\ty 5", stays whole)
        head = line.rstrip(b"0123456789")
        raw, count = head.rstrip(b" \t"), line[len(head):]
        where = f"{path!r} line {line_no}"
        if not count or len(raw) == len(head):
            shown = line[:60].decode(encoding, "replace")    # text, not bytes
            raise ValueError(f"{where}: expected 'word count' (a word, a space or tab, "
                             f"a non-negative integer), got {shown!r}")
        count = count.lstrip(b"0") or b"0"
        if len(count) > 19 or int(count) >= 1 << 63:
            raise ValueError(f"{where}: the count {count[:30].decode()}"
                             f"{'...' if len(count) > 30 else ''} is larger than an int64 "
                             f"holds (2**63 - 1)")
        try:
            word = raw.decode(encoding, unicode_errors)
        except UnicodeDecodeError as exc:
            raise InvalidUTF8Error(
                f"{where}: the word {raw[:60]!r} is not valid {encoding} ({exc.reason});"
                f" pass unicode_errors='replace' (or 'ignore') to decode it anyway"
            ) from None
        if raw in first_line:
            raise ValueError(f"{where}: the word {word!r} is already on line "
                             f"{first_line[raw]}; give each word one line")
        first_line[raw] = line_no
        counts[word] = counts.get(word, 0) + int(count)
        if counts[word] >= 1 << 63:
            raise ValueError(f"{where}: the counts of {word!r} (spelt in several ways "
                             f"that decode alike) add up to more than an int64 holds")
    return counts


def write_word2vec(path, keys, vectors, *, binary=False, write_header=True, total_vec=None,
                   prefix="", append=False, order=None):
    """Write vectors in word2vec.c's text or binary format.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; a name ending in .gz, .bz2 or .xz is compressed (as gensim does).
        Written atomically (temporary file, fsync, rename) unless `append`.
    keys : sequence
        One key per row, written as ``str(key)`` in UTF-8 (surrogate-escaped bytes are
        written back as they were read). A key holding a space or a newline is refused:
        the format could not be read back; so are two keys written alike (``1`` and
        ``"1"``, ``None`` and ``"None"``), of which reading back would keep one.
    vectors : ndarray, shape (len(keys), vector_size)
        Written as float32: raw little-endian (binary) or ``%.9g`` text, which reads back
        to the identical float32.
    binary : bool
        Binary format (else text).
    write_header : bool
        Write the ``"<n_vectors> <vector_size>"`` line (False: GloVe style).
    total_vec : int, optional
        Count to declare in the header instead of ``len(keys)`` (for appending more later).
    prefix : str
        Written in front of every key.
    append : bool
        Append to `path` instead of replacing it (not atomic).
    order : array_like of int, optional
        Write row ``order[i]`` of `vectors` as the i-th vector (`keys` are already in
        that order); saves copying the matrix to reorder it.
    """
    path = os.fspath(path)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or len(keys) != len(vectors):
        raise ValueError(f"need one key per row of a 2-D matrix: {len(keys)} keys, vectors "
                         f"of shape {vectors.shape}")
    if order is not None:
        order = np.asarray(order, dtype=np.int64)
        if order.shape != (len(vectors),):
            raise ValueError(f"order must have shape ({len(vectors)},), got {order.shape}")
    words = _encode_keys(keys, prefix)
    n, dim = vectors.shape
    header = f"{n if total_vec is None else int(total_vec)} {dim}\n".encode()
    if append:
        with open(path, "ab") as raw, compressor(path, raw) as f:
            _write_records(f, header if write_header else b"", words, vectors, order, binary)
    else:
        with atomic_write(path) as raw, compressor(path, raw) as f:
            _write_records(f, header if write_header else b"", words, vectors, order, binary)


def _encode_keys(keys, prefix):
    words = []
    for i, key in enumerate(keys):
        word = f"{prefix}{key}"
        try:
            raw = word.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise ValueError(f"key {i} ({key!r}) cannot be written as UTF-8 ({exc.reason})"
                             ) from None
        if b" " in raw or b"\n" in raw:
            raise ValueError(f"key {i} ({key!r}) contains a space or a newline, which the "
                             f"word2vec format uses as separators; replace them first "
                             f"(e.g. with '_'), or use KeyedVectors.save()")
        words.append(raw)
    if len(set(words)) != len(words):
        first = {}
        for i, raw in enumerate(words):
            j = first.setdefault(raw, i)
            if j != i:
                raise ValueError(
                    f"keys {j} ({keys[j]!r}) and {i} ({keys[i]!r}) are both written as "
                    f"{raw.decode('utf-8', 'surrogateescape')!r}, so reading the file back "
                    f"would keep only the first; make the keys distinct as str first, or "
                    f"use KeyedVectors.save()")
    return words


def compressor(path, raw):
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
    if lower.endswith(".bz2"):
        return bz2.BZ2File(raw, "wb")
    if lower.endswith(".xz"):
        return lzma.LZMAFile(raw, "wb")
    return _NoClose(raw)


class _NoClose:
    """Context manager that hands the file through (atomic_write closes it)."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        return False


def _write_records(f, header, words, vectors, order, binary, rows_per_batch=4096):
    f.write(header)
    n, dim = vectors.shape
    fmt = " ".join(["%.9g"] * dim)      # 9 significant digits: exact float32 round trip
    for s in range(0, n, rows_per_batch):
        rows = slice(s, s + rows_per_batch) if order is None else order[s:s + rows_per_batch]
        block = np.ascontiguousarray(vectors[rows], dtype="<f4")
        if binary:
            raw = block.reshape(-1).view(np.uint8)
            rec = 4 * dim
            parts = []
            for j, word in enumerate(words[s:s + len(block)]):
                parts += (word, b" ", raw[j * rec:(j + 1) * rec], b"\n")
            f.write(b"".join(parts))
        else:
            lines = [b"%s %s\n" % (word, (fmt % tuple(row)).encode())
                     for word, row in zip(words[s:s + len(block)], block.tolist())]
            f.write(b"".join(lines))


def write_vocab_counts(path, keys, counts, prefix="", append=False):
    """Write ``word count`` lines (word2vec.c's ``-save-vocab`` format); a name ending in
    .gz, .bz2 or .xz is compressed, as by :func:`write_word2vec` (gensim decompresses
    by the name). Written atomically unless `append`."""
    path = os.fspath(path)
    words = _encode_keys(keys, prefix)
    data = b"".join(b"%s %d\n" % (w, int(c)) for w, c in zip(words, counts))
    if append:
        with open(path, "ab") as raw, compressor(path, raw) as f:
            f.write(data)
    else:
        with atomic_write(path) as raw, compressor(path, raw) as f:
            f.write(data)
