# The training entry point: one nogil call per thread per epoch into src_c/w2v_train.c.
# Validation and allocation happen in Python (fastw2v.word2vec) before anything gets here.
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t, uintptr_t
from libc.string cimport memset

from fastw2v._c cimport *
from fastw2v._vocab import bad_offset

RUN_OK = W2V_RUN_OK
RUN_STOPPED = W2V_RUN_STOPPED
RUN_NONFINITE = W2V_RUN_NONFINITE
EXP_TABLE_SIZE = W2V_EXP_TABLE_SIZE
MAX_EXP = W2V_MAX_EXP
MAX_INPUTS = W2V_MAX_INPUTS
HOT_ROWS = W2V_HOT_ROWS
HOT_SYNC_WORDS = W2V_HOT_SYNC_WORDS
SIMD_NAMES = {"auto": W2V_SIMD_AUTO, "generic": W2V_SIMD_GENERIC, "avx2": W2V_SIMD_AVX2}


def available_simd():
    """Kernel variants this build and CPU can run, best last."""
    return [name for name, code in SIMD_NAMES.items()
            if name != "auto" and w2v_simd_supported(code)]


def _padded(n, dtype):
    """A zeroed array of n items with a free cache line on each side, so that the scratch
    arrays that one thread writes never share a cache line with another thread's."""
    pad = 64 // np.dtype(dtype).itemsize
    return np.zeros(n + 2 * pad, dtype=dtype)[pad:pad + n]


def _check_rows(name, const float[:, :] a, int64_t rows, int64_t dim):
    if a.shape[0] != rows or a.shape[1] != dim:
        raise ValueError(f"{name} has shape {(a.shape[0], a.shape[1])}, expected "
                         f"{(rows, dim)} for a vocabulary of the input vectors' size")


def padded_width(int64_t dim):
    """Floats per output row as fastw2v lays the output matrices out: dim rounded up to
    whole 64-byte cache lines (16 floats), so that neighbouring rows, which two threads
    may be writing at once, never share a line."""
    return (dim + 15) // 16 * 16


cdef int64_t _row_stride(name, const float[:, :] a) except -1:
    """Floats from one row of an output matrix to the next: its rows must be contiguous
    and at most padded_width(dim) floats apart (as fastw2v lays them out, or closer)."""
    cdef int64_t rows = a.shape[0], dim = a.shape[1], stride = dim
    if rows == 0 or dim == 0:
        return dim
    if rows > 1:
        stride = a.strides[0] // <Py_ssize_t>sizeof(float)
    if ((dim > 1 and a.strides[1] != sizeof(float))
            or (rows > 1 and (a.strides[0] % sizeof(float)
                              or not dim <= stride <= padded_width(dim)))):
        raise ValueError(f"{name} must have contiguous float32 rows at most "
                         f"{padded_width(dim)} floats apart, got strides "
                         f"{(a.strides[0], a.strides[1])} bytes")
    return stride


def output_rows_fit(a):
    """Whether the trainer can follow the rows of output matrix `a` (a float32 matrix):
    contiguous rows at most padded_width(dim) floats apart."""
    try:
        _row_stride("", a)
    except ValueError:
        return False
    return True


def _check_length(name, a, int64_t n):
    if a is None or len(a) != n:
        raise ValueError(f"{name} has {None if a is None else len(a)} entries, expected {n}")


def _thread_state(dim, max_span, window, negative, rng_state):
    """A ThreadState as pickled: fresh buffers and counters, the RNG where it was."""
    state = ThreadState(dim, max_span, window, negative, 0)
    state.rng_state = rng_state
    return state


