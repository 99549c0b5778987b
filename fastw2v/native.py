"""fastw2v's own file format: numeric arrays plus JSON metadata in one file, memory-mappable,
written atomically, loaded without ever executing code.

Layout (integers little-endian)::

    offset  size  field
    0       12    magic b"\\x89FASTW2V\\r\\n\\x1a\\n"
    12      4     format version, uint32 (currently 1)
    16      8     header length in bytes, uint64
    24      4     CRC-32 of the header bytes, uint32
    28      4     reserved, zero
    32      ...   header: UTF-8 JSON, padded with spaces so that it ends at a multiple of 64
    ...           one .npy record per array (NPY magic and header, then the raw C-order
                  little-endian data); every record, hence every array's data, starts at
                  a multiple of 64 bytes, and zero bytes pad each record to the next one

The header is ``{"kind": str, "meta": {...}, "created_by": str, "arrays": {name:
{"dtype": "<f4", "shape": [...], "npy_offset": int, "offset": int, "nbytes": int,
"crc32": int}}}``; ``offset`` is where the array's data starts, so a reader in any
language can memory-map it; ``f.seek(npy_offset); numpy.load(f)`` reads one array.

Like PNG's, the magic catches the usual damage: ``\\x89`` a 7-bit transfer, ``\\r\\n`` a
newline conversion, ``\\x1a`` a DOS ``type``. Everything the header declares (sizes,
offsets, dtypes) is checked against the file's length before any array is allocated, and
only JSON and the .npy header literal (``ast.literal_eval``, no pickle) are ever parsed.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import operator
import os
import re
import secrets
import stat
import struct
import sys
import tokenize
import zlib

import numpy as np

from fastw2v import _vocab

MAGIC = b"\x89FASTW2V\r\n\x1a\n"
FORMAT_VERSION = 1
ALIGN = 64
_PREAMBLE = struct.Struct("<12sIQII")        # magic, version, header length, crc32, 0
_MAX_NPY_HEADER = 1 << 16
# numeric and bool only, little-endian or byte-order free: no object, string or void data
_DTYPE_RE = re.compile(r"^(\|b1|\|[iu]1|<[iu][248]|<f[248]|<c(8|16))$")
_LOADERS = {"keyedvectors": "fastw2v.KeyedVectors.load(path)",
            "word2vec": "fastw2v.Word2Vec.load(path)",
            "phrases": "fastw2v.Phrases.load(path)",
            "frozen_phrases": "fastw2v.FrozenPhrases.load(path)"}


# ---------------------------------------------------------------------------------------
# atomic writes

@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file next to `path` for binary writing; on success flush it, fsync
    it and rename it over `path`; on any error remove it and leave `path` untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)place. Its directory must exist.

    Yields
    ------
    file
        A binary file object opened for writing.

    Notes
    -----
    The temporary file is ``.<name>.<random>.tmp`` in the same directory (a rename is
    only atomic within one file system). It is created with mode 0o666 minus the umask,
    as ``open()`` would. Only a hard kill (SIGKILL, power loss) can leave one behind. A
    symbolic link is written through (its target is replaced), as ``open(path, "wb")``
    would, rather than replaced by a file. A target that exists and is not a regular file
    (``/dev/null``, ``/dev/stdout``, a named pipe) is written directly, as ``open(path,
    "wb")`` would: there is nothing to replace atomically, and renaming over it would
    put a plain file in its place.
    """
    path = os.fspath(path)
    if not path:
        raise ValueError("cannot write a file with an empty name")
    if is_special_file(path):
        with open(path, "wb") as f:
            yield f
        return
    if os.path.islink(path):
        path = os.path.realpath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: directory {directory!r} does not "
                                f"exist; create it first")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory; give a file name")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, flags, 0o666)
    except PermissionError:
        raise PermissionError(f"cannot write {path!r}: no permission to create files in "
                              f"{directory!r}") from None
    f = os.fdopen(fd, "wb")
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, path)
    except BaseException:
        f.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def is_special_file(path) -> bool:
    """Whether `path` exists (through links) and is not a regular file or a directory:
    a device, a pipe, a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _fsync_directory(directory):
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(f, data):
    """The one place that writes array and header bytes (tests make it fail mid-file)."""
    f.write(data)


# ---------------------------------------------------------------------------------------
# saving

def save_arrays(path, arrays, meta, kind):
    """Save named numeric arrays and JSON metadata in one fastw2v file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. Written to a temporary file in the same directory, fsynced, then
        renamed over `path`: a failure part-way leaves any previous file intact.
    arrays : dict of str to numpy.ndarray
        Numeric (bool, int, uint, float, complex) arrays of any shape, stored
        little-endian in C order. Object, string, structured and datetime arrays are
        refused.
    meta : dict
        JSON-serialisable metadata (str keys; str, int, float, bool, None, lists and
        dicts); it must come back unchanged from a JSON round trip, so tuples, non-str
        dict keys and NaN/inf are refused rather than silently altered.
    kind : str
        What the file holds (e.g. ``"keyedvectors"``, ``"word2vec"``); `load_arrays`
        checks it.

    Raises
    ------
    TypeError
        An array of a refused dtype, or metadata that JSON cannot represent.
    ValueError
        Metadata that would not survive a JSON round trip unchanged.
    """
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind must be a non-empty str such as 'keyedvectors', got {kind!r}")
    if not isinstance(arrays, dict):
        raise TypeError(f"arrays must be a dict of name -> numpy array, "
                        f"got {type(arrays).__name__}")
    meta_json = _check_meta(meta)
    prepared = {}
    for name, a in arrays.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"array names must be non-empty str, got {name!r}")
        prepared[name] = _prepare_array(name, a)

    # Lay out: preamble, header (its length depends on the offsets it lists, so iterate
    # until the padded length is stable), then the .npy records. The CRCs are of the
    # bytes as written (weights that change meanwhile, say trained in another thread,
    # still give a file that loads), so the header is laid out with the longest CRC and
    # written last, padded to that length.
    npy_headers = {name: _npy_header(a) for name, a in prepared.items()}
    widest = dict.fromkeys(prepared, 0xFFFFFFFF)
    header_len = ALIGN
    while True:
        text = _header_text(kind, meta_json, prepared, npy_headers, header_len, widest)
        needed = _align(_PREAMBLE.size + len(text) + 1) - _PREAMBLE.size
        if needed <= header_len:
            break
        header_len = needed

    with atomic_write(path) as f:
        if not f.seekable():
            raise ValueError(f"cannot write {os.fspath(path)!r} in fastw2v's format: it is "
                             f"not a file one can seek in (a pipe?), and the format's header "
                             f"is written last; write a regular file, or word2vec's text or "
                             f"binary format, which a pipe can take")
        _write_all(f, b"\0" * (_PREAMBLE.size + header_len))
        crcs = {}
        for name, a in prepared.items():
            _write_all(f, npy_headers[name])
            crcs[name] = _write_array(f, a)
            _write_all(f, b"\0" * (_align(a.nbytes) - a.nbytes))
        text = _header_text(kind, meta_json, prepared, npy_headers, header_len, crcs)
        text = text + b" " * (header_len - len(text) - 1) + b"\n"
        f.seek(0)
        _write_all(f, _PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(text), zlib.crc32(text), 0))
        _write_all(f, text)


def _header_text(kind, meta_json, prepared, npy_headers, header_len, crcs):
    """The JSON header (unpadded) for arrays laid out after a header of header_len."""
    pos = _PREAMBLE.size + header_len
    entries = {}
    for name, a in prepared.items():
        offset = pos + len(npy_headers[name])
        entries[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "npy_offset": pos,
                         "offset": offset, "nbytes": int(a.nbytes), "crc32": crcs[name]}
        pos = _align(offset + a.nbytes)
    header = {"kind": kind, "created_by": _created_by(), "meta": meta_json,
              "arrays": entries}
    return json.dumps(header, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


_WRITE_BLOCK = 1 << 24


def _write_array(f, a):
    """Write a's bytes in C order and return their CRC-32, computed on the very bytes
    written: each block is copied once, then checksummed and written. A matrix whose rows
    are contiguous but apart (padded output rows) is written a block of rows at a time,
    never copied whole."""
    if a.flags.c_contiguous:
        data = _bytes_of(a)
        chunks = (data[start:start + _WRITE_BLOCK] for start in range(0, len(data),
                                                                         _WRITE_BLOCK))
    else:
        step = max(1, _WRITE_BLOCK // max(1, a.shape[1] * a.itemsize))
        chunks = (a[start:start + step] for start in range(0, len(a), step))
    crc = 0
    for chunk in chunks:
        chunk = chunk.tobytes()
        crc = zlib.crc32(chunk, crc)
        _write_all(f, chunk)
    return crc


def _rows_contiguous(a):
    """Whether a is a matrix of contiguous rows in increasing memory order (a view of
    padded rows), which _write_array writes without a whole copy."""
    return (a.ndim == 2 and a.strides[1] == a.itemsize
            and a.strides[0] >= a.shape[1] * a.itemsize)


def _check_meta(meta):
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"meta must be JSON-serialisable (str keys; str, int, float, bool, "
                        f"None, list, dict; no NaN or inf): {exc}") from None
    back = json.loads(text)
    if back != meta:        # tuples would come back as lists, int dict keys as str
        raise ValueError("meta does not survive a JSON round trip unchanged (tuples become "
                         "lists, non-str dict keys become str): convert those values to "
                         "lists and str keys first")
    return back


def _prepare_array(name, a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"array {name!r} must be a numpy array, got {type(a).__name__}")
    if a.dtype.kind not in "biufc" or a.dtype.fields is not None:
        raise TypeError(f"array {name!r} has dtype {a.dtype}: only bool and numeric arrays "
                        f"can be stored (no object, string or structured data); encode "
                        f"strings as UTF-8 bytes in a uint8 array")
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    if not (a.flags.c_contiguous or _rows_contiguous(a)):
        a = np.ascontiguousarray(a)
    if not _DTYPE_RE.match(a.dtype.str):
        raise TypeError(f"array {name!r} has unsupported dtype {a.dtype} ({a.dtype.str})")
    return a


def _npy_header(a):
    buf = io.BytesIO()
    header = np.lib.format.header_data_from_array_1_0(a)
    try:
        np.lib.format.write_array_header_1_0(buf, header)
    except ValueError:                    # a huge shape tuple: needs the 2.0 header
        buf = io.BytesIO()
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


def _bytes_of(a):
    """The bytes of a C-contiguous array, as a flat uint8 view (no copy)."""
    return a.reshape(-1).view(np.uint8)


def _align(n):
    return -(-n // ALIGN) * ALIGN


def release_free_memory():
    """Hand the memory freed so far back to the operating system where the C library
    keeps it (glibc holds on to freed blocks inside its heap: after counting a corpus,
    some 20 MB on the benchmark corpus). Does nothing elsewhere."""
    global _malloc_trim
    if _malloc_trim is None:
        _malloc_trim = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                _malloc_trim = ctypes.CDLL(None).malloc_trim   # glibc only
            except (ImportError, OSError, AttributeError):   # no ctypes, or not glibc
                pass
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


def aligned_empty(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ALIGN (64) byte
    boundary, like the arrays in the files: JAX shares the memory of such an array
    (``jax.numpy.from_dlpack``) but copies a less aligned one, and the training kernels
    get rows that start on a cache line. Every weight matrix fastw2v allocates is one."""
    dtype = np.dtype(dtype)
    # a shape as np.empty takes it (an int too), in Python ints: an int64 product would
    # wrap around for absurd shapes
    shape = ((operator.index(shape),) if isinstance(shape, (int, np.integer))
             else tuple(operator.index(n) for n in shape))
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > sys.maxsize - ALIGN:
        raise ValueError(f"an array of shape {shape} and dtype {dtype} would take "
                         f"{nbytes:,} bytes, more than an array can hold")
    buf = np.empty(nbytes + ALIGN, np.uint8)
    # (not a slice of buf reshaped: numpy moves the data pointer of a reshaped empty array)
    return np.ndarray(shape, dtype, buffer=buf, offset=-buf.ctypes.data % ALIGN)


