# Compiled text and vocabulary primitives: counting and encoding bytes without the GIL, the
# Huffman tree and the alias table. Thin wrappers around src_c/w2v_text.c and w2v_tables.c.
import numpy as np

from cython.view cimport array as cvarray
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, realloc
from libc.string cimport memchr, memcpy
from cpython.exc cimport PyErr_CheckSignals

from fastw2v._c cimport *


cdef int check(int rc) except -1:
    if rc == W2V_OK or rc >= 0:
        return 0
    if rc == W2V_ENOMEM:
        raise MemoryError("out of memory while counting or encoding the corpus; set "
                          "max_vocab_size to bound the vocabulary, or encoded_dir to keep "
                          "the encoded corpus on disk")
    if rc == W2V_ETOOLONG:
        raise ValueError("a token is longer than 2**31 - 1 bytes; "
                         "is this a binary file rather than text?")
    if rc == W2V_EFULL:
        raise ValueError("more than 2**31 - 1 distinct tokens; "
                         "set max_vocab_size to prune rare words while counting")
    raise RuntimeError(f"internal error {rc} in the text kernels")


cdef char EMPTY_BYTE = 0


def bad_offset(const int64_t[::1] offsets, int64_t n_ids):
    """Where offsets fail to be sequence bounds over n_ids ids (run from 0 to n_ids,
    never decreasing): 0 if empty or not starting at 0, the first s with offsets[s] <
    offsets[s - 1], else the last index if not ending at n_ids; -1 if they are. One pass,
    no temporary array."""
    cdef int64_t n = offsets.shape[0], s
    if n == 0 or offsets[0] != 0:
        return 0
    with nogil:
        for s in range(1, n):
            if offsets[s] < offsets[s - 1]:
                break
        else:
            s = -1
    if s >= 0:
        return s
    return -1 if offsets[n - 1] == n_ids else n - 1


cdef const char *data_ptr(const unsigned char[::1] data):
    # an empty buffer has no element 0; any non-NULL pointer will do for zero bytes
    if data.shape[0] == 0:
        return &EMPTY_BYTE
    return <const char *>&data[0]


cdef class TokenCounter:
    """Counts whitespace-separated tokens in a stream of byte chunks (C, no GIL).

    With max_size > 0 the rarest words are pruned whenever more than max_size distinct
    words are held, as word2vec.c does. With record=True (no pruning) it also keeps the
    token stream, which take_encoded() then turns into the encoded corpus.
    """
    cdef w2v_counter *c
    cdef bint finished

    def __cinit__(self, int64_t max_size=0, bint record=False):
        if record and max_size > 0:
            raise ValueError("a recording counter cannot prune (max_size must be 0)")
        self.c = w2v_counter_new(max_size, record)
        if self.c is NULL:
            raise MemoryError("cannot allocate the token counter")

    def __dealloc__(self):
        w2v_counter_free(self.c)

    def feed(self, const unsigned char[::1] data, bint final=False):
        cdef const char *p = data_ptr(data)
        cdef int64_t n = data.shape[0]
        cdef int rc
        if self.finished:
            raise RuntimeError("this counter has seen its final chunk")
        with nogil:
            rc = w2v_counter_feed(self.c, p, n, final)
        check(rc)
        self.finished = final

    @property
    def n_tokens(self):
        return self.c.n_tokens

    @property
    def n_sentences(self):
        return self.c.n_sentences

    @property
    def min_reduce(self):
        """Words rarer than this may have been pruned (1 when no pruning happened)."""
        return self.c.min_reduce

    @property
    def n_prunes(self):
        return self.c.n_prunes

    def export(self):
        """Returns (list of bytes, counts int64, first-seen serial int64)."""
        cdef w2v_table *t = self.c.table
        cdef int64_t i, n = t.n_words
        keys = [t.pool[t.word_off[i]:t.word_off[i] + t.word_len[i]] for i in range(n)]
        counts = np.array(<int64_t[:n]> t.count, dtype=np.int64) if n else np.zeros(0, np.int64)
        first = np.array(<int64_t[:n]> t.first, dtype=np.int64) if n else np.zeros(0, np.int64)
        return keys, counts, first

    def blank_lines(self):
        """For a recording counter that has seen its final chunk: (the number of lines
        without a token just before each line with one, int64; the number that end the
        text), so that a rewrite can keep the text's lines where they were."""
        if not self.c.record or not self.finished:
            raise RuntimeError("blank_lines needs a recording counter that has seen its "
                               "final chunk")
        before = np.zeros(self.c.n_sentences, np.int64)
        cdef int64_t k = self.c.n_blank
        if k:
            before[np.array(<int64_t[:k]> self.c.blank_at)] = <int64_t[:k]> self.c.blank_n
        return before, max(self.c.blank_run - 1, 0)

    def take_encoded(self, const int32_t[::1] remap):
        """The recorded stream as an encoded corpus: remap[i] is the id of the word with
        table index i (the order of export()), or -1 to drop it. Returns (ids int32, line
        lengths int64: ids kept from each line that held a token). Hands the stream's
        memory over to the returned arrays, so it can be called once."""
        if not self.c.record or not self.finished:
            raise RuntimeError("take_encoded needs a recording counter that has seen its "
                               "final chunk")
        if self.c.rec_ids is NULL and self.c.n_tokens > 0:
            raise RuntimeError("the recorded stream was already taken")
        if remap.shape[0] != self.c.table.n_words:
            raise ValueError(f"remap has {remap.shape[0]} entries for "
                             f"{self.c.table.n_words} words")
        cdef int64_t kept
        with nogil:
            kept = w2v_counter_remap(self.c, &remap[0]) if self.c.n_tokens else 0
        ids = _owned(<void **>&self.c.rec_ids, kept, 4, "i")
        lengths = _owned(<void **>&self.c.rec_ends, self.c.n_sentences, 8, "q")
        return ids, lengths


