/* Tables derived from the vocabulary counts: the Huffman tree for hierarchical softmax and
 * the alias table for drawing negative samples. Plain C, no Python headers. */
#ifndef W2V_TABLES_H
#define W2V_TABLES_H

#include <stdint.h>

/* Huffman tree over n >= 2 words (word2vec.c's CreateBinaryTree, two queues).
 * order: (n,) word ids sorted by count, descending (the two-queue merge needs it).
 * parent, bit: (2n - 1,) filled so that node i < n is word i, node n + k is inner node k,
 * the root is node 2n - 2; bit[i] is 1 if node i is its parent's right (larger) child.
 * Returns 0, or -1 if a count is negative. */
int w2v_huffman_tree(int64_t n, const int64_t *counts, const int64_t *order,
                     int64_t *parent, uint8_t *bit);

/* Depth (code length) of each word: depth[i] for i < n. */
void w2v_huffman_depths(int64_t n, const int64_t *parent, int64_t *depth);

/* Paths in CSR form: word i's inner nodes (root first) are points[off[i]:off[i+1]], with
 * code bits codes[...]; point k means inner node k, i.e. row k of the output weights. */
void w2v_huffman_paths(int64_t n, const int64_t *parent, const uint8_t *bit,
                       const int64_t *off, int32_t *points, uint8_t *codes);

/* Vose's alias table for P(i) = weights[i] / sum(weights), n >= 1, weights >= 0, sum > 0.
 * Draw: i uniform in [0, n), u uniform in [0, 1): u < prob[i] ? i : alias[i].
 * Returns 0, or -1 if an allocation fails. */
int w2v_alias_build(int64_t n, const double *weights, float *prob, int32_t *alias);

#endif
