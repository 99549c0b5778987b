/* The word2vec training kernels; see w2v_train.h and ../shared/WORD2VEC.md for the recipe.
 *
 * The kernels in w2v_train_impl.h are compiled here for the baseline instruction set and
 * in w2v_train_avx2.c for AVX2 + FMA; w2v_model_init picks one set once, by asking the CPU,
 * and stores it in the model (no -march=native, no branch on the CPU in the hot loop).
 * An AVX-512 variant (64-byte vectors) was measured and dropped: 4-7% slower at dim 100,
 * no consistent gain at dim 300 (bench/RESULTS.md). */
#include "w2v_train.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W2V_FN(name) name##_generic
#define W2V_VEC_BYTES 16
#include "w2v_train_impl.h"

W2V_DECLARE_KERNELS(avx2)

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void w2v_thread_seed(w2v_thread *t, uint64_t seed)
{
    t->rng = splitmix64(seed);
    if (t->rng == 0) t->rng = 1;   /* xorshift never leaves 0 */
}

#if W2V_HAVE_AVX2_BUILD
#include <cpuid.h>

/* PREFETCHW is listed by CPUID leaf 0x80000001, ECX bit 8 (PRFCHW / 3DNowPrefetch). */
static int cpu_has_prefetchw(void)
{
    unsigned int a, b, c, d;
    return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8));
}
#endif

int w2v_simd_supported(int simd)
{
    if (simd == W2V_SIMD_GENERIC) return 1;
#if W2V_HAVE_AVX2_BUILD
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (simd == W2V_SIMD_AVX2) return avx2;
#endif
    return 0;
}

int w2v_model_init(w2v_model *m, int simd)
{
    for (int i = 0; i < W2V_EXP_TABLE_SIZE; i++) {
        double x = ((double)i / W2V_EXP_TABLE_SIZE * 2 - 1) * W2V_MAX_EXP;
        double s = 1.0 / (1.0 + exp(-x));
        m->sigmoid[i] = (float)s;
        m->log_sigmoid[i] = (float)log(s);
    }
    if (simd == W2V_SIMD_AUTO)
        simd = w2v_simd_supported(W2V_SIMD_AVX2) ? W2V_SIMD_AVX2 : W2V_SIMD_GENERIC;
    if (!w2v_simd_supported(simd)) return -1;
    m->simd = simd;
    m->prefetch_write = 0;
    m->train_chunks = w2v_train_chunks_generic;
    m->sg_example = w2v_train_sg_example_generic;
    m->cbow_example = w2v_train_cbow_example_generic;
    m->sg_window = w2v_train_sg_window_generic;
#if W2V_HAVE_AVX2_BUILD
    if (simd == W2V_SIMD_AVX2) {
        m->train_chunks = w2v_train_chunks_avx2;
        m->sg_example = w2v_train_sg_example_avx2;
        m->cbow_example = w2v_train_cbow_example_avx2;
        m->sg_window = w2v_train_sg_window_avx2;
        m->prefetch_write = cpu_has_prefetchw();
    }
#endif
    return 0;
}

int w2v_train_chunks(const w2v_model *m, w2v_thread *t, const int64_t *starts,
                     const int64_t *ends, int64_t n_chunks, int64_t *next_chunk)
{
    return m->train_chunks(m, t, starts, ends, n_chunks, next_chunk);
}

int w2v_train_sg_example(const w2v_model *m, w2v_thread *t, int32_t context, int32_t word,
                         const int32_t *negs, int n_negs, float alpha)
{
    return m->sg_example(m, t, context, word, negs, n_negs, alpha);
}

int w2v_train_cbow_example(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                           int32_t word, const int32_t *negs, int n_negs, float alpha)
{
    return m->cbow_example(m, t, ctx, n_ctx, word, negs, n_negs, alpha);
}

int w2v_train_sg_window(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                        int32_t word, const int32_t *negs, int n_negs, float alpha)
{
    return m->sg_window(m, t, ctx, n_ctx, word, negs, n_negs, alpha);
}
