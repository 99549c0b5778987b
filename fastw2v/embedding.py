"""The lookup layer: `Embedding` and `EmbeddingBag`, numpy layers with the semantics of
``torch.nn.Embedding`` and ``torch.nn.EmbeddingBag``.

An embedding layer is a trainable lookup table: row i of ``weight`` is the vector of id i,
and the forward pass equals ``one_hot(indices) @ weight``. word2vec is one way to fill the
table before a downstream model freezes or fine-tunes it: ``Embedding.from_keyed_vectors``
wraps the trained matrix without a copy and keeps its vocabulary for ``encode``.

Forward, ``max_norm`` renormalisation, ``padding_idx``, ``scale_grad_by_freq``, sparse and
dense gradients and every bag mode follow PyTorch; the gather, the gradient scatter-add and
the bag reductions run in C without the GIL (`fastw2v._lookup`). ``weight`` is a
C-contiguous numpy matrix that `to_torch` and ``__dlpack__`` hand to PyTorch, JAX or any
DLPack consumer without a copy. torch is imported only inside `to_torch`, `from_torch` and
`SparseGrad.to_torch`.

Deliberate differences from torch 2.13 (each pinned by tests/test_embedding.py):

- Python exception types where torch raises RuntimeError or AssertionError (TypeError,
  ValueError, IndexError; an assert vanishes under ``python -O``).
- ``max_norm=nan`` raises ValueError (torch silently ignores it); numbers given as strings
  raise TypeError, as torch's argument parser does.
- ``max_norm`` measures float32 rows in double precision: a row of entries near 1e20 is
  rescaled to the bound, where torch's float32 norm overflows to inf and zeroes it.
- Two CPU bugs are not copied: EmbeddingBag with ``scale_grad_by_freq`` divides each id by
  its own count (pytorch#190063), and with ``include_last_offset`` the ids past the last
  offset belong to no bag in every mode (pytorch#191965).
- ``sparse=True`` with ``scale_grad_by_freq`` works (torch's Embedding refuses it).
- A 2-D EmbeddingBag input of shape (B, 0) gives B empty bags (zero rows), as B empty
  bags given by offsets do in both; torch raises "step must be nonzero" there.
- CPU memory only (``device`` must be None or 'cpu'), and no autograd: `backward` takes
  the output gradient explicitly.
"""
from __future__ import annotations

import math
import numbers
import threading
import weakref

import numpy as np

from fastw2v import _lookup
from fastw2v.corpus import numpy_if_torch
from fastw2v.native import aligned_copy, aligned_empty

__all__ = ["Embedding", "EmbeddingBag", "SparseGrad"]

# torch's switch for sparse invariant checks is one per process: two to_torch() calls at
# once could otherwise leave it on for everything else (see SparseGrad.to_torch)
_torch_invariants_lock = threading.Lock()

_WEIGHT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ID_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
_PROMOTABLE_ID_DTYPES = _ID_DTYPES + tuple(np.dtype(t) for t in (np.bool_, np.uint8, np.int8,
                                                                 np.int16))
_MODES = ("sum", "mean", "max")


class SparseGrad:
    """A row-sparse weight gradient: what PyTorch returns, coalesced, for ``sparse=True``.

    Row ``ids[k]`` of the weight has gradient ``rows[k]``; every other row has gradient 0.
    Unpacks as ``ids, rows = grad``.

    Attributes
    ----------
    ids : ndarray of int64, shape (n_unique,)
        Sorted, distinct, never ``padding_idx``; read-only.
    rows : ndarray, shape (n_unique, embedding_dim)
        Same dtype as the weight.
    shape : tuple of int
        Shape of the weight, (num_embeddings, embedding_dim).

    The three attributes cannot be reassigned, and `ids` is a read-only array of the
    gradient's own: checked once, when the gradient is made, so that ``step()`` can
    trust them (an id out of range would write outside the weight).

    Notes
    -----
    ``SparseGrad(ids, rows, shape)`` builds one by hand: `ids` integers within
    ``[0, shape[0])`` (IndexError otherwise), `rows` float32/float64 of shape
    ``(len(ids), shape[1])``; repeated ids are summed (coalesced), as torch's
    ``coalesce()`` does.
    """

    __slots__ = ("_ids", "_rows", "_shape")
    __array_ufunc__ = None      # ndarray + SparseGrad defers to SparseGrad.__radd__

    def __init__(self, ids, rows, shape):
        shape = tuple(shape)
        if len(shape) != 2 or not all(isinstance(s, numbers.Integral) and s >= 0
                                      for s in shape):
            raise ValueError(f"shape must be (num_embeddings, embedding_dim), got {shape!r}")
        ids = _id_array(ids)                     # [] is no ids, not an empty float array
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError(f"ids must be a 1-D integer array, got {ids.dtype} of shape "
                            f"{ids.shape}")
        rows = np.asarray(rows)
        _check_weight_dtype(rows.dtype, "rows")
        if rows.shape != (len(ids), shape[1]):
            raise ValueError(f"rows has shape {rows.shape}; expected (len(ids), "
                             f"embedding_dim) = {(len(ids), shape[1])}")
        if ids.dtype.kind == "u" and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
            bad = ids[ids > np.uint64(np.iinfo(np.int64).max)][0]
            raise IndexError(f"id {bad} is out of range for {shape[0]} rows")
        ids = np.array(ids, dtype=np.int64, order="C")    # our own: the caller's may change
        pos = _lookup.find_bad_id(ids, shape[0])
        if pos >= 0:
            raise IndexError(f"ids[{pos}] = {ids[pos]} is out of range for {shape[0]} rows "
                             f"(valid: 0 <= id < {shape[0]})")
        rows = np.ascontiguousarray(rows, dtype=rows.dtype.newbyteorder("="))
        if ids.size > 1 and not (ids[1:] > ids[:-1]).all():
            ids, rows = _coalesce(ids, rows, shape)
        self._set(ids, rows, (int(shape[0]), int(shape[1])))

    @classmethod
    def _new(cls, ids, rows, shape):
        """One from arrays already checked and coalesced (the layers' own gradients; `ids`
        a new array that nothing else holds)."""
        grad = cls.__new__(cls)
        grad._set(ids, rows, shape)
        return grad

    def _set(self, ids, rows, shape):
        ids.flags.writeable = False
        self._ids, self._rows, self._shape = ids, rows, shape

    @property
    def ids(self):
        return self._ids

    @property
    def rows(self):
        return self._rows

    @property
    def shape(self):
        return self._shape

    def __iter__(self):
        return iter((self.ids, self.rows))

    def __repr__(self):
        return f"SparseGrad(shape={self.shape}, n_rows={len(self.ids)})"

    def to_dense(self) -> np.ndarray:
        """The gradient as a dense (num_embeddings, embedding_dim) array."""
        out = np.zeros(self.shape, dtype=self.rows.dtype)
        out[self.ids] = self.rows
        return out

    def to_torch(self):
        """The gradient as a coalesced ``torch.sparse_coo_tensor`` (values copied)."""
        torch = _import_torch("SparseGrad.to_torch()")
        # The checks are switched on around both calls, not by the constructor's
        # check_invariants=True alone: torch 2.11 warns that they are "implicitly
        # disabled" unless the global switch is set (pytorch issue 178274).
        with _torch_invariants_lock, torch.sparse.check_sparse_tensor_invariants(True):
            # (a copy: torch warns about sharing a read-only array)
            return torch.sparse_coo_tensor(torch.from_numpy(self.ids.copy())[None],
                                           torch.from_numpy(self.rows),
                                           self.shape).coalesce()

    def __add__(self, other):
        if isinstance(other, SparseGrad):
            if other.shape != self.shape:
                raise ValueError(f"cannot add gradients of shapes {self.shape} and {other.shape}")
            if other.rows.dtype != self.rows.dtype:
                raise TypeError(f"cannot add {self.rows.dtype} and {other.rows.dtype} gradients")
            ids = np.concatenate([self.ids, other.ids])
            rows = np.concatenate([self.rows, other.rows])
            return SparseGrad._new(*_coalesce(ids, rows, self.shape), self.shape)
        return self.to_dense() + other

    __radd__ = __add__


