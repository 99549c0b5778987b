# The lookup-layer kernels (src_c/w2v_lookup.c), one nogil call per entry point.
#
# These wrappers check shapes only. Ids, bag bounds, padding_idx and dtypes are validated
# once, in fastw2v.embedding, before anything gets here: an id out of range passed
# straight to these functions reads or writes outside the weight.
#
# Every function takes float32 or float64 weights and int32 or int64 ids (Cython fused
# types pick the typed C kernel); arrays are C-contiguous, bounds (n_bags + 1,) int64.
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t


cdef extern from "w2v_lookup.h" nogil:
    void w2v_gather_rows_f32_i32(const float *weight, int64_t dim, const int32_t *ids,
                                 int64_t n_ids, float *out)
    void w2v_gather_rows_f32_i64(const float *weight, int64_t dim, const int64_t *ids,
                                 int64_t n_ids, float *out)
    void w2v_gather_rows_f64_i32(const double *weight, int64_t dim, const int32_t *ids,
                                 int64_t n_ids, double *out)
    void w2v_gather_rows_f64_i64(const double *weight, int64_t dim, const int64_t *ids,
                                 int64_t n_ids, double *out)

    void w2v_bag_sum_f32_i32(const float *weight, int64_t dim, const int32_t *ids,
                             const int64_t *bounds, int64_t n_bags, const float *psw,
                             int mean, int64_t padding_idx, float *out)
    void w2v_bag_sum_f32_i64(const float *weight, int64_t dim, const int64_t *ids,
                             const int64_t *bounds, int64_t n_bags, const float *psw,
                             int mean, int64_t padding_idx, float *out)
    void w2v_bag_sum_f64_i32(const double *weight, int64_t dim, const int32_t *ids,
                             const int64_t *bounds, int64_t n_bags, const double *psw,
                             int mean, int64_t padding_idx, double *out)
    void w2v_bag_sum_f64_i64(const double *weight, int64_t dim, const int64_t *ids,
                             const int64_t *bounds, int64_t n_bags, const double *psw,
                             int mean, int64_t padding_idx, double *out)

    void w2v_bag_max_f32_i32(const float *weight, int64_t dim, const int32_t *ids,
                             const int64_t *bounds, int64_t n_bags, int64_t padding_idx,
                             float *out, int64_t *arg)
    void w2v_bag_max_f32_i64(const float *weight, int64_t dim, const int64_t *ids,
                             const int64_t *bounds, int64_t n_bags, int64_t padding_idx,
                             float *out, int64_t *arg)
    void w2v_bag_max_f64_i32(const double *weight, int64_t dim, const int32_t *ids,
                             const int64_t *bounds, int64_t n_bags, int64_t padding_idx,
                             double *out, int64_t *arg)
    void w2v_bag_max_f64_i64(const double *weight, int64_t dim, const int64_t *ids,
                             const int64_t *bounds, int64_t n_bags, int64_t padding_idx,
                             double *out, int64_t *arg)

    void w2v_bag_scatter_f32_i32(const float *grad, int64_t dim, const int32_t *ids,
                                 const int64_t *bounds, int64_t n_bags, const float *psw,
                                 int mean, const int64_t *counts, const int64_t *slot,
                                 int64_t padding_idx, float alpha, float *dst)
    void w2v_bag_scatter_f32_i64(const float *grad, int64_t dim, const int64_t *ids,
                                 const int64_t *bounds, int64_t n_bags, const float *psw,
                                 int mean, const int64_t *counts, const int64_t *slot,
                                 int64_t padding_idx, float alpha, float *dst)
    void w2v_bag_scatter_f64_i32(const double *grad, int64_t dim, const int32_t *ids,
                                 const int64_t *bounds, int64_t n_bags, const double *psw,
                                 int mean, const int64_t *counts, const int64_t *slot,
                                 int64_t padding_idx, double alpha, double *dst)
    void w2v_bag_scatter_f64_i64(const double *grad, int64_t dim, const int64_t *ids,
                                 const int64_t *bounds, int64_t n_bags, const double *psw,
                                 int mean, const int64_t *counts, const int64_t *slot,
                                 int64_t padding_idx, double alpha, double *dst)

    void w2v_bag_psw_grad_f32_i32(const float *weight, int64_t dim, const int32_t *ids,
                                  const int64_t *bounds, int64_t n_bags, const float *grad,
                                  int64_t padding_idx, float *gpsw)
    void w2v_bag_psw_grad_f32_i64(const float *weight, int64_t dim, const int64_t *ids,
                                  const int64_t *bounds, int64_t n_bags, const float *grad,
                                  int64_t padding_idx, float *gpsw)
    void w2v_bag_psw_grad_f64_i32(const double *weight, int64_t dim, const int32_t *ids,
                                  const int64_t *bounds, int64_t n_bags, const double *grad,
                                  int64_t padding_idx, double *gpsw)
    void w2v_bag_psw_grad_f64_i64(const double *weight, int64_t dim, const int64_t *ids,
                                  const int64_t *bounds, int64_t n_bags, const double *grad,
                                  int64_t padding_idx, double *gpsw)

    void w2v_renorm_rows_f32_i32(float *weight, int64_t dim, const int32_t *ids,
                                 int64_t n_ids, double max_norm, double norm_type,
                                 uint8_t *seen)
    void w2v_renorm_rows_f32_i64(float *weight, int64_t dim, const int64_t *ids,
                                 int64_t n_ids, double max_norm, double norm_type,
                                 uint8_t *seen)
    void w2v_renorm_rows_f64_i32(double *weight, int64_t dim, const int32_t *ids,
                                 int64_t n_ids, double max_norm, double norm_type,
                                 uint8_t *seen)
    void w2v_renorm_rows_f64_i64(double *weight, int64_t dim, const int64_t *ids,
                                 int64_t n_ids, double max_norm, double norm_type,
                                 uint8_t *seen)

    void w2v_bag_max_scatter_f32(const float *grad, int64_t dim, const int64_t *arg,
                                 int64_t n_bags, float alpha, float *dst)
    void w2v_bag_max_scatter_f64(const double *grad, int64_t dim, const int64_t *arg,
                                 int64_t n_bags, double alpha, double *dst)

    int64_t w2v_find_bad_id_i32(const int32_t *ids, int64_t n_ids, int64_t n_rows)
    int64_t w2v_find_bad_id_i64(const int64_t *ids, int64_t n_ids, int64_t n_rows)
    void w2v_count_ids_i32(const int32_t *ids, int64_t n_ids, int64_t *counts)
    void w2v_count_ids_i64(const int64_t *ids, int64_t n_ids, int64_t *counts)


