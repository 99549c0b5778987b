/* The typed lookup kernels, compiled once per (REAL, ID) pair by w2v_lookup.c, which sets
 * REAL, ID, the name suffixes and W2V_WITH_REAL_KERNELS / W2V_WITH_ID_KERNELS before each
 * inclusion. Not a public header. */

/* ---- primitives on one row of length dim (compiled once per REAL) ----------------------- */
#if W2V_WITH_REAL_KERNELS

/* y := a * x + y */
static inline void FN_REAL(axpy_row)(int64_t dim, REAL a, const REAL *x, REAL *y)
{
    for (int64_t d = 0; d < dim; d++) y[d] += a * x[d];
}

/* asks for the cache lines of a row that will be read soon */
static inline void FN_REAL(prefetch_row)(int64_t dim, const REAL *row)
{
    const char *p = (const char *)row;
    const size_t n_bytes = (size_t)dim * sizeof(REAL);
    if (n_bytes == 0) return;
    for (size_t k = 0; k < n_bytes; k += 64) W2V_PREFETCH(p + k);
    W2V_PREFETCH(p + n_bytes - 1);   /* a row not aligned to 64 bytes spans one line more */
}

/* returns x . y, accumulated in double */
static inline double FN_REAL(dot_row)(int64_t dim, const REAL *x, const REAL *y)
{
    double s = 0.0;
    for (int64_t d = 0; d < dim; d++) s += (double)x[d] * (double)y[d];
    return s;
}

/* returns ||x||_p for every p torch.norm accepts: 0 (non-zeros), +-inf, any other real */
static double FN_REAL(norm_row)(int64_t dim, const REAL *x, double p)
{
    double s = 0.0;
    if (p == 2.0) {
        for (int64_t d = 0; d < dim; d++) s += (double)x[d] * (double)x[d];
        return sqrt(s);
    }
    if (p == 1.0) {
        for (int64_t d = 0; d < dim; d++) s += fabs((double)x[d]);
        return s;
    }
    if (p == 0.0) {
        for (int64_t d = 0; d < dim; d++) s += x[d] != 0;
        return s;
    }
    if (isinf(p)) {
        s = fabs((double)x[0]);   /* dim >= 1: w2v_renorm_rows returns at dim 0 */
        for (int64_t d = 1; d < dim; d++) {
            double a = fabs((double)x[d]);
            if (isnan(a)) return a;   /* as torch's max and min: NaN wins */
            if (p > 0 ? a > s : a < s) s = a;
        }
        return s;
    }
    for (int64_t d = 0; d < dim; d++) s += pow(fabs((double)x[d]), p);
    return pow(s, 1.0 / p);
}

void FN_REAL(w2v_bag_max_scatter)(const REAL *grad, int64_t dim, const int64_t *arg,
                                  int64_t n_bags, REAL alpha, REAL *dst)
{
    for (int64_t k = 0; k < n_bags * dim; k++) {
        if (arg[k] >= 0) dst[arg[k] * dim + k % dim] += alpha * grad[k];
    }
}

#endif

/* ---- id-only kernels (compiled once per ID) ---------------------------------------------- */
#if W2V_WITH_ID_KERNELS

int64_t FN_ID(w2v_find_bad_id)(const ID *ids, int64_t n_ids, int64_t n_rows)
{
    /* Blocks without an early exit, so that the compiler vectorises the common, clean
     * case; only a block with a bad id is searched again for its position. A negative id
     * becomes a huge unsigned value, so one comparison checks both ends. */
    for (int64_t start = 0; start < n_ids; start += 1024) {
        int64_t end = start + 1024 < n_ids ? start + 1024 : n_ids;
        int bad = 0;
        for (int64_t i = start; i < end; i++) bad |= (uint64_t)(int64_t)ids[i] >= (uint64_t)n_rows;
        if (bad) {
            for (int64_t i = start; i < end; i++)
                if ((uint64_t)(int64_t)ids[i] >= (uint64_t)n_rows) return i;
        }
    }
    return -1;
}

