/* The training kernels, written once and compiled once per instruction set: the file
 * that includes this one defines W2V_FN(name) to add a suffix (generic, avx2) and
 * W2V_VEC_BYTES, and sets the compiler's target. See w2v_train.c for the run-time choice.
 * Not a public header. */
/* ---- numeric primitives --------------------------------------------------------------- */

/* W2V_VEC_BYTES (set by the including file) is the width of the vectors the kernels compute
 * with: GCC/Clang vector extensions, so that one source compiles to SSE, NEON or AVX2
 * without intrinsics. The vectors load from any float address. */
#define VL (W2V_VEC_BYTES / 4)   /* floats per vector; plain numbers, for #if */
#define HL (VL / 2)
typedef float vec __attribute__((vector_size(W2V_VEC_BYTES), aligned(4), may_alias));
/* half a vector, for the tail of a row: dims such as 100 or 300 leave 4 floats after the
 * full vectors, which would otherwise take four scalar steps per row */
typedef float half __attribute__((vector_size(W2V_VEC_BYTES / 2), aligned(4), may_alias));

static inline vec vload(const float *p) { return *(const vec *)p; }
static inline void vstore(float *p, vec v) { *(vec *)p = v; }
static inline half hload(const float *p) { return *(const half *)p; }
static inline void hstore(float *p, half v) { *(half *)p = v; }

/* Four floats, the unit of the horizontal sums below. */
typedef float f4 __attribute__((vector_size(16), aligned(4), may_alias));

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define W2V_SHUFFLE __builtin_shufflevector   /* Clang, GCC >= 12 */
#endif
#endif

/* The sum of the lanes of v, as four partial sums. */
static inline f4 fold4(vec v)
{
#if VL == 4
    return v;
#elif VL == 8 && defined(W2V_SHUFFLE)
    return W2V_SHUFFLE(v, v, 0, 1, 2, 3) + W2V_SHUFFLE(v, v, 4, 5, 6, 7);
#else
    f4 parts[VL / 4];
    memcpy(parts, &v, sizeof parts);
    f4 s = parts[0];
    for (int p = 1; p < VL / 4; p++) s += parts[p];
    return s;
#endif
}

/* {sum of h0's lanes, ..., sum of h3's lanes}: a 4 x 4 transpose folded into the adds,
 * instead of four chains of scalar adds. */
static inline f4 sum4(f4 h0, f4 h1, f4 h2, f4 h3)
{
#ifdef W2V_SHUFFLE
    f4 t0 = W2V_SHUFFLE(h0, h1, 0, 4, 1, 5) + W2V_SHUFFLE(h0, h1, 2, 6, 3, 7);
    f4 t1 = W2V_SHUFFLE(h2, h3, 0, 4, 1, 5) + W2V_SHUFFLE(h2, h3, 2, 6, 3, 7);
    return W2V_SHUFFLE(t0, t1, 0, 1, 4, 5) + W2V_SHUFFLE(t0, t1, 2, 3, 6, 7);
#else
    f4 s = {(h0[0] + h0[2]) + (h0[1] + h0[3]), (h1[0] + h1[2]) + (h1[1] + h1[3]),
            (h2[0] + h2[2]) + (h2[1] + h2[3]), (h3[0] + h3[2]) + (h3[1] + h3[3])};
    return s;
#endif
}

/* An FMA takes about four cycles and a core starts two per cycle, so a loop whose sums
 * each wait on the previous step runs at a fraction of the core's speed unless about eight
 * independent sums are in flight. The primitives below are arranged for that; the
 * two-input forms (dots2, add_combination2) also load each row slice once for two sums,
 * which halves the loads per multiply-add. */

/* out[k] = x . rows[k] for k < n_rows, vectors of length n. Four rows at a time, so that x
 * is loaded once for four sums, each sum split over even and odd vectors (eight chains). */
