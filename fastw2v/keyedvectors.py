"""Word vectors with their vocabulary: lookups, similarity queries (one at a time or
batched), evaluation and file I/O, with gensim 4's names, semantics and answers.

Similarities are cosines computed against unit vectors that are cached once in float32
(`fill_norms`; lengths in float64). Nearest neighbours are exact: every query is scored
against every row (blocked matrix products) and the top n taken with a partial
selection; ties go to the lower row (the more frequent word).
"""
from __future__ import annotations

import difflib
import logging
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fastw2v import formats, native
from fastw2v.vocab import python_key

logger = logging.getLogger("fastw2v")

_LANES = 1024                 # column groups of the batched top-k search (see _top_k)
_BLOCK_FLOATS = 1 << 24       # scores held per block of queries: 64 MB of float32
_TINY64 = np.finfo(np.float64).tiny
# guards the store of a KeyedVectors' cache of unit vectors against a change of the
# vectors made by another thread while they were computed (see KeyedVectors._cached)
_CACHE_LOCK = threading.Lock()
_NORM_BLOCK_FLOATS = 1 << 16  # floats per block of rows in float64 (_float64_blocks)


class UnknownKeyError(KeyError):
    """A key that is not in the vocabulary. The message, with close matches, is built
    only when shown, so ``try: wv[w] except KeyError:`` loops stay fast."""

    def __init__(self, key, kv):
        super().__init__(key)
        self.key = key
        self._kv = kv

    def __reduce__(self):
        # (pickled across processes as a plain KeyError with its message, not the vectors)
        return KeyError, (str(self),)

    def __str__(self):
        kv, key = self._kv, self.key
        msg = f"key {key!r} not present in vocabulary of {len(kv)} keys"
        close = _close_matches(key, kv) if isinstance(key, str) else []
        if close:
            msg += f"; close matches: {', '.join(map(repr, close))}"
        return msg


def _close_matches(key, kv, n=3, scan=10_000):
    # Case variants anywhere in the vocabulary (O(1) each), then spelling neighbours among
    # the `scan` most frequent keys (difflib over all of a large vocabulary takes seconds).
    found = [v for v in dict.fromkeys((key.lower(), key.capitalize(), key.upper(),
                                       key.title())) if v != key and v in kv.key_to_index]
    pool = [k for k in kv.index_to_key[:scan] if isinstance(k, str)]
    for m in difflib.get_close_matches(key, pool, n=n):
        if m not in found:
            found.append(m)
    return found[:n]