void FN_ID(w2v_count_ids)(const ID *ids, int64_t n_ids, int64_t *counts)
{
    for (int64_t i = 0; i < n_ids; i++) counts[ids[i]]++;
}

#endif

/* ---- kernels typed by both REAL and ID ------------------------------------------------- */

void FN(w2v_gather_rows)(const REAL *weight, int64_t dim, const ID *ids, int64_t n_ids,
                         REAL *out)
{
    const size_t row_bytes = (size_t)dim * sizeof(REAL);
    for (int64_t i = 0; i < n_ids; i++) {
        if (i + W2V_PREFETCH_AHEAD < n_ids)
            FN_REAL(prefetch_row)(dim, weight + (int64_t)ids[i + W2V_PREFETCH_AHEAD] * dim);
        memcpy(out + i * dim, weight + (int64_t)ids[i] * dim, row_bytes);
    }
}

/* acc[0:width] := sum over i in [start, end), ids[i] != padding_idx, of
 * (psw ? psw[i] : 1) * weight[ids[i], d0:d0 + width]. Called with width == W2V_BLOCK
 * (a constant once inlined) the accumulators stay in registers for the whole bag. */
static inline void FN(sum_block)(const REAL *weight, int64_t dim, const ID *ids, int64_t start,
                                 int64_t end, int64_t n_ids, const REAL *psw,
                                 int64_t padding_idx, int64_t d0, int64_t width, REAL *acc)
{
    for (int64_t k = 0; k < width; k++) acc[k] = 0;
    for (int64_t i = start; i < end; i++) {
        if (d0 == 0 && i + W2V_PREFETCH_AHEAD < n_ids)
            FN_REAL(prefetch_row)(dim, weight + (int64_t)ids[i + W2V_PREFETCH_AHEAD] * dim);
        int64_t r = ids[i];
        if (r == padding_idx) continue;
        const REAL *row = weight + r * dim + d0;
        if (psw) {
            const REAL c = psw[i];
            for (int64_t k = 0; k < width; k++) acc[k] += c * row[k];
        } else {
            for (int64_t k = 0; k < width; k++) acc[k] += row[k];
        }
    }
}

void FN(w2v_bag_sum)(const REAL *weight, int64_t dim, const ID *ids, const int64_t *bounds,
                     int64_t n_bags, const REAL *psw, int mean, int64_t padding_idx, REAL *out)
{
    /* Column blocks summed over the whole bag in registers, rather than each row added
     * into out (a load and a store per element per row); the sums come out the same. */
    const int64_t n_ids = bounds[n_bags];   /* prefetch across bags, up to the last one's end */
    REAL acc[W2V_BLOCK];
    for (int64_t b = 0; b < n_bags; b++) {
        const int64_t start = bounds[b], end = bounds[b + 1];
        REAL *o = out + b * dim;
        int64_t d0 = 0;
        for (; d0 + W2V_BLOCK <= dim; d0 += W2V_BLOCK) {
            FN(sum_block)(weight, dim, ids, start, end, n_ids, psw, padding_idx, d0, W2V_BLOCK,
                          acc);
            memcpy(o + d0, acc, sizeof(acc));
        }
        if (d0 < dim) {
            FN(sum_block)(weight, dim, ids, start, end, n_ids, psw, padding_idx, d0, dim - d0,
                          acc);
            memcpy(o + d0, acc, (size_t)(dim - d0) * sizeof(REAL));
        }
        if (mean) {
            int64_t n = 0;
            for (int64_t i = start; i < end; i++) n += ids[i] != padding_idx;
            /* torch divides the sum (rather than summing scaled rows); so do we, to match */
            if (n > 1)
                for (int64_t d = 0; d < dim; d++) o[d] /= (REAL)n;
        }
    }
}