static inline void dots(int64_t n, const float *x, int n_rows, float *const *rows, float *out)
{
    int k = 0;
    for (; k + 4 <= n_rows; k += 4) {
        const float *r0 = rows[k], *r1 = rows[k + 1], *r2 = rows[k + 2], *r3 = rows[k + 3];
        vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        vec b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        int64_t i = 0;
        for (; i + 2 * VL <= n; i += 2 * VL) {
            vec xi = vload(x + i), xj = vload(x + i + VL);
            a0 += xi * vload(r0 + i);
            a1 += xi * vload(r1 + i);
            a2 += xi * vload(r2 + i);
            a3 += xi * vload(r3 + i);
            b0 += xj * vload(r0 + i + VL);
            b1 += xj * vload(r1 + i + VL);
            b2 += xj * vload(r2 + i + VL);
            b3 += xj * vload(r3 + i + VL);
        }
        if (i + VL <= n) {
            vec xi = vload(x + i);
            a0 += xi * vload(r0 + i);
            a1 += xi * vload(r1 + i);
            a2 += xi * vload(r2 + i);
            a3 += xi * vload(r3 + i);
            i += VL;
        }
        f4 h0 = fold4(a0 + b0), h1 = fold4(a1 + b1), h2 = fold4(a2 + b2), h3 = fold4(a3 + b3);
#if HL == 4
        if (i + HL <= n) {   /* dims such as 100 and 300 leave four floats */
            f4 xi = hload(x + i);
            h0 += xi * hload(r0 + i);
            h1 += xi * hload(r1 + i);
            h2 += xi * hload(r2 + i);
            h3 += xi * hload(r3 + i);
            i += HL;
        }
#endif
        f4 s = sum4(h0, h1, h2, h3);
        float s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
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
        vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        int64_t i = 0;
        for (; i + 4 * VL <= n; i += 4 * VL) {
            a0 += vload(x + i) * vload(r + i);
            a1 += vload(x + i + VL) * vload(r + i + VL);
            a2 += vload(x + i + 2 * VL) * vload(r + i + 2 * VL);
            a3 += vload(x + i + 3 * VL) * vload(r + i + 3 * VL);
        }
        for (; i + VL <= n; i += VL) a0 += vload(x + i) * vload(r + i);
        f4 h = fold4((a0 + a1) + (a2 + a3));
#if HL == 4
        if (i + HL <= n) {
            h += hload(x + i) * hload(r + i);
            i += HL;
        }
#endif
        float s = (h[0] + h[2]) + (h[1] + h[3]);
        for (; i < n; i++) s += x[i] * r[i];
        out[k] = s;
    }
}

/* out += sum_k a[k * a_step] * rows[k] for k < n_rows, vectors of length n; each slice of
 * out is loaded and stored once. Four slices at a time, each summed over even and odd k in
 * separate registers (eight chains). */
static inline void add_combination(int64_t n, int n_rows, const float *a, int64_t a_step,
                                   float *const *rows, float *out)
{
    int64_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        vec acc0 = vload(out + i), acc1 = vload(out + i + VL);
        vec acc2 = vload(out + i + 2 * VL), acc3 = vload(out + i + 3 * VL);
        vec odd0 = {0}, odd1 = {0}, odd2 = {0}, odd3 = {0};
        int k = 0;
        for (; k + 2 <= n_rows; k += 2) {
            const float *r = rows[k] + i, *q = rows[k + 1] + i;
            acc0 += a[k * a_step] * vload(r);
            acc1 += a[k * a_step] * vload(r + VL);
            acc2 += a[k * a_step] * vload(r + 2 * VL);
            acc3 += a[k * a_step] * vload(r + 3 * VL);
            odd0 += a[(k + 1) * a_step] * vload(q);
            odd1 += a[(k + 1) * a_step] * vload(q + VL);
            odd2 += a[(k + 1) * a_step] * vload(q + 2 * VL);
            odd3 += a[(k + 1) * a_step] * vload(q + 3 * VL);
        }
        if (k < n_rows) {
            const float *r = rows[k] + i;
            acc0 += a[k * a_step] * vload(r);
            acc1 += a[k * a_step] * vload(r + VL);
            acc2 += a[k * a_step] * vload(r + 2 * VL);
            acc3 += a[k * a_step] * vload(r + 3 * VL);
        }
        vstore(out + i, acc0 + odd0);
        vstore(out + i + VL, acc1 + odd1);
        vstore(out + i + 2 * VL, acc2 + odd2);
        vstore(out + i + 3 * VL, acc3 + odd3);
    }
    for (; i + VL <= n; i += VL) {
        vec acc = vload(out + i), odd = {0};
        int k = 0;
        for (; k + 2 <= n_rows; k += 2) {
            acc += a[k * a_step] * vload(rows[k] + i);
            odd += a[(k + 1) * a_step] * vload(rows[k + 1] + i);
        }
        if (k < n_rows) acc += a[k * a_step] * vload(rows[k] + i);
        vstore(out + i, acc + odd);
    }
    if (i + HL <= n) {
        half acc0 = hload(out + i), acc1 = {0}, acc2 = {0}, acc3 = {0};
        int k = 0;
        for (; k + 4 <= n_rows; k += 4) {
            acc0 += a[k * a_step] * hload(rows[k] + i);
            acc1 += a[(k + 1) * a_step] * hload(rows[k + 1] + i);
            acc2 += a[(k + 2) * a_step] * hload(rows[k + 2] + i);
            acc3 += a[(k + 3) * a_step] * hload(rows[k + 3] + i);
        }
        for (; k < n_rows; k++) acc0 += a[k * a_step] * hload(rows[k] + i);
        hstore(out + i, (acc0 + acc1) + (acc2 + acc3));
        i += HL;
    }
    for (; i < n; i++) {
        float s = out[i];
        for (int k = 0; k < n_rows; k++) s += a[k * a_step] * rows[k][i];
        out[i] = s;
    }
}