def aligned_copy(a, dtype) -> np.ndarray:
    """A 64-byte aligned C-contiguous copy of array a, converted to dtype."""
    out = aligned_empty(np.shape(a), dtype)
    out[...] = a
    return out


def aligned_zeros(shape, dtype) -> np.ndarray:
    """aligned_empty, filled with zeros."""
    a = aligned_empty(shape, dtype)
    a.fill(0)
    return a


def _created_by():
    version = getattr(sys.modules.get("fastw2v"), "__version__", "unknown")
    return f"fastw2v {version}"


# ---------------------------------------------------------------------------------------
# loading

def file_kind(path) -> str:
    """The kind of a fastw2v file ("keyedvectors", "word2vec", ...), read from its header
    (ValueError if it is not one)."""
    with open(path, "rb") as f:
        return _read_header(f, os.fspath(path), os.fstat(f.fileno()).st_size)[0]["kind"]


def load_arrays(path, mmap=None, kind=None):
    """Load the arrays and metadata of a fastw2v file, checking it thoroughly first.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_arrays`.
    mmap : {None, 'r', 'c'}, optional
        None reads the arrays into memory (and verifies their CRC-32); ``'r'`` returns
        read-only memory maps, ``'c'`` copy-on-write ones (writable, the file never
        changes). Memory maps are not checksummed (that would read the whole file).
    kind : str, optional
        If given, the file must hold this kind (e.g. ``"keyedvectors"``).

    Returns
    -------
    arrays : dict of str to numpy.ndarray
    meta : dict

    Raises
    ------
    ValueError
        Not a fastw2v file, a newer format version, a file of another kind, or a
        truncated or corrupt file; the message says what is wrong and at which offset.
        Nothing is allocated for a declared size before it is checked against the
        file's length.
    """
    if mmap not in (None, "r", "c"):
        raise ValueError(f"mmap must be None (read into memory), 'r' (read-only map) or "
                         f"'c' (copy-on-write map), got {mmap!r}")
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        header, data_start = _read_header(f, path, size)
        found = header["kind"]
        if kind is not None and found != kind:
            hint = _LOADERS.get(found)
            raise ValueError(f"{path!r} holds a {found!r} file, not {kind!r}"
                             + (f"; load it with {hint}" if hint else ""))
        entries = _check_entries(header["arrays"], path, size, data_start)
        for name, e in entries.items():
            _check_npy_record(f, path, name, e)
        arrays = {}
        for name, e in entries.items():
            if mmap is None or e["nbytes"] == 0:     # (an empty file region can't be mapped)
                arrays[name] = _read_array(f, path, name, e, verify=mmap is None)
                arrays[name].flags.writeable = mmap != "r"
            else:
                arrays[name] = np.memmap(path, dtype=e["dtype"], mode=mmap,
                                         offset=e["offset"], shape=e["shape"])
    return arrays, header["meta"]


