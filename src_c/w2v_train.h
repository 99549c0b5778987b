/* The word2vec training kernels: skip-gram and CBOW, negative sampling and hierarchical
 * softmax, Hogwild over shared matrices. Plain C, no Python headers.
 *
 * A w2v_model holds pointers to everything all threads share (weights, corpus, tables);
 * a w2v_thread holds what one thread owns (RNG, scratch, counters), in the style of
 * fastText's per-thread state. The caller allocates every array. */
#ifndef W2V_TRAIN_H
#define W2V_TRAIN_H

#include <stdint.h>

#define W2V_EXP_TABLE_SIZE 1000
#define W2V_MAX_EXP 6
#define W2V_PROGRESS_WORDS 10000   /* words between updates of the shared progress count */
#define W2V_CREDIT_STEP 16         /* centre words between two such checks inside a span */
#define W2V_BLOCK 16               /* output rows per block of the skip-gram window kernel */
#define W2V_MAX_INPUTS 32          /* context words per block of the window kernel */
#define W2V_HOT_ROWS 64            /* Huffman nodes each thread may keep a private copy of */
#define W2V_HOT_SYNC_WORDS 1000    /* words between merges of those copies, with 2 threads */

enum { W2V_RUN_OK = 0, W2V_RUN_STOPPED = 1, W2V_RUN_NONFINITE = 2 };

/* Instruction sets the kernels are compiled for; AUTO asks the CPU. */
enum { W2V_SIMD_AUTO = 0, W2V_SIMD_GENERIC = 1, W2V_SIMD_AVX2 = 2 };

/* Only x86 with GCC or Clang gets the AVX2 variant; elsewhere (arm64, or a build with
 * -DW2V_NO_AVX2) the baseline kernels are the only ones. */
#if !defined(W2V_NO_AVX2) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define W2V_HAVE_AVX2_BUILD 1
#else
#define W2V_HAVE_AVX2_BUILD 0
#endif

typedef struct w2v_model w2v_model;
typedef struct w2v_thread w2v_thread;

struct w2v_model {
    /* weights, shared and written by all threads */
    float *w_in;                /* (n_words, dim) */
    float *w_out_ns;            /* n_words rows, or NULL without negative sampling */
    float *w_out_hs;            /* n_words - 1 rows, or NULL without hierarchical softmax */
    /* floats from one output row to the next (>= dim): fastw2v pads the rows to whole
     * cache lines, so that threads writing neighbouring rows never write one line */
    int64_t ns_stride, hs_stride;
    int64_t n_words;
    int64_t dim;
    /* the encoded corpus: sentence s is ids[offsets[s]:offsets[s+1]] */
    const int32_t *ids;
    const int64_t *offsets;     /* (n_sentences + 1,) */
    int64_t n_sentences;
    /* vocabulary tables */
    const float *keep_prob;     /* (n_words,) subsampling; NULL keeps every word */
    const float *lockf;         /* (n_words,) factor of each input row's update (gensim's
                                 * vectors_lockf: 0 freezes the row); NULL: 1 for all */
    const float *noise_prob;    /* (n_words,) alias table of the noise distribution */
    const int32_t *noise_alias;
    const int64_t *path_off;    /* (n_words + 1,) Huffman paths, CSR */
    const int32_t *path_points;
    const uint8_t *path_codes;
    /* settings */
    int sg, hs, negative, window, shrink_windows, cbow_mean, compute_loss;
    int shared_negatives;       /* skip-gram: one noise draw per centre word */
    int64_t max_span;           /* ids trained as one span at most (sentence chunk) */
    /* Huffman nodes hot_first and up (the heaviest: every path starts at the root) are
     * trained in each thread's private copy and merged into w_out_hs every
     * hot_sync_words words, so that threads do not fight over their cache lines;
     * n_words - 1 (no node) turns this off */
    int64_t hot_first;
    int64_t hot_sync_words;
    /* learning rate: alpha_start -> alpha_end linearly over schedule_words words */
    double alpha_start, alpha_end;
    int64_t schedule_words;
    int64_t *words_done;        /* shared progress count, updated atomically */
    int *stop;                  /* set to 1 to make every thread return soon */
    /* sigmoid and log-sigmoid on word2vec.c's grid over (-MAX_EXP, MAX_EXP) */
    float sigmoid[W2V_EXP_TABLE_SIZE];
    float log_sigmoid[W2V_EXP_TABLE_SIZE];
    /* the kernels for this CPU, chosen once by w2v_model_init */
    int simd;
    int prefetch_write;         /* 1: rows about to be written are prefetched for writing
                                   (AVX2 kernels on a CPU that lists PRFCHW) */
    int (*train_chunks)(const w2v_model *, w2v_thread *, const int64_t *, const int64_t *,
                        int64_t, int64_t *);
    int (*sg_example)(const w2v_model *, w2v_thread *, int32_t, int32_t, const int32_t *,
                      int, float);
    int (*cbow_example)(const w2v_model *, w2v_thread *, const int32_t *, int, int32_t,
                        const int32_t *, int, float);
    int (*sg_window)(const w2v_model *, w2v_thread *, const int32_t *, int, int32_t,
                     const int32_t *, int, float);
};

