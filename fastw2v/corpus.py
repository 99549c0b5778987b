"""Reading corpora: byte chunks from plain, gzip or bz2 files, and checks on iterables.

A corpus file holds one sentence per line, tokens separated by ASCII whitespace; a
text8-style file that is one huge line works too (see ``max_sentence_length``).
"""
from __future__ import annotations

import bz2
import gzip
import os
import zlib
from collections.abc import Iterable, Iterator

CHUNK_BYTES = 1 << 24

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"


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
    return path


def _open(path: str):
    """Open a file for binary reading, decompressing gzip or bz2 (told by the magic bytes,
    whatever the extension)."""
    with open(path, "rb") as f:
        head = f.read(3)
    if head.startswith(_GZIP_MAGIC):
        return gzip.open(path, "rb")
    if head.startswith(_BZ2_MAGIC):
        return bz2.open(path, "rb")
    return open(path, "rb")


def iter_chunks(path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield the (decompressed) bytes of a corpus file in chunks. A truncated or corrupt
    compressed file raises ValueError naming the file."""
    path = check_path(path)
    try:
        with _open(path) as f:
            while True:
                chunk = f.read(chunk_bytes)
                if not chunk:
                    return
                yield chunk
    except (EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(f"cannot read corpus_file {path!r}: the compressed data is "
                         f"truncated or corrupt ({exc})") from exc


def check_restartable(corpus, name: str = "corpus_iterable") -> Iterable:
    """Reject what cannot be iterated twice (a generator, an iterator) or is not a corpus
    of token lists at all."""
    if isinstance(corpus, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} is a {type(corpus).__name__}, not an iterable of token "
                        f"lists; to read a file, pass corpus_file={corpus!r}")
    if not isinstance(corpus, Iterable):
        raise TypeError(f"{name} must be an iterable of token lists, "
                        f"got {type(corpus).__name__}")
    if iter(corpus) is corpus:
        raise TypeError(
            f"{name} is a one-shot iterator ({type(corpus).__name__}): it would be empty "
            f"on the second pass (counting, then encoding). Pass a list, or an object "
            f"whose __iter__ starts a new pass each time, e.g.\n"
            f"    class Corpus:\n"
            f"        def __iter__(self):\n"
            f"            return make_sentences()")
    return corpus


def check_sentence(sentence, index: int):
    """Reject a sentence that is a string (a common slip: its characters would become
    the tokens) or not a sequence."""
    if isinstance(sentence, (str, bytes)):
        raise TypeError(f"sentence {index} is a {type(sentence).__name__}, not a list of "
                        f"tokens; split it first, e.g. line.split()")
    if not isinstance(sentence, Iterable):
        raise TypeError(f"sentence {index} must be a list of tokens, "
                        f"got {type(sentence).__name__}")