cdef class ThreadState:
    """Everything one training thread owns: RNG, scratch vectors, counters."""
    cdef w2v_thread t
    cdef object buffers
    cdef readonly int64_t dim, max_span     # the sizes its buffers were made for
    cdef readonly int window, negative

    def __init__(self, int64_t dim, int64_t max_span, int window, int negative, uint64_t seed):
        self.dim, self.max_span, self.window, self.negative = dim, max_span, window, negative
        h = _padded(dim, np.float32)
        e = _padded(dim, np.float32)
        span = _padded(max(max_span, 1), np.int32)
        ctx = _padded(max(2 * window, 1), np.int32)
        negs = _padded(max(2 * negative, 1), np.int32)
        grad = _padded(W2V_BLOCK * W2V_MAX_INPUTS, np.float32)
        errs = _padded(W2V_MAX_INPUTS * dim, np.float32)
        inputs = _padded(W2V_MAX_INPUTS, np.uintp)
        hot = _padded(W2V_HOT_ROWS * dim, np.float32)
        hot_base = _padded(W2V_HOT_ROWS * dim, np.float32)
        self.buffers = (h, e, span, ctx, negs, grad, errs, inputs, hot, hot_base)
        cdef uintptr_t[::1] inputs_v = inputs
        cdef float[::1] h_v = h, e_v = e, grad_v = grad, errs_v = errs
        cdef float[::1] hot_v = hot, hot_base_v = hot_base
        cdef int32_t[::1] span_v = span, ctx_v = ctx, negs_v = negs
        memset(&self.t, 0, sizeof(w2v_thread))
        self.t.h = &h_v[0]
        self.t.e = &e_v[0]
        self.t.span = &span_v[0]
        self.t.ctx = &ctx_v[0]
        self.t.negs = &negs_v[0]
        self.t.grad = &grad_v[0]
        self.t.errs = &errs_v[0]
        self.t.inputs = <float **>&inputs_v[0]
        self.t.hot = &hot_v[0]
        self.t.hot_base = &hot_base_v[0]
        w2v_thread_seed(&self.t, seed)

    def __reduce__(self):
        # the counters are taken after every epoch; the buffers are scratch space
        return _thread_state, (self.dim, self.max_span, self.window, self.negative,
                               self.t.rng)

    def take_counters(self):
        """Returns (loss, words, trained, examples, steps) since the last call, and resets
        them: the summed loss, corpus words read, words kept after subsampling, examples
        ((centre, context) pairs for skip-gram, windows for CBOW) and logistic steps (one
        per input and output row)."""
        out = (self.t.loss, self.t.words, self.t.trained, self.t.examples, self.t.steps)
        self.t.loss = 0.0
        self.t.words = self.t.trained = self.t.examples = self.t.steps = 0
        return out

    @property
    def alpha(self):
        return self.t.alpha

    @property
    def left(self):
        """(from, to): after a run that was stopped, the ids [from, to) of the chunk it was
        in that it did not train; (0, 0) if it stopped between chunks or was not stopped."""
        return self.t.left_from, self.t.left_to

    @property
    def rng_state(self):
        """The RNG's state, to save and restore a run (a nonzero 64-bit integer)."""
        return self.t.rng

    @rng_state.setter
    def rng_state(self, uint64_t value):
        if value == 0:
            raise ValueError("the RNG state must be nonzero")
        self.t.rng = value


