/* The training kernels, written once and compiled once per instruction set: the file
 * that includes this one defines W2V_FN(name) to add a suffix (generic, avx2) and
 * W2V_VEC_BYTES, and sets the compiler's target. See w2v_train.c for the run-time choice.
 * Not a public header. */
/* ---- numeric primitives --------------------------------------------------------------- */

/* W2V_VEC_BYTES (set by the including file) is the width of the vectors the kernels compute
 * with: GCC/Clang vector extensions, so that one source compiles to SSE, NEON or AVX2
 * without intrinsics. The vectors load from any float address. */
#define VL (W2V_VEC_BYTES / (int)sizeof(float))
#define HL (VL / 2)
typedef float vec __attribute__((vector_size(W2V_VEC_BYTES), aligned(4), may_alias));
/* half a vector, for the tail of a row: dims such as 100 or 300 leave 4 floats after the
 * full vectors, which would otherwise take four scalar steps per row */
typedef float half __attribute__((vector_size(W2V_VEC_BYTES / 2), aligned(4), may_alias));

static inline vec vload(const float *p) { return *(const vec *)p; }
static inline void vstore(float *p, vec v) { *(vec *)p = v; }
static inline half hload(const float *p) { return *(const half *)p; }
static inline void hstore(float *p, half v) { *(half *)p = v; }

static inline float hsum(vec v)
{
    float a[VL];
    memcpy(a, &v, sizeof a);
    for (int w = VL / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) a[l] += a[l + w];
    return a[0];
}

static inline float hsum_half(half v)
{
    float a[HL];
    memcpy(a, &v, sizeof a);
    for (int w = HL / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) a[l] += a[l + w];
    return a[0];
}

/* out[k] = x . rows[k] for k < n_rows, vectors of length n. Four rows at a time, so that x
 * is loaded once for four independent sums. */
static inline void dots(int64_t n, const float *x, int n_rows, float *const *rows, float *out)
{
    int k = 0;
    for (; k + 4 <= n_rows; k += 4) {
        const float *r0 = rows[k], *r1 = rows[k + 1], *r2 = rows[k + 2], *r3 = rows[k + 3];
        vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        int64_t i = 0;
        for (; i + VL <= n; i += VL) {
            vec xi = vload(x + i);
            a0 += xi * vload(r0 + i);
            a1 += xi * vload(r1 + i);
            a2 += xi * vload(r2 + i);
            a3 += xi * vload(r3 + i);
        }
        float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
        if (i + HL <= n) {
            half xi = hload(x + i);
            s0 += hsum_half(xi * hload(r0 + i));
            s1 += hsum_half(xi * hload(r1 + i));
            s2 += hsum_half(xi * hload(r2 + i));
            s3 += hsum_half(xi * hload(r3 + i));
            i += HL;
        }
        for (; i < n; i++) {
            s0 += x[i] * r0[i];
            s1 += x[i] * r1[i];
            s2 += x[i] * r2[i];
            s3 += x[i] * r3[i];
        }
        out[k] = s0;
        out[k + 1] = s1;
        out[k + 2] = s2;
        out[k + 3] = s3;
    }
    for (; k < n_rows; k++) {
        const float *r = rows[k];
        vec a0 = {0};
        int64_t i = 0;
        for (; i + VL <= n; i += VL) a0 += vload(x + i) * vload(r + i);
        float s = hsum(a0);
        if (i + HL <= n) {
            s += hsum_half(hload(x + i) * hload(r + i));
            i += HL;
        }
        for (; i < n; i++) s += x[i] * r[i];
        out[k] = s;
    }
}

/* out += sum_k a[k] * rows[k] for k < n_rows, vectors of length n; each slice of out is
 * loaded and stored once, four slices at a time so that four sums are in flight. */
