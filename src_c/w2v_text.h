/* Tokenizing, counting and encoding text, for fastw2v.
 *
 * Plain C, no Python headers. Text arrives in chunks of bytes (a chunk may end in the
 * middle of a token); tokens are maximal runs of bytes other than ASCII whitespace
 * (space, \t, \n, \v, \f, \r); '\n' ends a sentence. Tokens are compared as bytes:
 * decoding to text is the caller's business.
 *
 * Every function that can fail returns a negative W2V_E* code; nothing aborts.
 */
#ifndef W2V_TEXT_H
#define W2V_TEXT_H

#include <stdint.h>

enum {
    W2V_OK = 0,
    W2V_ENOMEM = -1,      /* an allocation failed */
    W2V_ETOOLONG = -2,    /* a token longer than INT32_MAX bytes */
    W2V_EFULL = -3,       /* more than INT32_MAX distinct words, or an output buffer full */
};

/* A hash table from byte strings to word records (open addressing, linear probing). */
typedef struct {
    char *pool;             /* all words' bytes, back to back */
    int64_t pool_len, pool_cap;
    int64_t *word_off;      /* (n_words,) offset of each word in pool */
    int32_t *word_len;      /* (n_words,) */
    uint64_t *word_hash;    /* (n_words,) kept so that growing never rehashes bytes */
    int64_t *count;         /* (n_words,) occurrences */
    int64_t *first;         /* (n_words,) token serial of the first occurrence, for stable ties */
    int32_t *id;            /* (n_words,) caller's id for lookups; -1 = none */
    int64_t n_words, cap_words;
    int32_t *slots;         /* (mask + 1,) word index or -1 */
    int64_t mask;
} w2v_table;

w2v_table *w2v_table_new(void);
void w2v_table_free(w2v_table *t);
uint64_t w2v_hash_bytes(const char *s, int64_t len);
/* Index of the word, or -1. */
int64_t w2v_table_find(const w2v_table *t, const char *s, int64_t len, uint64_t h);
/* Index of the word, added with count 0 if new; or a negative W2V_E* code. */
int64_t w2v_table_add(w2v_table *t, const char *s, int64_t len, uint64_t h, int64_t first);
/* Drop every word with count < min_count, keeping the others in order. */
int w2v_table_prune(w2v_table *t, int64_t min_count);

/* Bytes of a token cut by the end of a chunk. */
typedef struct {
    char *buf;
    int64_t len, cap;
} w2v_carry;

/* Counts tokens; with max_size > 0, prunes the rarest words whenever the table grows past
 * max_size, as word2vec.c does (drop count <= min_reduce, then raise min_reduce).
 *
 * With `record` (only without pruning, which renumbers the words) it also keeps the
 * stream: the table index of every token and the end of every line that holds a token,
 * so that the corpus can be encoded without reading it again (w2v_counter_remap). */
typedef struct {
    w2v_table *table;
    w2v_carry carry;
    int64_t n_tokens;       /* tokens seen */
    int64_t n_sentences;    /* lines holding at least one token */
    int line_has_token;
    int64_t max_size;       /* 0 = unbounded */
    int64_t min_reduce;     /* next pruning threshold; starts at 1 */
    int64_t n_prunes;
    int record;
    int32_t *rec_ids; int64_t rec_cap;          /* (n_tokens,) table index of each token */
    int64_t *rec_ends; int64_t rec_ends_cap;    /* (n_sentences,) token position of each end */
    /* lines without a token, kept sparse (most text has none): blank_n[k] of them just
     * before line blank_at[k] (a line that holds a token), k < n_blank */
    int64_t *blank_at, *blank_n; int64_t n_blank, blank_cap;
    int64_t blank_run;      /* lines without a token since the last line with one; at the
                             * end, one more than the blank lines that end the text (the
                             * final call counts the rest after the last newline) */
} w2v_counter;

/* A counter; record != 0 keeps the token stream (then max_size must be 0). */
w2v_counter *w2v_counter_new(int64_t max_size, int record);
void w2v_counter_free(w2v_counter *c);
/* Count the tokens in buf[0:n]; final != 0 means no more bytes follow. */
int w2v_counter_feed(w2v_counter *c, const char *buf, int64_t n, int final);
/* Turn the recorded stream into the encoded corpus, in place: each token's table index i
 * becomes remap[i], and tokens with remap[i] < 0 are dropped. rec_ids[0:returned] are then
 * the kept ids and rec_ends[0:n_sentences] the number kept from each line. */
int64_t w2v_counter_remap(w2v_counter *c, const int32_t *remap);
/* The same on any recorded stream: ids[0:ends[n_sentences - 1]] holds table indices and
 * ends[s] the position where sentence s ends; afterwards ids[0:returned] are the kept ids
 * and ends[s] the number kept from sentence s. */
int64_t w2v_remap_stream(int32_t *ids, int64_t *ends, int64_t n_sentences,
                         const int32_t *remap);

/* Maps tokens to ids through a table whose `id` field is set (-1 = drop the token), and
 * cuts the id stream into sentences of at most max_len ids. Empty sentences vanish. */
typedef struct {
    const w2v_table *table;
    w2v_carry carry;
    int64_t max_len;
    int64_t cur_len;        /* ids in the sentence being built */
    int64_t n_ids;          /* ids emitted so far (global position) */
    int64_t n_tokens;       /* tokens seen, dropped ones included */
    int64_t n_lines;        /* lines holding at least one token */
    int line_has_token;
    /* output of the current feed, provided by the caller */
    int32_t *out_ids; int64_t out_cap, out_len;
    int64_t *out_ends; int64_t ends_cap, ends_len;   /* global end positions */
    /* NULL, or (w2v_encoder_track_invalid) the distinct dropped tokens that are not valid
     * UTF-8: the caller may decode them to words it knows */
    w2v_table *invalid;
} w2v_encoder;

/* Number of bytes equal to c in buf[0:n]. */
int64_t w2v_count_byte(const char *buf, int64_t n, char c);

/* 1 if s[0:len] is valid UTF-8 as Python's strict decoder defines it (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), else 0. */
int w2v_utf8_valid(const char *s, int64_t len);

/* Upper bound on ids produced by one feed of n bytes. */
int64_t w2v_encoder_bound(int64_t n);
void w2v_encoder_init(w2v_encoder *e, const w2v_table *t, int64_t max_len);
/* Also keep the dropped tokens that are not valid UTF-8 (e->invalid); W2V_OK or
 * W2V_ENOMEM. */
int w2v_encoder_track_invalid(w2v_encoder *e);
void w2v_encoder_release(w2v_encoder *e);
/* Encode buf[0:n]; writes at most w2v_encoder_bound(n) entries to each output array. */
int w2v_encoder_feed(w2v_encoder *e, const char *buf, int64_t n, int final,
                     int32_t *out_ids, int64_t out_cap, int64_t *out_ends, int64_t ends_cap);

#endif