/* x0 . rows[k] -> out0[k] and x1 . rows[k] -> out1[k] for k < n_rows: two inputs against
 * four rows at a time (eight chains), so that each row slice is loaded once for both. */
static inline void dots2(int64_t n, const float *x0, const float *x1, int n_rows,
                         float *const *rows, float *out0, float *out1)
{
    int k = 0;
    for (; k + 4 <= n_rows; k += 4) {
        const float *r0 = rows[k], *r1 = rows[k + 1], *r2 = rows[k + 2], *r3 = rows[k + 3];
        vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        vec b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        int64_t i = 0;
        for (; i + VL <= n; i += VL) {
            vec u = vload(x0 + i), w = vload(x1 + i);
            vec v0 = vload(r0 + i), v1 = vload(r1 + i), v2 = vload(r2 + i), v3 = vload(r3 + i);
            a0 += u * v0;
            a1 += u * v1;
            a2 += u * v2;
            a3 += u * v3;
            b0 += w * v0;
            b1 += w * v1;
            b2 += w * v2;
            b3 += w * v3;
        }
        f4 h0 = fold4(a0), h1 = fold4(a1), h2 = fold4(a2), h3 = fold4(a3);
        f4 e0 = fold4(b0), e1 = fold4(b1), e2 = fold4(b2), e3 = fold4(b3);
#if HL == 4
        if (i + HL <= n) {
            f4 u = hload(x0 + i), w = hload(x1 + i);
            f4 v0 = hload(r0 + i), v1 = hload(r1 + i), v2 = hload(r2 + i), v3 = hload(r3 + i);
            h0 += u * v0;
            h1 += u * v1;
            h2 += u * v2;
            h3 += u * v3;
            e0 += w * v0;
            e1 += w * v1;
            e2 += w * v2;
            e3 += w * v3;
            i += HL;
        }
#endif
        f4 s = sum4(h0, h1, h2, h3), t = sum4(e0, e1, e2, e3);
        for (; i < n; i++)
            for (int j = 0; j < 4; j++) {
                s[j] += x0[i] * rows[k + j][i];
                t[j] += x1[i] * rows[k + j][i];
            }
        memcpy(out0 + k, &s, sizeof s);
        memcpy(out1 + k, &t, sizeof t);
    }
    if (k < n_rows) {
        dots(n, x0, n_rows - k, rows + k, out0 + k);
        dots(n, x1, n_rows - k, rows + k, out1 + k);
    }
}

/* out0 += sum_k a0[k * a_step] * rows[k] and out1 += sum_k a1[k * a_step] * rows[k] for
 * k < n_rows: two outputs, four slices at a time (eight chains), each row slice loaded
 * once for both. */
