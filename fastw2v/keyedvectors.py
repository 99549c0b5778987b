"""Word vectors with their vocabulary: lookups and nearest neighbours, with gensim 4's
names and semantics. (The full query, evaluation and file API builds on this.)"""
from __future__ import annotations

import difflib

import numpy as np


class KeyedVectors:
    """A float32 matrix whose row i is the vector of key ``index_to_key[i]``.

    Parameters
    ----------
    vectors : ndarray of float32, shape (n_keys, vector_size)
        Used as is (no copy) when already float32 and C-contiguous.
    index_to_key : list
        Key of each row.
    counts : ndarray of int64, optional
        Corpus count of each key.
    """

    def __init__(self, vectors, index_to_key, counts=None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (n_keys, vector_size), got shape "
                             f"{vectors.shape}")
        if len(index_to_key) != vectors.shape[0]:
            raise ValueError(f"{len(index_to_key)} keys for {vectors.shape[0]} vectors")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index_to_key = list(index_to_key)
        self.key_to_index = {k: i for i, k in enumerate(self.index_to_key)}
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._unit = None

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return key in self.key_to_index

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, (list, tuple, np.ndarray)):
            return self.vectors[[self.get_index(k) for k in key_or_keys]]
        return self.vectors[self.get_index(key_or_keys)]

    def get_index(self, key, default=None) -> int:
        """Row of key; default if given and key is unknown, else KeyError."""
        index = self.key_to_index.get(key)
        if index is not None:
            return index
        if default is not None:
            return default
        raise KeyError(self._unknown(key))

    def _unknown(self, key) -> str:
        msg = f"key {key!r} not present in vocabulary of {len(self)} keys"
        if isinstance(key, str) and len(self) <= 1_000_000:
            close = difflib.get_close_matches(key, [k for k in self.index_to_key
                                                    if isinstance(k, str)], n=3)
            if close:
                msg += f"; close matches: {', '.join(map(repr, close))}"
        return msg

    def get_vector(self, key, norm=False) -> np.ndarray:
        index = self.get_index(key)
        return self.unit_vectors()[index] if norm else self.vectors[index]

    def fill_norms(self, force=False):
        """Compute the unit vectors once (float32); `force` recomputes after training."""
        if self._unit is None or force:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = self.vectors / np.maximum(norms, np.finfo(np.float32).tiny)

    def unit_vectors(self) -> np.ndarray:
        self.fill_norms()
        return self._unit

    def similarity(self, key1, key2) -> float:
        """Cosine similarity of two keys."""
        u = self.unit_vectors()
        return float(u[self.get_index(key1)] @ u[self.get_index(key2)])

    def most_similar(self, positive=None, negative=None, topn=10):
        """Keys nearest (by cosine) to the mean of the unit vectors of `positive` minus
        those of `negative` (keys or vectors); query keys are excluded from the answer.

        Returns a list of (key, similarity), most similar first.
        """
        positive = _as_list(positive)
        negative = _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative key")
        unit = self.unit_vectors()
        rows, exclude = [], set()
        for items, sign in ((positive, 1.0), (negative, -1.0)):
            for item in items:
                if isinstance(item, np.ndarray):
                    v = item.astype(np.float32)
                    v = v / max(np.linalg.norm(v), np.finfo(np.float32).tiny)
                else:
                    index = self.get_index(item)
                    exclude.add(index)
                    v = unit[index]
                rows.append(sign * v)
        mean = np.mean(rows, axis=0)
        mean /= max(np.linalg.norm(mean), np.finfo(np.float32).tiny)
        scores = unit @ mean                                   # (n_keys,)
        k = min(topn + len(exclude), len(scores))
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_key[i], float(scores[i])) for i in best
                if i not in exclude][:topn]


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (str, np.ndarray)) or not isinstance(x, (list, tuple)):
        return [x]
    return list(x)