cdef int _fit(void **p, int64_t *cap, int64_t need, int itemsize) except -1:
    """Grow the malloc'ed buffer *p of *cap items (by half again) until it holds need."""
    if need <= cap[0]:
        return 0
    cdef int64_t new_cap = max(need, cap[0] + cap[0] // 2, 1024)
    cdef void *q = realloc(p[0], <size_t>new_cap * itemsize)
    if q is NULL:
        check(W2V_ENOMEM)
    p[0] = q
    cap[0] = new_cap
    return 0


cdef class ListCounter:
    """Counts the tokens of an iterable of token lists (tokens: any hashable objects), in
    one pass, as TokenCounter counts a file: the distinct tokens in order of first
    appearance, their counts, and with max_size > 0 word2vec.c's pruning. With
    record=True (no pruning) it also keeps every token's index among the distinct tokens
    and every sentence's end (empty sentences too), which take_encoded() turns into the
    encoded corpus, so that the corpus need not be read a second time. A counter that
    raised while counting cannot be used again.
    """
    cdef dict index
    cdef list _keys                 # the distinct tokens, in order of first appearance
    cdef int64_t n_keys             # len(_keys): the bound of the C arrays
    cdef int64_t *counts
    cdef int64_t counts_cap
    cdef int32_t *rec_ids
    cdef int64_t *rec_ends
    cdef int64_t rec_cap, rec_ends_cap
    cdef int64_t max_size
    cdef bint record, taken, failed, adding
    cdef int64_t first_sentence, number
    cdef object check_new
    cdef readonly int64_t n_tokens, n_sentences, n_iterated, min_reduce

    def __cinit__(self, int64_t max_size=0, bint record=False, int64_t first_sentence=0,
                  check_new=None):
        if record and max_size > 0:
            raise ValueError("a recording counter cannot prune (max_size must be 0)")
        self.index, self._keys = {}, []
        self.max_size, self.record, self.min_reduce = max_size, record, 1
        self.first_sentence = first_sentence
        self.check_new = check_new      # check_new(token, i): called on each new key

    def __dealloc__(self):
        free(self.counts)
        free(self.rec_ids)
        free(self.rec_ends)

    @property
    def keys(self):
        """The distinct tokens, in order of first appearance (a new list)."""
        return list(self._keys)

    def count(self, sentences, prepare, int64_t max_tokens=-1):
        """Count the sentences of an iterable, or of an iterator until max_tokens tokens
        (>= 0) are counted, at the end of a sentence; returns True if it ran out of
        sentences. A sentence other than a list or tuple is replaced by
        prepare(sentence, i) before it is read (a check that returns it, or a converted
        form); i numbers the sentences from first_sentence, empty ones too."""
        if self.taken or self.failed:
            raise RuntimeError("this counter's stream was taken, or its counting failed: "
                               "count with a new counter")
        try:
            return self._count(sentences, prepare, max_tokens)
        except BaseException:
            self.failed = True
            raise

    cdef _count(self, sentences, prepare, int64_t max_tokens):
        cdef int64_t number
        for sentence in sentences:
            PyErr_CheckSignals()        # Ctrl-C (see _add)
            number = self.number = self.first_sentence + self.n_iterated
            if type(sentence) is not list and type(sentence) is not tuple:
                sentence = prepare(sentence, number)
            start = self.n_tokens
            token = None
            try:
                if type(sentence) is list:
                    for token in <list>sentence:
                        self._add(token)
                else:
                    for token in sentence:
                        self._add(token)
            except TypeError as exc:
                if not self.adding:             # the sentence's own iteration failed
                    raise TypeError(f"sentence {number}: {exc}") from exc
                try:
                    hash(token)
                except TypeError:
                    raise TypeError(f"sentence {number} holds an unhashable token: "
                                    f"{exc}") from None
                raise TypeError(f"sentence {number}: looking a token up raised "
                                f"TypeError: {exc}") from None
            self.n_iterated += 1
            self.n_sentences += self.n_tokens > start
            if self.record:
                _fit(<void **>&self.rec_ends, &self.rec_ends_cap, self.n_iterated, 8)
                self.rec_ends[self.n_iterated - 1] = self.n_tokens
            if 0 <= max_tokens <= self.n_tokens:
                return False
        return True

    cdef int _add(self, token) except -1:
        cdef int64_t k
        self.adding = True
        got = self.index.get(token)
        if got is None:
            if self.check_new is not None:
                self.adding = False     # (its errors are its own)
                self.check_new(token, self.number)
                self.adding = True
            k = self.n_keys
            if k >= 2147483647:
                raise ValueError("more than 2**31 - 1 distinct tokens; set max_vocab_size "
                                 "to prune rare words while counting")
            _fit(<void **>&self.counts, &self.counts_cap, k + 1, 8)
            self.index[token] = k
            self._keys.append(token)
            self.counts[k] = 0
            self.n_keys = k + 1
        else:
            k = got
        self.counts[k] += 1
        if self.record:
            if self.n_tokens >= self.rec_cap:
                _fit(<void **>&self.rec_ids, &self.rec_cap, self.n_tokens + 1, 4)
            self.rec_ids[self.n_tokens] = <int32_t>k
        self.n_tokens += 1
        if got is None and self.max_size > 0 and self.n_keys > self.max_size:
            self._prune()
        if (self.n_tokens & 0xFFFF) == 0:
            PyErr_CheckSignals()        # lists of str tokens run no Python code
        self.adding = False
        return 0

    cdef _prune(self):
        """word2vec.c's ReduceVocab: drop the words counted min_reduce times or fewer,
        raise min_reduce, until at most max_size are left (the survivors keep their
        order)."""
        cdef int64_t i, n
        while self.n_keys > self.max_size:
            keys, self._keys, self.index = self._keys, [], {}
            n = 0
            for i in range(self.n_keys):
                if self.counts[i] > self.min_reduce:
                    self.counts[n] = self.counts[i]
                    self.index[keys[i]] = n
                    self._keys.append(keys[i])
                    n += 1
            self.n_keys = n
            self.min_reduce += 1

    def export_counts(self):
        """The count of each of keys, as int64."""
        cdef int64_t n = self.n_keys
        return np.array(<int64_t[:n]> self.counts, dtype=np.int64) if n else np.zeros(0, np.int64)

    def take_encoded(self, const int32_t[::1] remap):
        """The recorded stream as an encoded corpus, as TokenCounter.take_encoded: remap[i]
        is the id of keys[i], or -1 to drop it. Returns (ids int32, lengths int64: ids kept
        from each sentence read, empty ones too). Can be called once."""
        if not self.record:
            raise RuntimeError("take_encoded needs a recording counter")
        if self.taken or self.failed:
            raise RuntimeError("the recorded stream was already taken, or its counting "
                               "failed")
        if remap.shape[0] != self.n_keys:
            raise ValueError(f"remap has {remap.shape[0]} entries for {self.n_keys} words")
        cdef int64_t kept = 0
        self.taken = True
        if self.n_tokens:
            with nogil:
                kept = w2v_remap_stream(self.rec_ids, self.rec_ends, self.n_iterated,
                                        &remap[0])
        ids = _owned(<void **>&self.rec_ids, kept, 4, "i")
        lengths = _owned(<void **>&self.rec_ends, self.n_iterated, 8, "q")
        return ids, lengths


def phrase_rewrite(sentence, dict table, firsts, conn, bint scores=False):
    """A sentence's tokens with its phrases joined, left to right (fastw2v.phrases'
    rewrite): table maps (word, connector..., word) to (joined, score), firsts holds the
    first words of its keys, conn the connector words (which neither start nor end one).
    With scores, (token, score) pairs: a phrase's score, None for a word (gensim's
    analyze_sentence)."""
    cdef list out = [], between = []
    start = None
    for word in sentence:
        if word in conn:
            if start is None:
                out.append((word, None) if scores else word)
            else:
                between.append(word)
            continue
        if start is not None:
            if start in firsts:
                hit = table.get((start, *between, word))
                if hit is not None:
                    out.append(hit if scores else hit[0])
                    start = None
                    if between:
                        between = []
                    continue
            _flush(out, start, between, scores)
            if between:
                between = []
        start = word
    if start is not None:
        _flush(out, start, between, scores)
    return out


cdef inline _flush(list out, start, list between, bint scores):
    """A word that starts no phrase, and the connector words after it, as they were."""
    if scores:
        out.append((start, None))
        out.extend([(w, None) for w in between])
    else:
        out.append(start)
        out.extend(between)


cdef object _owned(void **p, int64_t n, int itemsize, str fmt):
    """A numpy array of n items over the malloc'ed buffer *p (shrunk to fit), which it
    then owns and frees; *p is set to NULL."""
    if n == 0:
        free(p[0])
        p[0] = NULL
        return np.zeros(0, dtype=np.int32 if itemsize == 4 else np.int64)
    cdef void *q = realloc(p[0], <size_t>n * itemsize)
    if q is NULL:
        q = p[0]
    p[0] = NULL
    cdef cvarray arr = cvarray(shape=(n,), itemsize=itemsize, format=fmt, mode="c",
                               allocate_buffer=False)
    arr.data = <char *>q
    arr.callback_free_data = free
    return np.asarray(arr)


cdef class Lookup:
    """A hash table from token bytes to ids, for the encoder."""
    cdef w2v_table *t

    def __cinit__(self, keys, const int32_t[::1] ids):
        if len(keys) != ids.shape[0]:
            raise ValueError(f"{len(keys)} keys but {ids.shape[0]} ids")
        self.t = w2v_table_new()
        if self.t is NULL:
            raise MemoryError("cannot allocate the lookup table")
        cdef bytes key
        cdef int64_t i, idx
        for i in range(ids.shape[0]):
            key = keys[i]
            idx = w2v_table_add(self.t, key, len(key), w2v_hash_bytes(key, len(key)), i)
            check(<int>idx)
            self.t.id[idx] = ids[i]

    def __dealloc__(self):
        w2v_table_free(self.t)

    def get(self, bytes key):
        cdef int64_t idx = w2v_table_find(self.t, key, len(key), w2v_hash_bytes(key, len(key)))
        return -1 if idx < 0 else self.t.id[idx]


cdef class Encoder:
    """Turns a stream of byte chunks into word ids and sentence ends (C, no GIL).

    Tokens missing from the lookup are dropped; a sentence (line) longer than max_len ids
    is cut into consecutive sentences of max_len; empty sentences vanish. With
    track_invalid, the dropped tokens that are not valid UTF-8 are kept (dropped_invalid).
    """
    cdef w2v_encoder e
    cdef Lookup lookup
    cdef int64_t max_len

    def __cinit__(self, Lookup lookup, int64_t max_len, bint track_invalid=False):
        if max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {max_len}")
        self.lookup = lookup
        self.max_len = max_len
        w2v_encoder_init(&self.e, lookup.t, max_len)
        if track_invalid:
            check(w2v_encoder_track_invalid(&self.e))

    def __dealloc__(self):
        w2v_encoder_release(&self.e)

    def feed(self, const unsigned char[::1] data, bint final=False):
        """Returns (ids int32, ends int64): the ids of this chunk, and the global positions
        (counted in ids since the start) where sentences ended in it."""
        cdef const char *p = data_ptr(data)
        cdef int64_t n = data.shape[0]
        cdef int64_t cap = w2v_encoder_bound(n)
        # a sentence ends at a newline or every max_len ids (+1 for one left open)
        cdef int64_t ends_cap = w2v_count_byte(p, n, b"\n") + cap // self.max_len + 2
        ids = np.empty(cap, dtype=np.int32)
        ends = np.empty(ends_cap, dtype=np.int64)
        cdef int32_t[::1] ids_v = ids
        cdef int64_t[::1] ends_v = ends
        cdef int rc
        with nogil:
            rc = w2v_encoder_feed(&self.e, p, n, final, &ids_v[0], cap, &ends_v[0], ends_cap)
        check(rc)
        return ids[:self.e.out_len].copy(), ends[:self.e.ends_len].copy()

    @property
    def n_tokens(self):
        return self.e.n_tokens

    @property
    def n_lines(self):
        return self.e.n_lines

    def dropped_invalid(self):
        """The distinct dropped tokens that are not valid UTF-8, in the order first seen
        (none unless made with track_invalid)."""
        cdef w2v_table *t = self.e.invalid
        if t is NULL:
            return []
        cdef int64_t i
        return [t.pool[t.word_off[i]:t.word_off[i] + t.word_len[i]] for i in range(t.n_words)]


def utf8_valid(const unsigned char[::1] data):
    """The C encoder's UTF-8 check (for the tests: it must agree with Python's decoder)."""
    return bool(w2v_utf8_valid(data_ptr(data), data.shape[0]))


def huffman_paths(const int64_t[::1] counts):
    """Huffman codes of n >= 2 words from their counts (word2vec.c's tree).

    Returns (off int64 (n+1,), points int32, codes uint8): word i's path from the root is
    points[off[i]:off[i+1]] (inner node = row of the output weights) with code bits
    codes[off[i]:off[i+1]].
    """
    cdef int64_t n = counts.shape[0]
    if n < 2:
        raise ValueError(f"a Huffman tree needs at least 2 words, got {n}")
    order = np.argsort(-np.asarray(counts), kind="stable").astype(np.int64)
    parent = np.empty(2 * n - 1, dtype=np.int64)
    bit = np.empty(2 * n - 1, dtype=np.uint8)
    depth = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] order_v = order, parent_v = parent, depth_v = depth
    cdef uint8_t[::1] bit_v = bit
    cdef int rc
    with nogil:
        rc = w2v_huffman_tree(n, &counts[0], &order_v[0], &parent_v[0], &bit_v[0])
        if rc == 0:
            w2v_huffman_depths(n, &parent_v[0], &depth_v[0])
    if rc != 0:
        raise ValueError("word counts must be non-negative")
    off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(depth, out=off[1:])
    points = np.empty(off[n], dtype=np.int32)
    codes = np.empty(off[n], dtype=np.uint8)
    cdef int64_t[::1] off_v = off
    cdef int32_t[::1] points_v = points
    cdef uint8_t[::1] codes_v = codes
    with nogil:
        w2v_huffman_paths(n, &parent_v[0], &bit_v[0], &off_v[0], &points_v[0], &codes_v[0])
    return off, points, codes


