/* The training kernels, written once and compiled once per instruction set: the file
 * that includes this one defines W2V_FN(name) to add a suffix (generic, avx2) and sets the
 * compiler's target. See w2v_train.c for the run-time choice. Not a public header. */
/* ---- numeric primitives --------------------------------------------------------------- */

/* returns x . y, x and y of length n. Sixteen partial sums, so that the compiler
 * vectorises without -ffast-math and keeps two vector registers in flight. */
static inline float dot(int64_t n, const float *x, const float *y)
{
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += x[i + k] * y[i + k];
    for (int k = 0; k < 8; k++) acc[k] += acc[k + 8];
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k] * y[i + k];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

/* y := a * x + y */
static inline void axpy(int64_t n, float a, const float *x, float *y)
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

/* One binary-logistic step for input h, output row v, label y in {0, 1}:
 *   f = h . v;  g = (y - sigmoid(f)) * alpha;  e += g * v;  v += g * h
 * with word2vec.c's table sigmoid. Outside (-MAX_EXP, MAX_EXP) the sigmoid saturates to 0
 * or 1; `skip_saturated` (hierarchical softmax) then skips the step instead.
 * Returns 0, or 1 if f is not finite (the weights diverged). */
static inline int logistic_step(const w2v_model *m, w2v_thread *t, const float *h, float *v,
                                int y, float alpha, int skip_saturated)
{
    const int64_t dim = m->dim;
    float f = dot(dim, h, v);
    float g;
    if (f > -W2V_MAX_EXP && f < W2V_MAX_EXP) {
        /* word2vec.c computes this scale in integers (83, not 83.33), which skews the
         * table; we use the exact grid */
        int idx = (int)((f + W2V_MAX_EXP) * ((float)W2V_EXP_TABLE_SIZE / (2 * W2V_MAX_EXP)));
        g = ((float)y - m->sigmoid[idx]) * alpha;
        if (m->compute_loss)   /* -log sigmoid(f), or -log sigmoid(-f) = f - log sigmoid(f) */
            t->loss -= y ? m->log_sigmoid[idx] : m->log_sigmoid[idx] - f;
    } else if (f >= W2V_MAX_EXP || f <= -W2V_MAX_EXP) {
        if (skip_saturated) return 0;
        g = ((float)y - (f > 0 ? 1.0f : 0.0f)) * alpha;
        /* the loss is about max(0, -f) or max(0, f) out here */
        if (m->compute_loss && (f > 0) != (y == 1)) t->loss += fabsf(f);
    } else {
        return 1;   /* NaN */
    }
    axpy(dim, g, v, t->e);
    axpy(dim, g, h, v);
    return 0;
}

/* All output-layer steps of one example: h predicts word. Accumulates into t->e. */
static inline int predict_word(const w2v_model *m, w2v_thread *t, const float *h, int32_t word,
                               const int32_t *negs, int n_negs, float alpha)
{
    const int64_t dim = m->dim;
    int bad = 0;
    if (m->hs) {
        for (int64_t k = m->path_off[word]; k < m->path_off[word + 1]; k++)
            bad |= logistic_step(m, t, h, m->w_out_hs + (int64_t)m->path_points[k] * dim,
                                 1 - m->path_codes[k], alpha, 1);
    }
    if (m->negative) {
        bad |= logistic_step(m, t, h, m->w_out_ns + (int64_t)word * dim, 1, alpha, 0);
        for (int d = 0; d < n_negs; d++) {
            if (negs[d] == word) continue;
            bad |= logistic_step(m, t, h, m->w_out_ns + (int64_t)negs[d] * dim, 0, alpha, 0);
        }
    }
    return bad ? W2V_RUN_NONFINITE : W2V_RUN_OK;
}

int W2V_FN(w2v_train_sg_example)(const w2v_model *m, w2v_thread *t, int32_t context, int32_t word,
                         const int32_t *negs, int n_negs, float alpha)
{
    float *row = m->w_in + (int64_t)context * m->dim;
    memset(t->e, 0, (size_t)m->dim * sizeof(float));
    int rc = predict_word(m, t, row, word, negs, n_negs, alpha);
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
    int rc = predict_word(m, t, t->h, word, negs, n_negs, alpha);
    /* gensim: with a summed context the error is spread over the context words */
    if (!m->cbow_mean) scale(dim, 1.0f / (float)n_ctx, t->e);
    for (int c = 0; c < n_ctx; c++) axpy(dim, 1.0f, t->e, m->w_in + (int64_t)ctx[c] * dim);
    return rc;
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

static int train_span(const w2v_model *m, w2v_thread *t, const int32_t *span, int64_t len)
{
    const float alpha = (float)t->alpha;
    const int n_negs = m->negative;
    for (int64_t i = 0; i < len; i++) {
        int64_t reach = m->window;
        if (m->shrink_windows) reach -= next_below(t, m->window);
        int64_t lo = i - reach < 0 ? 0 : i - reach;
        int64_t hi = i + reach >= len ? len - 1 : i + reach;
        if (m->sg) {
            /* shared_negatives: one draw per centre word serves all its context words,
             * so the noise rows stay in cache (pWord2Vec's idea) */
            if (m->shared_negatives)
                for (int d = 0; d < n_negs; d++) t->negs[d] = draw_noise(m, t);
            for (int64_t c = lo; c <= hi; c++) {
                if (c == i) continue;
                if (!m->shared_negatives)
                    for (int d = 0; d < n_negs; d++) t->negs[d] = draw_noise(m, t);
                if (W2V_FN(w2v_train_sg_example)(m, t, span[c], span[i], t->negs, n_negs, alpha))
                    return W2V_RUN_NONFINITE;
                t->examples++;
            }
        } else {
            int n_ctx = 0;
            for (int64_t c = lo; c <= hi; c++)
                if (c != i) t->ctx[n_ctx++] = span[c];
            if (n_ctx == 0) continue;
            for (int d = 0; d < n_negs; d++) t->negs[d] = draw_noise(m, t);
            if (W2V_FN(w2v_train_cbow_example)(m, t, t->ctx, n_ctx, span[i], t->negs, n_negs, alpha))
                return W2V_RUN_NONFINITE;
            t->examples++;
        }
    }
    return W2V_RUN_OK;
}

int W2V_FN(w2v_train_sentences)(const w2v_model *m, w2v_thread *t, int64_t s_begin, int64_t s_end)
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