ctypedef fused real_f:
    float
    double

ctypedef fused id_f:
    int32_t
    int64_t


# ---- pointers to the first element, NULL for an empty or absent array ----------------------
# (so that empty inputs never index element 0, which bounds checking would reject)

cdef inline const id_f *_ids_ptr(const id_f[::1] a):
    return &a[0] if a is not None and a.shape[0] > 0 else NULL

cdef inline const int64_t *_i64_ptr(const int64_t[::1] a):
    return &a[0] if a is not None and a.shape[0] > 0 else NULL

cdef inline const real_f *_vec_ptr(const real_f[::1] a):
    return &a[0] if a is not None and a.shape[0] > 0 else NULL

cdef inline const real_f *_mat_ptr(const real_f[:, ::1] a):
    return &a[0, 0] if a.shape[0] > 0 and a.shape[1] > 0 else NULL

cdef inline real_f *_mut_ptr(real_f[:, ::1] a):
    return &a[0, 0] if a.shape[0] > 0 and a.shape[1] > 0 else NULL


def _check_shape(name, tuple got, tuple expected):
    if got != expected:
        raise ValueError(f"{name} has shape {got}, expected {expected}")


def _check_bounds(const int64_t[::1] bounds):
    if bounds.shape[0] < 1:
        raise ValueError("bounds needs n_bags + 1 >= 1 entries")


def _check_slots(const id_f[::1] ids, const int64_t[::1] slot, int64_t padding_idx,
                 int64_t n_rows):
    """_check_rows for the rows bag_scatter writes through `slot`, in one pass: the
    kernel skips padding positions, whose slot can be anything."""
    cdef Py_ssize_t i
    for i in range(ids.shape[0]):
        if (slot[i] < 0 or slot[i] >= n_rows) and ids[i] != padding_idx:
            raise IndexError(f"slot[{i}] = {slot[i]} is outside [0, {n_rows}), the rows of "
                             f"dst")


def _check_bag_bounds(const int64_t[::1] bounds, int64_t n_ids):
    """Bags index the ids with their bounds unchecked: 0 <= bounds[0] <= ... <= n_ids."""
    cdef Py_ssize_t b
    cdef int64_t prev = 0
    for b in range(bounds.shape[0]):
        if bounds[b] < prev or bounds[b] > n_ids:
            raise ValueError(f"bounds[{b}] = {bounds[b]}: bag bounds must rise from 0 to at "
                             f"most the {n_ids} ids")
        prev = bounds[b]


