/* Tokenizing, counting and encoding text; see w2v_text.h for the contracts. */
#include "w2v_text.h"

#include <stdlib.h>
#include <string.h>

/* ---- the hash table ---------------------------------------------------------------- */

/* FNV-1a, then a final avalanche so that linear probing on the low bits spreads well. */
uint64_t w2v_hash_bytes(const char *s, int64_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (int64_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static int grow_array(void **p, int64_t new_cap, size_t elem)
{
    void *q = realloc(*p, (size_t)new_cap * elem);
    if (!q) return W2V_ENOMEM;
    *p = q;
    return W2V_OK;
}

static int table_rehash(w2v_table *t, int64_t n_slots)
{
    int32_t *slots = malloc((size_t)n_slots * sizeof(int32_t));
    if (!slots) return W2V_ENOMEM;
    memset(slots, 0xff, (size_t)n_slots * sizeof(int32_t));   /* all -1 */
    int64_t mask = n_slots - 1;
    for (int64_t i = 0; i < t->n_words; i++) {
        int64_t s = (int64_t)(t->word_hash[i] & (uint64_t)mask);
        while (slots[s] >= 0) s = (s + 1) & mask;
        slots[s] = (int32_t)i;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return W2V_OK;
}

w2v_table *w2v_table_new(void)
{
    w2v_table *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    if (table_rehash(t, 1 << 10) != W2V_OK) {
        free(t);
        return NULL;
    }
    return t;
}

void w2v_table_free(w2v_table *t)
{
    if (!t) return;
    free(t->pool);
    free(t->word_off);
    free(t->word_len);
    free(t->word_hash);
    free(t->count);
    free(t->first);
    free(t->id);
    free(t->slots);
    free(t);
}

int64_t w2v_table_find(const w2v_table *t, const char *s, int64_t len, uint64_t h)
{
    int64_t slot = (int64_t)(h & (uint64_t)t->mask);
    for (;;) {
        int32_t w = t->slots[slot];
        if (w < 0) return -1;
        /* (an empty word compares without memcmp: the pool may still be NULL) */
        if (t->word_hash[w] == h && t->word_len[w] == len &&
            (len == 0 || memcmp(t->pool + t->word_off[w], s, (size_t)len) == 0))
            return w;
        slot = (slot + 1) & t->mask;
    }
}

int64_t w2v_table_add(w2v_table *t, const char *s, int64_t len, uint64_t h, int64_t first)
{
    int64_t found = w2v_table_find(t, s, len, h);
    if (found >= 0) return found;
    if (len > INT32_MAX) return W2V_ETOOLONG;
    if (t->n_words >= INT32_MAX) return W2V_EFULL;
    if (t->n_words == t->cap_words) {
        int64_t cap = t->cap_words ? 2 * t->cap_words : 1024;
        if (grow_array((void **)&t->word_off, cap, sizeof(int64_t)) ||
            grow_array((void **)&t->word_len, cap, sizeof(int32_t)) ||
            grow_array((void **)&t->word_hash, cap, sizeof(uint64_t)) ||
            grow_array((void **)&t->count, cap, sizeof(int64_t)) ||
            grow_array((void **)&t->first, cap, sizeof(int64_t)) ||
            grow_array((void **)&t->id, cap, sizeof(int32_t)))
            return W2V_ENOMEM;
        t->cap_words = cap;
    }
    if (t->pool_len + len > t->pool_cap) {
        int64_t cap = t->pool_cap ? 2 * t->pool_cap : 1 << 16;
        while (cap < t->pool_len + len) cap *= 2;
        if (grow_array((void **)&t->pool, cap, 1)) return W2V_ENOMEM;
        t->pool_cap = cap;
    }
    int64_t w = t->n_words;
    if (len) memcpy(t->pool + t->pool_len, s, (size_t)len);   /* pool may be NULL if len 0 */
    t->word_off[w] = t->pool_len;
    t->word_len[w] = (int32_t)len;
    t->word_hash[w] = h;
    t->count[w] = 0;
    t->first[w] = first;
    t->id[w] = -1;
    t->pool_len += len;
    t->n_words++;
    /* keep the load factor at or below 1/2; a rehash places every word, w included */
    if (2 * t->n_words > t->mask + 1) {
        int rc = table_rehash(t, 2 * (t->mask + 1));
        if (rc) return rc;
    } else {
        int64_t slot = (int64_t)(h & (uint64_t)t->mask);
        while (t->slots[slot] >= 0) slot = (slot + 1) & t->mask;
        t->slots[slot] = (int32_t)w;
    }
    return w;
}

int w2v_table_prune(w2v_table *t, int64_t min_count)
{
    int64_t kept = 0, pool_len = 0;
    for (int64_t i = 0; i < t->n_words; i++) {
        if (t->count[i] < min_count) continue;
        /* moving left within the pool: memmove, regions may overlap */
        memmove(t->pool + pool_len, t->pool + t->word_off[i], (size_t)t->word_len[i]);
        t->word_off[kept] = pool_len;
        t->word_len[kept] = t->word_len[i];
        t->word_hash[kept] = t->word_hash[i];
        t->count[kept] = t->count[i];
        t->first[kept] = t->first[i];
        t->id[kept] = t->id[i];
        pool_len += t->word_len[i];
        kept++;
    }
    t->n_words = kept;
    t->pool_len = pool_len;
    int64_t n_slots = 1 << 10;
    while (n_slots < 2 * kept) n_slots *= 2;
    return table_rehash(t, n_slots);
}

/* ---- the tokenizer ------------------------------------------------------------------- */

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int carry_append(w2v_carry *c, const char *s, int64_t n)
{
    if (c->len + n > c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 256;
        while (cap < c->len + n) cap *= 2;
        if (grow_array((void **)&c->buf, cap, 1)) return W2V_ENOMEM;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, (size_t)n);
    c->len += n;
    return W2V_OK;
}

typedef int (*token_fn)(void *ctx, const char *tok, int64_t len);
typedef int (*eol_fn)(void *ctx);

/* Calls on_token for every complete token of the stream, and on_eol at every '\n'.
 * A token touching the end of a non-final chunk waits in the carry for the next chunk. */
static int scan(w2v_carry *carry, const char *buf, int64_t n, int final,
                token_fn on_token, eol_fn on_eol, void *ctx)
{
    int64_t i = 0;
    int rc;
    if (carry->len > 0) {
        while (i < n && !is_space((unsigned char)buf[i])) i++;
        if ((rc = carry_append(carry, buf, i))) return rc;
        if (i == n && !final) return W2V_OK;
        rc = on_token(ctx, carry->buf, carry->len);
        carry->len = 0;
        if (rc) return rc;
    }
    while (i < n) {
        unsigned char ch = (unsigned char)buf[i];
        if (is_space(ch)) {
            if (ch == '\n' && (rc = on_eol(ctx))) return rc;
            i++;
            continue;
        }
        int64_t start = i;
        while (i < n && !is_space((unsigned char)buf[i])) i++;
        if (i == n && !final) return carry_append(carry, buf + start, n - start);
        if ((rc = on_token(ctx, buf + start, i - start))) return rc;
    }
    if (final) return on_eol(ctx);
    return W2V_OK;
}

/* ---- counting ------------------------------------------------------------------------ */

w2v_counter *w2v_counter_new(int64_t max_size, int record)
{
    if (record && max_size > 0) return NULL;   /* pruning would renumber recorded words */
    w2v_counter *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->record = record;
    c->table = w2v_table_new();
    if (!c->table) {
        free(c);
        return NULL;
    }
    c->max_size = max_size;
    c->min_reduce = 1;
    return c;
}

void w2v_counter_free(w2v_counter *c)
{
    if (!c) return;
    w2v_table_free(c->table);
    free(c->carry.buf);
    free(c->rec_ids);
    free(c->rec_ends);
    free(c->blank_at);
    free(c->blank_n);
    free(c);
}

static int count_token(void *ctx, const char *tok, int64_t len)
{
    w2v_counter *c = ctx;
    int64_t w = w2v_table_add(c->table, tok, len, w2v_hash_bytes(tok, len), c->n_tokens);
    if (w < 0) return (int)w;
    if (c->record) {
        if (c->n_tokens == c->rec_cap) {
            int64_t cap = c->rec_cap ? 2 * c->rec_cap : 1 << 16;
            if (grow_array((void **)&c->rec_ids, cap, sizeof(int32_t))) return W2V_ENOMEM;
            c->rec_cap = cap;
        }
        c->rec_ids[c->n_tokens] = (int32_t)w;
    }
    c->table->count[w]++;
    c->n_tokens++;
    c->line_has_token = 1;
    while (c->max_size > 0 && c->table->n_words > c->max_size) {
        /* word2vec.c's ReduceVocab: drop count <= min_reduce, then raise the bar */
        int rc = w2v_table_prune(c->table, c->min_reduce + 1);
        if (rc) return rc;
        c->min_reduce++;
        c->n_prunes++;
    }
    return W2V_OK;
}

static int count_eol(void *ctx)
{
    w2v_counter *c = ctx;
    if (c->record && c->line_has_token) {
        if (c->n_sentences == c->rec_ends_cap) {
            int64_t cap = c->rec_ends_cap ? 2 * c->rec_ends_cap : 1 << 12;
            if (grow_array((void **)&c->rec_ends, cap, sizeof(int64_t))) return W2V_ENOMEM;
            c->rec_ends_cap = cap;
        }
        c->rec_ends[c->n_sentences] = c->n_tokens;
        if (c->blank_run > 0) {
            if (c->n_blank == c->blank_cap) {
                int64_t cap = c->blank_cap ? 2 * c->blank_cap : 1 << 8;
                if (grow_array((void **)&c->blank_at, cap, sizeof(int64_t)) ||
                    grow_array((void **)&c->blank_n, cap, sizeof(int64_t)))
                    return W2V_ENOMEM;
                c->blank_cap = cap;
            }
            c->blank_at[c->n_blank] = c->n_sentences;
            c->blank_n[c->n_blank++] = c->blank_run;
        }
    }
    c->blank_run = c->line_has_token ? 0 : c->blank_run + 1;
    c->n_sentences += c->line_has_token;
    c->line_has_token = 0;
    return W2V_OK;
}

int64_t w2v_remap_stream(int32_t *ids, int64_t *ends, int64_t n_sentences,
                         const int32_t *remap)
{
    int64_t kept = 0, pos = 0;
    for (int64_t s = 0; s < n_sentences; s++) {
        int64_t start = kept;
        for (; pos < ends[s]; pos++) {
            int32_t id = remap[ids[pos]];
            if (id >= 0) ids[kept++] = id;
        }
        ends[s] = kept - start;
    }
    return kept;
}

int64_t w2v_counter_remap(w2v_counter *c, const int32_t *remap)
{
    return w2v_remap_stream(c->rec_ids, c->rec_ends, c->n_sentences, remap);
}

int w2v_counter_feed(w2v_counter *c, const char *buf, int64_t n, int final)
{
    return scan(&c->carry, buf, n, final, count_token, count_eol, c);
}

/* ---- encoding ------------------------------------------------------------------------ */

int64_t w2v_count_byte(const char *buf, int64_t n, char c)
{
    int64_t count = 0;
    const char *end = buf + n;
    for (const char *p = buf; (p = memchr(p, c, (size_t)(end - p))) != NULL; p++) count++;
    return count;
}

int64_t w2v_encoder_bound(int64_t n)
{
    /* each token but a carried one needs a byte and a separator; +1 for a pending end */
    return n / 2 + 3;
}

void w2v_encoder_init(w2v_encoder *e, const w2v_table *t, int64_t max_len)
{
    memset(e, 0, sizeof(*e));
    e->table = t;
    e->max_len = max_len;
}

int w2v_encoder_track_invalid(w2v_encoder *e)
{
    if (e->invalid == NULL) e->invalid = w2v_table_new();
    return e->invalid ? W2V_OK : W2V_ENOMEM;
}

void w2v_encoder_release(w2v_encoder *e)
{
    free(e->carry.buf);
    e->carry.buf = NULL;
    e->carry.len = e->carry.cap = 0;
    w2v_table_free(e->invalid);
    e->invalid = NULL;
}

int w2v_utf8_valid(const char *s, int64_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) { p++; continue; }
        int n;                          /* continuation bytes */
        unsigned lo = 0x80, hi = 0xBF;  /* allowed range of the first one */
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) lo = 0xA0;           /* overlong */
            else if (c == 0xED) hi = 0x9F;      /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) lo = 0x90;           /* overlong */
            else if (c == 0xF4) hi = 0x8F;      /* above U+10FFFF */
        } else return 0;
        if (end - p <= n) return 0;
        if (p[1] < lo || p[1] > hi) return 0;
        for (int k = 2; k <= n; k++)
            if (p[k] < 0x80 || p[k] > 0xBF) return 0;
        p += n + 1;
    }
    return 1;
}

