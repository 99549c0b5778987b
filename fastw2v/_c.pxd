# Declarations of the plain C kernels in src_c/.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t


cdef extern from "w2v_text.h" nogil:
    enum:
        W2V_OK
        W2V_ENOMEM
        W2V_ETOOLONG
        W2V_EFULL

    ctypedef struct w2v_table:
        char *pool
        int64_t *word_off
        int32_t *word_len
        int64_t *count
        int64_t *first
        int32_t *id
        int64_t n_words

    w2v_table *w2v_table_new()
    void w2v_table_free(w2v_table *t)
    uint64_t w2v_hash_bytes(const char *s, int64_t length)
    int64_t w2v_table_find(const w2v_table *t, const char *s, int64_t length, uint64_t h)
    int64_t w2v_table_add(w2v_table *t, const char *s, int64_t length, uint64_t h, int64_t first)

    ctypedef struct w2v_counter:
        w2v_table *table
        int64_t n_tokens
        int64_t n_sentences
        int64_t min_reduce
        int64_t n_prunes
        int record
        int32_t *rec_ids
        int64_t *rec_ends
        int64_t *blank_at
        int64_t *blank_n
        int64_t n_blank
        int64_t blank_run

    w2v_counter *w2v_counter_new(int64_t max_size, int record)
    void w2v_counter_free(w2v_counter *c)
    int w2v_counter_feed(w2v_counter *c, const char *buf, int64_t n, int final)
    int64_t w2v_counter_remap(w2v_counter *c, const int32_t *remap)
    int64_t w2v_remap_stream(int32_t *ids, int64_t *ends, int64_t n_sentences,
                             const int32_t *remap)

    ctypedef struct w2v_encoder:
        int64_t out_len
        int64_t ends_len
        int64_t n_ids
        int64_t n_tokens
        int64_t n_lines
        w2v_table *invalid

    int w2v_utf8_valid(const char *s, int64_t length)
    int w2v_encoder_track_invalid(w2v_encoder *e)
    int64_t w2v_count_byte(const char *buf, int64_t n, char c)
    int64_t w2v_encoder_bound(int64_t n)
    void w2v_encoder_init(w2v_encoder *e, const w2v_table *t, int64_t max_len)
    void w2v_encoder_release(w2v_encoder *e)
    int w2v_encoder_feed(w2v_encoder *e, const char *buf, int64_t n, int final,
                         int32_t *out_ids, int64_t out_cap, int64_t *out_ends, int64_t ends_cap)


cdef extern from "w2v_tables.h" nogil:
    int w2v_huffman_tree(int64_t n, const int64_t *counts, const int64_t *order,
                         int64_t *parent, uint8_t *bit)
    void w2v_huffman_depths(int64_t n, const int64_t *parent, int64_t *depth)
    void w2v_huffman_paths(int64_t n, const int64_t *parent, const uint8_t *bit,
                           const int64_t *off, int32_t *points, uint8_t *codes)
    int w2v_alias_build(int64_t n, const double *weights, float *prob, int32_t *alias)


cdef extern from "w2v_train.h" nogil:
    enum:
        W2V_RUN_OK
        W2V_RUN_STOPPED
        W2V_RUN_NONFINITE
        W2V_EXP_TABLE_SIZE
        W2V_MAX_EXP
        W2V_BLOCK
        W2V_MAX_INPUTS
        W2V_HOT_ROWS
        W2V_HOT_SYNC_WORDS
        W2V_SIMD_AUTO
        W2V_SIMD_GENERIC
        W2V_SIMD_AVX2

    ctypedef struct w2v_model:
        float *w_in
        float *w_out_ns
        float *w_out_hs
        int64_t ns_stride, hs_stride
        int64_t n_words
        int64_t dim
        const int32_t *ids
        const int64_t *offsets
        int64_t n_sentences
        const float *keep_prob
        const float *lockf
        const float *noise_prob
        const int32_t *noise_alias
        const int64_t *path_off
        const int32_t *path_points
        const uint8_t *path_codes
        int sg, hs, negative, window, shrink_windows, cbow_mean, compute_loss
        int shared_negatives
        int64_t max_span
        int64_t hot_first
        int64_t hot_sync_words
        double alpha_start, alpha_end
        int64_t schedule_words
        int64_t *words_done
        int *stop
        float sigmoid[1000]
        float log_sigmoid[1000]
        int simd
        int prefetch_write

    ctypedef struct w2v_thread:
        uint64_t rng
        float *h
        float *e
        int32_t *span
        int32_t *ctx
        int32_t *negs
        float *grad
        float *errs
        float **inputs
        float *hot
        float *hot_base
        int64_t unmerged
        double loss
        int64_t words
        int64_t trained
        int64_t examples
        int64_t steps
        int64_t unpublished
        double alpha
        int64_t left_from, left_to

    int w2v_model_init(w2v_model *m, int simd)
    int w2v_simd_supported(int simd)
    void w2v_thread_seed(w2v_thread *t, uint64_t seed)
    int w2v_train_chunks(const w2v_model *m, w2v_thread *t, const int64_t *starts,
                         const int64_t *ends, int64_t n_chunks, int64_t *next_chunk)
    int w2v_train_sg_example(const w2v_model *m, w2v_thread *t, int32_t context, int32_t word,
                             const int32_t *negs, int n_negs, float alpha)
    int w2v_train_cbow_example(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                               int32_t word, const int32_t *negs, int n_negs, float alpha)
    int w2v_train_sg_window(const w2v_model *m, w2v_thread *t, const int32_t *ctx, int n_ctx,
                            int32_t word, const int32_t *negs, int n_negs, float alpha)