class KeyedVectors:
    """A float32 matrix whose row i is the vector of key ``index_to_key[i]``.

    Parameters
    ----------
    vectors : array_like of float, shape (n_keys, vector_size), or int
        Used as is (no copy) when already float32 and C-contiguous (a read-only memory
        map included); otherwise converted once, into a 64-byte aligned matrix. Complex
        vectors are refused (TypeError). An int is gensim 4's ``KeyedVectors(vector_size,
        count=0, dtype=np.float32)``: no keys yet, to be filled with `add_vector` or
        `add_vectors`; ``count=N`` reserves room for N keys, which those then fill without
        copying the matrix (gensim shows the N rows at once, under keys None; here
        ``len(kv)`` and ``kv.vectors`` hold the keys added so far).
    index_to_key : sequence
        Key of each row: any hashable (words are str; Word2Vec on id sequences gives
        int keys). Keys must be unique. Not given with an int `vectors`.
    counts : array_like of int, optional
        Corpus count of each key (int64), read by ``get_vecattr(key, "count")``. Counts
        must be whole numbers (``3.0`` is taken as 3, ``2.7`` is refused) and not negative.

    Attributes
    ----------
    vectors : ndarray of float32, shape (n_keys, vector_size)
    index_to_key : list
    key_to_index : dict
    counts : ndarray of int64 or None
    norms : ndarray of float64 or None
        Row lengths, once `fill_norms` has run (as in gensim; float64 here, since the
        length of a finite float32 row can exceed the float32 range).
    vectors_lockf : ndarray of float32 or None
        gensim's lock factors, read when a Word2Vec model trains these vectors: row i's
        updates are multiplied by ``vectors_lockf[i]`` (0 freezes it, 1 trains it as
        usual). None (the default) is 1 for every row; an array has one entry per key (or
        a single one for all, when there is more than one key); keys added later get 1.
        `intersect_word2vec_format` sets it.

    Notes
    -----
    As in gensim 4: an int that is not a key is taken as a row number (``wv[0]`` is the
    first vector) -- but only when no key is an int, so that a vocabulary of int ids
    never confuses an unknown id with a row. After changing ``vectors`` in place, call
    ``fill_norms(force=True)``.
    """

    vectors_lockf = None        # (the class default: objects pickled before it existed)
    # the unit vectors, norms and non-finite rows of `_cache_of` (the vectors array they
    # were computed from) at `_version` (bumped by every change that drops them)
    _cache = None
    _cache_of = None
    _version = 0
    # {attribute name: (buffer, front)}: `front` (the attribute's array, while it is that
    # very object) is buffer[:n], and rows past n are free for the next keys
    _room = None

    def __init__(self, vectors=None, index_to_key=None, counts=None, *, vector_size=None,
                 count=0, dtype=np.float32):
        if vector_size is not None:             # gensim's keyword
            if vectors is not None:
                raise TypeError("give the vectors or vector_size=, not both")
            vectors = vector_size
        room = None
        if isinstance(vectors, numbers.Integral) and not isinstance(vectors, (bool, np.bool_)):
            vectors, index_to_key = _empty_as_gensim(vectors, index_to_key, counts, count,
                                                     dtype)
            counts = None
            room = vectors
            vectors = room[:0]
        elif vectors is None:
            raise TypeError("KeyedVectors needs the vectors and their keys, or a vector "
                            "size for an empty set: KeyedVectors(vector_size)")
        elif index_to_key is None:
            raise TypeError("KeyedVectors(vectors, index_to_key): the keys of the rows are "
                            "missing (or pass an int, the vector size, for an empty set to "
                            "fill with add_vectors)")
        elif count != 0 or np.dtype(dtype) != np.float32:
            raise TypeError("count= and dtype= go with KeyedVectors(vector_size) only")
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (n_keys, vector_size), got shape "
                             f"{vectors.shape}")
        if len(index_to_key) != vectors.shape[0]:
            raise ValueError(f"{len(index_to_key)} keys for {vectors.shape[0]} vectors")
        if vectors.dtype.kind == "c":
            raise TypeError(f"vectors must be real, got {vectors.dtype}: converting would drop "
                            f"the imaginary parts; pass vectors.real (or np.abs(vectors)) if "
                            f"that is what you mean")
        if vectors.dtype == np.float32 and vectors.flags.c_contiguous:
            self.vectors = vectors               # the caller's matrix (or memory map) itself
        else:
            # a copy: 64-byte aligned, as every matrix fastw2v allocates (JAX shares it)
            self.vectors = native.aligned_copy(vectors, np.float32)
        self.index_to_key = list(index_to_key)
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            _refuse_duplicate(self.index_to_key)
        if counts is not None:
            counts = _as_counts(counts, "counts")
            if counts.shape != (len(self.index_to_key),):
                raise ValueError(f"counts must have one entry per key, shape "
                                 f"({len(self.index_to_key)},), got {counts.shape}")
        self.counts = counts
        self.vectors_lockf = None
        if room is not None:                     # count=N's reserve
            self._room = {"vectors": (room, self.vectors)}

    def __repr__(self):
        return f"<KeyedVectors: {len(self)} keys x {self.vector_size} dims>"

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name == "vectors":            # new vectors: the cached unit vectors are not theirs
            self._forget_norms()
        elif name == "index_to_key":     # (also assigned by hand, as in gensim's recipes)
            object.__setattr__(self, "_int_keys", _has_int_keys(value))
        room = self.__dict__.get("_room")
        if room and name in room and room[name][1] is not value:
            del room[name]               # (the buffer's rows are no longer these)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_room", None)         # (a copy's adds must not write into this buffer)
        if self._valid_cache() is None:  # (a stale cache is not worth carrying)
            state["_cache"] = state["_cache_of"] = None
        return state

    def __setstate__(self, state):
        # objects pickled before the cache was one tuple held _unit, _norms, _bad_rows
        old = tuple(state.pop(name, None) for name in ("_unit", "_norms", "_bad_rows"))
        self.__dict__.update(state)
        if all(x is not None for x in old):
            self.__dict__["_cache"], self.__dict__["_cache_of"] = old, self.vectors

    def __getattr__(self, name):
        # only reached for a missing attribute: gensim 3's names get gensim 4's answer
        raise missing_attribute(self, name, _GENSIM3_NAMES)

    # -----------------------------------------------------------------------------------
    # lookups

    @property
    def vector_size(self) -> int:
        """Dimensionality of the vectors."""
        return self.vectors.shape[1]

    @property
    def norms(self):
        """Length of each vector (float64), or None before `fill_norms`."""
        cache = self._valid_cache()
        return None if cache is None else cache[1]

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return self.has_index_for(key)

    def has_index_for(self, key) -> bool:
        """Whether `key` has a row (a key, or a row number as described in the Notes)."""
        return self.get_index(key, -1) >= 0

    def __getitem__(self, key_or_keys):
        """Vector of a key (1-D), or a matrix of the vectors of a list of keys (a copy).

        A tuple is one key if it is in the vocabulary (tuple keys exist), else a sequence
        of keys, as in gensim.
        """
        if self._is_key_sequence(key_or_keys):
            return self.vectors[[self.get_index(k) for k in key_or_keys]]
        return self.get_vector(key_or_keys)

    def __setitem__(self, key_or_keys, vectors):
        """Set the vector of a key, or the vectors (rows of a matrix) of a list of keys,
        adding keys not present (gensim 4's ``wv[key] = vector``: add_vectors with
        replace=True)."""
        # (an int that is not a key is a new key here, as in gensim, although wv[0] reads
        # row 0 when no key is an int)
        if self._is_key_sequence(key_or_keys):
            self.add_vectors(list(key_or_keys), vectors, replace=True)
        else:                            # (one key at a time, as add_vector: with room)
            self._add_vectors([key_or_keys], np.reshape(vectors, (1, -1)), None, True,
                              spare=True)

    def _is_key_sequence(self, x):
        if isinstance(x, (list, np.ndarray)):
            return True
        return isinstance(x, tuple) and x not in self.key_to_index

    def get_index(self, key, default=None) -> int:
        """Row of `key`.

        Parameters
        ----------
        key : hashable
            A key, or (when no key is an int) a row number.
        default : int, optional
            Returned for an unknown key instead of raising.

        Raises
        ------
        KeyError
            Unknown key and no default; the message names close matches.
        """
        try:
            index = self.key_to_index.get(key)
        except TypeError:                         # unhashable: cannot be a key
            index = None
        if index is not None:
            return index
        if (not self._int_keys and native.is_int_key(key) and 0 <= key < len(self)):
            return int(key)
        if default is not None:
            return default
        raise UnknownKeyError(key, self)

    def get_vector(self, key, norm=False) -> np.ndarray:
        """The vector of `key` (a read-only view), or with `norm` a new unit-length copy
        of it as it is now (not from the cache of `fill_norms`)."""
        index = self.get_index(key)
        if norm:
            return self._current_unit_rows([index])[0]
        v = self.vectors[index]
        v.flags.writeable = False       # writing through it would invalidate the norms
        return v

    def word_vec(self, key, norm=False) -> np.ndarray:
        """gensim's older name for `get_vector`."""
        return self.get_vector(key, norm=norm)

    def sort_by_descending_frequency(self):
        """Reorder the rows by descending count into a new matrix, as gensim 4's (tied
        rows in reverse order, as there): row numbers change, keys keep their vectors,
        counts and lock factors. A model or lookup layer holding the old matrix keeps it.

        Raises
        ------
        ValueError
            Vectors without counts.
        """
        if not len(self):
            return
        if self.counts is None:
            raise ValueError("these vectors have no counts to sort by (give counts=, or "
                             "extras={'count': ...} to add_vectors)")
        order = np.lexsort((-np.arange(len(self)), -self.counts))
        lockf = lockf_array(self.vectors_lockf, len(self), "vectors_lockf")
        self.vectors = np.take(self.vectors, order, axis=0,
                               out=native.aligned_empty(self.vectors.shape, np.float32))
        self.counts = self.counts[order]
        if lockf is not None:
            self.vectors_lockf = lockf[order]
        self.index_to_key = [self.index_to_key[i] for i in order.tolist()]
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        self._forget_norms()

    def get_vecattr(self, key, attr):
        """Per-key attribute; only ``"count"`` is stored (gensim's name)."""
        self._check_attr(attr)
        return int(self.counts[self.get_index(key)])

    def set_vecattr(self, key, attr, val):
        """Set a per-key attribute; only ``"count"`` is stored."""
        if attr != "count":
            raise KeyError(f"vector attribute {attr!r} cannot be stored; fastw2v stores "
                           f"only 'count'")
        index = self.get_index(key)
        val = _as_counts(val, f"the count of {key!r}")
        if val.shape != ():
            raise ValueError(f"the count of {key!r} must be one number, got shape {val.shape}")
        if self.counts is None:
            self.counts = np.zeros(len(self), np.int64)
        self.counts[index] = val

    def _check_attr(self, attr):
        if attr != "count":
            raise KeyError(f"vector attribute {attr!r} does not exist; fastw2v stores only "
                           f"'count'")
        if self.counts is None:
            raise KeyError("these vectors have no 'count' attribute (they were built "
                           "without counts)")

    def _check_writeable(self, what):
        """Refuse, with the fix, to write into read-only vectors (numpy's own error,
        "assignment destination is read-only", does not say why or what to do). The
        counts need no check: they are always the instance's own copy."""
        if not self.vectors.flags.writeable:
            raise ValueError(f"{what} would change kv.vectors, which are read-only (as "
                             f"when loaded with KeyedVectors.load(path, mmap='r')); load "
                             f"them with mmap=None (into memory) or mmap='c' (copy-on-"
                             f"write), or first make a writable copy: kv.vectors = "
                             f"kv.vectors.copy()")

    def add_vector(self, key, vector) -> int:
        """Add one key and its vector (gensim 4's add_vector); returns its row. A key
        already present keeps its vector. Adding keys one by one takes amortised constant
        time: the matrix grows with room for half as many keys again (or fills the room
        reserved by ``KeyedVectors(vector_size, count=N)``), where gensim copies the whole
        matrix each time."""
        self._add_vectors([key], vector, None, False, spare=True)
        return self.key_to_index[key]

    def add_vectors(self, keys, weights, extras=None, replace=False):
        """Add keys and their vectors (gensim 4's add_vectors): new keys are appended in
        order; a key already present keeps its vector, or takes the new one with
        ``replace=True``. ``extras={"count": counts}`` gives the new keys' counts (else
        0). The matrix grows into a new array, or into the room reserved by
        ``KeyedVectors(vector_size, count=N)`` or left by `add_vector`: either way
        ``kv.vectors`` is then a new array object, and a model, a lookup layer or an array
        that shared the old one does not see the new rows. Where the rows went into room,
        the old rows stay in the same memory, shared with the old array (a lookup layer
        built before still trains them); where the matrix grew, they were copied. Replacing
        vectors that are read-only (``mmap='r'``) raises ValueError.

        `keys` is one key if it is a str, bytes or an int (gensim's rule, which has no
        bytes), else an iterable of keys (a list, tuple, array, generator...); add a key
        of another type, a tuple say, with `add_vector`."""
        self._add_vectors(keys, weights, extras, replace, spare=False)

    def _add_vectors(self, keys, weights, extras, replace, spare):
        # spare: leave room for half as many keys again when the matrix must grow
        if isinstance(keys, (str, bytes)) or native.is_int_key(keys):
            keys = [keys]
        else:
            try:
                keys = list(keys)
            except TypeError:
                raise TypeError(f"keys must be a key (str, bytes or int) or an iterable of "
                                f"keys, got {keys!r}; add a key of another type with "
                                f"add_vector(key, vector)") from None
        weights = np.asarray(weights)
        if weights.ndim == 1 and len(keys) == 1:
            weights = weights.reshape(1, -1)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"weights must have shape ({len(keys)}, {self.vector_size}) "
                             f"for {len(keys)} keys, got {weights.shape}")
        if weights.dtype.kind not in "iuf":
            raise TypeError(f"weights must be real numbers, got {weights.dtype}")
        if len(set(keys)) != len(keys):
            raise ValueError("keys must be unique within one add_vectors call")
        extras = dict(extras or {})
        if set(extras) - {"count"}:
            raise KeyError(f"vector attributes {sorted(set(extras) - {'count'})} cannot be "
                           f"stored; fastw2v stores only 'count'")
        counts = None
        if "count" in extras:
            counts = _as_counts(extras["count"], "extras['count']").reshape(-1)
            if len(counts) != len(keys):
                raise ValueError(f"extras['count'] needs {len(keys)} counts, got "
                                 f"{len(counts)}")
        known = [i for i, k in enumerate(keys) if k in self.key_to_index]
        new = [i for i, k in enumerate(keys) if k not in self.key_to_index]
        if not new and not (replace and known):
            return                                # nothing to add or replace
        n = len(self.index_to_key)
        if new:                                   # (checked before anything changes)
            lockf = lockf_array(self.vectors_lockf, n, "vectors_lockf")
        if replace and known:                     # (checked before changing anything)
            self._check_writeable("add_vectors(..., replace=True)")
        if counts is not None and self.counts is None:
            self.counts = np.zeros(len(self), np.int64)     # the old keys' counts: 0
        if replace and known:
            self.vectors[[self.key_to_index[keys[i]] for i in known]] = weights[known]
            if counts is not None:
                self.counts[[self.key_to_index[keys[i]] for i in known]] = counts[known]
        if new:
            self._append_rows(weights[new], None if counts is None else counts[new], lockf,
                              max(16, n // 2) if spare else 0)
            for i in new:
                self.key_to_index[keys[i]] = len(self.index_to_key)
                self.index_to_key.append(keys[i])
            self._int_keys = self._int_keys or any(native.is_int_key(keys[i]) for i in new)
        self._forget_norms()

    def _append_rows(self, rows, counts, lockf, extra):
        """Append vectors `rows`, their `counts` (None: 0) and lock factors 1 to the
        matrix, counts (if kept) and `lockf` (the checked factors of the old rows, or
        None), with `extra` rows of room left when they must grow."""
        self.vectors = self._appended("vectors", self.vectors, rows, extra)
        if self.counts is not None:
            added = counts if counts is not None else np.zeros(len(rows), np.int64)
            self.counts = self._appended("counts", self.counts, added, extra)
        if lockf is not None:
            lockf = self._appended("vectors_lockf", lockf, np.ones(len(rows), np.float32),
                                   extra)
        self.vectors_lockf = lockf

    def _appended(self, name, arr, tail, extra):
        """`arr` with the rows `tail` after its own: written into the free rows of the
        buffer that `arr` fronts (count=N's reserve, or room an earlier add left), else
        into a new buffer with `extra` free rows beyond. Rows already in `arr` are never
        written, so every array handed out before still holds what it held."""
        room = self.__dict__.setdefault("_room", {})
        n, m = len(arr), len(arr) + len(tail)
        buffer, front = room.get(name, (None, None))
        if front is not arr or len(buffer) < m:
            buffer = native.aligned_empty((m + extra,) + arr.shape[1:], arr.dtype)
            buffer[:n] = arr
        buffer[n:m] = tail
        room[name] = buffer, buffer[:m]
        return room[name][1]

    def resize_vectors(self, seed=0):
        """Make the matrix match ``index_to_key`` (gensim 4's resize_vectors), after keys
        were appended to (or removed from the end of) ``index_to_key`` by hand: rows past
        the old end get gensim's random start, uniform in [-1/dim, 1/dim) from
        ``numpy.random.default_rng(seed)``; rows past the new end are dropped. Counts of
        new keys are 0, their lock factors 1; ``key_to_index`` is rebuilt from
        ``index_to_key`` (keys must stay unique)."""
        keys = list(self.index_to_key)
        if len(set(keys)) != len(keys):
            _refuse_duplicate(keys)
        n, m, dim = len(self.vectors), len(keys), self.vector_size
        if m > n:
            # gensim draws every row, then puts the old ones back: the same draws here,
            # those for the old rows drawn and dropped a block at a time
            rng = np.random.default_rng(seed)
            for done in range(0, n * dim, 1 << 20):
                rng.random(min(1 << 20, n * dim - done), dtype=np.float32)
            fresh = rng.random((m - n, dim), dtype=np.float32)
            fresh *= 2.0
            fresh -= 1.0
            fresh /= dim
            self._append_rows(fresh, None, lockf_array(self.vectors_lockf, n,
                                                       "vectors_lockf"), 0)
        elif m < n:
            self.vectors = self.vectors[:m]
            if self.counts is not None:
                self.counts = self.counts[:m]
            lockf = lockf_array(self.vectors_lockf, n, "vectors_lockf")
            self.vectors_lockf = None if lockf is None else lockf[:m]
        self.index_to_key = keys
        self.key_to_index = {k: i for i, k in enumerate(keys)}
        self._forget_norms()

    @classmethod
    def from_gensim(cls, kv):
        """KeyedVectors from gensim 4's (or a gensim model's ``wv``): keys (numpy scalars
        as Python values), vectors (copied, float32) and counts where gensim has them."""
        if not all(hasattr(kv, name) for name in ("vectors", "index_to_key",
                                                  "get_vecattr")):
            raise TypeError(f"from_gensim needs gensim 4 KeyedVectors (model.wv), got "
                            f"{type(kv).__name__}")
        keys = [python_key(k) for k in kv.index_to_key]
        counts = None
        if "count" in getattr(kv, "expandos", {}):
            counts = np.asarray(kv.expandos["count"], np.int64)[:len(keys)]
        return cls(native.aligned_copy(np.asarray(kv.vectors), np.float32), keys, counts)

    def to_gensim(self):
        """gensim 4 KeyedVectors holding a copy of these keys, vectors and counts (for a
        whole model, ``Word2Vec.to_gensim``). Needs gensim."""
        try:
            from gensim.models import KeyedVectors as GensimKeyedVectors
        except ImportError:
            raise ImportError("to_gensim() needs gensim: pip install gensim") from None
        g = GensimKeyedVectors(self.vector_size)
        g.add_vectors(list(self.index_to_key), np.array(self.vectors))
        if self.counts is not None:
            # (gensim 4.4's add_vectors(extras=dict) unpacks the dict's keys as pairs)
            g.allocate_vecattrs(attrs=["count"], types=[np.int64])
            g.expandos["count"][:] = self.counts
        return g

    def vectors_for_all(self, keys, allow_inference=True, copy_vecattrs=False):
        """New KeyedVectors holding the vectors of `keys` that are present, in the order
        given, duplicates dropped (gensim 4's vectors_for_all; without subword vectors
        there is nothing to infer, so `allow_inference` changes nothing)."""
        chosen = list(dict.fromkeys(k for k in keys if k in self.key_to_index))
        rows = [self.key_to_index[k] for k in chosen]
        counts = self.counts[rows] if copy_vecattrs and self.counts is not None else None
        vectors = np.take(self.vectors, rows, axis=0,
                          out=native.aligned_empty((len(rows), self.vector_size), np.float32))
        return KeyedVectors(vectors, chosen, counts)

    # -----------------------------------------------------------------------------------
    # unit vectors

    def unit_normalize_all(self):
        """Scale every vector to unit length, in place (gensim 4's unit_normalize_all):
        the original lengths are lost. Zero vectors stay zero; vectors holding NaN or inf
        become NaN.

        Raises
        ------
        ValueError
            Read-only vectors (memory-mapped with ``mmap='r'``).
        """
        self._check_writeable("unit_normalize_all()")
        unit, norms, bad = self._cached()
        self.vectors[...] = unit
        # the vectors are their own unit vectors now: one matrix, not two (gensim's aim);
        # the lengths are 1 (as gensim sets them; here 0 for a zero vector, which stays
        # zero, and NaN for one holding NaN or inf)
        with _CACHE_LOCK:
            self._version += 1
            self._cache_of = self.vectors
            self._cache = (self.vectors,
                           np.where(np.isfinite(norms), np.sign(norms), np.nan), bad)

    def init_sims(self, replace=False):
        """gensim 3's name (deprecated there): `fill_norms`, or with replace=True
        `unit_normalize_all`."""
        import warnings
        warnings.warn("init_sims() is deprecated (as in gensim 4): use fill_norms(), or "
                      "unit_normalize_all() for replace=True", DeprecationWarning,
                      stacklevel=2)
        if replace:
            self.unit_normalize_all()
        else:
            self.fill_norms()

    def fill_norms(self, force=False):
        """Compute the unit vectors (float32) and norms (float64) once; `force` recomputes
        them after the vectors changed (training does this).

        A zero vector's unit vector is zero (similarity 0 to everything). A vector with
        NaN or inf has NaN similarities and is never returned as a neighbour. Lengths are
        computed and kept in float64, so that vectors of huge or tiny (finite) float32
        numbers get exact unit vectors and finite lengths too.
        """
        self._cached(force)

    def _valid_cache(self):
        """The cache (unit, norms, bad rows) if it belongs to the vectors as they are
        (an assigned ``vectors`` array makes it stale), else None."""
        cache = self._cache
        return cache if cache is not None and self._cache_of is self.vectors else None

    def _cached(self, force=False):
        """(unit vectors, norms, non-finite rows), computed when missing, stale or
        forced. Queries in other threads may change the vectors meanwhile (training,
        add_vectors, a lookup layer's step): what was computed from vectors that changed
        before it was done serves this call only, and is not kept."""
        with _CACHE_LOCK:
            cache, version, vectors = self._valid_cache(), self._version, self.vectors
        if cache is not None and not force:
            return cache
        unit, norms = _unit_rows(vectors)
        bad = np.flatnonzero(~np.isfinite(norms))
        if len(bad):
            logger.warning("%d vectors hold NaN or inf (first: %r); they are never "
                           "returned as neighbours", len(bad), self.index_to_key[bad[0]])
        with _CACHE_LOCK:
            if self._version == version and self.vectors is vectors:
                self._cache, self._cache_of = (unit, norms, bad), vectors
        return unit, norms, bad

    @property
    def nonfinite_rows(self) -> np.ndarray:
        """Rows whose vectors hold NaN or inf (never returned as neighbours)."""
        return self._cached()[2]

    def unit_vectors(self) -> np.ndarray:
        """All vectors scaled to unit length, float32, cached (see `fill_norms`); a
        read-only view of the cache, which the similarity queries read."""
        view = self._cached()[0].view()
        view.flags.writeable = False
        return view

    def _forget_norms(self):
        """Drop the cached unit vectors and lengths (the vectors were changed in place):
        the next query computes them again, and one being computed now is not kept."""
        with _CACHE_LOCK:
            self._version += 1
            self._cache = self._cache_of = None

    def _current_unit_rows(self, rows):
        """Unit vectors of `rows` as the vectors are now (a few rows: cheaper than a
        cache that may be stale): lengths in float64, results in float32 as the cache's
        (and gensim's unitvec: similarity() equals gensim's to the bit). A zero row
        stays zero; NaN/inf give NaN."""
        v = self.vectors[rows].astype(np.float64)          # (len(rows), dim)
        with np.errstate(invalid="ignore"):
            v /= np.maximum(np.sqrt(np.einsum("ij,ij->i", v, v)), _TINY64)[:, None]
        return v.astype(np.float32)

    def get_normed_vectors(self) -> np.ndarray:
        """gensim's name for `unit_vectors`."""
        return self.unit_vectors()

    # -----------------------------------------------------------------------------------
    # similarity queries

    def get_mean_vector(self, keys, weights=None, pre_normalize=True, post_normalize=False,
                        ignore_missing=True) -> np.ndarray:
        """Weighted mean of the vectors of `keys` (gensim's rules).

        Parameters
        ----------
        keys : sequence of keys or 1-D arrays, or a 2-D array (one vector per row)
            Arrays are used as given (never normalised).
        weights : sequence of float, optional
            One per key (default 1). The sum is divided by the sum of ``|weight|``.
        pre_normalize : bool
            Use the unit vectors of keys.
        post_normalize : bool
            Scale the result to unit length (a zero result stays zero).
        ignore_missing : bool
            Skip unknown keys (else raise KeyError).

        Returns
        -------
        ndarray of float32, shape (vector_size,)

        Raises
        ------
        ValueError
            No keys, or not as many weights as keys.
        """
        if len(keys) == 0:
            raise ValueError("cannot compute a mean of no keys: give at least one key or "
                             "vector")
        weights = (np.ones(len(keys), np.float64) if weights is None
                   else np.asarray(weights, dtype=np.float64))
        if weights.shape != (len(keys),):
            raise ValueError(f"keys and weights must have the same length, got {len(keys)} "
                             f"keys and weights of shape {weights.shape}")
        # summed in float64, with the weights scaled to at most 1 (which leaves the mean
        # as it is): a sum of huge (finite) vectors or weights cannot overflow, while
        # their mean always fits in float32
        biggest = np.abs(weights).max()
        if np.isfinite(biggest) and biggest > 0:
            weights = weights / biggest
        mean = np.zeros(self.vector_size, np.float64)
        total = 0.0
        for key, w in zip(keys, weights):
            if isinstance(key, np.ndarray):
                mean += w * self._check_vector(key)
            elif key in self:
                mean += w * self.get_vector(key, norm=pre_normalize)
            elif not ignore_missing:
                raise UnknownKeyError(key, self)
            else:
                continue
            total += abs(float(w))
        if total > 0:
            mean /= total
        if post_normalize:
            return _unit_rows(mean[None])[0][0]
        return mean.astype(np.float32)

    def most_similar(self, positive=None, negative=None, topn=10, clip_start=0,
                     clip_end=None, restrict_vocab=None, indexer=None):
        """Keys nearest by cosine to the mean of the unit vectors of `positive` minus those
        of `negative`; keys given in the query are left out of the answer.

        Parameters
        ----------
        positive, negative : key, 1-D array, or list of keys, arrays and (key, weight)
            A 2-D array counts as a list of vectors. Weights default to 1 (positive) and
            -1 (negative); a (key, weight) pair uses its weight as given. Arrays are used
            as given (not normalised), like gensim.
        topn : int or None
            Number of neighbours; None returns the similarity to every row (1-D float32).
        clip_start, clip_end : int
            Search rows ``clip_start:clip_end`` only.
        restrict_vocab : int, optional
            Search the first `restrict_vocab` rows only (overrides the clip range).
        indexer : object, optional
            An approximate index with ``most_similar(vector, topn)`` (gensim's).

        Returns
        -------
        list of (key, float)
            Most similar first; ties go to the lower row.

        Raises
        ------
        ValueError
            An empty query, an array of the wrong size, a query holding NaN or inf (a
            vector, a weight, or a key whose vector holds them), or a range that is not
            None or a non-negative int.
        KeyError
            An unknown key.

        See Also
        --------
        most_similar_batch : many queries at once (a 2-D array here means their mean, as
            in gensim).
        """
        clip_start = formats.check_row_count("clip_start", clip_start)
        clip_end = formats.check_row_count("clip_end", clip_end)
        restrict_vocab = formats.check_row_count("restrict_vocab", restrict_vocab)
        if isinstance(topn, numbers.Integral) and topn < 1:
            return []
        positive, negative = self._as_items(positive), self._as_items(negative)
        weights = [1.0] * len(positive) + [-1.0] * len(negative)
        keys = []
        for i, item in enumerate(positive + negative):
            if self._is_weighted(item):
                keys.append(item[0])
                weights[i] = float(item[1])
            else:
                keys.append(item)
        if not keys:
            raise ValueError("most_similar needs at least one positive or negative key or "
                             "vector")
        mean = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True,
                                    ignore_missing=False)
        if not np.isfinite(mean).all():
            self._explain_nonfinite(keys, weights)
        exclude = {self.get_index(k) for k in keys if not isinstance(k, np.ndarray)}
        if indexer is not None and isinstance(topn, numbers.Integral):
            return indexer.most_similar(mean, topn)
        clip_start, clip_end = clip_start or 0, clip_end or len(self)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        dists = self.unit_vectors()[clip_start:clip_end] @ mean
        if not topn:
            return dists
        return self._best(dists, topn, exclude, clip_start)

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        """`most_similar` of one key."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """gensim's alias of `similar_by_key`."""
        return self.similar_by_key(word, topn, restrict_vocab)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """`most_similar` of one vector (no key is left out)."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10,
                            restrict_vocab=None):
        """Keys that maximise Levy & Goldberg's 3CosMul: the product of the shifted
        similarities ``(1 + cos) / 2`` to `positive` divided by that to `negative`
        (+ 1e-6), as gensim computes it.

        Parameters
        ----------
        positive, negative : key, 1-D array, or list of keys and arrays
            Arrays are used as given (not normalised), like gensim.
        topn : int or None
            None returns the objective for every row.
        restrict_vocab : int, optional
            Search the first `restrict_vocab` rows only (gensim accepts but ignores it).

        Returns
        -------
        list of (key, float)

        Raises
        ------
        ValueError
            No positive item, a query vector (or a key's vector) holding NaN or inf, or a
            `restrict_vocab` that is not None or a non-negative int.
        """
        restrict_vocab = formats.check_row_count("restrict_vocab", restrict_vocab)
        if isinstance(topn, numbers.Integral) and topn < 1:
            return []
        positive, negative = self._as_items(positive), self._as_items(negative)
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive key or vector")
        exclude = {self.get_index(k) for k in positive + negative
                   if not isinstance(k, np.ndarray)}
        unit = self.unit_vectors()[:restrict_vocab or len(self)]

        def shifted(items):
            terms = [self._check_vector(k) if isinstance(k, np.ndarray)
                     else self.get_vector(k, norm=True) for k in items]
            if not all(np.isfinite(t).all() for t in terms):
                self._explain_nonfinite(items)
            out = np.ones(len(unit), np.float32)
            for t in terms:
                out *= (1 + unit @ t) / 2
            return out

        dists = shifted(positive) / (shifted(negative) + np.float32(0.000001))
        if not topn:
            return dists
        return self._best(dists, topn, exclude, 0)

    def _best(self, dists, topn, exclude, offset):
        """(key, score) of the topn best rows of dists (row i is key i + offset) outside
        `exclude`."""
        scores = dists
        if np.isnan(scores).any():           # rows holding NaN/inf: never neighbours
            scores = np.where(np.isnan(scores), np.float32(-np.inf), scores)
        ids, vals = _top_k(scores[None, :], min(topn + len(exclude), len(scores)))
        out = [(self.index_to_key[i + offset], float(v)) for i, v in zip(ids[0], vals[0])
               if i >= 0 and i + offset not in exclude]
        return out[:topn]

    def most_similar_batch(self, queries, topn=10, restrict_vocab=None, exclude=None,
                           workers=None):
        """Nearest neighbours of many queries at once: top-n row ids and cosines per query.

        Exact (every query is scored against every row, by blocked matrix products), and
        fast: 10,000 queries over 100,000 words take a couple of seconds on two cores.

        Parameters
        ----------
        queries : 2-D array of shape (n_queries, vector_size), or a sequence of keys
            Vectors are compared by cosine (their length does not matter). For keys, the
            key's own row is left out of its answer (like ``most_similar(key)``).
        topn : int
            Neighbours per query (at most the number of rows searched).
        restrict_vocab : int, optional
            Search the first `restrict_vocab` rows only.
        exclude : array_like of int, shape (n_queries, m), optional
            Rows to leave out of each query's answer; -1 entries are ignored.
        workers : int, optional
            Threads (default: the number of CPUs, at most 8).

        Returns
        -------
        ids : ndarray of int64, shape (n_queries, topn)
            Row ids, most similar first (``index_to_key[id]`` is the key); -1 where fewer
            than `topn` rows remain after exclusions.
        scores : ndarray of float32, shape (n_queries, topn)
            Cosine similarities (-inf where the id is -1).

        Raises
        ------
        ValueError
            No queries, a non-finite query (or a key whose vector holds NaN or inf),
            shapes that do not match, or a `restrict_vocab` that is not None or a
            non-negative int.
        """
        restrict_vocab = formats.check_row_count("restrict_vocab", restrict_vocab)
        self_rows = None
        # one snapshot of the cache for the whole call (another thread may change the
        # vectors meanwhile)
        cached_unit, _, cached_bad = self._cached()
        if isinstance(queries, np.ndarray) and queries.dtype.kind in "biuf" and not (
                queries.ndim == 1 and queries.dtype.kind in "iu"):    # (1-D ints: keys)
            q = np.asarray(queries, dtype=np.float32)
            if q.ndim != 2 or q.shape[1] != self.vector_size:
                raise ValueError(f"queries must have shape (n_queries, {self.vector_size}), "
                                 f"got {q.shape}; for one vector use most_similar()")
            if not np.isfinite(q).all():
                bad = int(np.flatnonzero(~np.isfinite(q).all(axis=1))[0])
                raise ValueError(f"query {bad} holds NaN or inf")
            q = _unit_rows(q)[0]
        else:
            if isinstance(queries, (str, bytes)) or not hasattr(queries, "__len__"):
                raise ValueError("queries must be a 2-D array of vectors or a list of keys, "
                                 f"got {type(queries).__name__}")
            self_rows = np.array([self.get_index(k) for k in queries], np.int64)
            if len(self_rows) and self_rows.max() >= len(cached_unit):
                raise RuntimeError("the vectors grew while most_similar_batch started (in "
                                   "another thread?): query again")
            bad = np.flatnonzero(np.isin(self_rows, cached_bad))
            if len(bad):
                raise ValueError(f"query {bad[0]} (key {queries[bad[0]]!r}) holds NaN or inf")
            q = cached_unit[self_rows]
        if len(q) == 0:
            raise ValueError("most_similar_batch needs at least one query")
        if not isinstance(topn, numbers.Integral) or topn < 1:
            raise ValueError(f"topn must be a positive int, got {topn!r}")
        if exclude is not None:
            exclude = np.asarray(exclude, dtype=np.int64)
            if exclude.ndim == 1:
                exclude = exclude[:, None]
            if exclude.ndim != 2 or len(exclude) != len(q):
                raise ValueError(f"exclude must have shape (n_queries, m) = ({len(q)}, m), "
                                 f"got {exclude.shape}")
        if self_rows is not None:
            own = self_rows[:, None]
            exclude = own if exclude is None else np.concatenate([exclude, own], axis=1)
        unit = cached_unit[:restrict_vocab or len(cached_unit)]

        def fill(s, e, out):
            np.matmul(q[s:e], unit.T, out=out)

        return top_k_search(len(q), len(unit), topn, fill, exclude=exclude,
                            bad_rows=cached_bad, workers=workers)

    def similarity(self, w1, w2) -> np.float32:
        """Cosine similarity of two keys, from their vectors as they are now (as gensim;
        a numpy float32, as there)."""
        u1, u2 = self._current_unit_rows([self.get_index(w1), self.get_index(w2)])
        return np.float32(u1 @ u2)

    def distance(self, w1, w2) -> np.float32:
        """Cosine distance, ``1 - similarity``."""
        return np.float32(1 - self.similarity(w1, w2))

    def wmdistance(self, document1, document2, norm=True) -> float:
        """Word Mover's Distance between two documents (lists of keys), as gensim's
        (Kusner et al., 2015): the least total Euclidean distance (between unit vectors
        with `norm`, raw ones without) that moves one document's normalised word counts
        onto the other's, solved exactly by POT's ``emd2``, the solver gensim uses.
        Unknown keys are left out (logged); ``inf`` if a document has no known key, 0.0
        if both hold one and the same key, and 0.0 where every distance is 0 (two keys
        of equal vectors, say: gensim returns inf there). Needs POT: ``pip install
        'fastw2v[wmd]'``.
        """
        try:
            from ot import emd2
        except ImportError as e:
            raise ImportError("wmdistance needs POT, the optimal-transport solver gensim "
                              "uses too: pip install 'fastw2v[wmd]' (or pip install pot)"
                              ) from e
        documents = (("document1", document1), ("document2", document2))
        for name, document in documents:
            if isinstance(document, (str, bytes)):
                raise TypeError(f"{name} must be a list of keys, not one string: split it "
                                f"first, e.g. text.split()")
        weights, rows = [], []
        for name, document in documents:
            found = [self.get_index(key, -1) for key in document]   # (the class's lookup)
            known = np.array([r for r in found if r >= 0], np.int64)
            if len(known) < len(found):
                logger.info("wmdistance: %d unknown keys left out of %s",
                            len(found) - len(known), name)
            if not len(known):
                logger.warning("wmdistance: %s has no key of the vocabulary: inf", name)
                return float("inf")
            distinct, counts = np.unique(known, return_counts=True)
            weights.append(counts / len(known))
            rows.append(distinct)
        if len(rows[0]) == len(rows[1]) == 1 and rows[0][0] == rows[1][0]:
            return 0.0
        # the documents' rows as they are now (as similarity() reads them; a zero vector
        # stays zero), not the whole cached unit matrix
        a, b = ((self._current_unit_rows(r) if norm else self.vectors[r]).astype(np.float64)
                for r in rows)
        # from the differences (as scipy's cdist, which gensim calls): the same key in both
        # documents is exactly 0 apart; a few rows of `a` at a time, to bound the memory
        distances = np.empty((len(a), len(b)))
        step = max(1, (1 << 22) // max(1, b.size))
        for i in range(0, len(a), step):
            diff = a[i:i + step, None, :] - b[None, :, :]
            distances[i:i + step] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        return float(emd2(weights[0], weights[1], distances))

    def n_similarity(self, ws1, ws2) -> np.float32:
        """Cosine similarity of the means of the (raw) vectors of two lists of keys (a
        numpy float32, as gensim's).

        Raises
        ------
        ValueError
            An empty list (also a ZeroDivisionError, which gensim raises).
        KeyError
            An unknown key (gensim silently skips it).
        """
        if not (len(ws1) and len(ws2)):
            raise EmptyQueryError("n_similarity needs two non-empty lists of keys")
        m1 = self.get_mean_vector(ws1, pre_normalize=False, ignore_missing=False)
        m2 = self.get_mean_vector(ws2, pre_normalize=False, ignore_missing=False)
        u1, u2 = _unit_rows(np.stack([m1, m2]))[0]
        return np.float32(u1 @ u2)

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """Cosine similarity of `vector_1` (dim,) to each row of `vectors_all` (n, dim).

        Computed in float64, like the lengths everywhere else (in float32 the cosine of
        nearly orthogonal vectors is lost to rounding, and squares of numbers beyond ~1e19
        overflow), a block of rows at a time (no float64 copy of the whole matrix), and
        returned in the inputs' float type (float32 for float32 vectors, as gensim). A
        zero vector has NaN similarities (as in gensim).
        """
        v1 = np.asarray(vector_1)
        v_all = np.asarray(vectors_all)
        out = np.empty(len(v_all), np.result_type(v1, v_all, np.float32))
        [(_, v1, norm1)] = _float64_blocks(v1.reshape(1, -1))             # (1, dim), (1,)
        for start, block, norms in _float64_blocks(v_all):
            out[start:start + len(block)] = (block @ v1[0]) / (norm1 * norms)
        return out

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """Cosine distances from a key or vector to `other_words` (default: every row); a
        list is a vector (it cannot be a key), as in gensim. From the vectors as they are
        now (as gensim), not the cache of `fill_norms`."""
        if isinstance(word_or_vector, (np.ndarray, list)):
            v = self._check_vector(np.asarray(word_or_vector)).astype(np.float64)
            u = (v / max(float(np.linalg.norm(v)), _TINY64)).astype(np.float32)
        else:
            u = self._current_unit_rows([self.get_index(word_or_vector)])[0]
        if len(other_words):
            cos = self._current_unit_rows([self.get_index(w) for w in other_words]) @ u
        else:
            cos = np.empty(len(self), np.float64)
            for start, block, norms in _float64_blocks(self.vectors):   # no full copy
                with np.errstate(invalid="ignore"):
                    cos[start:start + len(block)] = (block @ u) / np.maximum(norms, _TINY64)
        return (1 - cos).astype(np.float32)

    def closer_than(self, key1, key2) -> list:
        """Keys closer to `key1` than `key2` is."""
        d = self.distances(key1)
        i1 = self.get_index(key1)
        closer = np.flatnonzero(d < d[self.get_index(key2)])
        return [self.index_to_key[i] for i in closer if i != i1]

    def words_closer_than(self, word1, word2) -> list:
        """gensim's older name of `closer_than`."""
        return self.closer_than(word1, word2)

    def rank(self, key1, key2) -> int:
        """Rank of `key2` among the neighbours of `key1` (1 = nearest)."""
        d = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        closer = d < d[i2]
        return int(np.count_nonzero(closer)) - int(closer[i1]) + 1

    def most_similar_to_given(self, key1, keys_list):
        """The key of `keys_list` most similar to `key1`."""
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def rank_by_centrality(self, words, use_norm=True) -> list:
        """(similarity, key) pairs sorted by similarity to the mean of the keys' vectors,
        most central first. Unknown keys are left out with a warning (gensim's rule)."""
        used = [w for w in words if w in self]
        if len(used) != len(words):
            logger.warning("vectors for words %s are not present in the model, ignoring "
                           "these words", [w for w in words if w not in self])
        if not used:
            raise ValueError("cannot select a key from an empty list: none of the keys are "
                             "in the vocabulary")
        vectors = np.vstack([self.get_vector(w, norm=use_norm) for w in used])
        mean = self.get_mean_vector(vectors, post_normalize=True)
        dists = vectors @ mean
        return sorted(zip(dists.tolist(), used), reverse=True)

    def doesnt_match(self, words):
        """The key of `words` furthest from the mean of them all."""
        return self.rank_by_centrality(words)[-1][1]

    def relative_cosine_similarity(self, wa, wb, topn=10) -> float:
        """Similarity of `wa` and `wb` divided by the sum of `wa`'s `topn` best
        similarities (Leeuwenberg et al.)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("cannot compute a relative cosine similarity without any "
                             "similar keys")
        return float(self.similarity(wa, wb)) / sum(s for _, s in sims)

    def _as_items(self, value):
        """gensim's _ensure_list, for any hashable key: one key or vector -> [it]."""
        if value is None:
            return []
        if isinstance(value, np.ndarray):
            return [value] if value.ndim == 1 else list(value)
        if isinstance(value, (list, tuple)) and not self._is_known(value):
            return list(value)
        return [value]

    def _is_known(self, key):
        try:
            return key in self.key_to_index
        except TypeError:
            return False

    def _is_weighted(self, item):
        return (isinstance(item, tuple) and len(item) == 2
                and isinstance(item[1], numbers.Real) and not self._is_known(item))

    def _explain_nonfinite(self, keys, weights=None):
        """Raise for a query whose vector holds NaN or inf (it has no neighbours), naming
        the item that makes it so."""
        bad_rows = set(self.nonfinite_rows.tolist())
        for i, key in enumerate(keys):
            if weights is not None and not np.isfinite(weights[i]):
                raise ValueError(f"query item {i} has the weight {weights[i]!r}: a query "
                                 f"holding NaN or inf has no neighbours; give finite weights")
            if isinstance(key, np.ndarray):
                if not np.isfinite(key).all():
                    raise ValueError(f"query vector {i} holds NaN or inf: it has no "
                                     f"neighbours; give finite vectors")
            elif self.get_index(key) in bad_rows:
                raise ValueError(f"the vector of key {key!r} holds NaN or inf: it has no "
                                 f"neighbours (see nonfinite_rows)")
        raise ValueError("the query holds NaN or inf (the weighted sum of its vectors "
                         "overflows float64); use smaller weights")

    def _check_vector(self, v):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"a query vector must hold numbers, got {v.dtype} values")
        if v.shape != (self.vector_size,):
            raise ValueError(f"a query vector must have shape ({self.vector_size},), got "
                             f"{v.shape}")
        return v

    # -----------------------------------------------------------------------------------
    # evaluation (fastw2v.evaluation; imported here lazily because it builds on this
    # module)

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True,
                                dummy4unknown=False, similarity_function="most_similar"):
        """Accuracy on an analogy test set; see
        :func:`fastw2v.evaluation.evaluate_word_analogies`. `restrict_vocab` must be None
        or a positive int (ValueError)."""
        from fastw2v import evaluation
        return evaluation.evaluate_word_analogies(
            self, analogies, restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive, dummy4unknown=dummy4unknown,
            similarity_function=similarity_function)

    def evaluate_word_pairs(self, pairs, delimiter="\t", encoding="utf8",
                            restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False):
        """Correlation with human similarity judgements; see
        :func:`fastw2v.evaluation.evaluate_word_pairs`. `restrict_vocab` must be None or
        a positive int (ValueError)."""
        from fastw2v import evaluation
        return evaluation.evaluate_word_pairs(
            self, pairs, delimiter=delimiter, encoding=encoding,
            restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown)

    # -----------------------------------------------------------------------------------
    # files

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary=False, encoding="utf8",
                             unicode_errors="strict", limit=None, datatype=np.float32,
                             no_header=False, key_type=None):
        """Load vectors from a word2vec.c text or binary file (plain, .gz, .bz2, .xz).

        Parameters
        ----------
        fname : str or os.PathLike
        fvocab : str, optional
            A word2vec.c ``-save-vocab`` file (``word count`` lines) giving the counts.
            Without it, counts are made up in descending order as gensim does.
        binary : bool
            Binary format (else text).
        encoding : str
            Encoding of the words.
        unicode_errors : str
            ``'strict'`` raises on undecodable words; ``'replace'``, ``'ignore'`` or
            ``'surrogateescape'`` load them anyway (word2vec.c may cut a multi-byte
            character).
        limit : int, optional
            Read only the first `limit` vectors (None or 0: all).
        datatype : dtype
            Must be float32 (fastw2v keeps vectors in float32).
        no_header : bool
            Text file without the header line (GloVe).
        key_type : callable, optional
            Applied to every key read, e.g. ``int`` for item ids (the file holds text:
            without it, keys are str, as in gensim, and ``kv[3]`` is then row 3). Not
            gensim's. A key it refuses, or two keys it makes equal, raise ValueError.

        Returns
        -------
        KeyedVectors

        Raises
        ------
        ValueError
            Malformed, truncated or inconsistent file (the message gives the byte offset
            or line). NaN and inf values load as they are.
        """
        if np.dtype(datatype) != np.float32:
            raise ValueError(f"datatype={np.dtype(datatype).name} is not supported: fastw2v "
                             f"keeps vectors in float32; convert kv.vectors afterwards if "
                             f"you need another type")
        keys, vectors, n_records = formats.read_word2vec(
            fname, binary=binary, limit=limit, unicode_errors=unicode_errors,
            no_header=no_header, encoding=encoding)
        if fvocab is not None:
            table = formats.read_vocab_counts(fvocab, unicode_errors, encoding)
            missing = [k for k in keys if k not in table]
            if missing:
                logger.warning("vocabulary file %s lacks %d words (e.g. %r); their count "
                               "is 0", fvocab, len(missing), missing[0])
            counts = np.array([table.get(k, 0) for k in keys], np.int64)
        else:
            # gensim's made-up counts, descending, so that sorting by count keeps the order
            counts = n_records - np.arange(len(keys), dtype=np.int64)
        if key_type is not None:
            keys = _converted_keys(keys, key_type, fname)
        return cls(vectors, keys, counts)

    def intersect_word2vec_format(self, fname, lockf=0.0, binary=False, encoding="utf8",
                                  unicode_errors="strict", key_type=None):
        """Take the vectors of a word2vec.c file for the keys both hold (gensim's recipe
        to start training from pretrained vectors): no key is added; each shared key's
        row becomes the file's vector and its `vectors_lockf` factor `lockf` (0.0, the
        default: frozen in later training; 1.0: trained on as usual). Keys only here keep
        their vectors and a factor of 1. Returns how many vectors were taken (none: a
        warning, which says so when this vocabulary's keys are ints and the file's str).
        `key_type` converts the file's keys first, as in `load_word2vec_format`.

        Raises
        ------
        ValueError
            A file whose vector size differs, a malformed one (as `load_word2vec_format`),
            a `lockf` that is not a finite number, or read-only vectors.
        """
        if isinstance(lockf, (bool, np.bool_)) or not isinstance(lockf, numbers.Real) or (
                not np.isfinite(lockf)):
            raise ValueError(f"lockf must be a finite number (0.0 freezes the vectors "
                             f"taken, 1.0 trains them), got {lockf!r}")
        self._check_writeable("intersect_word2vec_format()")
        keys, vectors, _ = formats.read_word2vec(fname, binary=binary,
                                                 unicode_errors=unicode_errors,
                                                 encoding=encoding)
        if vectors.shape[1] != self.vector_size:
            raise ValueError(f"{os.fspath(fname)!r} holds vectors of size {vectors.shape[1]}, "
                             f"these have {self.vector_size}: they cannot be merged")
        if key_type is not None:
            keys = _converted_keys(keys, key_type, fname)
        pairs = [(self.key_to_index[k], i) for i, k in enumerate(keys)
                 if k in self.key_to_index]
        # a new array (the old one may be read-only, memory-mapped), filled before the
        # vectors change, so that nothing is half done if anything fails
        factors = lockf_array(self.vectors_lockf, len(self), "vectors_lockf")
        factors = (np.ones(len(self), np.float32) if factors is None
                   else np.array(factors, np.float32))
        if pairs:
            rows, taken = (np.array(x, np.intp) for x in zip(*pairs))
            factors[rows] = lockf
            self.vectors[rows] = vectors[taken]
            self._forget_norms()
        self.vectors_lockf = factors
        logger.info("took %d of the %d vectors of %s (lockf=%g)", len(pairs), len(keys),
                    os.fspath(fname), lockf)
        if keys and not pairs:
            hint = (" (these keys are ints, the file's str: pass key_type=int)"
                    if self._int_keys and key_type is None else "")
            logger.warning("intersect_word2vec_format took no vector: no key of %s is a "
                           "key here%s", os.fspath(fname), hint)
        return len(pairs)

    def save_word2vec_format(self, fname, fvocab=None, binary=False, total_vec=None,
                             write_header=True, prefix="", append=False, sort_attr="count"):
        """Save in word2vec.c's text or binary format (gensim and word2vec.c read it).

        Parameters
        ----------
        fname : str or os.PathLike
            Destination; .gz, .bz2 and .xz names are compressed. Written atomically
            (temporary file, fsync, rename) unless `append`.
        fvocab : str, optional
            Also write ``word count`` lines here (needs counts).
        binary : bool
            Binary format (else text, ``%.9g`` numbers: exact float32 round trip).
        total_vec : int, optional
            Count declared in the header (default: the number of vectors).
        write_header : bool
            Write the header line (False: GloVe style).
        prefix : str
            Prepended to every key.
        append : bool
            Append instead of replacing (not atomic).
        sort_attr : {'count', None}
            Write keys by descending count (stable) when counts exist, else in row order.

        Raises
        ------
        ValueError
            A key containing a space or newline (the format could not be read back).
        """
        if sort_attr not in ("count", None):
            raise ValueError(f"sort_attr must be 'count' or None, got {sort_attr!r}")
        order = None
        if sort_attr == "count" and self.counts is not None:
            order = np.argsort(-self.counts, kind="stable")
            if np.array_equal(order, np.arange(len(self))):
                order = None
        keys = self.index_to_key if order is None else [self.index_to_key[i] for i in order]
        if fvocab is not None:
            if self.counts is None:
                raise ValueError("cannot write fvocab: these vectors have no counts")
            counts = self.counts if order is None else self.counts[order]
            formats.write_vocab_counts(fvocab, keys, counts, prefix=prefix, append=append)
        formats.write_word2vec(fname, keys, self.vectors, binary=binary,
                               write_header=write_header, total_vec=total_vec,
                               prefix=prefix, append=append, order=order)

    def save(self, path):
        """Save in fastw2v's native format (one file, memory-mappable, no pickle; written
        atomically). Keys may be str, int, float, bool, None or tuples of those.

        Raises
        ------
        TypeError
            A key of another type (map keys to str first).
        """
        key_arrays, key_encoding = native.pack_keys(self.index_to_key)
        arrays = {"vectors": self.vectors, **key_arrays}
        if self.counts is not None:
            arrays["counts"] = self.counts
        lockf = lockf_array(self.vectors_lockf, len(self), "vectors_lockf")
        if lockf is not None:
            arrays["vectors_lockf"] = lockf
        meta = {"n_keys": len(self), "vector_size": self.vector_size,
                "key_encoding": key_encoding}
        native.save_arrays(path, arrays, meta, kind="keyedvectors")

    @classmethod
    def load(cls, path, mmap=None):
        """Load a file written by `save`.

        Parameters
        ----------
        path : str or os.PathLike
        mmap : {None, 'r', 'c'}
            None reads into memory (checksums verified); ``'r'`` memory-maps the vectors
            read-only (instant, shared between processes), ``'c'`` copy-on-write.

        Raises
        ------
        ValueError
            Not a fastw2v file, another kind (e.g. a whole Word2Vec model), or a corrupt
            or truncated one (the message says where).
        """
        arrays, meta = native.load_arrays(path, mmap=mmap, kind="keyedvectors")
        where = f"{os.fspath(path)!r} is corrupt"
        try:
            n, dim = int(meta["n_keys"]), int(meta["vector_size"])
            vectors = arrays["vectors"]
            keys = native.unpack_keys(arrays, meta["key_encoding"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if vectors.dtype != np.float32 or vectors.shape != (n, dim) or len(keys) != n:
            raise ValueError(f"{where}: vectors {vectors.dtype} {vectors.shape} and {len(keys)} "
                             f"keys do not match the declared {n} x {dim}")
        counts = arrays.get("counts")
        if counts is not None and (counts.dtype != np.int64 or counts.shape != (n,)):
            raise ValueError(f"{where}: counts {counts.dtype} {counts.shape}, expected int64 "
                             f"({n},)")
        kv = cls(vectors, keys, counts)
        kv.vectors_lockf = loaded_lockf(arrays, n, where)
        return kv


# gensim 3 attribute -> what gensim 4 (and fastw2v) offers instead
_GENSIM3_NAMES = {
    "vocab": "key_to_index (the row of a key) and get_vecattr(key, 'count')",
    "index2word": "index_to_key",
    "index2entity": "index_to_key",
    "syn0": "vectors",
    "vectors_norm": "get_normed_vectors()",
    "syn0norm": "get_normed_vectors()",
    "wv": "the KeyedVectors itself (they are model.wv already)",
}


def missing_attribute(obj, name, gensim3_names):
    """The AttributeError for a missing attribute `name` of `obj`: for one of gensim 3's
    names (a key of `gensim3_names`), what replaced it."""
    hint = gensim3_names.get(name)
    if hint is None:
        return AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")
    return AttributeError(f"{name!r} is gensim 3's name, gone in gensim 4 and here: use "
                          f"{hint}")


def lockf_array(lockf, n, name):
    """vectors_lockf as the trainer takes it: None (1 for every row) or float32 (n,).
    A single value stands for every row, as gensim's default ones(1) does."""
    if lockf is None:
        return None
    arr = np.asarray(lockf)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1 or len(arr) not in (1, n):
        raise ValueError(f"{name} must be None or a 1-D array of {n} numbers, one per key "
                         f"(or a single one for all), got {arr.dtype} {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or inf: the factors must be finite numbers")
    if len(arr) != n:
        return None if arr[0] == 1 else np.full(n, arr[0], np.float32)
    return np.ascontiguousarray(arr, np.float32)


def grown_lockf(lockf, n_old, n_new, name="vectors_lockf"):
    """vectors_lockf (checked) for rows appended to n_old: the new rows get 1 (train as
    usual); a single factor for all becomes one per old key first."""
    old = lockf_array(lockf, n_old, name)
    if old is None:
        return None
    return np.concatenate([old, np.ones(n_new - n_old, np.float32)])


def loaded_lockf(arrays, n, where):
    lockf = arrays.get("vectors_lockf")
    if lockf is not None and (lockf.dtype != np.float32 or lockf.shape != (n,)):
        raise ValueError(f"{where}: vectors_lockf {lockf.dtype} {lockf.shape}, expected "
                         f"float32 ({n},)")
    return lockf


class EmptyQueryError(ValueError, ZeroDivisionError):
    """An empty list of keys (a ValueError; also a ZeroDivisionError, as gensim raises in
    n_similarity)."""


def _float64_blocks(vectors):
    """(start, block, norms) for consecutive blocks of rows of a matrix (n, dim): the
    rows ``start:start + len(block)`` in float64 (len(block), dim), and their lengths
    (len(block),). In float64, since in float32 squares of numbers beyond ~1e19 overflow
    (a finite vector would get length inf) and those below ~1e-19 lose precision (cosines
    != 1); a block at a time, so that the whole matrix is never copied to float64."""
    n, dim = vectors.shape
    step = max(1, _NORM_BLOCK_FLOATS // max(dim, 1))
    for start in range(0, n, step):
        block = vectors[start:start + step].astype(np.float64)
        yield start, block, np.sqrt(np.einsum("ij,ij->i", block, block))


def _empty_as_gensim(vector_size, count_arg, counts, count, dtype):
    """(vectors, index_to_key) of gensim 4's KeyedVectors(vector_size, count=0, dtype)."""
    no_keys = TypeError("KeyedVectors(vector_size) takes no keys or counts: add them with "
                        "add_vectors(keys, vectors, extras={'count': counts})")
    if count_arg is not None:                   # KeyedVectors(100, 0), gensim's order
        if isinstance(count_arg, bool) or not isinstance(count_arg, numbers.Integral):
            raise no_keys
        count = count_arg
        if counts is not None:                  # KeyedVectors(100, 0, np.float32)
            dtype, counts = counts, None
    if counts is not None:
        raise no_keys
    if vector_size < 1:
        raise ValueError(f"vector_size must be a positive int, got {vector_size}")
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
        raise ValueError(f"count must be a whole number of keys to make room for, >= 0, "
                         f"got {count!r}")
    if np.dtype(dtype) != np.float32:
        raise TypeError(f"dtype={np.dtype(dtype)}: fastw2v's vectors are float32")
    # (rows are written before they are shown: the reserve costs nothing until then)
    return native.aligned_empty((int(count), int(vector_size)), np.float32), []


def _converted_keys(keys, key_type, fname):
    converted = []
    for i, key in enumerate(keys):
        try:
            # (numpy scalars, np.int64 say, as the Python values they equal)
            converted.append(python_key(key_type(key)))
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"{os.fspath(fname)!r}: key {i} ({key!r}) cannot be converted "
                             f"by key_type={getattr(key_type, '__name__', key_type)} "
                             f"({exc})") from None
    if len(set(converted)) != len(converted):
        seen = {}
        for key, new in zip(keys, converted):
            if new in seen:
                raise ValueError(f"{os.fspath(fname)!r}: keys {seen[new]!r} and {key!r} both "
                                 f"become {new!r} under key_type")
            seen[new] = key
    return converted


def _refuse_duplicate(keys):
    seen = set()
    dup = next(k for k in keys if k in seen or seen.add(k))
    raise ValueError(f"index_to_key must hold unique keys; {dup!r} appears more than once")


def _has_int_keys(keys):
    """Whether any key is an int (numpy's included, bools not): over the distinct key
    types, since a Python call per key would cost 0.3 s per 1M keys."""
    return any(issubclass(t, (int, np.integer)) and not issubclass(t, (bool, np.bool_))
               for t in set(map(type, keys)))


def _unit_rows(vectors):
    """Unit vectors (float32, 64-byte aligned) and lengths (float64) of the rows of a
    matrix (of one vector v: ``_unit_rows(v[None])[0][0]``), computed in float64 (see
    _float64_blocks). A zero row stays zero; a row holding NaN or inf gets NaN entries."""
    n, dim = vectors.shape
    unit = native.aligned_empty((n, dim), np.float32)
    norms = np.empty(n, np.float64)
    for s, block, norm in _float64_blocks(vectors):
        with np.errstate(invalid="ignore"):           # rows holding inf: NaN, as they should
            block /= np.maximum(norm, _TINY64)[:, None]
        unit[s:s + len(block)] = block
        norms[s:s + len(block)] = norm
    return unit, norms


def _as_counts(values, name):
    """Counts as int64: whole numbers (integer-valued floats accepted), not negative."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be integers, got {arr.dtype} values")
    if arr.dtype.kind == "f":
        whole = np.isfinite(arr) & (arr == np.floor(arr))
        if not whole.all():
            raise ValueError(f"{name}: {arr[~whole].flat[0].item()!r} is not a whole number; "
                             f"round the counts first if that is what you mean")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: {arr.min().item()!r} is negative; a count cannot be")
    if arr.size and int(arr.max()) >= 2 ** 63:
        raise ValueError(f"{name}: {arr.max().item()!r} does not fit in int64")
    return arr.astype(np.int64)


# ---------------------------------------------------------------------------------------
# exact top-k search

def top_k_search(n_queries, n_rows, k, fill, exclude=None, bad_rows=None, workers=None):
    """Top-k rows for many queries, scoring them a block of queries at a time.

    Parameters
    ----------
    n_queries, n_rows : int
    k : int
        Clipped to `n_rows`.
    fill : callable(start, stop, out)
        Writes the scores of queries ``start:stop`` against all rows into `out`, a
        float32 view of shape (stop - start, n_rows); must not produce NaN for rows
        outside `bad_rows`.
    exclude : ndarray of int64, shape (n_queries, m), optional
        Rows to leave out per query; negative entries and entries >= n_rows are ignored.
    bad_rows : ndarray of int, optional
        Rows never returned (e.g. vectors holding NaN).
    workers : int, optional
        Threads working on different blocks (numpy and BLAS release the GIL).

    Returns
    -------
    ids : ndarray of int64, shape (n_queries, k)
    scores : ndarray of float32, shape (n_queries, k)
        Best first, ties to the lower row; id -1 and score -inf pad a row with fewer
        than k candidates.
    """
    k = min(k, n_rows)
    ids = np.full((n_queries, k), -1, np.int64)
    scores = np.full((n_queries, k), -np.inf, np.float32)
    if k == 0 or n_queries == 0:
        return ids, scores
    # Pad the columns to a multiple of _LANES (with -inf) so that _top_k can use lanes.
    width = -(-n_rows // _LANES) * _LANES if n_rows >= 8 * _LANES else n_rows
    block = max(1, min(n_queries, _BLOCK_FLOATS // width))
    bad = None if bad_rows is None else bad_rows[bad_rows < n_rows]

    def run(start):
        stop = min(start + block, n_queries)
        buf = np.empty((stop - start, width), np.float32)      # (block, width)
        buf[:, n_rows:] = -np.inf
        fill(start, stop, buf[:, :n_rows])
        if bad is not None and len(bad):
            buf[:, bad] = -np.inf
        if exclude is not None:
            ex = exclude[start:stop]
            r, c = np.nonzero((ex >= 0) & (ex < n_rows))
            buf[r, ex[r, c]] = -np.inf
        ids[start:stop], scores[start:stop] = _top_k(buf, k)

    starts = range(0, n_queries, block)
    workers = min(workers or min(os.cpu_count() or 1, 8), len(starts))
    if workers <= 1:
        for s in starts:
            run(s)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    return ids, scores


def _top_k(scores, k):
    """The k best columns of each row of `scores` (b, r), exactly, best first, ties to the
    lower column; columns scoring -inf are never returned (id -1, score -inf instead).

    A full argpartition of every row is slow (~6 ns per score). Instead, when the row is
    long: view it as (r / _LANES, _LANES), take the max of each lane (a fast vectorised
    reduction); the k-th largest lane max t is a lower bound of the k-th largest score,
    and every score >= t lies in a lane whose max is >= t. Only those few lanes are
    gathered and sorted.
    """
    b, r = scores.shape
    k = min(k, r)
    if k == 0:
        return np.full((b, 0), -1, np.int64), np.full((b, 0), -np.inf, np.float32)
    if r % _LANES == 0 and r >= 8 * _LANES and k <= _LANES // 8:
        s3 = scores.reshape(b, r // _LANES, _LANES)
        lane_max = s3.max(axis=1)                                      # (b, LANES)
        t = np.partition(lane_max, _LANES - k, axis=1)[:, _LANES - k]  # (b,)
        sel_rows, sel_lanes = np.nonzero(lane_max >= t[:, None])
        vals = s3[sel_rows, :, sel_lanes]                              # (n_sel, r/LANES)
        hit_sel, hit_group = np.nonzero(vals >= t[sel_rows, None])
        rows = sel_rows[hit_sel]
        cols = hit_group * _LANES + sel_lanes[hit_sel]
        vals = vals[hit_sel, hit_group]
    else:
        if k < r:
            t = np.partition(scores, r - k, axis=1)[:, r - k]
            rows, cols = np.nonzero(scores >= t[:, None])
        else:
            rows, cols = np.divmod(np.arange(b * r), r)
        vals = scores[rows, cols]
    order = np.lexsort((cols, -vals, rows))              # by row, score desc, column
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(b))
    rank = np.arange(len(rows)) - starts[rows]
    keep = (rank < k) & (vals > -np.inf)
    ids = np.full((b, k), -1, np.int64)
    out = np.full((b, k), -np.inf, np.float32)
    ids[rows[keep], rank[keep]] = cols[keep]
    out[rows[keep], rank[keep]] = vals[keep]
    return ids, out