cdef class Trainer:
    """The shared training state: pointers to the weights, the encoded corpus and the
    vocabulary tables, the shared progress count and the stop flag."""
    cdef w2v_model m
    cdef int64_t words_done
    cdef int stop
    cdef object arrays
    cdef object chunk_starts, chunk_ends   # this epoch's chunks of ids, for run_chunks
    cdef int64_t next_chunk                # the first chunk no thread has taken yet

    def __init__(self, float[:, ::1] w_in, float[:, :] w_out_ns, float[:, :] w_out_hs,
                 const int32_t[::1] ids, const int64_t[::1] offsets,
                 const float[::1] keep_prob, const float[::1] noise_prob,
                 const int32_t[::1] noise_alias, const int64_t[::1] path_off,
                 const int32_t[::1] path_points, const uint8_t[::1] path_codes,
                 *, int sg, int hs, int negative, int window, bint shrink_windows,
                 int cbow_mean, bint compute_loss, int64_t max_span,
                 bint shared_negatives=False, int hot_rows=0,
                 int64_t hot_sync_words=W2V_HOT_SYNC_WORDS,
                 double alpha_start, double alpha_end, int64_t schedule_words,
                 str simd="auto", const float[::1] lockf=None):
        """hot_rows: how many of the heaviest Huffman nodes each thread trains in a private
        copy (at most HOT_ROWS; 0 with one thread), merged into the shared matrix every
        hot_sync_words words of that thread. lockf: (n_words,) factor of each input row's
        updates (gensim's vectors_lockf), None for 1."""
        if not 0 <= hot_rows <= W2V_HOT_ROWS:
            raise ValueError(f"hot_rows must be within [0, {W2V_HOT_ROWS}], got {hot_rows}")
        if hot_sync_words < 1:
            raise ValueError(f"hot_sync_words must be at least 1, got {hot_sync_words}")
        # keep every array alive as long as the raw pointers below are used
        self.arrays = (w_in, w_out_ns, w_out_hs, ids, offsets, keep_prob, noise_prob,
                       noise_alias, path_off, path_points, path_codes, lockf)
        cdef int64_t n = w_in.shape[0], dim = w_in.shape[1]
        # the kernels index these by word id (< n, checked in Python): a size that does not
        # match would have them read or write outside an array
        if n < 1:
            raise ValueError("the input vectors have no rows: there is no vocabulary to train")
        if negative:
            _check_rows("w_out_ns", w_out_ns, n, dim)
            _check_length("noise_prob", noise_prob, n)
            _check_length("noise_alias", noise_alias, n)
        if hs:
            _check_rows("w_out_hs", w_out_hs, n - 1, dim)
            _check_length("path_off", path_off, n + 1)
            if path_off[n] > path_points.shape[0] or path_off[n] > path_codes.shape[0]:
                raise ValueError("path_points and path_codes are shorter than path_off says")
        if keep_prob is not None:
            _check_length("keep_prob", keep_prob, n)
        if lockf is not None:
            _check_length("lockf", lockf, n)
        if bad_offset(offsets, ids.shape[0]) >= 0:
            raise ValueError("offsets must run from 0 to len(ids) without decreasing")
        memset(&self.m, 0, sizeof(w2v_model))
        self.m.n_words = n
        self.m.dim = dim
        self.m.w_in = &w_in[0, 0] if dim else NULL
        if negative:
            self.m.w_out_ns = &w_out_ns[0, 0] if dim else NULL
            self.m.ns_stride = _row_stride("w_out_ns", w_out_ns)
            self.m.noise_prob = &noise_prob[0]
            self.m.noise_alias = &noise_alias[0]
        if hs:
            self.m.w_out_hs = &w_out_hs[0, 0] if w_out_hs.shape[0] and dim else NULL
            self.m.hs_stride = _row_stride("w_out_hs", w_out_hs)
            self.m.path_off = &path_off[0]
            self.m.path_points = &path_points[0] if path_points.shape[0] else NULL
            self.m.path_codes = &path_codes[0] if path_codes.shape[0] else NULL
        if keep_prob is not None:
            self.m.keep_prob = &keep_prob[0]
        if lockf is not None:
            self.m.lockf = &lockf[0]
        self.m.ids = &ids[0] if ids.shape[0] else NULL
        self.m.offsets = &offsets[0]
        self.m.n_sentences = offsets.shape[0] - 1
        self.m.sg = sg
        self.m.hs = hs
        self.m.negative = negative
        self.m.window = window
        self.m.shrink_windows = shrink_windows
        self.m.cbow_mean = cbow_mean
        self.m.compute_loss = compute_loss
        self.m.shared_negatives = shared_negatives
        self.m.max_span = max_span
        # node ids grow towards the root (word2vec.c's Huffman order): the last hot_rows
        # nodes are the heaviest
        self.m.hot_first = n - 1
        if hs:
            self.m.hot_first = n - 1 - min(hot_rows, w_out_hs.shape[0])
        self.m.hot_sync_words = hot_sync_words
        self.m.alpha_start = alpha_start
        self.m.alpha_end = alpha_end
        self.m.schedule_words = schedule_words
        self.words_done = 0
        self.stop = 0
        self.m.words_done = &self.words_done
        self.m.stop = &self.stop
        if simd not in SIMD_NAMES:
            raise ValueError(f"simd must be one of {sorted(SIMD_NAMES)}, got {simd!r}")
        if w2v_model_init(&self.m, SIMD_NAMES[simd]) != 0:
            raise ValueError(f"this CPU or build cannot run the {simd!r} kernels; "
                             f"available: {available_simd()}")

    @property
    def hot_rows(self):
        """How many Huffman nodes each thread trains in a private copy."""
        return self.m.n_words - 1 - self.m.hot_first if self.m.hs else 0

    @property
    def hot_sync_words(self):
        """Words of a thread between two merges of its private copies."""
        return self.m.hot_sync_words

    @property
    def simd(self):
        """The kernel variant in use: 'generic' or 'avx2'."""
        return next(name for name, code in SIMD_NAMES.items() if code == self.m.simd)

    @property
    def prefetch_write(self):
        """Whether the kernels prefetch the rows they will write with PREFETCHW (the AVX2
        kernels, on a CPU that lists it)."""
        return bool(self.m.prefetch_write)

    def start_epoch(self, chunks):
        """Set the work of an epoch for run_chunks: chunks is an (n, 2) array of id ranges
        [start, end) of the encoded corpus, each ending at a sentence's end and starting
        at a sentence's start (or where a stopped run left off). The threads then take
        chunks in turn, the first first. Call while no thread runs."""
        c = np.ascontiguousarray(chunks, dtype=np.int64)
        n_ids = int(self.m.offsets[self.m.n_sentences])
        if (c.ndim != 2 or c.shape[1] != 2 or (c[:, 0] > c[:, 1]).any()
                or (c.size and (c.min() < 0 or c.max() > n_ids))):
            raise ValueError(f"chunks must be an (n, 2) array of id ranges [start, end) "
                             f"within the corpus's [0, {n_ids}]")
        self.chunk_starts = np.ascontiguousarray(c[:, 0])
        self.chunk_ends = np.ascontiguousarray(c[:, 1])
        self.next_chunk = 0

    def run_chunks(self, ThreadState state):
        """Train on the chunks of start_epoch, taking one at a time from the cursor that
        every thread shares, until none is left; returns RUN_OK, RUN_STOPPED or
        RUN_NONFINITE. Releases the GIL for the whole call."""
        if self.chunk_starts is None:
            raise RuntimeError("call start_epoch(chunks) before run_chunks")
        self._check_state(state)
        cdef const int64_t[::1] starts = self.chunk_starts, ends = self.chunk_ends
        cdef int64_t n_chunks = starts.shape[0]
        cdef const int64_t *first_start = &starts[0] if n_chunks else NULL
        cdef const int64_t *first_end = &ends[0] if n_chunks else NULL
        cdef int rc
        with nogil:
            rc = w2v_train_chunks(&self.m, &state.t, first_start, first_end, n_chunks,
                                  &self.next_chunk)
        return rc

    def unfinished(self, states):
        """The id ranges of this epoch that no thread trained, as an (n, 2) array in
        corpus order: what the stopped threads left of their chunks and the chunks no
        thread took. Call after every thread's run_chunks returned."""
        cdef ThreadState state
        left = [state.left for state in states if state.left[1] > state.left[0]]
        taken = min(self.next_chunk, len(self.chunk_starts))
        left += zip(self.chunk_starts[taken:].tolist(), self.chunk_ends[taken:].tolist())
        return np.array(sorted(left), np.int64).reshape(-1, 2)

    def _check_state(self, ThreadState state):
        """The kernels write into the state's buffers without bounds checks: they must be
        at least as large as this trainer's settings need."""
        if (state.dim != self.m.dim or state.max_span < self.m.max_span
                or state.window < self.m.window or state.negative < self.m.negative):
            raise ValueError(
                f"this ThreadState was made for dim={state.dim}, max_span={state.max_span}, "
                f"window={state.window}, negative={state.negative}; the trainer needs "
                f"dim={self.m.dim} and at least max_span={self.m.max_span}, "
                f"window={self.m.window}, negative={self.m.negative}")

    def request_stop(self):
        """Make every running thread return: at the end of the span it is training, once
        it has read W2V_PROGRESS_WORDS words since it last published its progress (within
        about 10,000 words, or one span of max_span kept words if that is longer)."""
        self.stop = 1

    @property
    def words_done(self):
        return self.words_done

    @words_done.setter
    def words_done(self, int64_t value):
        self.words_done = value

    # ---- Python-callable twins of the kernels, for tests only ----

    def sg_example(self, ThreadState state, int32_t context, int32_t word,
                   const int32_t[::1] negs, float alpha):
        """One skip-gram example with explicit noise words (see w2v_train.h)."""
        self._check_example(state, np.asarray([context]), word, negs)
        return w2v_train_sg_example(&self.m, &state.t, context, word,
                                    &negs[0] if negs.shape[0] else NULL,
                                    negs.shape[0], alpha)

    def cbow_example(self, ThreadState state, const int32_t[::1] ctx, int32_t word,
                     const int32_t[::1] negs, float alpha):
        """One CBOW example with explicit context and noise words (see w2v_train.h)."""
        self._check_example(state, np.asarray(ctx), word, negs)
        return w2v_train_cbow_example(&self.m, &state.t, &ctx[0] if ctx.shape[0] else NULL,
                                      ctx.shape[0], word, &negs[0] if negs.shape[0] else NULL,
                                      negs.shape[0], alpha)

    def sg_window(self, ThreadState state, const int32_t[::1] ctx, int32_t word,
                  const int32_t[::1] negs, float alpha):
        """One skip-gram window with explicit context and noise words (see w2v_train.h)."""
        self._check_example(state, np.asarray(ctx), word, negs)
        return w2v_train_sg_window(&self.m, &state.t, &ctx[0] if ctx.shape[0] else NULL,
                                   ctx.shape[0], word, &negs[0] if negs.shape[0] else NULL,
                                   negs.shape[0], alpha)

    def _check_example(self, ThreadState state, ctx, int32_t word, negs):
        self._check_state(state)
        if self.hot_rows:
            raise ValueError("the single-example kernels read the shared Huffman nodes only: "
                             "make the trainer with hot_rows=0 to call them")
        for ids in (ctx, np.asarray([word]), np.asarray(negs)):
            self._check_ids(ids)
        if len(ctx) > 2 * self.m.window:
            raise ValueError("more context words than 2 * window")

    def _check_ids(self, ids):
        if ids.size and (ids.min() < 0 or ids.max() >= self.m.n_words):
            raise IndexError(f"word ids must be in [0, {self.m.n_words})")

    def sigmoid_tables(self):
        """The (sigmoid, log_sigmoid) tables the kernels use, for the numpy reference."""
        return (np.array(<float[:W2V_EXP_TABLE_SIZE]> self.m.sigmoid),
                np.array(<float[:W2V_EXP_TABLE_SIZE]> self.m.log_sigmoid))