def _read_header(f, path, size):
    head = f.read(_PREAMBLE.size)
    if len(head) < len(MAGIC) or not head.startswith(MAGIC):
        raise ValueError(f"{path!r} is not a fastw2v file: it starts with {head[:12]!r}, "
                         f"not the magic {MAGIC!r}" + _foreign_hint(head))
    if len(head) < _PREAMBLE.size:
        raise ValueError(f"{path!r} is truncated: {size} bytes, shorter than the "
                         f"{_PREAMBLE.size}-byte preamble")
    _, version, header_len, crc, _ = _PREAMBLE.unpack(head)
    if version > FORMAT_VERSION:
        raise ValueError(f"{path!r} uses fastw2v format version {version}, newer than the "
                         f"{FORMAT_VERSION} this fastw2v reads; upgrade fastw2v")
    if version < 1:
        raise ValueError(f"{path!r} is corrupt: format version {version} at byte 12")
    if header_len > size - _PREAMBLE.size:
        raise ValueError(f"{path!r} is truncated or corrupt: the header at byte "
                         f"{_PREAMBLE.size} declares {header_len} bytes but the file has "
                         f"only {size - _PREAMBLE.size} after the preamble")
    text = f.read(header_len)
    if zlib.crc32(text) != crc:
        raise ValueError(f"{path!r} is corrupt: the header (bytes {_PREAMBLE.size}.."
                         f"{_PREAMBLE.size + header_len}) fails its CRC-32 check")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path!r} is corrupt: the header at byte {_PREAMBLE.size} is not "
                         f"valid JSON ({exc})") from None
    if (not isinstance(header, dict) or not isinstance(header.get("kind"), str)
            or not isinstance(header.get("meta"), dict)
            or not isinstance(header.get("arrays"), dict)):
        raise ValueError(f"{path!r} is corrupt: its header lacks 'kind', 'meta' or "
                         f"'arrays'")
    return header, _PREAMBLE.size + header_len


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate name {k!r}")
        d[k] = v
    return d