static int end_sentence(w2v_encoder *e)
{
    if (e->cur_len == 0) return W2V_OK;
    if (e->ends_len >= e->ends_cap) return W2V_EFULL;
    e->out_ends[e->ends_len++] = e->n_ids;
    e->cur_len = 0;
    return W2V_OK;
}

static int encode_token(void *ctx, const char *tok, int64_t len)
{
    w2v_encoder *e = ctx;
    e->n_tokens++;
    e->line_has_token = 1;
    uint64_t h = w2v_hash_bytes(tok, len);
    int64_t w = w2v_table_find(e->table, tok, len, h);
    if (w < 0 || e->table->id[w] < 0) {                     /* out of vocabulary: dropped */
        if (e->invalid && !w2v_utf8_valid(tok, len)) {
            int64_t k = w2v_table_add(e->invalid, tok, len, h, e->n_tokens - 1);
            if (k < 0) return (int)k;
        }
        return W2V_OK;
    }
    if (e->out_len >= e->out_cap) return W2V_EFULL;
    e->out_ids[e->out_len++] = e->table->id[w];
    e->n_ids++;
    if (++e->cur_len == e->max_len) return end_sentence(e);
    return W2V_OK;
}

static int encode_eol(void *ctx)
{
    w2v_encoder *e = ctx;
    e->n_lines += e->line_has_token;
    e->line_has_token = 0;
    return end_sentence(e);
}

int w2v_encoder_feed(w2v_encoder *e, const char *buf, int64_t n, int final,
                     int32_t *out_ids, int64_t out_cap, int64_t *out_ends, int64_t ends_cap)
{
    e->out_ids = out_ids;
    e->out_cap = out_cap;
    e->out_len = 0;
    e->out_ends = out_ends;
    e->ends_cap = ends_cap;
    e->ends_len = 0;
    return scan(&e->carry, buf, n, final, encode_token, encode_eol, e);
}