static inline void add_combination(int64_t n, int n_rows, const float *a, float *const *rows,
                                   float *out)
{
    int64_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        vec acc0 = vload(out + i), acc1 = vload(out + i + VL);
        vec acc2 = vload(out + i + 2 * VL), acc3 = vload(out + i + 3 * VL);
        for (int k = 0; k < n_rows; k++) {
            const float *r = rows[k] + i;
            acc0 += a[k] * vload(r);
            acc1 += a[k] * vload(r + VL);
            acc2 += a[k] * vload(r + 2 * VL);
            acc3 += a[k] * vload(r + 3 * VL);
        }
        vstore(out + i, acc0);
        vstore(out + i + VL, acc1);
        vstore(out + i + 2 * VL, acc2);
        vstore(out + i + 3 * VL, acc3);
    }
    for (; i + VL <= n; i += VL) {
        vec acc = vload(out + i);
        for (int k = 0; k < n_rows; k++) acc += a[k] * vload(rows[k] + i);
        vstore(out + i, acc);
    }
    if (i + HL <= n) {
        half acc = hload(out + i);
        for (int k = 0; k < n_rows; k++) acc += a[k] * hload(rows[k] + i);
        hstore(out + i, acc);
        i += HL;
    }
    for (; i < n; i++) {
        float s = out[i];
        for (int k = 0; k < n_rows; k++) s += a[k] * rows[k][i];
        out[i] = s;
    }
}