def _foreign_hint(head):
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q", b"cg", b"cc"):
        return ("; it looks like a pickle (e.g. a gensim .save() file), which fastw2v "
                "never loads because unpickling runs code. Convert it with gensim: "
                "gensim.models.KeyedVectors.load(p).save_word2vec_format(out, "
                "binary=True), then fastw2v.KeyedVectors.load_word2vec_format(out, "
                "binary=True); for gensim phrases, "
                "fastw2v.FrozenPhrases.from_gensim(gensim.models.phrases.Phrases.load(p))")
    if head.startswith(b"\x93NUMPY"):
        return "; it is a single .npy array: read it with numpy.load(path)"
    if head[:1].isdigit():
        return ("; it looks like a word2vec file: use "
                "KeyedVectors.load_word2vec_format(path, binary=...)")
    return ""


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _check_entries(raw, path, size, data_start):
    entries = {}
    for name, e in raw.items():
        where = f"{path!r} is corrupt: array {name!r}"
        if not isinstance(e, dict):
            raise ValueError(f"{where}: its header entry is not an object")
        dtype, shape = e.get("dtype"), e.get("shape")
        if not isinstance(dtype, str) or not _DTYPE_RE.match(dtype):
            raise ValueError(f"{where}: dtype {dtype!r} is not a bool or numeric dtype")
        if not isinstance(shape, list) or not all(_is_int(n) for n in shape):
            raise ValueError(f"{where}: shape {shape!r} is not a list of non-negative ints")
        keys = ("npy_offset", "offset", "nbytes", "crc32")
        if not all(_is_int(e.get(k)) for k in keys):
            raise ValueError(f"{where}: {', '.join(keys)} must be non-negative ints")
        dt = np.dtype(dtype)
        nbytes = math.prod(shape) * dt.itemsize            # Python ints: no overflow
        if nbytes != e["nbytes"]:
            raise ValueError(f"{where}: shape {shape} of {dtype} is {nbytes} bytes, but "
                             f"the header says {e['nbytes']}")
        if e["npy_offset"] % ALIGN or e["offset"] % ALIGN:
            raise ValueError(f"{where}: offset {e['npy_offset']} / {e['offset']} is not a "
                             f"multiple of {ALIGN}")
        if not data_start <= e["npy_offset"] < e["offset"] <= e["npy_offset"] + _MAX_NPY_HEADER:
            raise ValueError(f"{where}: its .npy record at byte {e['npy_offset']} (data at "
                             f"{e['offset']}) lies outside the data section, which starts "
                             f"at byte {data_start}")
        if e["offset"] + nbytes > size:
            raise ValueError(f"{where} ({shape} of {dtype}, {nbytes} bytes at byte offset "
                             f"{e['offset']}) extends past the end of the file "
                             f"({size} bytes): the file is truncated or corrupt")
        entries[name] = {**e, "dtype": dt, "shape": tuple(shape)}
    # records must not overlap
    end = data_start
    for name, e in sorted(entries.items(), key=lambda item: item[1]["npy_offset"]):
        if e["npy_offset"] < end:
            raise ValueError(f"{path!r} is corrupt: array {name!r} at byte "
                             f"{e['npy_offset']} overlaps the previous record (ends at {end})")
        end = e["offset"] + e["nbytes"]
    return entries