void FN(w2v_bag_max)(const REAL *weight, int64_t dim, const ID *ids, const int64_t *bounds,
                     int64_t n_bags, int64_t padding_idx, REAL *out, int64_t *arg)
{
    const int64_t n_ids = bounds[n_bags];
    for (int64_t b = 0; b < n_bags; b++) {
        REAL *o = out + b * dim;
        int64_t *a = arg ? arg + b * dim : NULL;
        int empty = 1;
        for (int64_t i = bounds[b]; i < bounds[b + 1]; i++) {
            if (i + W2V_PREFETCH_AHEAD < n_ids)
                FN_REAL(prefetch_row)(dim, weight + (int64_t)ids[i + W2V_PREFETCH_AHEAD] * dim);
            int64_t r = ids[i];
            if (r == padding_idx) continue;
            const REAL *row = weight + r * dim;
            if (empty) {
                memcpy(o, row, (size_t)dim * sizeof(REAL));
                if (a)
                    for (int64_t d = 0; d < dim; d++) a[d] = r;
                empty = 0;
                continue;
            }
            /* strictly greater: the first of equal maxima keeps the gradient, as in torch.
             * Selects rather than branches, so that both loops vectorise. */
            if (a) {
                for (int64_t d = 0; d < dim; d++) {
                    int gt = row[d] > o[d];
                    o[d] = gt ? row[d] : o[d];
                    a[d] = gt ? r : a[d];
                }
            } else {
                for (int64_t d = 0; d < dim; d++) o[d] = row[d] > o[d] ? row[d] : o[d];
            }
        }
        if (empty) {
            memset(o, 0, (size_t)dim * sizeof(REAL));
            if (a)
                for (int64_t d = 0; d < dim; d++) a[d] = -1;
        }
    }
}

void FN(w2v_bag_scatter)(const REAL *grad, int64_t dim, const ID *ids, const int64_t *bounds,
                         int64_t n_bags, const REAL *psw, int mean, const int64_t *counts,
                         const int64_t *slot, int64_t padding_idx, REAL alpha, REAL *dst)
{
    for (int64_t b = 0; b < n_bags; b++) {
        const int64_t start = bounds ? bounds[b] : b;
        const int64_t end = bounds ? bounds[b + 1] : b + 1;
        const REAL *g = grad + b * dim;
        REAL c_bag = alpha;
        if (mean) {
            int64_t n = 0;
            for (int64_t i = start; i < end; i++) n += ids[i] != padding_idx;
            if (n == 0) continue;
            c_bag = alpha / (REAL)n;
        }
        for (int64_t i = start; i < end; i++) {
            int64_t r = ids[i];
            if (r == padding_idx) continue;
            REAL c = c_bag;
            if (psw) c *= psw[i];
            if (counts) c /= (REAL)counts[i];
            FN_REAL(axpy_row)(dim, c, g, dst + (slot ? slot[i] : r) * dim);
        }
    }
}

void FN(w2v_bag_psw_grad)(const REAL *weight, int64_t dim, const ID *ids, const int64_t *bounds,
                          int64_t n_bags, const REAL *grad, int64_t padding_idx, REAL *gpsw)
{
    for (int64_t b = 0; b < n_bags; b++) {
        for (int64_t i = bounds[b]; i < bounds[b + 1]; i++) {
            int64_t r = ids[i];
            if (r == padding_idx) continue;
            gpsw[i] = (REAL)FN_REAL(dot_row)(dim, grad + b * dim, weight + r * dim);
        }
    }
}

void FN(w2v_renorm_rows)(REAL *weight, int64_t dim, const ID *ids, int64_t n_ids,
                         double max_norm, double norm_type, uint8_t *seen)
{
    if (dim == 0) return;
    for (int64_t i = 0; i < n_ids; i++) {
        int64_t r = ids[i];
        /* once per row: a row scaled to just under max_norm may round to just over it */
        if (seen[r]) continue;
        seen[r] = 1;
        REAL *row = weight + r * dim;
        /* torch takes the norm as a tensor of the weight's type, then in double */
        double norm = (double)(REAL)FN_REAL(norm_row)(dim, row, norm_type);
        if (norm > max_norm) {
            REAL s = (REAL)(max_norm / (norm + 1e-7));
            for (int64_t d = 0; d < dim; d++) row[d] *= s;
        }
    }
}
