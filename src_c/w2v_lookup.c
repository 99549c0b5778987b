/* The lookup-layer kernels; see w2v_lookup.h for each contract.
 *
 * The typed kernels are written once, in w2v_lookup_impl.h, and compiled four times
 * (float/double weights x int32/int64 ids): this file includes it with REAL, ID and the
 * name suffix set, the way w2v_train.c includes w2v_train_impl.h once per instruction set.
 *
 * No SIMD variants: every kernel reads each row once and does at most one multiply-add
 * per element loaded, so on tables larger than the cache it waits on memory; an AVX2+FMA
 * build of this file ran no faster than the baseline one (SSE2 on x86-64, NEON on arm64)
 * on the benchmark (bench/bench_lookup.py). What helps is prefetching rows ahead. */
#include "w2v_lookup.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define W2V_PREFETCH(p) __builtin_prefetch((p), 0, 0)
#else
#define W2V_PREFETCH(p) ((void)0)
#endif

/* Rows this many ids ahead are asked for early: a table larger than the cache makes
 * every row a cache miss, and several misses in flight hide most of the latency (3-4x on
 * the benchmark; 8 to 32 ahead measured alike). -DW2V_PREFETCH_AHEAD=n to tune. */
#ifndef W2V_PREFETCH_AHEAD
#define W2V_PREFETCH_AHEAD 8
#endif

/* Columns of a bag summed at once: 128 bytes, eight SSE registers of accumulators */
#define W2V_BLOCK_BYTES 128

#define W2V_CAT2(a, b) a##_##b
#define W2V_CAT(a, b) W2V_CAT2(a, b)
#define FN(name) W2V_CAT(name, W2V_SUFFIX)
#define FN_REAL(name) W2V_CAT(name, W2V_REAL_SUFFIX)
#define FN_ID(name) W2V_CAT(name, W2V_ID_SUFFIX)

#define W2V_BLOCK ((int64_t)(W2V_BLOCK_BYTES / sizeof(REAL)))
/* the float kernels also define the id-only kernels, once per id type */
#define REAL float
#define W2V_REAL_SUFFIX f32
#define W2V_WITH_ID_KERNELS 1
#define ID int32_t
#define W2V_ID_SUFFIX i32
#define W2V_WITH_REAL_KERNELS 1
#define W2V_SUFFIX f32_i32
#include "w2v_lookup_impl.h"
#undef W2V_SUFFIX
#undef W2V_WITH_REAL_KERNELS
#define W2V_WITH_REAL_KERNELS 0
#undef ID
#undef W2V_ID_SUFFIX
#define ID int64_t
#define W2V_ID_SUFFIX i64
#define W2V_SUFFIX f32_i64
#include "w2v_lookup_impl.h"
#undef W2V_SUFFIX
#undef ID
#undef W2V_ID_SUFFIX
#undef W2V_WITH_ID_KERNELS
#undef W2V_WITH_REAL_KERNELS
#undef REAL
#undef W2V_REAL_SUFFIX

#define REAL double
#define W2V_REAL_SUFFIX f64
#define W2V_WITH_ID_KERNELS 0
#define ID int32_t
#define W2V_ID_SUFFIX i32
#define W2V_WITH_REAL_KERNELS 1
#define W2V_SUFFIX f64_i32
#include "w2v_lookup_impl.h"
#undef W2V_SUFFIX
#undef W2V_WITH_REAL_KERNELS
#define W2V_WITH_REAL_KERNELS 0
#undef ID
#undef W2V_ID_SUFFIX
#define ID int64_t
#define W2V_ID_SUFFIX i64
#define W2V_SUFFIX f64_i64
#include "w2v_lookup_impl.h"