def _check_rows(name, const id_f[::1] ids, int64_t n_rows):
    """Every id must be a row of the array the kernel indexes with it, [0, n_rows): the
    kernels do not check. The layers check the user's ids first, with a message made for
    them; this is the memory-safety net under that check, for direct callers and for a
    weight replaced by another thread in between (the layers index private copies of the
    ids, which no other thread can change)."""
    cdef int64_t pos = find_bad_id(ids, n_rows)
    if pos >= 0:
        raise IndexError(f"{name}[{pos}] = {ids[pos]} is outside [0, {n_rows}), the rows of "
                         f"the array it indexes (was the weight replaced during the call?)")


# ---- entry points ------------------------------------------------------------------------------

def find_bad_id(const id_f[::1] ids, int64_t n_rows):
    """Position of the first id outside [0, n_rows), or -1 if all are in range."""
    cdef const id_f *p = _ids_ptr(ids)
    cdef int64_t n = ids.shape[0], pos
    with nogil:
        if id_f is int32_t:
            pos = w2v_find_bad_id_i32(p, n, n_rows)
        else:
            pos = w2v_find_bad_id_i64(p, n, n_rows)
    return pos


def count_ids(const id_f[::1] ids, int64_t n_rows):
    """Returns counts (n_rows,) int64 with counts[r] = number of i with ids[i] == r."""
    counts = np.zeros(n_rows, dtype=np.int64)
    cdef int64_t[::1] c = counts
    cdef const id_f *p = _ids_ptr(ids)
    cdef int64_t n = ids.shape[0]
    if n == 0:
        return counts
    _check_rows("ids", ids, n_rows)
    with nogil:
        if id_f is int32_t:
            w2v_count_ids_i32(p, n, &c[0])
        else:
            w2v_count_ids_i64(p, n, &c[0])
    return counts


def gather_rows(const real_f[:, ::1] weight, const id_f[::1] ids, real_f[:, ::1] out):
    """out[i, :] := weight[ids[i], :]; out (n_ids, dim)."""
    cdef int64_t dim = weight.shape[1], n = ids.shape[0]
    _check_shape("out", (out.shape[0], out.shape[1]), (n, dim))
    if n == 0 or dim == 0:
        return
    _check_rows("ids", ids, weight.shape[0])
    cdef const real_f *w = &weight[0, 0]
    cdef const id_f *p = &ids[0]
    cdef real_f *o = &out[0, 0]
    with nogil:
        if real_f is float:
            if id_f is int32_t:
                w2v_gather_rows_f32_i32(w, dim, p, n, o)
            else:
                w2v_gather_rows_f32_i64(w, dim, p, n, o)
        else:
            if id_f is int32_t:
                w2v_gather_rows_f64_i32(w, dim, p, n, o)
            else:
                w2v_gather_rows_f64_i64(w, dim, p, n, o)


def bag_sum(const real_f[:, ::1] weight, const id_f[::1] ids, const int64_t[::1] bounds,
            const real_f[::1] psw, bint mean, int64_t padding_idx, real_f[:, ::1] out):
    """out[b, :] := sum (mean: mean) of c_i * weight[ids[i], :] over bag b without
    padding ids, c_i = psw[i] or 1; an empty bag gives zeros. out (n_bags, dim)."""
    _check_bounds(bounds)
    cdef int64_t dim = weight.shape[1], n_bags = bounds.shape[0] - 1
    _check_shape("out", (out.shape[0], out.shape[1]), (n_bags, dim))
    if psw is not None:
        _check_shape("per_sample_weights", (psw.shape[0],), (ids.shape[0],))
    if n_bags == 0 or dim == 0:
        return
    _check_bag_bounds(bounds, ids.shape[0])
    _check_rows("ids", ids, weight.shape[0])
    cdef const real_f *w = _mat_ptr(weight)
    cdef const id_f *p = _ids_ptr(ids)
    cdef const int64_t *bd = &bounds[0]
    cdef const real_f *ps = _vec_ptr(psw)
    cdef real_f *o = &out[0, 0]
    with nogil:
        if real_f is float:
            if id_f is int32_t:
                w2v_bag_sum_f32_i32(w, dim, p, bd, n_bags, ps, mean, padding_idx, o)
            else:
                w2v_bag_sum_f32_i64(w, dim, p, bd, n_bags, ps, mean, padding_idx, o)
        else:
            if id_f is int32_t:
                w2v_bag_sum_f64_i32(w, dim, p, bd, n_bags, ps, mean, padding_idx, o)
            else:
                w2v_bag_sum_f64_i64(w, dim, p, bd, n_bags, ps, mean, padding_idx, o)