struct w2v_thread {
    uint64_t rng;
    float *h;                   /* (dim,) input vector of the current example */
    float *e;                   /* (dim,) accumulated gradient for the input rows */
    int32_t *span;              /* (max_span,) the subsampled ids being trained */
    int32_t *ctx;               /* (2 * window,) context ids of one CBOW example */
    int32_t *negs;              /* (2 * negative,) noise words of this and the next example */
    /* the window kernel's scratch, for up to W2V_MAX_INPUTS context words at a time */
    float *grad;                /* (W2V_MAX_INPUTS, W2V_BLOCK) scores, then gradients, of one block */
    float *errs;                /* (W2V_MAX_INPUTS, dim) accumulated input gradients */
    float **inputs;             /* (W2V_MAX_INPUTS,) the input rows */
    /* (W2V_HOT_ROWS, dim) each: the private copies of the hot Huffman nodes, and those
     * nodes as they were at the last merge */
    float *hot;
    float *hot_base;
    int64_t unmerged;           /* words since the last merge */
    double loss;                /* summed binary-logistic losses */
    int64_t words;              /* corpus words processed (before subsampling) */
    int64_t trained;            /* words kept after subsampling */
    int64_t examples;           /* (centre, context) pairs for sg, windows for CBOW */
    int64_t steps;              /* (input, output row) logistic steps */
    int64_t unpublished;        /* words not yet added to the shared count */
    double alpha;               /* current learning rate */
    /* after w2v_train_chunks returned W2V_RUN_STOPPED: the ids [left_from, left_to) of
     * its chunk that the thread did not train (empty if it stopped between chunks) */
    int64_t left_from, left_to;
};

/* Fill the sigmoid tables of m and choose its kernels: simd is a W2V_SIMD_* value.
 * Returns 0, or -1 if the CPU lacks the instruction set asked for. */
int w2v_model_init(w2v_model *m, int simd);

/* 1 if this build has the kernels of instruction set `simd` (a W2V_SIMD_* value other
 * than AUTO) and this CPU runs them. */
int w2v_simd_supported(int simd);

/* The kernels of one instruction set, defined in w2v_train_impl.h. */
#define W2V_DECLARE_KERNELS(isa) \
    int w2v_train_chunks_##isa(const w2v_model *, w2v_thread *, const int64_t *, \
                               const int64_t *, int64_t, int64_t *); \
    int w2v_train_sg_example_##isa(const w2v_model *, w2v_thread *, int32_t, int32_t, \
                                   const int32_t *, int, float); \
    int w2v_train_cbow_example_##isa(const w2v_model *, w2v_thread *, const int32_t *, int, \
                                     int32_t, const int32_t *, int, float); \
    int w2v_train_sg_window_##isa(const w2v_model *, w2v_thread *, const int32_t *, int, \
                                  int32_t, const int32_t *, int, float);

/* Seed a thread's RNG: the same seed always gives the same stream. */
void w2v_thread_seed(w2v_thread *t, uint64_t seed);

/* Train on chunks of the corpus, chunk c being the ids [starts[c], ends[c]), taken in
 * turn from the cursor *next_chunk that every thread of the epoch shares (one atomic
 * step per chunk), until none is left: a thread that runs faster takes more chunks,
 * and no thread waits for another at the end of an epoch. A chunk ends at a sentence's
 * end and starts at a sentence's start, or where a stopped run left off (t->left_from),
 * so that training can continue exactly there. Returns W2V_RUN_*. */
int w2v_train_chunks(const w2v_model *m, w2v_thread *t, const int64_t *starts,
                     const int64_t *ends, int64_t n_chunks, int64_t *next_chunk);

/* One skip-gram example: input row w_in[context] predicts `word`, with the Huffman path of
 * `word` (if m->hs) and with the given noise words (if m->negative; a noise word equal to
 * `word` is skipped); then w_in[context] += lockf[context] * e (lockf: 1 if NULL). Returns
 * W2V_RUN_OK or W2V_RUN_NONFINITE. */
int w2v_train_sg_example(const w2v_model *m, w2v_thread *t, int32_t context, int32_t word,
                         const int32_t *negs, int n_negs, float alpha);

/* One CBOW example: h = sum (cbow_mean: mean) of w_in[ctx[0:n_ctx]] predicts `word`; then
 * every context row c += lockf[c] * e (cbow_mean == 0: e / n_ctx). Returns W2V_RUN_*. */
int w2v_train_cbow_example(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                           int32_t word, const int32_t *negs, int n_negs, float alpha);

/* Skip-gram over one window: every context word ctx[0:n_ctx] predicts `word` with the
 * same Huffman path (if m->hs) and the same noise words (if m->negative); the scores of
 * up to W2V_MAX_INPUTS context words at a time are computed with the output rows as they
 * were before them, then every row is updated (see w2v_train_impl.h).
 * n_ctx <= 2 * window. Returns W2V_RUN_*. */
int w2v_train_sg_window(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                        int32_t word, const int32_t *negs, int n_negs, float alpha);

#endif