/* y := a * x + y */
static inline void axpy(int64_t n, float a, const float *restrict x, float *restrict y)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* x := a * x */
static inline void scale(int64_t n, float a, float *x)
{
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

/* ---- randomness ------------------------------------------------------------------------ */

/* xorshift64*: 64 random bits */
static inline uint64_t next_u64(w2v_thread *t)
{
    uint64_t x = t->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* uniform in [0, 1) with 24 bits, exactly representable as float */
static inline float next_unit(w2v_thread *t)
{
    return (float)(next_u64(t) >> 40) * (1.0f / 16777216.0f);
}

/* uniform in [0, n) for n < 2^32 (multiply-shift, no division) */
static inline int64_t next_below(w2v_thread *t, int64_t n)
{
    return (int64_t)(((next_u64(t) >> 32) * (uint64_t)n) >> 32);
}

static inline int32_t draw_noise(const w2v_model *m, w2v_thread *t)
{
    uint64_t r = next_u64(t);
    int64_t i = (int64_t)(((r >> 32) * (uint64_t)m->n_words) >> 32);
    float u = (float)(r & 0xffffff) * (1.0f / 16777216.0f);
    return u < m->noise_prob[i] ? (int32_t)i : m->noise_alias[i];
}

/* ---- the shared update ------------------------------------------------------------------ */

/* The gradient scale of one binary-logistic step with score f = h . v and label y in {0, 1}:
 *   g = (y - sigmoid(f)) * alpha
 * with word2vec.c's table sigmoid. Outside (-MAX_EXP, MAX_EXP) the sigmoid saturates to 0
 * or 1; `skip_saturated` (hierarchical softmax) then gives g = 0 instead. Adds the step's
 * loss to *loss if m->compute_loss. Returns 0, or 1 if f is not finite (the weights
 * diverged). */
static inline int logistic_gradient(const w2v_model *m, float f, int y, float alpha,
                                    int skip_saturated, float *g, float *loss)
{
    if (f > -W2V_MAX_EXP && f < W2V_MAX_EXP) {
        /* word2vec.c computes this scale in integers (83, not 83.33), which skews the
         * table; we use the exact grid */
        int idx = (int)((f + W2V_MAX_EXP) * ((float)W2V_EXP_TABLE_SIZE / (2 * W2V_MAX_EXP)));
        *g = ((float)y - m->sigmoid[idx]) * alpha;
        if (m->compute_loss)   /* -log sigmoid(f), or -log sigmoid(-f) = f - log sigmoid(f) */
            *loss -= y ? m->log_sigmoid[idx] : m->log_sigmoid[idx] - f;
    } else if (f >= W2V_MAX_EXP || f <= -W2V_MAX_EXP) {
        *g = skip_saturated ? 0.0f : ((float)y - (f > 0 ? 1.0f : 0.0f)) * alpha;
        /* the loss is about max(0, -f) or max(0, f) out here */
        if (!skip_saturated && m->compute_loss && (f > 0) != (y == 1)) *loss += fabsf(f);
    } else {
        *g = 0.0f;
        return 1;   /* NaN */
    }
    return 0;
}

/* The output rows that inputs predicting `word` train against, in order: the nodes of its
 * Huffman path (if m->hs), then the word itself and the noise words (if m->negative; a
 * noise word equal to `word` is left out), W2V_BLOCK rows at a time. */
typedef struct {
    int64_t path, path_end;     /* next and end position in the CSR path arrays */
    int neg;                    /* -1: the word itself is next; then index into negs */
} output_cursor;

/* Fills rows/labels/skip with the next block of output rows; returns how many (0: done). */
static inline int next_outputs(const w2v_model *m, output_cursor *cur, int32_t word,
                               const int32_t *negs, int n_negs, float **rows, int *labels,
                               int *skip)
{
    const int64_t dim = m->dim;
    int n = 0;
    for (; n < W2V_BLOCK && cur->path < cur->path_end; n++, cur->path++) {
        rows[n] = m->w_out_hs + (int64_t)m->path_points[cur->path] * dim;
        labels[n] = 1 - m->path_codes[cur->path];
        skip[n] = 1;
    }
    for (; n < W2V_BLOCK && m->negative && cur->neg < n_negs; cur->neg++) {
        int32_t w = cur->neg < 0 ? word : negs[cur->neg];
        if (cur->neg >= 0 && w == word) continue;
        rows[n] = m->w_out_ns + (int64_t)w * dim;
        labels[n] = cur->neg < 0;
        skip[n++] = 0;
    }
    return n;
}

/* Inputs xs[0:n_in] each predict `word` through the same output rows V (next_outputs). With
 * X the inputs it computes the scores F = X V^T with V as it was on entry, the gradients
 * G = logistic_gradient(F), then errs += G V and V += G^T X. The inputs themselves are not
 * changed: the caller adds errs (n_in rows of dim) to them. With one input this is
 * word2vec.c's sequence of steps for one example: its rows are distinct, so the order of
 * the steps does not matter (except for a noise word drawn twice: here both of its scores
 * use the row as it was on entry, in word2vec.c the second sees the first update). With
 * several inputs it is a mini-batch: each output row is read once per block for all of
 * them, and no dot product waits for another. Returns W2V_RUN_OK or W2V_RUN_NONFINITE. */
static inline int predict_block(const w2v_model *m, w2v_thread *t, float *const *xs, int n_in,
                                int32_t word, const int32_t *negs, int n_negs, float alpha,
                                float *errs)
{
    const int64_t dim = m->dim;
    float *rows[W2V_BLOCK];
    int labels[W2V_BLOCK], skip[W2V_BLOCK];
    float f[W2V_BLOCK], g[W2V_BLOCK];
    float *grad = t->grad;   /* (W2V_BLOCK, n_in): column c is input c's gradients */
    output_cursor cur = {0, 0, -1};
    if (m->hs) {
        cur.path = m->path_off[word];
        cur.path_end = m->path_off[word + 1];
    }
    int n, bad = 0;
    float loss = 0.0f;   /* summed here, not in t: a chain through memory per step is slow */
    while ((n = next_outputs(m, &cur, word, negs, n_negs, rows, labels, skip)) > 0) {
        t->steps += (int64_t)n * n_in;
        for (int c = 0; c < n_in; c++) {
            dots(dim, xs[c], n, rows, f);
            for (int k = 0; k < n; k++) {
                bad |= logistic_gradient(m, f[k], labels[k], alpha, skip[k], &g[k], &loss);
                grad[k * n_in + c] = g[k];
            }
            add_combination(dim, n, g, rows, errs + (int64_t)c * dim);
        }
        if (bad) return W2V_RUN_NONFINITE;
        for (int k = 0; k < n; k++) add_combination(dim, n_in, grad + k * n_in, xs, rows[k]);
    }
    t->loss += loss;
    return W2V_RUN_OK;
}

int W2V_FN(w2v_train_sg_example)(const w2v_model *m, w2v_thread *t, int32_t context, int32_t word,
                         const int32_t *negs, int n_negs, float alpha)
{
    float *row = m->w_in + (int64_t)context * m->dim;
    memset(t->e, 0, (size_t)m->dim * sizeof(float));
    int rc = predict_block(m, t, &row, 1, word, negs, n_negs, alpha, t->e);
    axpy(m->dim, 1.0f, t->e, row);
    return rc;
}

int W2V_FN(w2v_train_cbow_example)(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                           int32_t word, const int32_t *negs, int n_negs, float alpha)
{
    const int64_t dim = m->dim;
    if (n_ctx == 0) return W2V_RUN_OK;
    memset(t->h, 0, (size_t)dim * sizeof(float));
    for (int c = 0; c < n_ctx; c++) axpy(dim, 1.0f, m->w_in + (int64_t)ctx[c] * dim, t->h);
    if (m->cbow_mean) scale(dim, 1.0f / (float)n_ctx, t->h);
    memset(t->e, 0, (size_t)dim * sizeof(float));
    int rc = predict_block(m, t, &t->h, 1, word, negs, n_negs, alpha, t->e);
    /* gensim: with a summed context the error is spread over the context words */
    if (!m->cbow_mean) scale(dim, 1.0f / (float)n_ctx, t->e);
    for (int c = 0; c < n_ctx; c++) axpy(dim, 1.0f, t->e, m->w_in + (int64_t)ctx[c] * dim);
    return rc;
}

/* Skip-gram over a whole window whose context words all predict the same output rows: the
 * centre's Huffman path and, with shared negatives, one set of noise words. Unlike
 * word2vec.c, the pairs of one window all see the output rows as they were before it (a
 * mini-batch over the window, see predict_block); a window of more than W2V_MAX_INPUTS
 * context words is trained as consecutive mini-batches of that many, so that the scratch
 * memory does not grow with the window. Returns W2V_RUN_*. */
int W2V_FN(w2v_train_sg_window)(const w2v_model *m, w2v_thread *t, const int32_t *ctx,
                                int n_ctx, int32_t word, const int32_t *negs, int n_negs,
                                float alpha)
{
    const int64_t dim = m->dim;
    for (int c0 = 0; c0 < n_ctx; c0 += W2V_MAX_INPUTS) {
        int n_in = n_ctx - c0 < W2V_MAX_INPUTS ? n_ctx - c0 : W2V_MAX_INPUTS;
        for (int c = 0; c < n_in; c++) t->inputs[c] = m->w_in + (int64_t)ctx[c0 + c] * dim;
        memset(t->errs, 0, (size_t)n_in * (size_t)dim * sizeof(float));
        int rc = predict_block(m, t, t->inputs, n_in, word, negs, n_negs, alpha, t->errs);
        for (int c = 0; c < n_in; c++)
            axpy(dim, 1.0f, t->errs + (int64_t)c * dim, t->inputs[c]);
        if (rc != W2V_RUN_OK) return rc;
    }
    return W2V_RUN_OK;
}

/* ---- the loop over a shard ----------------------------------------------------------- */

/* Add this thread's recent words to the shared count and recompute its learning rate. */
static void publish_progress(const w2v_model *m, w2v_thread *t)
{
    int64_t done = __atomic_add_fetch(m->words_done, t->unpublished, __ATOMIC_RELAXED);
    t->unpublished = 0;
    double progress = m->schedule_words > 0 ? (double)done / (double)m->schedule_words : 1.0;
    if (progress > 1.0) progress = 1.0;
    t->alpha = m->alpha_start - (m->alpha_start - m->alpha_end) * progress;
}

/* Start loading one row (dim floats) into the cache; the kernels ask one example ahead, so
 * that the random rows of the noise words and the centre word arrive before they are used. */
static inline void prefetch_row(const float *row, int64_t dim)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)row;
    for (int64_t off = 0; off < dim * (int64_t)sizeof(float); off += 64)
        __builtin_prefetch(p + off, 1, 3);
#else
    (void)row; (void)dim;
#endif
}