def _check_npy_record(f, path, name, e):
    f.seek(e["npy_offset"])
    where = f"{path!r} is corrupt: the .npy record of array {name!r} at byte {e['npy_offset']}"
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                f, max_header_size=_MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                f, max_header_size=_MAX_NPY_HEADER)
        else:
            raise ValueError(f"unexpected .npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError, RecursionError,
            tokenize.TokenError) as exc:   # numpy parses the header with ast and tokenize
        raise ValueError(f"{where} is unreadable ({exc})") from None
    if (shape, fortran, dtype) != (e["shape"], False, e["dtype"]) or f.tell() != e["offset"]:
        raise ValueError(f"{where} says {dtype} {shape} (data at byte {f.tell()}), but the "
                         f"header says {e['dtype']} {e['shape']} at byte {e['offset']}")


def _read_array(f, path, name, e, verify):
    a = aligned_empty(e["shape"], e["dtype"])
    f.seek(e["offset"])
    if a.nbytes and f.readinto(_bytes_of(a)) != a.nbytes:
        raise ValueError(f"{path!r} is truncated: array {name!r} at byte {e['offset']} "
                         f"ends early")
    if verify and zlib.crc32(_bytes_of(a)) != e["crc32"]:
        raise ValueError(f"{path!r} is corrupt: array {name!r} ({a.nbytes} bytes at byte "
                         f"offset {e['offset']}) fails its CRC-32 check")
    return a


# ---------------------------------------------------------------------------------------
# vocabulary keys as arrays