def bag_max(const real_f[:, ::1] weight, const id_f[::1] ids, const int64_t[::1] bounds,
            int64_t padding_idx, real_f[:, ::1] out, int64_t[:, ::1] arg=None):
    """out[b, d] := max over bag b (without padding ids) of weight[ids[i], d], and arg[b, d]
    the first id reaching it (if arg is given); an empty bag gives 0 and -1.
    out, arg (n_bags, dim)."""
    _check_bounds(bounds)
    cdef int64_t dim = weight.shape[1], n_bags = bounds.shape[0] - 1
    _check_shape("out", (out.shape[0], out.shape[1]), (n_bags, dim))
    if arg is not None:
        _check_shape("arg", (arg.shape[0], arg.shape[1]), (n_bags, dim))
    if n_bags == 0 or dim == 0:
        return
    _check_bag_bounds(bounds, ids.shape[0])
    _check_rows("ids", ids, weight.shape[0])
    cdef const real_f *w = _mat_ptr(weight)
    cdef const id_f *p = _ids_ptr(ids)
    cdef const int64_t *bd = &bounds[0]
    cdef real_f *o = &out[0, 0]
    cdef int64_t *a = &arg[0, 0] if arg is not None else NULL
    with nogil:
        if real_f is float:
            if id_f is int32_t:
                w2v_bag_max_f32_i32(w, dim, p, bd, n_bags, padding_idx, o, a)
            else:
                w2v_bag_max_f32_i64(w, dim, p, bd, n_bags, padding_idx, o, a)
        else:
            if id_f is int32_t:
                w2v_bag_max_f64_i32(w, dim, p, bd, n_bags, padding_idx, o, a)
            else:
                w2v_bag_max_f64_i64(w, dim, p, bd, n_bags, padding_idx, o, a)


def bag_scatter(const real_f[:, ::1] grad, const id_f[::1] ids, const int64_t[::1] bounds,
                const real_f[::1] psw, bint mean, const int64_t[::1] counts,
                const int64_t[::1] slot, int64_t padding_idx, double alpha,
                real_f[:, ::1] dst):
    """dst[r_i, :] += alpha * c_i * grad[b, :] for every non-padding position i of bag b,
    r_i = slot[i] or ids[i], c_i = (psw[i] or 1) / (mean: bag count) / (counts[i] or 1),
    counts (n_ids,) holding how often position i's id occurs.
    bounds None: bag b is position b alone, grad (n_ids, dim)."""
    cdef int64_t dim = grad.shape[1], n_ids = ids.shape[0]
    cdef int64_t n_bags = n_ids if bounds is None else bounds.shape[0] - 1
    if bounds is not None:
        _check_bounds(bounds)
    _check_shape("grad", (grad.shape[0], grad.shape[1]), (n_bags, dim))
    if dst.shape[1] != dim:
        raise ValueError(f"dst has {dst.shape[1]} columns, grad {dim}")
    if psw is not None:
        _check_shape("per_sample_weights", (psw.shape[0],), (n_ids,))
    if counts is not None:
        _check_shape("counts", (counts.shape[0],), (n_ids,))
    if slot is not None:
        _check_shape("slot", (slot.shape[0],), (n_ids,))
    if n_bags == 0 or dim == 0 or n_ids == 0:
        return
    if bounds is not None:
        _check_bag_bounds(bounds, n_ids)
    if slot is None:
        _check_rows("ids", ids, dst.shape[0])
    else:
        _check_slots(ids, slot, padding_idx, dst.shape[0])
    cdef const real_f *g = &grad[0, 0]
    cdef const id_f *p = &ids[0]
    cdef const int64_t *bd = _i64_ptr(bounds)
    cdef const real_f *ps = _vec_ptr(psw)
    cdef const int64_t *cn = _i64_ptr(counts)
    cdef const int64_t *sl = _i64_ptr(slot)
    cdef real_f *d = _mut_ptr(dst)
    with nogil:
        if real_f is float:
            if id_f is int32_t:
                w2v_bag_scatter_f32_i32(g, dim, p, bd, n_bags, ps, mean, cn, sl,
                                        padding_idx, <float>alpha, d)
            else:
                w2v_bag_scatter_f32_i64(g, dim, p, bd, n_bags, ps, mean, cn, sl,
                                        padding_idx, <float>alpha, d)
        else:
            if id_f is int32_t:
                w2v_bag_scatter_f64_i32(g, dim, p, bd, n_bags, ps, mean, cn, sl,
                                        padding_idx, alpha, d)
            else:
                w2v_bag_scatter_f64_i64(g, dim, p, bd, n_bags, ps, mean, cn, sl,
                                        padding_idx, alpha, d)