static inline void add_combination2(int64_t n, int n_rows, const float *a0, const float *a1,
                                    int64_t a_step, float *const *rows, float *out0,
                                    float *out1)
{
    int64_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        vec p0 = vload(out0 + i), p1 = vload(out0 + i + VL);
        vec p2 = vload(out0 + i + 2 * VL), p3 = vload(out0 + i + 3 * VL);
        vec q0 = vload(out1 + i), q1 = vload(out1 + i + VL);
        vec q2 = vload(out1 + i + 2 * VL), q3 = vload(out1 + i + 3 * VL);
        for (int k = 0; k < n_rows; k++) {
            const float *r = rows[k] + i;
            float c0 = a0[k * a_step], c1 = a1[k * a_step];
            vec v0 = vload(r), v1 = vload(r + VL), v2 = vload(r + 2 * VL), v3 = vload(r + 3 * VL);
            p0 += c0 * v0;
            p1 += c0 * v1;
            p2 += c0 * v2;
            p3 += c0 * v3;
            q0 += c1 * v0;
            q1 += c1 * v1;
            q2 += c1 * v2;
            q3 += c1 * v3;
        }
        vstore(out0 + i, p0);
        vstore(out0 + i + VL, p1);
        vstore(out0 + i + 2 * VL, p2);
        vstore(out0 + i + 3 * VL, p3);
        vstore(out1 + i, q0);
        vstore(out1 + i + VL, q1);
        vstore(out1 + i + 2 * VL, q2);
        vstore(out1 + i + 3 * VL, q3);
    }
    if (i < n) {   /* the last slices, one output at a time */
        float *r[W2V_MAX_INPUTS > W2V_BLOCK ? W2V_MAX_INPUTS : W2V_BLOCK];
        for (int k = 0; k < n_rows; k++) r[k] = rows[k] + i;
        add_combination(n - i, n_rows, a0, a_step, r, out0 + i);
        add_combination(n - i, n_rows, a1, a_step, r, out1 + i);
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

/* The gradient scales of n binary-logistic steps with scores f[k] = h . v_k and labels
 * y[k] in {0, 1}:
 *   g[k] = (y[k] - sigmoid(f[k])) * alpha
 * with word2vec.c's table sigmoid. Outside (-MAX_EXP, MAX_EXP) the sigmoid saturates to 0
 * or 1; where skip_saturated[k] (hierarchical softmax) g[k] is 0 instead. Returns the
 * steps' loss if m->compute_loss (else 0); sets *bad if a score is not finite (the weights
 * diverged). */
static inline float logistic_gradients(const w2v_model *m, int n, const float *f, const int *y,
                                       const int *skip_saturated, float alpha, float *g,
                                       int *bad)
{
    float loss = 0.0f;   /* a local sum: a chain through memory per step is slow */
    for (int k = 0; k < n; k++) {
        float fk = f[k];
        if (fk > -W2V_MAX_EXP && fk < W2V_MAX_EXP) {
            /* word2vec.c computes this scale in integers (83, not 83.33), which skews the
             * table; we use the exact grid. Just under MAX_EXP the product can round up to
             * the table size. */
            int idx = (int)((fk + W2V_MAX_EXP) *
                            ((float)W2V_EXP_TABLE_SIZE / (2 * W2V_MAX_EXP)));
            if (idx > W2V_EXP_TABLE_SIZE - 1) idx = W2V_EXP_TABLE_SIZE - 1;
            g[k] = ((float)y[k] - m->sigmoid[idx]) * alpha;
            /* -log sigmoid(f) for y = 1, -log sigmoid(-f) = f - log sigmoid(f) for y = 0;
             * no branch on y, which is as good as random on a Huffman path */
            if (m->compute_loss) loss += (float)(1 - y[k]) * fk - m->log_sigmoid[idx];
        } else if (fk >= W2V_MAX_EXP || fk <= -W2V_MAX_EXP) {
            g[k] = skip_saturated[k] ? 0.0f : ((float)y[k] - (fk > 0 ? 1.0f : 0.0f)) * alpha;
            /* the loss is about max(0, -f) or max(0, f) out here */
            if (!skip_saturated[k] && m->compute_loss && (fk > 0) != (y[k] == 1))
                loss += fabsf(fk);
        } else {
            g[k] = 0.0f;
            *bad = 1;   /* NaN */
        }
    }
    return loss;
}

/* The output rows that inputs predicting `word` train against, in order: the nodes of its
 * Huffman path (if m->hs), then the word itself and the noise words (if m->negative; a
 * noise word equal to `word` is left out), W2V_BLOCK rows at a time. */
typedef struct {
    int64_t path, path_end;     /* next and end position in the CSR path arrays */
    int neg;                    /* -1: the word itself is next; then index into negs */
} output_cursor;

/* Fills rows/labels/skip with the next block of output rows; returns how many (0: done). */
static inline int next_outputs(const w2v_model *m, const w2v_thread *t, output_cursor *cur,
                               int32_t word, const int32_t *negs, int n_negs, float **rows,
                               int *labels, int *skip)
{
    int n = 0;
    for (; n < W2V_BLOCK && cur->path < cur->path_end; n++, cur->path++) {
        int64_t node = m->path_points[cur->path];
        rows[n] = node >= m->hot_first ? t->hot + (node - m->hot_first) * m->dim
                                       : m->w_out_hs + node * m->hs_stride;
        labels[n] = 1 - m->path_codes[cur->path];
        skip[n] = 1;
    }
    for (; n < W2V_BLOCK && m->negative && cur->neg < n_negs; cur->neg++) {
        int32_t w = cur->neg < 0 ? word : negs[cur->neg];
        if (cur->neg >= 0 && w == word) continue;
        rows[n] = m->w_out_ns + (int64_t)w * m->ns_stride;
        labels[n] = cur->neg < 0;
        skip[n++] = 0;
    }
    return n;
}

/* Inputs xs[0:n_in] each predict `word` through the same output rows V (next_outputs). With
 * X the inputs it computes the scores F = X V^T with V as it was on entry, the gradients
 * G = logistic_gradients(F), then errs += G V and V += G^T X. The inputs themselves are not
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
    /* (n_in, W2V_BLOCK): row c holds input c's scores, then its gradients. Each phase below
     * runs over all inputs before the next begins, so that no step waits for the one
     * before it. */
    float *grad = t->grad;
    output_cursor cur = {0, 0, -1};
    if (m->hs) {
        cur.path = m->path_off[word];
        cur.path_end = m->path_off[word + 1];
    }
    int n, bad = 0;
    float loss = 0.0f;
    while ((n = next_outputs(m, t, &cur, word, negs, n_negs, rows, labels, skip)) > 0) {
        t->steps += (int64_t)n * n_in;
        int c = 0;
        for (; c + 2 <= n_in; c += 2)
            dots2(dim, xs[c], xs[c + 1], n, rows, grad + c * W2V_BLOCK,
                  grad + (c + 1) * W2V_BLOCK);
        if (c < n_in) dots(dim, xs[c], n, rows, grad + c * W2V_BLOCK);
        for (c = 0; c < n_in; c++) {
            float *g = grad + c * W2V_BLOCK;
            loss += logistic_gradients(m, n, g, labels, skip, alpha, g, &bad);
        }
        if (bad) return W2V_RUN_NONFINITE;
        for (c = 0; c + 2 <= n_in; c += 2)
            add_combination2(dim, n, grad + c * W2V_BLOCK, grad + (c + 1) * W2V_BLOCK, 1, rows,
                             errs + (int64_t)c * dim, errs + (int64_t)(c + 1) * dim);
        if (c < n_in)
            add_combination(dim, n, grad + c * W2V_BLOCK, 1, rows, errs + (int64_t)c * dim);
        int k = 0;
        for (; k + 2 <= n; k += 2) {
            if (rows[k] == rows[k + 1]) break;   /* a noise word drawn twice in a row */
            add_combination2(dim, n_in, grad + k, grad + k + 1, W2V_BLOCK, xs, rows[k],
                             rows[k + 1]);
        }
        for (; k < n; k++) add_combination(dim, n_in, grad + k, W2V_BLOCK, xs, rows[k]);
    }
    t->loss += loss;
    return W2V_RUN_OK;
}