def alias_table(const double[::1] weights):
    """Vose alias table for P(i) ∝ weights[i]. Returns (prob float32, alias int32)."""
    cdef int64_t n = weights.shape[0]
    w = np.asarray(weights)
    if n < 1 or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError("noise weights must be finite, non-negative and not all zero")
    prob = np.empty(n, dtype=np.float32)
    alias = np.empty(n, dtype=np.int32)
    cdef float[::1] prob_v = prob
    cdef int32_t[::1] alias_v = alias
    cdef int rc
    with nogil:
        rc = w2v_alias_build(n, &weights[0], &prob_v[0], &alias_v[0])
    if rc != 0:
        raise MemoryError("cannot allocate the alias table")
    return prob, alias


def scan_binary_records(const unsigned char[::1] buf, int64_t pos, int64_t n_max,
                        int64_t record, int64_t max_word):
    """Locate word2vec binary records ``word SPACE record-bytes`` in buf[pos:] (no GIL).

    Returns (word_starts int64, spaces int64, next_pos, bad): at most n_max complete
    records; next_pos is where the first incomplete one starts; bad is True when no
    space follows next_pos within max_word bytes although that many bytes are there.
    """
    cdef int64_t end = buf.shape[0]
    cdef int64_t cap = min(n_max, (end - pos) // (record + 1) + 1) if end > pos else 0
    starts = np.empty(max(cap, 0), dtype=np.int64)
    spaces = np.empty(max(cap, 0), dtype=np.int64)
    if cap <= 0:
        return starts, spaces, pos, False
    cdef int64_t[::1] starts_v = starts, spaces_v = spaces
    cdef int64_t n = 0, window, space
    cdef bint bad = False
    cdef const unsigned char *base = &buf[0]
    cdef const unsigned char *hit
    with nogil:
        while n < cap:
            window = min(max_word + 1, end - pos)
            hit = <const unsigned char *>memchr(base + pos, 32, <size_t>window)
            if hit == NULL:
                bad = end - pos > max_word
                break
            space = hit - base
            if space + 1 + record > end:
                break
            starts_v[n] = pos
            spaces_v[n] = space
            n += 1
            pos = space + 1 + record
    return starts[:n], spaces[:n], pos, bad


def join_words(const unsigned char[::1] buf, const int64_t[::1] starts,
               const int64_t[::1] spaces):
    """The words buf[starts[i]:spaces[i]] (leading newlines dropped), joined by b"\\n"."""
    cdef int64_t n = starts.shape[0], i, a, total = 0
    for i in range(n):
        total += spaces[i] - starts[i] + 1
    out = np.empty(max(total - 1, 0), dtype=np.uint8)
    if total <= 1:
        return b""
    cdef unsigned char[::1] out_v = out
    cdef int64_t pos = 0
    with nogil:
        for i in range(n):
            a = starts[i]
            while a < spaces[i] and buf[a] == 10:
                a += 1
            if i:
                out_v[pos] = 10
                pos += 1
            if spaces[i] > a:
                memcpy(&out_v[pos], &buf[a], <size_t>(spaces[i] - a))
            pos += spaces[i] - a
    return out[:pos].tobytes()


def copy_records(const unsigned char[::1] buf, const int64_t[::1] spaces, int64_t record,
                 unsigned char[:, ::1] out):
    """out[i] := buf[spaces[i] + 1 : spaces[i] + 1 + record] (the vector after each word)."""
    cdef int64_t i, n = spaces.shape[0]
    if out.shape[0] < n or out.shape[1] != record:
        raise ValueError(f"out must be ({n}, {record}), got ({out.shape[0]}, {out.shape[1]})")
    for i in range(n):
        if spaces[i] < 0 or spaces[i] + 1 + record > buf.shape[0]:
            raise IndexError(f"record {i} at byte {spaces[i] + 1} runs past the buffer")
    with nogil:
        for i in range(n):
            memcpy(&out[i, 0], &buf[spaces[i] + 1], <size_t>record)
