#include "w2v_tables.h"

#include <stdlib.h>

int w2v_huffman_tree(int64_t n, const int64_t *counts, const int64_t *order,
                     int64_t *parent, uint8_t *bit)
{
    /* weight[j] for j < n is the j-th word in descending count order (ascending from the
     * end), weight[n + k] is inner node k; inner nodes are created in ascending weight, so
     * two queues (leaves from the right, inner nodes from the left) give the two minima. */
    int64_t m = 2 * n - 1;
    int64_t *weight = malloc((size_t)m * sizeof(int64_t));
    int64_t *node = malloc((size_t)m * sizeof(int64_t));   /* queue slot -> tree node */
    if (!weight || !node) {
        free(weight);
        free(node);
        return -1;
    }
    for (int64_t j = 0; j < n; j++) {
        if (counts[order[j]] < 0) {
            free(weight);
            free(node);
            return -1;
        }
        weight[j] = counts[order[j]];
        node[j] = order[j];
    }
    int64_t leaf = n - 1, inner = n;
    for (int64_t k = 0; k < n - 1; k++) {
        int64_t pick[2];
        for (int s = 0; s < 2; s++) {
            if (leaf >= 0 && (inner >= n + k || weight[leaf] < weight[inner]))
                pick[s] = leaf--;
            else
                pick[s] = inner++;
        }
        weight[n + k] = weight[pick[0]] + weight[pick[1]];
        node[n + k] = n + k;
        parent[node[pick[0]]] = n + k;
        parent[node[pick[1]]] = n + k;
        bit[node[pick[0]]] = 0;
        bit[node[pick[1]]] = 1;
    }
    parent[m - 1] = -1;
    bit[m - 1] = 0;
    free(weight);
    free(node);
    return 0;
}

void w2v_huffman_depths(int64_t n, const int64_t *parent, int64_t *depth)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t d = 0;
        for (int64_t v = i; parent[v] >= 0; v = parent[v]) d++;
        depth[i] = d;
    }
}

void w2v_huffman_paths(int64_t n, const int64_t *parent, const uint8_t *bit,
                       const int64_t *off, int32_t *points, uint8_t *codes)
{
    for (int64_t i = 0; i < n; i++) {
        /* walk leaf -> root, writing from the end so the path reads root first */
        int64_t pos = off[i + 1];
        for (int64_t v = i; parent[v] >= 0; v = parent[v]) {
            pos--;
            codes[pos] = bit[v];
            points[pos] = (int32_t)(parent[v] - n);
        }
    }
}

int w2v_alias_build(int64_t n, const double *weights, float *prob, int32_t *alias)
{
    double *scaled = malloc((size_t)n * sizeof(double));
    int64_t *small = malloc((size_t)n * sizeof(int64_t));
    int64_t *large = malloc((size_t)n * sizeof(int64_t));
    if (!scaled || !small || !large) {
        free(scaled);
        free(small);
        free(large);
        return -1;
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) total += weights[i];
    int64_t n_small = 0, n_large = 0;
    for (int64_t i = 0; i < n; i++) {
        scaled[i] = weights[i] * (double)n / total;
        if (scaled[i] < 1.0)
            small[n_small++] = i;
        else
            large[n_large++] = i;
    }
    while (n_small > 0 && n_large > 0) {
        int64_t s = small[--n_small], l = large[n_large - 1];
        prob[s] = (float)scaled[s];
        alias[s] = (int32_t)l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            n_large--;
            small[n_small++] = l;
        }
    }
    /* what is left is 1 up to rounding */
    while (n_large > 0) {
        int64_t l = large[--n_large];
        prob[l] = 1.0f;
        alias[l] = (int32_t)l;
    }
    while (n_small > 0) {
        int64_t s = small[--n_small];
        prob[s] = 1.0f;
        alias[s] = (int32_t)s;
    }
    free(scaled);
    free(small);
    free(large);
    return 0;
}