def pack_keys(keys):
    """Encode vocabulary keys as arrays for :func:`save_arrays`.

    Parameters
    ----------
    keys : sequence
        Unique keys: str, int, float, bool, None, or tuples of those (numpy scalars
        count as their Python type).

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        ``{"keys_utf8", "keys_offsets"}`` when all keys are str (UTF-8 bytes and the
        byte offsets, shape (n + 1,), of each key); ``{"keys_int"}`` when all are ints
        that fit int64; else ``{"keys_json"}`` (a UTF-8 JSON list, tuples as lists).
    encoding : str
        ``"utf8"``, ``"int64"`` or ``"json"``: store it (e.g. in meta) for `unpack_keys`.

    Raises
    ------
    TypeError
        A key of another type (bytes, frozenset, objects...), or a non-finite float.
    """
    keys = list(keys)
    if all(type(k) is str for k in keys):
        encoded = [k.encode("utf-8", "surrogatepass") for k in keys]
        offsets = np.zeros(len(keys) + 1, np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), np.uint8)
        return {"keys_utf8": blob, "keys_offsets": offsets}, "utf8"
    if all(is_int_key(k) for k in keys):
        try:
            return {"keys_int": np.array([int(k) for k in keys], np.int64)}, "int64"
        except OverflowError:
            pass                                 # beyond int64: JSON keeps big ints
    plain = [_plain_key(k, k) for k in keys]
    text = json.dumps(plain, ensure_ascii=False, allow_nan=False).encode("utf-8",
                                                                         "surrogatepass")
    return {"keys_json": np.frombuffer(text, np.uint8)}, "json"


def unpack_keys(arrays, encoding):
    """Decode the keys stored by :func:`pack_keys`; ValueError if the arrays are
    inconsistent (a corrupt file)."""
    if encoding == "utf8":
        blob, offsets = arrays["keys_utf8"], arrays["keys_offsets"]
        if (blob.dtype != np.uint8 or offsets.dtype != np.int64 or offsets.ndim != 1
                or _vocab.bad_offset(np.ascontiguousarray(offsets), len(blob)) >= 0):
            raise ValueError("keys_offsets do not describe keys_utf8")
        data = blob.tobytes()
        try:
            text = data.decode("utf-8", "surrogatepass")
            if len(text) == len(data):           # all ASCII: byte offsets are str offsets
                bounds = offsets.tolist()
                return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            bounds = offsets.tolist()
            return [data[a:b].decode("utf-8", "surrogatepass")
                    for a, b in zip(bounds[:-1], bounds[1:])]
        except UnicodeDecodeError as exc:
            raise ValueError(f"keys_utf8 is not UTF-8 ({exc})") from None
    if encoding == "int64":
        ints = arrays["keys_int"]
        if ints.dtype != np.int64 or ints.ndim != 1:
            raise ValueError(f"keys_int must be 1-D int64, got {ints.dtype} {ints.shape}")
        return ints.tolist()
    if encoding == "json":
        blob = arrays["keys_json"]
        try:
            plain = json.loads(blob.tobytes().decode("utf-8", "surrogatepass"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ValueError(f"keys_json is not valid JSON ({exc})") from None
        if not isinstance(plain, list):
            raise ValueError("keys_json must hold a JSON list")
        return [_from_plain(k) for k in plain]
    raise ValueError(f"unknown key encoding {encoding!r}")


def is_int_key(k) -> bool:
    """Whether a key is an integer (int or numpy integer, not a bool): such keys are ids."""
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _plain_key(k, whole):
    """A key as a JSON value (tuples -> lists); TypeError for what cannot round-trip."""
    if isinstance(k, (str, bool, type(None))):
        return str(k) if isinstance(k, str) else k
    if isinstance(k, np.bool_):
        return bool(k)
    if is_int_key(k):
        return int(k)
    if isinstance(k, (float, np.floating)):
        if not math.isfinite(k):
            raise TypeError(f"key {whole!r} holds a non-finite float, which cannot be stored")
        return float(k)
    if isinstance(k, tuple):
        return [_plain_key(x, whole) for x in k]
    raise TypeError(f"key {whole!r} of type {type(k).__name__} cannot be stored in a fastw2v "
                    f"file: keys must be str, int, float, bool, None or tuples of those; "
                    f"map your keys to str first (pickle.dump keeps any key, a trained "
                    f"model included)")


def _from_plain(v):
    if isinstance(v, list):
        return tuple(_from_plain(x) for x in v)
    if isinstance(v, dict):
        raise ValueError("keys_json holds an object, which no key encodes to")
    return v