class _LookupLayer:
    """What Embedding and EmbeddingBag share: the weight and its checks, gradients and
    plain SGD, the vocabulary, and interop."""

    _source = None      # (the class default: layers pickled before it existed)

    def __copy__(self):
        # a shallow copy shares the weight, so it keeps the link to its KeyedVectors
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self):
        # a pickled layer owns its weight: the link to the KeyedVectors it was built over
        # (a weak reference, which pickle cannot carry) has no meaning there
        state = self.__dict__.copy()
        state["_source"] = None
        return state

    def _setup(self, num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
               scale_grad_by_freq, sparse, _weight, _freeze, device, dtype, rng):
        _check_device(device)
        if _weight is None:
            shape = (_check_size("num_embeddings", num_embeddings),
                     _check_size("embedding_dim", embedding_dim))
            dtype = _new_weight_dtype(dtype)
            self._weight = aligned_empty(shape, dtype)
            np.random.default_rng(rng).standard_normal(out=self._weight, dtype=dtype)
        else:
            self._weight = _as_weight(_weight, "_weight")
            if self._weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"_weight has shape {self._weight.shape}, which does not match "
                                 f"num_embeddings={num_embeddings} and "
                                 f"embedding_dim={embedding_dim}")
        self.padding_idx = padding_idx
        if _weight is None and self.padding_idx is not None:
            self._weight[self.padding_idx] = 0     # a pretrained weight keeps its row, as in torch
        self.max_norm = _check_max_norm(max_norm)
        self.norm_type = _check_norm_type(norm_type)
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        self.sparse = bool(sparse)
        self.requires_grad = not _freeze
        self.grad = None
        self._source = None                      # the KeyedVectors of from_keyed_vectors
        self.index_to_key = None
        self.key_to_index = None

    # ---- the weight ---------------------------------------------------------------------------

    @property
    def weight(self) -> np.ndarray:
        """The (num_embeddings, embedding_dim) table: float32 (or float64), C-contiguous.

        Assigning an array that already is float32/float64 and C-contiguous keeps it without
        a copy; others are copied into that form. Assigning forgets the gradient (``grad =
        None``), as a new torch Parameter starts without one.
        """
        return self._weight

    @weight.setter
    def weight(self, value):
        value = _as_weight(value, "weight")
        if self.padding_idx is not None and self.padding_idx >= value.shape[0]:
            raise ValueError(f"padding_idx={self.padding_idx} is out of range for a weight of "
                             f"{value.shape[0]} rows; set padding_idx first")
        self._weight = value
        self.grad = None

    @property
    def num_embeddings(self) -> int:
        return self._weight.shape[0]

    @property
    def embedding_dim(self) -> int:
        return self._weight.shape[1]

    @property
    def padding_idx(self):
        """The row that gets no gradient (and, in bags, is left out), or None; a negative
        value counts from the end and is stored normalised, as in torch."""
        return self._padding_idx

    @padding_idx.setter
    def padding_idx(self, value):
        if value is None:
            self._padding_idx = None
            return
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"padding_idx must be an int or None, got {value!r}")
        n = self.num_embeddings
        if not -n <= value < n:
            raise ValueError(f"padding_idx must be within num_embeddings: got {value} for "
                             f"{n} embeddings (valid: {-n} <= padding_idx < {n})")
        self._padding_idx = int(value) % n

    @property
    def _pad(self) -> int:
        """padding_idx for the kernels: -1 matches no id."""
        return -1 if self._padding_idx is None else self._padding_idx

    def _before_write(self, what):
        """Called just before every in-place write of the weight: refuses a read-only
        weight, and drops the unit vectors the source KeyedVectors cached (`_after_write`
        drops them again, in case a query in another thread cached them meanwhile)."""
        if not self._weight.flags.writeable:
            raise ValueError(f"{what} changes the weight in place, but it is read-only (a "
                             f"memory-mapped file, say); use a writable copy: "
                             f"layer.weight = np.array(layer.weight)")
        self._after_write()

    def _after_write(self):
        # the KeyedVectors this layer was built over (from_keyed_vectors) caches unit
        # vectors for its queries: they would no longer match the vectors
        kv = self._source() if self._source is not None else None
        if kv is not None and np.may_share_memory(getattr(kv, "vectors", None), self._weight):
            if hasattr(kv, "_forget_norms"):
                kv._forget_norms()
            elif hasattr(kv, "norms"):
                kv.norms = None                  # gensim's fill_norms recomputes then

    # ---- shared steps of forward and backward -------------------------------------------------

    def _check_range(self, flat, shape):
        """IndexError naming the first id outside [0, num_embeddings)."""
        pos = _lookup.find_bad_id(flat, self.num_embeddings)
        if pos >= 0:
            where = (tuple(int(i) for i in np.unravel_index(pos, shape)) if len(shape) > 1
                     else int(pos))
            n = self.num_embeddings
            raise IndexError(f"index {int(flat[pos])} at position {where} is out of range "
                             f"for {n} embeddings (valid indices: 0 <= index < {n})")

    def _renorm(self, flat):
        if self.max_norm is not None:
            self._before_write("max_norm")
            _lookup.renorm_rows(self._weight, flat, self.max_norm, self.norm_type)
            self._after_write()

    def _as_grad(self, grad_output, shape):
        g = np.asarray(grad_output)
        if g.dtype.kind != "f":
            raise TypeError(f"grad_output must be a float array, got dtype {g.dtype}")
        if g.shape != shape:
            raise ValueError(f"grad_output has shape {g.shape}, expected {shape} (the shape "
                             f"of the forward output)")
        return np.ascontiguousarray(g, dtype=self._weight.dtype)

    def _unaliased(self, array):
        """array, or a copy of it when it may share memory with the weight: an update that
        writes the weight must not read values it has already changed."""
        if array is not None and np.may_share_memory(array, self._weight):
            return array.copy()
        return array

    def _weight_grad(self, flat, bounds, g, psw, mean):
        """Gradient of the weight for bags (bounds None: one id per row of g), dense or,
        with sparse=True, a SparseGrad."""
        if self.sparse:
            # the distinct ids and, with scale_grad_by_freq, their counts: one count
            uniq, slot, counts = _unique_ids(flat, self.num_embeddings, self._pad,
                                             with_counts=self.scale_grad_by_freq)
            rows = np.zeros((len(uniq), self.embedding_dim), dtype=self._weight.dtype)
            _lookup.bag_scatter(g, flat, bounds, psw, mean, counts, slot, self._pad, 1.0, rows)
            return SparseGrad._new(uniq, rows, self._weight.shape)
        counts = _id_counts(flat, self.num_embeddings) if self.scale_grad_by_freq else None
        grad = np.zeros_like(self._weight)
        _lookup.bag_scatter(g, flat, bounds, psw, mean, counts, None, self._pad, 1.0, grad)
        return grad

    def _sgd_scatter(self, flat, bounds, g, psw, mean, lr):
        counts = _id_counts(flat, self.num_embeddings) if self.scale_grad_by_freq else None
        _lookup.bag_scatter(g, flat, bounds, psw, mean, counts, None, self._pad, -lr,
                            self._weight)

    # ---- plain SGD ----------------------------------------------------------------------------

    def zero_grad(self):
        """Forget the accumulated gradient (``grad = None``, as torch's set_to_none)."""
        self.grad = None

    def step(self, lr):
        """Plain SGD with the accumulated gradient: ``weight -= lr * grad``, in place.

        As ``torch.optim.SGD(params, lr).step()`` without momentum or weight decay. Does
        nothing while ``grad`` is None (a frozen layer, or no backward since `zero_grad`),
        as torch optimizers skip parameters without a gradient. Like torch, it does not
        clear ``grad``: call `zero_grad` before the next backward.
        """
        lr = _check_lr(lr)
        if self.grad is None:
            return
        self._before_write("step()")
        grad = self.grad
        if isinstance(grad, SparseGrad):
            if grad.shape != self._weight.shape:
                raise ValueError(f"grad is a SparseGrad of shape {grad.shape}, but the weight "
                                 f"has shape {self._weight.shape}; call zero_grad() and "
                                 f"backward again")
            _lookup.bag_scatter(self._unaliased(grad.rows.astype(self._weight.dtype, copy=False)),
                                grad.ids, None, None, False, None, None, -1, -lr, self._weight)
        else:
            if not isinstance(grad, np.ndarray) or grad.shape != self._weight.shape:
                raise ValueError(f"grad must be None, a SparseGrad or an array of the weight's "
                                 f"shape {self._weight.shape}, got "
                                 f"{getattr(grad, 'shape', type(grad).__name__)}; call "
                                 f"zero_grad() and backward again")
            self._weight -= self._weight.dtype.type(lr) * grad
        self._after_write()

    def _accumulate(self, grad):
        # a new array each time, so that gradients returned earlier never change
        self.grad = grad if self.grad is None else self.grad + grad

    # ---- vocabulary ----------------------------------------------------------------------------

    def _attach_vocab(self, kv):
        try:
            self._source = weakref.ref(kv)
        except TypeError:                        # an object without weak references:
            self._source = None                  # no cache of its own to keep in step
        # copies: the layer's vocabulary is the one its rows were taken with (the
        # KeyedVectors may grow later, add_vectors writing into its own dict)
        self.index_to_key = list(kv.index_to_key)
        key_to_index = getattr(kv, "key_to_index", None)
        self.key_to_index = (dict(key_to_index) if key_to_index is not None
                             else {k: i for i, k in enumerate(self.index_to_key)})
        if len(self.index_to_key) != self.num_embeddings:
            raise ValueError(f"{len(self.index_to_key)} keys for {self.num_embeddings} vectors")

    def _encode_list(self, tokens, unknown):
        if self.key_to_index is None:
            raise ValueError("this layer has no vocabulary to encode with; build it with "
                             "from_keyed_vectors(kv), or pass ids directly")
        if isinstance(tokens, (str, bytes)):
            raise TypeError("tokens must be a sequence of tokens, not one string; split it "
                            "first, e.g. layer.encode(text.split())")
        if not (unknown in ("raise", "skip") or (isinstance(unknown, numbers.Integral)
                                                 and not isinstance(unknown, bool))):
            raise ValueError(f"unknown must be 'raise', 'skip' or a row id, got {unknown!r}")
        if unknown not in ("raise", "skip") and not 0 <= unknown < self.num_embeddings:
            raise ValueError(f"unknown={unknown} is not a row id: valid ids are "
                             f"0 <= id < {self.num_embeddings}")
        if not isinstance(tokens, (list, tuple)):
            tokens = list(tokens)
        get = self.key_to_index.get
        ids = [get(t) for t in tokens]
        if unknown == "raise":
            if None in ids:
                pos = ids.index(None)
                token = tokens[pos]
                raise KeyError(f"token {token!r} at position {pos} is not in the vocabulary "
                               f"of {len(self.key_to_index)} keys; pass unknown='skip' to drop "
                               f"unknown tokens, or unknown=<row id> to map them to one row "
                               f"(padding_idx, say)")
            return ids
        if unknown == "skip":
            return [i for i in ids if i is not None]
        return [int(unknown) if i is None else i for i in ids]

    def encode(self, tokens, unknown="raise") -> np.ndarray:
        """Row ids (int64, 1-D) of a sequence of tokens, with the vocabulary kept by
        `from_keyed_vectors`.

        Parameters
        ----------
        tokens : iterable of keys
            One sequence, e.g. ``"the cat sat".split()``.
        unknown : {'raise', 'skip'} or int
            What an unknown token becomes: 'raise' (default) raises KeyError naming the
            first one; 'skip' drops it, so the result may be shorter than `tokens`; an int
            maps every unknown token to that row, e.g. ``padding_idx`` (no gradient, left
            out of bags) or a row reserved for ``<unk>``.

        A numpy array (or a torch tensor) of several dimensions, a batch of id sequences
        say, gives row ids of the same shape (``unknown='skip'`` cannot keep it).
        """
        tokens = numpy_if_torch(tokens)
        if isinstance(tokens, np.ndarray) and tokens.ndim > 1:
            if unknown == "skip":
                raise ValueError(f"unknown='skip' cannot keep the shape {tokens.shape} of "
                                 f"the tokens; map unknown tokens to a row instead "
                                 f"(unknown=<row id>, padding_idx say) or encode each row")
            return np.array(self._encode_list(tokens.reshape(-1).tolist(), unknown),
                            dtype=np.int64).reshape(tokens.shape)
        return np.array(self._encode_list(tokens, unknown), dtype=np.int64)

    # ---- interop --------------------------------------------------------------------------------

    def __dlpack__(self, **kwargs):
        """DLPack capsule of ``weight`` (no copy): ``torch.from_dlpack(layer)``,
        ``jax.dlpack.from_dlpack(layer)``, ``np.from_dlpack(layer)``. A read-only weight
        (a memory-mapped file) is refused unless the consumer asks for a copy: torch
        ignores DLPack's read-only flag, and a write through its tensor would crash the
        process."""
        if not self._weight.flags.writeable and not kwargs.get("copy"):
            raise BufferError("the weight is read-only (a memory-mapped file, say), and a "
                              "DLPack consumer that ignores the read-only flag (torch) "
                              "would crash the process by writing it; share a writable "
                              "copy instead: layer.weight = np.array(layer.weight)")
        return self._weight.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._weight.__dlpack_device__()

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _repr_options(self):
        parts = [f"{self.num_embeddings}", f"{self.embedding_dim}"]
        if self.padding_idx is not None:
            parts.append(f"padding_idx={self.padding_idx}")
        if self.max_norm is not None:
            parts.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2.0:
            parts.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            parts.append("scale_grad_by_freq=True")
        if self.sparse:
            parts.append("sparse=True")
        if not self.requires_grad:
            parts.append("frozen")
        return parts