/* The factor of input row `word`'s update: gensim's vectors_lockf (1 without one). */
static inline float input_factor(const w2v_model *m, int32_t word)
{
    return m->lockf ? m->lockf[word] : 1.0f;
}

int W2V_FN(w2v_train_sg_example)(const w2v_model *m, w2v_thread *t, int32_t context, int32_t word,
                         const int32_t *negs, int n_negs, float alpha)
{
    float *row = m->w_in + (int64_t)context * m->dim;
    memset(t->e, 0, (size_t)m->dim * sizeof(float));
    int rc = predict_block(m, t, &row, 1, word, negs, n_negs, alpha, t->e);
    axpy(m->dim, input_factor(m, context), t->e, row);
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
    for (int c = 0; c < n_ctx; c++)
        axpy(dim, input_factor(m, ctx[c]), t->e, m->w_in + (int64_t)ctx[c] * dim);
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
            axpy(dim, input_factor(m, ctx[c0 + c]), t->errs + (int64_t)c * dim,
                 t->inputs[c]);
        if (rc != W2V_RUN_OK) return rc;
    }
    return W2V_RUN_OK;
}

/* ---- the loop over chunks of the corpus --------------------------------------------- */

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
 * that the random rows of the noise words and the centre word arrive before they are used.
 * Every row prefetched is then written: where the CPU can, the lines are fetched owned
 * (PREFETCHW), so that a line another core last wrote moves once, not once to be read and
 * again to be written. Only the AVX2 kernels are compiled to emit PREFETCHW; a CPU
 * without it gets plain prefetches (the branch is taken the same way every time). */
