/* The lookup-layer kernels behind fastw2v.Embedding and fastw2v.EmbeddingBag: row gather,
 * gradient scatter-add, bag reductions (sum, mean, max) and their backward, max_norm
 * renormalisation. Plain C, no Python headers; the caller allocates every array and has
 * checked every id and every bag bound.
 *
 * Each typed kernel exists once per weight type and id type, the suffix naming both:
 *   f32_i32 (float, int32_t)  f32_i64 (float, int64_t)  f64_i32 (double, int32_t)  f64_i64
 * e.g. w2v_gather_rows_f32_i64. Shapes: weight (n_rows, dim) row-major; ids (n_ids,);
 * bag b holds positions [bounds[b], bounds[b + 1]) of ids, bounds (n_bags + 1,) int64;
 * bounds == NULL in w2v_bag_scatter means bag b is position b alone (nn.Embedding). */
#ifndef W2V_LOOKUP_H
#define W2V_LOOKUP_H

#include <stdint.h>

#define W2V_LOOKUP_DECLARE(REAL, ID, S)                                                      \
    /* out[i, :] := weight[ids[i], :]                          out (n_ids, dim) */            \
    void w2v_gather_rows_##S(const REAL *weight, int64_t dim, const ID *ids, int64_t n_ids,  \
                             REAL *out);                                                     \
                                                                                             \
    /* out[b, :] := sum over i in bag b, ids[i] != padding_idx, of c_i * weight[ids[i], :]  \
     * c_i = psw[i] (psw != NULL) else 1; mean != 0 divides by the number of such i;        \
     * an empty bag gives zeros.                               out (n_bags, dim) */         \
    void w2v_bag_sum_##S(const REAL *weight, int64_t dim, const ID *ids,                     \
                         const int64_t *bounds, int64_t n_bags, const REAL *psw, int mean,   \
                         int64_t padding_idx, REAL *out);                                    \
                                                                                             \
    /* out[b, d] := max over i in bag b, ids[i] != padding_idx, of weight[ids[i], d] and     \
     * arg[b, d] := the first such ids[i] reaching it; an empty bag gives 0 and arg -1.     \
     * arg may be NULL (forward only).                   out, arg (n_bags, dim) */          \
    void w2v_bag_max_##S(const REAL *weight, int64_t dim, const ID *ids,                     \
                         const int64_t *bounds, int64_t n_bags, int64_t padding_idx,         \
                         REAL *out, int64_t *arg);                                           \
                                                                                             \
    /* dst[r_i, :] += alpha * c_i * grad[b, :] for each i in bag b, ids[i] != padding_idx;   \
     * r_i = slot[i] (slot != NULL) else ids[i];                                             \
     * c_i = (psw ? psw[i] : 1) / (mean ? bag b's count of such i : 1)                       \
     *       / (counts ? counts[i] : 1), counts[i] being how often ids[i] occurs in          \
     *       ids.                                                  grad (n_bags, dim) */     \
    void w2v_bag_scatter_##S(const REAL *grad, int64_t dim, const ID *ids,                   \
                             const int64_t *bounds, int64_t n_bags, const REAL *psw,         \
                             int mean, const int64_t *counts, const int64_t *slot,           \
                             int64_t padding_idx, REAL alpha, REAL *dst);                    \
                                                                                             \
    /* gpsw[i] := grad[b, :] . weight[ids[i], :] for i in bag b, ids[i] != padding_idx     \
     * (the gradient of per_sample_weights in sum mode); other gpsw[i] are left alone. */   \
    void w2v_bag_psw_grad_##S(const REAL *weight, int64_t dim, const ID *ids,                \
                              const int64_t *bounds, int64_t n_bags, const REAL *grad,       \
                              int64_t padding_idx, REAL *gpsw);                              \
                                                                                             \
    /* For each distinct r in ids: n := ||weight[r, :]||_norm_type rounded to REAL;         \
     * if n > max_norm, weight[r, :] *= (REAL)(max_norm / (n + 1e-7)) (torch's              \
     * embedding_renorm_). seen (n_rows,) all 0 on entry; marks the rows visited. */        \
    void w2v_renorm_rows_##S(REAL *weight, int64_t dim, const ID *ids, int64_t n_ids,        \
                             double max_norm, double norm_type, uint8_t *seen);

#define W2V_LOOKUP_DECLARE_REAL(REAL, S)                                                     \
    /* dst[arg[b, d], d] += alpha * grad[b, d] where arg[b, d] >= 0 (max-bag backward). */  \
    void w2v_bag_max_scatter_##S(const REAL *grad, int64_t dim, const int64_t *arg,          \
                                 int64_t n_bags, REAL alpha, REAL *dst);

#define W2V_LOOKUP_DECLARE_ID(ID, S)                                                         \
    /* returns the first i with ids[i] outside [0, n_rows), or -1 if there is none. */      \
    int64_t w2v_find_bad_id_##S(const ID *ids, int64_t n_ids, int64_t n_rows);              \
                                                                                             \
    /* counts[ids[i]] += 1 for every i.                       counts (n_rows,) */           \
    void w2v_count_ids_##S(const ID *ids, int64_t n_ids, int64_t *counts);

W2V_LOOKUP_DECLARE(float, int32_t, f32_i32)
W2V_LOOKUP_DECLARE(float, int64_t, f32_i64)
W2V_LOOKUP_DECLARE(double, int32_t, f64_i32)
W2V_LOOKUP_DECLARE(double, int64_t, f64_i64)
W2V_LOOKUP_DECLARE_REAL(float, f32)
W2V_LOOKUP_DECLARE_REAL(double, f64)
W2V_LOOKUP_DECLARE_ID(int32_t, i32)
W2V_LOOKUP_DECLARE_ID(int64_t, i64)

#endif