def bag_max_scatter(const real_f[:, ::1] grad, const int64_t[:, ::1] arg, double alpha,
                    real_f[:, ::1] dst):
    """dst[arg[b, d], d] += alpha * grad[b, d] wherever arg[b, d] >= 0."""
    cdef int64_t n_bags = grad.shape[0], dim = grad.shape[1]
    _check_shape("arg", (arg.shape[0], arg.shape[1]), (n_bags, dim))
    if dst.shape[1] != dim:
        raise ValueError(f"dst has {dst.shape[1]} columns, grad {dim}")
    if n_bags == 0 or dim == 0:
        return
    if np.asarray(arg).max() >= dst.shape[0]:
        raise IndexError(f"arg holds a row {np.asarray(arg).max()} outside the "
                         f"{dst.shape[0]} rows of dst (was the weight replaced during the "
                         f"call?)")
    cdef const real_f *g = &grad[0, 0]
    cdef const int64_t *a = &arg[0, 0]
    cdef real_f *d = _mut_ptr(dst)
    with nogil:
        if real_f is float:
            w2v_bag_max_scatter_f32(g, dim, a, n_bags, <float>alpha, d)
        else:
            w2v_bag_max_scatter_f64(g, dim, a, n_bags, alpha, d)


def bag_psw_grad(const real_f[:, ::1] weight, const id_f[::1] ids, const int64_t[::1] bounds,
                 const real_f[:, ::1] grad, int64_t padding_idx, real_f[::1] gpsw):
    """gpsw[i] := grad[b, :] . weight[ids[i], :] for each non-padding position i of bag b
    (the gradient of per_sample_weights); other entries are left as they are."""
    _check_bounds(bounds)
    cdef int64_t dim = weight.shape[1], n_bags = bounds.shape[0] - 1
    _check_shape("grad", (grad.shape[0], grad.shape[1]), (n_bags, dim))
    _check_shape("gpsw", (gpsw.shape[0],), (ids.shape[0],))
    if n_bags == 0 or ids.shape[0] == 0:
        return
    _check_bag_bounds(bounds, ids.shape[0])
    _check_rows("ids", ids, weight.shape[0])
    cdef const real_f *w = _mat_ptr(weight)
    cdef const id_f *p = &ids[0]
    cdef const int64_t *bd = &bounds[0]
    cdef const real_f *g = _mat_ptr(grad)
    cdef real_f *o = &gpsw[0]
    with nogil:
        if real_f is float:
            if id_f is int32_t:
                w2v_bag_psw_grad_f32_i32(w, dim, p, bd, n_bags, g, padding_idx, o)
            else:
                w2v_bag_psw_grad_f32_i64(w, dim, p, bd, n_bags, g, padding_idx, o)
        else:
            if id_f is int32_t:
                w2v_bag_psw_grad_f64_i32(w, dim, p, bd, n_bags, g, padding_idx, o)
            else:
                w2v_bag_psw_grad_f64_i64(w, dim, p, bd, n_bags, g, padding_idx, o)


def renorm_rows(real_f[:, ::1] weight, const id_f[::1] ids, double max_norm, double norm_type):
    """For each distinct row r in ids: if ||weight[r]||_norm_type > max_norm, scale it by
    max_norm / (norm + 1e-7), in place (torch's embedding_renorm_)."""
    cdef int64_t n_rows = weight.shape[0], dim = weight.shape[1], n = ids.shape[0]
    if n == 0 or dim == 0:
        return
    _check_rows("ids", ids, n_rows)
    seen = np.zeros(n_rows, dtype=np.uint8)
    cdef uint8_t[::1] s = seen
    cdef real_f *w = &weight[0, 0]
    cdef const id_f *p = &ids[0]
    with nogil:
        if real_f is float:
            if id_f is int32_t:
                w2v_renorm_rows_f32_i32(w, dim, p, n, max_norm, norm_type, &s[0])
            else:
                w2v_renorm_rows_f32_i64(w, dim, p, n, max_norm, norm_type, &s[0])
        else:
            if id_f is int32_t:
                w2v_renorm_rows_f64_i32(w, dim, p, n, max_norm, norm_type, &s[0])
            else:
                w2v_renorm_rows_f64_i64(w, dim, p, n, max_norm, norm_type, &s[0])