#if defined(__GNUC__) || defined(__clang__)
/* always inlined: GCC takes a function of prefetches alone for one without effects and,
 * where it is not inlined (-O2, two loops), deletes every call to it */
__attribute__((always_inline))
#endif
static inline void prefetch_row(const w2v_model *m, const float *row)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)row;
    const int64_t bytes = m->dim * (int64_t)sizeof(float);
    if (m->prefetch_write)
        for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 1, 3);
    else
        for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
#else
    (void)m; (void)row;
#endif
}

/* Draw the noise words of the next example and start loading their rows. */
static inline void draw_negatives(const w2v_model *m, w2v_thread *t, int32_t *negs)
{
    for (int d = 0; d < m->negative; d++) {
        negs[d] = draw_noise(m, t);
        prefetch_row(m, m->w_out_ns + (int64_t)negs[d] * m->ns_stride);
    }
}

/* Start loading the Huffman path (node ids and codes) of `word`, so that a later
 * prefetch_outputs finds its node ids in the cache. */
static inline void prefetch_path(const w2v_model *m, int32_t word)
{
    int64_t a = m->path_off[word], b = m->path_off[word + 1];
    if (a == b) return;   /* a one-word vocabulary */
    for (int64_t k = a; k < b; k += 16) __builtin_prefetch(m->path_points + k, 0, 3);
    __builtin_prefetch(m->path_points + b - 1, 0, 3);
    __builtin_prefetch(m->path_codes + a, 0, 3);
    __builtin_prefetch(m->path_codes + b - 1, 0, 3);
}

