/* The training kernels compiled for AVX2 + FMA (x86-64 with GCC or Clang only); chosen
 * at run time by w2v_model_init when the CPU has both. prfchw lets them prefetch the rows
 * they will write with PREFETCHW, which w2v_model_init allows only where the CPU lists it
 * (prefetch_row in w2v_train_impl.h; bench/RESULTS.md, "PREFETCHW"). */
#include "w2v_train.h"

#if W2V_HAVE_AVX2_BUILD
#include <assert.h>
#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,prfchw"))), apply_to = function)
#else
#pragma GCC target("avx2,fma,prfchw")
#endif

#define W2V_FN(name) name##_avx2
#define W2V_VEC_BYTES 32
#include "w2v_train_impl.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