/* Draw the noise words of the next example and start loading their rows. */
static inline void draw_negatives(const w2v_model *m, w2v_thread *t, int32_t *negs)
{
    for (int d = 0; d < m->negative; d++) {
        negs[d] = draw_noise(m, t);
        prefetch_row(m->w_out_ns + (int64_t)negs[d] * m->dim, m->dim);
    }
}

/* Start loading the output rows that centre word `word` will use. */
static inline void prefetch_outputs(const w2v_model *m, int32_t word)
{
    if (m->negative) prefetch_row(m->w_out_ns + (int64_t)word * m->dim, m->dim);
    if (m->hs)
        for (int64_t k = m->path_off[word]; k < m->path_off[word + 1]; k++)
            prefetch_row(m->w_out_hs + (int64_t)m->path_points[k] * m->dim, m->dim);
}

/* The noise words are drawn one example ahead, so that their rows load while the current
 * example trains: t->negs holds two sets. `used` is the set just trained with; returns the
 * set drawn ahead, and refills `used` for the example after it. */
static inline int32_t *next_negatives(const w2v_model *m, w2v_thread *t, int32_t *used)
{
    int32_t *ready = used == t->negs ? t->negs + m->negative : t->negs;
    draw_negatives(m, t, used);
    return ready;
}