/* Start loading the output rows that centre word `word` will use. */
static inline void prefetch_outputs(const w2v_model *m, int32_t word)
{
    if (m->negative) prefetch_row(m, m->w_out_ns + (int64_t)word * m->ns_stride);
    if (m->hs)
        for (int64_t k = m->path_off[word]; k < m->path_off[word + 1]; k++)
            if (m->path_points[k] < m->hot_first)   /* the private hot rows stay cached */
                prefetch_row(m, m->w_out_hs + (int64_t)m->path_points[k] * m->hs_stride);
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

/* 1 if this model trains hot Huffman nodes in per-thread copies (see w2v_model.hot_first). */
static inline int has_hot_rows(const w2v_model *m)
{
    return m->hs && m->hot_first < m->n_words - 1;
}

/* The thread's private copies of the hot Huffman nodes: load them from the shared matrix,
 * and merge them back, adding what this thread changed since the last merge to whatever
 * the other threads have written meanwhile (Hogwild, in batches). */
static void load_hot(const w2v_model *m, w2v_thread *t)
{
    /* row by row: the copies are dim floats apart, the shared rows hs_stride (whose
     * padding, after the last row too, is not the kernels' to touch) */
    const int64_t dim = m->dim, n = m->n_words - 1 - m->hot_first;
    for (int64_t r = 0; r < n; r++)
        memcpy(t->hot + r * dim, m->w_out_hs + (m->hot_first + r) * m->hs_stride,
               (size_t)dim * sizeof(float));
    memcpy(t->hot_base, t->hot, (size_t)(n * dim) * sizeof(float));
    t->unmerged = 0;
}

static void merge_hot(const w2v_model *m, w2v_thread *t)
{
    const int64_t dim = m->dim, n = m->n_words - 1 - m->hot_first;
    for (int64_t r = 0; r < n; r++) {
        float *shared = m->w_out_hs + (m->hot_first + r) * m->hs_stride;
        float *mine = t->hot + r * dim, *base = t->hot_base + r * dim;
        for (int64_t i = 0; i < dim; i++) {
            /* where no other thread wrote, take the private value as it is: adding the
             * change would round, and one thread alone must train exactly as without
             * copies */
            float s = shared[i];
            float v = s == base[i] ? mine[i] : s + (mine[i] - base[i]);
            shared[i] = v;
            mine[i] = base[i] = v;
        }
    }
    t->unmerged = 0;
}

/* Train the subsampled ids span[0, len), read from `raw` corpus ids. Those raw words are
 * credited to the thread's progress and merge counts as the centre word advances, in
 * proportion, so that a long span (raw >= W2V_PROGRESS_WORDS: a one-line corpus, a large
 * max_span) still refreshes the learning rate every W2V_PROGRESS_WORDS words and merges
 * the private hot rows every hot_sync_words words. A short span publishes its progress
 * only at its end (train_range does, at the next span), so the learning rate is constant
 * within it, as in word2vec.c. */
static int train_span(const w2v_model *m, w2v_thread *t, const int32_t *span, int64_t len,
                      int64_t raw, int long_span)
{
    const int hot = has_hot_rows(m);
    int64_t credited = 0;
    float alpha = (float)t->alpha;
    const int n_negs = m->negative;
    int32_t *negs = t->negs + n_negs;   /* the second set counts as used */
    if (n_negs) draw_negatives(m, t, t->negs);
    /* the counts are credited every W2V_CREDIT_STEP centre words (a short span without
     * hot rows is one step), outside the loop over the centre words */
    const int64_t step = long_span || hot ? W2V_CREDIT_STEP : len;
    for (int64_t i = 0; i < len;) {
        if (long_span || hot) {
            /* in double: raw * i may not fit 64 bits; the quotient is exact enough */
            int64_t due = (int64_t)((double)raw * (double)i / (double)len);
            t->unpublished += due - credited;
            t->unmerged += due - credited;
            credited = due;
            if (hot && t->unmerged >= m->hot_sync_words) merge_hot(m, t);
            if (long_span && t->unpublished >= W2V_PROGRESS_WORDS) {
                publish_progress(m, t);
                alpha = (float)t->alpha;
            }
        }
        const int64_t step_end = len - i > step ? i + step : len;
        for (; i < step_end; i++) {
            int64_t reach = m->window;
            if (m->shrink_windows) reach -= next_below(t, m->window);
            int64_t lo = i - reach < 0 ? 0 : i - reach;
            int64_t hi = i + reach >= len ? len - 1 : i + reach;
            /* a pipeline over the next centre words: path_off three ahead, the path two
             * ahead, the output rows one ahead, each step's addresses already in the
             * cache */
            if (m->hs && i + 3 < len) __builtin_prefetch(m->path_off + span[i + 3], 0, 3);
            if (m->hs && i + 2 < len) prefetch_path(m, span[i + 2]);
            if (i + 1 < len) prefetch_outputs(m, span[i + 1]);
            if (i + 1 + m->window < len)
                prefetch_row(m, m->w_in + (int64_t)span[i + 1 + m->window] * m->dim);
            if (m->sg && (m->shared_negatives || !n_negs)) {
                /* every context word predicts the same output rows: train the window at
                 * once. shared_negatives: one draw per centre word serves all its context
                 * words (pWord2Vec's idea) */
                int n_ctx = 0;
                for (int64_t c = lo; c <= hi; c++)
                    if (c != i) t->ctx[n_ctx++] = span[c];
                if (n_ctx == 0) continue;
                if (n_negs) negs = next_negatives(m, t, negs);
                if (W2V_FN(w2v_train_sg_window)(m, t, t->ctx, n_ctx, span[i], negs, n_negs,
                                                alpha))
                    return W2V_RUN_NONFINITE;
                t->examples += n_ctx;
            } else if (m->sg) {
                for (int64_t c = lo; c <= hi; c++) {
                    if (c == i) continue;
                    if (n_negs) negs = next_negatives(m, t, negs);
                    if (W2V_FN(w2v_train_sg_example)(m, t, span[c], span[i], negs, n_negs,
                                                     alpha))
                        return W2V_RUN_NONFINITE;
                    t->examples++;
                }
            } else {
                int n_ctx = 0;
                for (int64_t c = lo; c <= hi; c++)
                    if (c != i) t->ctx[n_ctx++] = span[c];
                if (n_ctx == 0) continue;
                if (n_negs) negs = next_negatives(m, t, negs);
                if (W2V_FN(w2v_train_cbow_example)(m, t, t->ctx, n_ctx, span[i], negs,
                                                   n_negs, alpha))
                    return W2V_RUN_NONFINITE;
                t->examples++;
            }
        }
    }
    t->unpublished += raw - credited;
    t->unmerged += raw - credited;
    return W2V_RUN_OK;
}

/* The sentence that holds id position pos (< offsets[n_sentences]): the last one that
 * starts at or before it. */
static int64_t sentence_at(const w2v_model *m, int64_t pos)
{
    int64_t lo = 0, hi = m->n_sentences - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (m->offsets[mid] <= pos) lo = mid; else hi = mid - 1;
    }
    return lo;
}