class Embedding(_LookupLayer):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, with the
    semantics of ``torch.nn.Embedding``.

    ``layer(input)`` returns ``weight[input]``, shape ``input.shape + (embedding_dim,)``:
    the same as ``one_hot(input) @ weight``.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        Shape of the table.
    padding_idx : int, optional
        Row that gets no gradient. A new layer sets it to zeros (a pretrained weight keeps
        it); negative values count from the end.
    max_norm : float, optional
        Before each lookup, every referenced row whose ``norm_type``-norm exceeds
        ``max_norm`` is scaled, in place, by ``max_norm / (norm + 1e-7)``. Any value torch
        takes except NaN (ValueError here; a no-op in torch): 0 zeroes the rows looked up,
        a negative value also flips their sign, inf changes nothing.
    norm_type : float
        The p of the p-norm for `max_norm` (any p torch accepts, ``inf`` included).
    scale_grad_by_freq : bool
        Divide each row's gradient by how often its id occurs in the batch.
    sparse : bool
        `backward` returns a `SparseGrad` (the rows touched) instead of a dense array.
    _weight : ndarray, optional
        Use this (num_embeddings, embedding_dim) array as the weight, without a copy when
        it is float32/float64 and C-contiguous; `from_pretrained` is the public spelling.
    _freeze : bool
        Start frozen (``requires_grad=False``).
    device : None or 'cpu'
        As torch's keyword; the weight is always a numpy array in CPU memory, so any other
        device (``'cuda'``, ``'meta'``, ...) raises ValueError.
    dtype : {np.float32, np.float64} or None
        Type of a new weight: numpy's or torch's float32/float64 (torch.float32 is
        recognised without importing torch); None (the default) means float32, torch's
        default dtype.
    rng : numpy.random.Generator or int, optional
        Source of the new weight's N(0, 1) draws (a seed or a Generator); fresh entropy if
        None, as torch's global generator when unseeded.

    Attributes
    ----------
    weight : ndarray, shape (num_embeddings, embedding_dim)
    requires_grad : bool
        False for a frozen layer: `backward` returns None and `step` does nothing.
    grad : ndarray or SparseGrad or None
        Sum of the gradients from `backward` since the last `zero_grad`.
    index_to_key, key_to_index : list, dict or None
        The vocabulary, when built by `from_keyed_vectors`.

    Notes
    -----
    Training in numpy: ``out = layer(ids)``, then ``layer.backward(ids, d_out)`` and
    ``layer.step(lr)`` as with a torch optimizer, or ``layer.sgd_step(ids, d_out, lr)``,
    which applies the same update without materialising the gradient.

    Errors: ids outside ``[0, num_embeddings)`` raise IndexError; indices that are not
    int32/int64 raise TypeError; a bad ``padding_idx`` or shape raises ValueError (torch
    raises RuntimeError for the dtype and AssertionError for these), and so do
    ``max_norm=nan`` (torch ignores it) and a device other than the CPU. Every check runs
    before the weight is touched.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None, *, rng=None):
        self._setup(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse, _weight, _freeze, device, dtype, rng)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding over an existing (num_embeddings, embedding_dim) matrix.

        The matrix is used as is, without a copy, when it is float32 (or float64) and
        C-contiguous, so updates (`step`, `max_norm`) show in it; otherwise it is copied
        into that form. The padding row is not zeroed. Frozen unless ``freeze=False``.
        Other parameters as in `Embedding`.
        """
        weight = _as_weight(embeddings, "embeddings")
        return cls(weight.shape[0], weight.shape[1], padding_idx, max_norm, norm_type,
                   scale_grad_by_freq, sparse, _weight=weight, _freeze=freeze)

    @classmethod
    def from_keyed_vectors(cls, kv, freeze=True, **kwargs):
        """An Embedding over ``kv.vectors`` (no copy) that keeps the vocabulary of `kv`
        (a fastw2v or gensim KeyedVectors), so that `encode` maps tokens to ids.

        Keyword arguments as in `from_pretrained`.
        """
        layer = cls.from_pretrained(kv.vectors, freeze=freeze, **kwargs)
        layer._attach_vocab(kv)
        return layer

    @classmethod
    def from_torch(cls, module):
        """An Embedding sharing memory with a CPU ``torch.nn.Embedding``'s weight, with its
        padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse and freeze."""
        return cls.from_pretrained(_torch_weight(module), freeze=not module.weight.requires_grad,
                                   padding_idx=module.padding_idx, max_norm=module.max_norm,
                                   norm_type=module.norm_type,
                                   scale_grad_by_freq=module.scale_grad_by_freq,
                                   sparse=module.sparse)

    def to_torch(self):
        """A ``torch.nn.Embedding`` whose weight shares memory with this one's (via
        ``torch.from_numpy``), with the same settings; frozen if this layer is."""
        torch, weight = _torch_ready(self)
        return torch.nn.Embedding.from_pretrained(
            weight, freeze=not self.requires_grad,
            padding_idx=self.padding_idx, max_norm=self.max_norm, norm_type=self.norm_type,
            scale_grad_by_freq=self.scale_grad_by_freq, sparse=self.sparse)

    def _ids(self, input):
        ids = _as_ids(input, "input")
        flat = ids.reshape(-1)
        self._check_range(flat, ids.shape)
        return ids.shape, flat

    def forward(self, input) -> np.ndarray:
        """``weight[input]``, shape ``input.shape + (embedding_dim,)``, after the
        `max_norm` renormalisation of the rows referenced.

        Parameters
        ----------
        input : array_like of int32 or int64, any shape
            The ids (torch's name for the argument, so ``layer(input=ids)`` works too).
        """
        shape, flat = self._ids(input)
        self._renorm(flat)
        out = np.empty((flat.size, self.embedding_dim), dtype=self._weight.dtype)
        _lookup.gather_rows(self._weight, flat, out)
        return out.reshape(shape + (self.embedding_dim,))

    def backward(self, input, grad_output):
        """Gradient of the weight given the gradient of the forward output, also added to
        `grad`.

        Parameters
        ----------
        input : array_like of int32 or int64
            As passed to forward.
        grad_output : array_like of float, shape ``input.shape + (embedding_dim,)``

        Returns
        -------
        ndarray (num_embeddings, embedding_dim), or SparseGrad if ``sparse``, or None if the
        layer is frozen. Equal to ``one_hot(input).T @ grad_output``, with the padding
        row zero and, with ``scale_grad_by_freq``, each row divided by its id's count.
        """
        if not self.requires_grad:
            return None
        shape, flat = self._ids(input)
        g = self._as_grad(grad_output, shape + (self.embedding_dim,))
        # (n_ids, dim) spelled out: reshape(-1, 0) is ambiguous when embedding_dim is 0
        g = g.reshape(flat.size, self.embedding_dim)
        grad = self._weight_grad(flat, None, g, None, False)
        self._accumulate(grad)
        return grad

    def sgd_step(self, input, grad_output, lr):
        """``weight -= lr * backward(input, grad_output)`` without materialising the
        gradient (only the rows referenced are touched); leaves `grad` alone and does
        nothing on a frozen layer. A `grad_output` that shares memory with the weight is
        copied first, so the result is still that of backward then `step`."""
        lr = _check_lr(lr)
        if not self.requires_grad:
            return
        shape, flat = self._ids(input)
        g = self._as_grad(grad_output, shape + (self.embedding_dim,))
        self._before_write("sgd_step()")
        g = self._unaliased(g.reshape(flat.size, self.embedding_dim))
        self._sgd_scatter(flat, None, g, None, False, lr)
        self._after_write()

    def __repr__(self):
        return f"Embedding({', '.join(self._repr_options())})"


class EmbeddingBag(_LookupLayer):
    """Sums, means or maxima of bags of embeddings, without building the per-id vectors,
    with the semantics of ``torch.nn.EmbeddingBag``. This is also how a sentence vector is
    made from word vectors.

    ``layer(input, offsets)`` reduces the bags ``input[offsets[b]:offsets[b+1]]`` (the last
    one runs to the end of `input`); a 2-D `input` (B, L) is B bags of length L.

    Parameters
    ----------
    num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, sparse,
    padding_idx, rng, _weight
        As in `Embedding`; `padding_idx` is also left out of every reduction (and out of a
        mean's count).
    device, dtype
        As in `Embedding`.
    mode : {'mean', 'sum', 'max'}
        The reduction; 'mean' by default, as in torch. An empty bag gives zeros. 'max'
        supports neither `scale_grad_by_freq` nor `sparse` (ValueError, at construction
        here; torch raises at forward).
    include_last_offset : bool
        `offsets` has one more entry, the end of the last bag (CSR style).

    Notes
    -----
    ``per_sample_weights`` (same shape as `input`) weights each id in mode 'sum';
    another mode raises NotImplementedError, as in torch.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None, *,
                 rng=None, _freeze=False):
        _check_mode(mode, scale_grad_by_freq, sparse)
        self._setup(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse, _weight, _freeze, device, dtype, rng)
        self.mode = mode
        self.include_last_offset = bool(include_last_offset)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag over an existing matrix: no copy when it is float32 (or float64)
        and C-contiguous; the padding row is not zeroed. See `Embedding.from_pretrained`."""
        weight = _as_weight(embeddings, "embeddings")
        return cls(weight.shape[0], weight.shape[1], max_norm, norm_type, scale_grad_by_freq,
                   mode, sparse, _weight=weight, include_last_offset=include_last_offset,
                   padding_idx=padding_idx, _freeze=freeze)

    @classmethod
    def from_keyed_vectors(cls, kv, freeze=True, **kwargs):
        """An EmbeddingBag over ``kv.vectors`` (no copy) that keeps the vocabulary of `kv`
        for `encode` and `encode_bags`. Keyword arguments as in `from_pretrained`."""
        layer = cls.from_pretrained(kv.vectors, freeze=freeze, **kwargs)
        layer._attach_vocab(kv)
        return layer

    @classmethod
    def from_torch(cls, module):
        """An EmbeddingBag sharing memory with a CPU ``torch.nn.EmbeddingBag``'s weight, with
        its settings."""
        return cls.from_pretrained(_torch_weight(module), freeze=not module.weight.requires_grad,
                                   max_norm=module.max_norm, norm_type=module.norm_type,
                                   scale_grad_by_freq=module.scale_grad_by_freq,
                                   mode=module.mode, sparse=module.sparse,
                                   include_last_offset=module.include_last_offset,
                                   padding_idx=module.padding_idx)

    def to_torch(self):
        """A ``torch.nn.EmbeddingBag`` whose weight shares memory with this one's, with the
        same settings; frozen if this layer is."""
        torch, weight = _torch_ready(self)
        return torch.nn.EmbeddingBag.from_pretrained(
            weight, freeze=not self.requires_grad,
            max_norm=self.max_norm, norm_type=self.norm_type,
            scale_grad_by_freq=self.scale_grad_by_freq, mode=self.mode, sparse=self.sparse,
            include_last_offset=self.include_last_offset, padding_idx=self.padding_idx)

    def encode_bags(self, sentences, unknown="raise"):
        """``(input, offsets)`` for a list of token sequences, one bag each, in the form
        this layer's forward takes (with the final end offset if `include_last_offset`).
        `unknown` as in `encode`; with 'skip', a sentence of unknown tokens only becomes an
        empty bag (zeros)."""
        ids, offsets = [], []
        for tokens in sentences:
            offsets.append(len(ids))
            ids.extend(self._encode_list(tokens, unknown))
        if self.include_last_offset:
            offsets.append(len(ids))
        return np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64)

    def _bags(self, input, offsets, per_sample_weights):
        """Checks everything and returns (flat ids, bounds (n_bags + 1,) int64, per-sample
        weights or None), in torch's order of checks."""
        _check_mode(self.mode, self.scale_grad_by_freq, self.sparse)
        ids = _id_array(input)
        psw = None
        if per_sample_weights is not None:
            psw = np.asarray(per_sample_weights)
            if psw.shape != ids.shape:
                raise ValueError(f"per_sample_weights has shape {psw.shape}; it must have the "
                                 f"shape of input, {ids.shape}")
            if psw.dtype.kind != "f":
                raise TypeError(f"per_sample_weights must be a float array, got {psw.dtype}")
        if ids.ndim == 2:
            if offsets is not None:
                raise ValueError("if input is 2-D (a batch of equal-length bags), offsets must "
                                 f"be None; got offsets of type {type(offsets).__name__}")
            ids = _as_ids(ids, "input", caller=input)
            n_bags, length = ids.shape
            bounds = np.arange(n_bags + 1, dtype=np.int64) * length
        elif ids.ndim == 1:
            if offsets is None:
                raise ValueError("offsets must be a 1-D array of bag starts when input is "
                                 "1-D; got None")
            offsets = _id_array(offsets)
            if offsets.ndim != 1:
                raise ValueError(f"offsets must be 1-D, got shape {offsets.shape}")
            common = _common_id_dtype(ids.dtype, offsets.dtype)
            ids = _as_ids(ids, "input", common, caller=input)
            bounds = _bag_bounds(offsets, ids.size, self.include_last_offset)
        else:
            raise ValueError(f"input must be 1-D (with offsets) or 2-D (bags of equal length), "
                             f"got {ids.ndim}-D")
        if psw is not None and self.mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{self.mode}')")
        flat = ids.reshape(-1)
        self._check_range(flat, ids.shape)
        if psw is not None:
            psw = np.ascontiguousarray(psw.reshape(-1), dtype=self._weight.dtype)
        return flat, bounds, psw

    def _bag_max(self, flat, bounds, with_arg):
        """(maxima, the id that won each element or None)."""
        n_bags = len(bounds) - 1
        out = np.empty((n_bags, self.embedding_dim), dtype=self._weight.dtype)
        arg = np.empty((n_bags, self.embedding_dim), dtype=np.int64) if with_arg else None
        _lookup.bag_max(self._weight, flat, bounds, self._pad, out, arg)
        return out, arg

    def forward(self, input, offsets=None, per_sample_weights=None) -> np.ndarray:
        """The reduction of each bag: shape (n_bags, embedding_dim).

        Parameters
        ----------
        input : array_like of int32 or int64, 1-D with `offsets`, or 2-D (B, L)
        offsets : array_like of int, 1-D, optional
            Start of each bag in `input`: starts at 0, non-decreasing, at most len(input).
            As in torch, `input` and `offsets` are converted to their common type, which
            must be int32 or int64: int16, int8, uint8 or bool offsets (or a 1-D input of
            those types) are fine beside int32/int64; uint16/32/64 and floats are not.
        per_sample_weights : array_like of float, shape of `input`, optional
            Mode 'sum' only. Cast to the weight's dtype.
        """
        flat, bounds, psw = self._bags(input, offsets, per_sample_weights)
        self._renorm(flat)
        if self.mode == "max":
            return self._bag_max(flat, bounds, False)[0]
        out = np.empty((len(bounds) - 1, self.embedding_dim), dtype=self._weight.dtype)
        _lookup.bag_sum(self._weight, flat, bounds, psw, self.mode == "mean", self._pad, out)
        return out

    def backward(self, input, grad_output, offsets=None, per_sample_weights=None):
        """Gradient of the weight given the gradient of the output (n_bags, embedding_dim),
        also added to `grad`; same arguments as forward (call it before the weight changes:
        'max' recomputes which id won each element).

        Returns
        -------
        ndarray (num_embeddings, embedding_dim), or SparseGrad if ``sparse``, or None if the
        layer is frozen. Padding ids get none; a mean spreads a bag's gradient over its
        non-padding ids; a max sends each element's gradient to the id that won it.
        """
        if not self.requires_grad:
            return None
        flat, bounds, psw = self._bags(input, offsets, per_sample_weights)
        g = self._as_grad(grad_output, (len(bounds) - 1, self.embedding_dim))
        if self.mode == "max":
            grad = np.zeros_like(self._weight)
            _lookup.bag_max_scatter(g, self._bag_max(flat, bounds, True)[1], 1.0, grad)
        else:
            grad = self._weight_grad(flat, bounds, g, psw, self.mode == "mean")
        self._accumulate(grad)
        return grad

    def per_sample_weights_grad(self, input, grad_output, offsets=None) -> np.ndarray:
        """Gradient of `per_sample_weights` (mode 'sum'), shape of `input`: the dot product
        of each id's row with its bag's output gradient; 0 for padding ids and for ids
        past the last bag. Independent of `requires_grad`, as in torch."""
        if self.mode != "sum":
            raise NotImplementedError(f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{self.mode}')")
        flat, bounds, _ = self._bags(input, offsets, None)
        g = self._as_grad(grad_output, (len(bounds) - 1, self.embedding_dim))
        gpsw = np.zeros(flat.size, dtype=self._weight.dtype)
        _lookup.bag_psw_grad(self._weight, flat, bounds, g, self._pad, gpsw)
        return gpsw.reshape(np.shape(input))

    def sgd_step(self, input, grad_output, lr, offsets=None, per_sample_weights=None):
        """``weight -= lr * backward(...)`` without materialising the gradient; leaves
        `grad` alone and does nothing on a frozen layer. A `grad_output` or
        `per_sample_weights` that shares memory with the weight is copied first."""
        lr = _check_lr(lr)
        if not self.requires_grad:
            return
        flat, bounds, psw = self._bags(input, offsets, per_sample_weights)
        g = self._as_grad(grad_output, (len(bounds) - 1, self.embedding_dim))
        self._before_write("sgd_step()")
        g, psw = self._unaliased(g), self._unaliased(psw)
        if self.mode == "max":
            _lookup.bag_max_scatter(g, self._bag_max(flat, bounds, True)[1], -lr, self._weight)
        else:
            self._sgd_scatter(flat, bounds, g, psw, self.mode == "mean", lr)
        self._after_write()

    def __repr__(self):
        parts = self._repr_options()
        parts.insert(2, f"mode={self.mode!r}")
        if self.include_last_offset:
            parts.append("include_last_offset=True")
        return f"EmbeddingBag({', '.join(parts)})"


# ---- checks shared by both layers ----------------------------------------------------------------

def _check_size(name, value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def _check_weight_dtype(dtype, name):
    if dtype.kind == "f" and dtype.newbyteorder("=") in _WEIGHT_DTYPES:
        return dtype.newbyteorder("=")
    raise TypeError(f"{name} must be float32 or float64, got {dtype}; convert with "
                    f".astype(np.float32)")


def _as_weight(value, name) -> np.ndarray:
    """value as a 2-D float32/float64 C-contiguous array: itself when it already is one."""
    weight = np.asarray(value)
    if weight.ndim != 2:
        raise ValueError(f"{name} must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{weight.shape}")
    dtype = _check_weight_dtype(weight.dtype, name)
    if weight.dtype == dtype and weight.flags.c_contiguous:
        return weight
    return aligned_copy(weight, dtype)


def _id_array(value) -> np.ndarray:
    """value as an array, dtype unchecked; [] is an empty list of ids, not of floats."""
    ids = np.asarray(value)
    if ids.size == 0 and not isinstance(value, np.ndarray) and ids.dtype.kind == "f":
        ids = ids.astype(np.int64)
    return ids


def _as_ids(value, name, promoted=None, caller=None) -> np.ndarray:
    """value as a C-contiguous int32/int64 array of the layer's own, which no other thread
    can change between the range check and the kernels that trust it (the caller's
    array, `caller` or value, is copied). Any other dtype is a TypeError, unless
    `promoted` (int32 or int64, from `_common_id_dtype`) is given: then it is converted."""
    ids = _id_array(value)
    dtype = ids.dtype.newbyteorder("=")
    if dtype not in _ID_DTYPES:
        if promoted is None:
            raise TypeError(f"{name} must have dtype int32 or int64 (torch's Int or Long), got "
                            f"{ids.dtype}; convert with np.asarray({name}, dtype=np.int64)")
        dtype = promoted
    if ids.dtype == dtype and ids.dtype.isnative and ids.flags.c_contiguous:
        # only a list, tuple or number was converted into a new array here; any other
        # object (an array, a tensor, a container's __array__) may hand out its memory
        made_here = isinstance(value if caller is None else caller,
                               (list, tuple, numbers.Integral))
        return ids if made_here else ids.copy()
    # asarray, not ascontiguousarray, which would make a 0-d index 1-d
    return np.asarray(ids, dtype=dtype, order="C")


def _common_id_dtype(input_dtype, offsets_dtype) -> np.dtype:
    """The type torch's embedding_bag converts both input and offsets to: their promoted
    type, which must be int32 or int64. bool, uint8, int8 and int16 promote as in numpy;
    torch does not promote uint16/32/64 with anything."""
    a, b = input_dtype.newbyteorder("="), offsets_dtype.newbyteorder("=")
    if a in _PROMOTABLE_ID_DTYPES and b in _PROMOTABLE_ID_DTYPES:
        common = np.promote_types(a, b)
        if common in _ID_DTYPES:
            return common
    raise TypeError(f"input and offsets must be integer arrays whose common type is int32 or "
                    f"int64 (torch's Int or Long), got input {input_dtype} and offsets "
                    f"{offsets_dtype}; offsets (or input) of bool, uint8, int8 or int16 are "
                    f"converted, but not uint16/32/64 or floats: convert with "
                    f"np.asarray(..., dtype=np.int64)")


def _bag_bounds(offsets, n_ids, include_last_offset) -> np.ndarray:
    """(n_bags + 1,) bag boundaries from torch-style offsets, checked (in a copy of
    them, which no other thread can change once checked)."""
    offsets = np.array(offsets, dtype=np.int64)
    if include_last_offset and offsets.size == 0:
        raise ValueError("include_last_offset=True needs at least one offset (the end of the "
                         "last bag)")
    if offsets.size and offsets[0] != 0:
        raise ValueError(f"offsets[0] must be 0 (the first bag starts at the first index), "
                         f"got {offsets[0]}")
    if offsets.size and offsets[-1] > n_ids:
        raise ValueError(f"offsets[-1] is {offsets[-1]}, past the end of input (length "
                         f"{n_ids})")
    bounds = offsets if include_last_offset else np.append(offsets, n_ids)
    if offsets.size > 1:
        bad = np.flatnonzero(np.diff(offsets) < 0)
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"offsets must be non-decreasing: offsets[{i}] = {offsets[i]} > "
                             f"offsets[{i + 1}] = {offsets[i + 1]}")
    return np.ascontiguousarray(bounds, dtype=np.int64)


def _check_mode(mode, scale_grad_by_freq, sparse):
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")


def _check_max_norm(max_norm):
    """Any float torch takes: 0 zeroes the rows looked up, a negative value also flips them,
    inf is a no-op. NaN, which torch takes as a silent no-op, is refused."""
    if max_norm is None:
        return None
    max_norm = _real("max_norm", max_norm)
    if math.isnan(max_norm):
        raise ValueError("max_norm must be a number or None, got nan")
    return max_norm


def _check_device(device):
    if device is None or str(device) in ("cpu", "cpu:0"):
        return
    hint = ""
    try:
        _new_weight_dtype(device)    # numpy's or torch's float32/float64
        hint = ("; this looks like a dtype: as in torch, dtype comes after device, so pass "
                "it as dtype=...")
    except (TypeError, ValueError):
        pass
    raise ValueError(f"device={device!r} is not supported: fastw2v keeps the weight in CPU "
                     f"memory as a numpy array, so device must be None or 'cpu' (for a copy "
                     f"on another device: layer.to_torch().to(device)){hint}")


def _new_weight_dtype(dtype) -> np.dtype:
    """The dtype of a new weight: None is float32 (torch's default); torch.float32 and
    torch.float64 are recognised by name, without importing torch."""
    if dtype is None:
        return np.dtype(np.float32)
    name = str(dtype)
    if name.startswith("torch."):
        dtype = name[len("torch."):]
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {name}") from None
    return _check_weight_dtype(dtype, "dtype")


def _real(name, value) -> float:
    """A number (anything with __float__: numpy or torch scalars too), not a string."""
    if not hasattr(type(value), "__float__"):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _check_norm_type(norm_type) -> float:
    norm_type = _real("norm_type", norm_type)
    if math.isnan(norm_type):
        raise ValueError("norm_type must be a number, got nan")
    return norm_type


def _check_lr(lr) -> float:
    lr = _real("lr", lr)
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"lr must be finite and >= 0, got {lr}")
    return lr


def _count_in_table(flat, n_rows):
    """Whether to count the ids of `flat` in a table of n_rows entries, O(n_rows + n_ids),
    rather than by sorting: faster unless the table dwarfs the batch (a few ids looked up
    in a table of millions of rows, say)."""
    return flat.size * 8 >= n_rows


def _unique_ids(flat, n_rows, padding_idx, with_counts=False):
    """(uniq, slot, counts): the sorted distinct ids other than padding_idx (int64),
    slot (n_ids,) int64 with uniq[slot[i]] == flat[i] wherever flat[i] != padding_idx,
    and, with with_counts, how often the id at each position of `flat` occurs in it
    ((n_ids,) int64, as _id_counts; else None)."""
    if _count_in_table(flat, n_rows):
        table = _lookup.count_ids(flat, n_rows)
        counts = table[flat] if with_counts else None
        if padding_idx >= 0:
            table[padding_idx] = 0
        uniq = np.flatnonzero(table)
        row_of = np.zeros(n_rows, dtype=np.int64)
        row_of[uniq] = np.arange(uniq.size)
        return uniq.astype(np.int64, copy=False), row_of[flat], counts
    uniq, slot, per_id = np.unique(flat, return_inverse=True, return_counts=True)
    uniq = uniq.astype(np.int64, copy=False)
    slot = np.ascontiguousarray(slot.astype(np.int64, copy=False).reshape(-1))
    counts = (np.ascontiguousarray(per_id[slot], dtype=np.int64) if with_counts else None)
    if padding_idx >= 0:
        k = np.searchsorted(uniq, padding_idx)
        if k < uniq.size and uniq[k] == padding_idx:
            uniq = np.delete(uniq, k)
            slot = slot - (slot > k)        # padding positions keep a slot the kernel ignores
    return uniq, slot, counts


def _coalesce(ids, rows, shape):
    """(sorted distinct ids, their summed rows) of a row-sparse gradient."""
    uniq, slot, _ = _unique_ids(ids, shape[0], -1)
    summed = np.zeros((len(uniq), shape[1]), dtype=rows.dtype)
    _lookup.bag_scatter(rows, ids, None, None, False, None, slot, -1, 1.0, summed)
    return uniq, summed


def _id_counts(flat, n_rows):
    """How often the id at each position of `flat` occurs in it, (n_ids,) int64: counted
    in a table or by sorting (see _count_in_table)."""
    if _count_in_table(flat, n_rows):
        return _lookup.count_ids(flat, n_rows)[flat]
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return np.ascontiguousarray(counts[inverse.reshape(-1)], dtype=np.int64)


def _torch_ready(layer):
    """The weight as a tensor for to_torch(): refused when it is read-only and torch would
    write it (training, or max_norm's renormalisation): torch ignores numpy's read-only
    flag, and a write to a read-only memory map crashes the process."""
    if not layer._weight.flags.writeable and (layer.requires_grad or layer.max_norm is not None):
        what = "a trainable module" if layer.requires_grad else "max_norm"
        raise ValueError(f"the weight is read-only (a memory-mapped file, say) and torch would "
                         f"write to it ({what}), which it cannot do safely; use a writable "
                         f"copy first: layer.weight = np.array(layer.weight)")
    torch = _import_torch(f"{type(layer).__name__}.to_torch()")
    return torch, torch.from_numpy(layer._weight)


def _import_torch(what):
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"{what} needs PyTorch: pip install 'fastw2v[torch]'") from e
    return torch


def _torch_weight(module) -> np.ndarray:
    """A torch module's weight as a numpy array sharing its memory."""
    weight = module.weight.detach()
    if weight.device.type != "cpu":
        raise ValueError(f"the module's weight is on {weight.device}; move it to the CPU "
                         f"first (module.cpu())")
    if not weight.is_contiguous():
        raise ValueError("the module's weight is not contiguous, so it cannot be shared; make "
                         "it contiguous first: module.weight.data = "
                         "module.weight.data.contiguous()")
    try:
        return weight.numpy()
    except TypeError as e:
        raise TypeError(f"the module's weight is {weight.dtype}; fastw2v supports float32 "
                        f"and float64") from e