static int train_span(const w2v_model *m, w2v_thread *t, const int32_t *span, int64_t len)
{
    const float alpha = (float)t->alpha;
    const int n_negs = m->negative;
    int32_t *negs = t->negs + n_negs;   /* the second set counts as used */
    if (n_negs) draw_negatives(m, t, t->negs);
    for (int64_t i = 0; i < len; i++) {
        int64_t reach = m->window;
        if (m->shrink_windows) reach -= next_below(t, m->window);
        int64_t lo = i - reach < 0 ? 0 : i - reach;
        int64_t hi = i + reach >= len ? len - 1 : i + reach;
        if (i + 1 < len) prefetch_outputs(m, span[i + 1]);
        if (i + 1 + m->window < len)
            prefetch_row(m->w_in + (int64_t)span[i + 1 + m->window] * m->dim, m->dim);
        if (m->sg && (m->shared_negatives || !n_negs)) {
            /* every context word predicts the same output rows: train the window at once.
             * shared_negatives: one draw per centre word serves all its context words
             * (pWord2Vec's idea) */
            int n_ctx = 0;
            for (int64_t c = lo; c <= hi; c++)
                if (c != i) t->ctx[n_ctx++] = span[c];
            if (n_ctx == 0) continue;
            if (n_negs) negs = next_negatives(m, t, negs);
            if (W2V_FN(w2v_train_sg_window)(m, t, t->ctx, n_ctx, span[i], negs, n_negs, alpha))
                return W2V_RUN_NONFINITE;
            t->examples += n_ctx;
        } else if (m->sg) {
            for (int64_t c = lo; c <= hi; c++) {
                if (c == i) continue;
                if (n_negs) negs = next_negatives(m, t, negs);
                if (W2V_FN(w2v_train_sg_example)(m, t, span[c], span[i], negs, n_negs, alpha))
                    return W2V_RUN_NONFINITE;
                t->examples++;
            }
        } else {
            int n_ctx = 0;
            for (int64_t c = lo; c <= hi; c++)
                if (c != i) t->ctx[n_ctx++] = span[c];
            if (n_ctx == 0) continue;
            if (n_negs) negs = next_negatives(m, t, negs);
            if (W2V_FN(w2v_train_cbow_example)(m, t, t->ctx, n_ctx, span[i], negs, n_negs, alpha))
                return W2V_RUN_NONFINITE;
            t->examples++;
        }
    }
    return W2V_RUN_OK;
}

static int train_shard(const w2v_model *m, w2v_thread *t, int64_t s_begin, int64_t s_end)
{
    publish_progress(m, t);   /* sets t->alpha from the shared count */
    for (int64_t s = s_begin; s < s_end; s++) {
        int64_t pos = m->offsets[s], end = m->offsets[s + 1];
        while (pos < end) {
            if (t->unpublished >= W2V_PROGRESS_WORDS) {
                publish_progress(m, t);
                if (__atomic_load_n(m->stop, __ATOMIC_RELAXED)) return W2V_RUN_STOPPED;
            }
            /* subsample into the span buffer; a sentence longer than max_span is trained
             * as consecutive spans */
            int64_t len = 0;
            while (pos < end && len < m->max_span) {
                int32_t w = m->ids[pos++];
                assert(w >= 0 && w < m->n_words);   /* checked in Python; debug builds recheck */
                t->words++;
                t->unpublished++;
                if (m->keep_prob && m->keep_prob[w] < 1.0f && next_unit(t) >= m->keep_prob[w])
                    continue;
                t->span[len++] = w;
            }
            t->trained += len;
            int rc = train_span(m, t, t->span, len);
            if (rc == W2V_RUN_NONFINITE) {
                /* no point in the other threads going on with broken weights */
                __atomic_store_n(m->stop, 1, __ATOMIC_RELAXED);
                return rc;
            }
        }
    }
    publish_progress(m, t);
    return W2V_RUN_OK;
}

int W2V_FN(w2v_train_sentences)(const w2v_model *m, w2v_thread *t, int64_t s_begin, int64_t s_end)
{
    /* work on a copy on this thread's stack: the counters change with every word, and the
     * callers' structs of different threads may share a cache line */
    w2v_thread local = *t;
    int rc = train_shard(m, &local, s_begin, s_end);
    *t = local;
    return rc;
}