/* Train on the ids [a, b): from position a (the start of a sentence, or where a stopped
 * run left off) to the end of the sentence that ends at b. */
static int train_range(const w2v_model *m, w2v_thread *t, int64_t a, int64_t b)
{
    publish_progress(m, t);   /* sets t->alpha from the shared count */
    int64_t pos = a;
    int flush = 0;            /* a long span published inside: publish the rest after it */
    for (int64_t s = a < b ? sentence_at(m, a) : 0; pos < b; s++) {
        int64_t end = m->offsets[s + 1] < b ? m->offsets[s + 1] : b;
        while (pos < end) {
            /* the stop flag is read only here, just after a publish, where an
             * uninterrupted run publishes too: a run resumed from pos then sees the same
             * learning rates, bit for bit */
            if (flush || t->unpublished >= W2V_PROGRESS_WORDS) {
                publish_progress(m, t);
                if (__atomic_load_n(m->stop, __ATOMIC_RELAXED)) {
                    /* every word before pos is trained and counted: a later run can
                     * continue from pos exactly */
                    t->left_from = pos;
                    t->left_to = b;
                    return W2V_RUN_STOPPED;
                }
            }
            /* subsample into the span buffer; a sentence longer than max_span is trained
             * as consecutive spans */
            int64_t len = 0, first = pos;
            while (pos < end && len < m->max_span) {
                int32_t w = m->ids[pos++];
                assert(w >= 0 && w < m->n_words);   /* checked in Python; debug builds recheck */
                if (m->keep_prob && m->keep_prob[w] < 1.0f && next_unit(t) >= m->keep_prob[w])
                    continue;
                t->span[len++] = w;
            }
            const int64_t raw = pos - first;
            t->words += raw;
            t->trained += len;
            flush = raw >= W2V_PROGRESS_WORDS;
            int rc = train_span(m, t, t->span, len, raw, flush);
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

int W2V_FN(w2v_train_chunks)(const w2v_model *m, w2v_thread *t, const int64_t *starts,
                             const int64_t *ends, int64_t n_chunks, int64_t *next_chunk)
{
    /* work on a copy on this thread's stack: the counters change with every word, and the
     * callers' structs of different threads may share a cache line */
    w2v_thread local = *t;
    local.left_from = local.left_to = 0;
    if (has_hot_rows(m)) load_hot(m, &local);
    int rc = W2V_RUN_OK;
    for (;;) {
        if (__atomic_load_n(m->stop, __ATOMIC_RELAXED)) {
            rc = W2V_RUN_STOPPED;
            break;
        }
        int64_t c = __atomic_fetch_add(next_chunk, 1, __ATOMIC_RELAXED);
        if (c >= n_chunks) break;
        rc = train_range(m, &local, starts[c], ends[c]);
        if (rc != W2V_RUN_OK) break;
    }
    if (has_hot_rows(m)) merge_hot(m, &local);
    *t = local;
    return rc;
}
