"""Small corpora with planted structure, generated deterministically: for the demo, for
tests, and for trying settings without downloading anything."""
from __future__ import annotations

import numbers

import numpy as np


def _check_int(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int >= {lo}, got {type(value).__name__} "
                         f"{value!r}")
    if value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    return int(value)


def _check_rate(name, value):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def planted_groups(n_groups=8, words_per_group=12, n_sentences=4000, sentence_length=12,
                   n_shared=10, shared_rate=0.2, seed=0):
    """Sentences in which each word co-occurs only with words of its own group, plus a
    few shared filler words that appear everywhere.

    Word ``g{G}w{W}`` belongs to group G; filler words are ``the0``, ``the1``, ...  Word
    frequencies within a group follow a Zipf-like curve, so that subsampling and the
    noise distribution have something to do. A good embedding puts each word's nearest
    neighbours in its own group.

    Returns
    -------
    sentences : list of list of str
    groups : dict
        word -> group number (fillers are not included).
    """
    n_groups = _check_int("n_groups", n_groups, 1)
    words_per_group = _check_int("words_per_group", words_per_group, 1)
    n_sentences = _check_int("n_sentences", n_sentences, 0)
    sentence_length = _check_int("sentence_length", sentence_length, 1)
    n_shared = _check_int("n_shared", n_shared, 0)
    shared_rate = _check_rate("shared_rate", shared_rate)
    if shared_rate > 0 and n_shared == 0:
        raise ValueError("n_shared must be >= 1 when shared_rate > 0 (or set "
                         "shared_rate=0 for no filler words)")
    seed = None if seed is None else _check_int("seed", seed, 0)   # None: fresh entropy
    rng = np.random.default_rng(seed)
    groups = {f"g{g}w{w}": g for g in range(n_groups) for w in range(words_per_group)}
    weights = 1.0 / np.arange(1, words_per_group + 1) ** 0.7
    weights /= weights.sum()
    fillers = [f"the{i}" for i in range(n_shared)]
    sentences = []
    for _ in range(n_sentences):
        g = int(rng.integers(n_groups))
        picks = rng.choice(words_per_group, size=sentence_length, p=weights)
        sentence = [f"g{g}w{w}" for w in picks]
        for pos in np.flatnonzero(rng.random(sentence_length) < shared_rate):
            sentence[pos] = fillers[int(rng.integers(n_shared))]
        sentences.append(sentence)
    return sentences, groups


def group_purity(wv, groups, topn=5):
    """Fraction of the topn nearest neighbours of each grouped word that share its group
    (1.0 = the planted structure is fully recovered; chance is about 1 / n_groups)."""
    hits = total = 0
    for word, g in groups.items():
        if word not in wv:
            continue
        for other, _ in wv.most_similar(word, topn=topn):
            hits += groups.get(other) == g
            total += 1
    return hits / total if total else 0.0


def planted_sessions(n_groups=10, items_per_group=30, n_sessions=5000, session_length=(3, 15),
                     seed=0):
    """Sessions of integer item ids (like products viewed together) in which items of one
    group are consumed together. Item ``g * 1000 + k`` is item k of group g (with more
    than 1000 items per group, ``g * 10**d + k``, with 10**d the first power of ten >=
    items_per_group); popularity within a group is Zipf-like, and 10% of the items in a
    session are random popular items from any group (noise). Session lengths are drawn
    uniformly from ``session_length = (shortest, longest)``.

    Returns
    -------
    sessions : fastw2v.corpus.IdSequences
    groups : dict
        item id -> group number.
    """
    from fastw2v.corpus import IdSequences

    n_groups = _check_int("n_groups", n_groups, 1)
    items_per_group = _check_int("items_per_group", items_per_group, 1)
    n_sessions = _check_int("n_sessions", n_sessions, 0)
    try:
        shortest, longest = session_length
    except (TypeError, ValueError):
        raise ValueError(f"session_length must be a pair (shortest, longest), got "
                         f"{session_length!r}") from None
    shortest = _check_int("session_length[0]", shortest, 1)
    longest = _check_int("session_length[1]", longest, shortest)
    seed = None if seed is None else _check_int("seed", seed, 0)   # None: fresh entropy
    stride = 1000               # item ids g * stride + k never collide: k < stride
    while stride < items_per_group:
        stride *= 10
    if (n_groups - 1) * stride + items_per_group - 1 > np.iinfo(np.int64).max:
        raise ValueError(f"n_groups={n_groups} groups of items_per_group={items_per_group} "
                         f"items do not fit in 64-bit item ids")
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, items_per_group + 1) ** 0.8
    weights /= weights.sum()
    lengths = rng.integers(shortest, longest + 1, size=n_sessions)
    group_of_session = np.repeat(rng.integers(n_groups, size=n_sessions), lengths)
    n = int(lengths.sum())
    item = rng.choice(items_per_group, size=n, p=weights)
    group = group_of_session.copy()
    noise = rng.random(n) < 0.1
    group[noise] = rng.integers(n_groups, size=int(noise.sum()))
    ids = group.astype(np.int64) * stride + item
    groups = {g * stride + k: g for g in range(n_groups) for k in range(items_per_group)}
    return IdSequences(ids, np.concatenate(([0], np.cumsum(lengths)))), groups


COUNTRIES = [("france", "paris"), ("germany", "berlin"), ("italy", "rome"),
             ("spain", "madrid"), ("japan", "tokyo"), ("china", "beijing"),
             ("russia", "moscow"), ("egypt", "cairo"), ("greece", "athens"),
             ("peru", "lima"), ("kenya", "nairobi"), ("canada", "ottawa")]
NOUNS = [("cat", "cats"), ("dog", "dogs"), ("house", "houses"), ("tree", "trees"),
         ("car", "cars"), ("book", "books"), ("bird", "birds"), ("river", "rivers"),
         ("ship", "ships"), ("song", "songs"), ("horse", "horses"), ("apple", "apples")]


def planted_relations(n_sentences=30000, topic_words=4, seed=0):
    """Sentences that plant two analogy relations: country -> capital and singular ->
    plural, over 12 real word pairs each (``COUNTRIES``, ``NOUNS``).

    Each pair shares private topic words (``france`` and ``paris`` both co-occur with
    ``t_france_0`` ...); the first member of every pair co-occurs with role words of its
    side (``nation``, ``state`` / ``one``, ``single``) and the second with those of the
    other side (``city``, ``capital`` / ``many``, ``several``). So ``paris - france`` points
    the same way for every country, and ``king - man + woman``-style analogies
    (``berlin - germany + france = paris``) can be recovered. Filler words occur
    everywhere.

    Returns
    -------
    sentences : list of list of str
    questions : list of (str, list of (a, b, c, d))
        Analogy sections: every ordered pair of distinct pairs in each relation.
    """
    rng = np.random.default_rng(seed)
    relations = [("capital-common-countries", COUNTRIES,
                  ["nation", "state", "republic", "country"],
                  ["city", "capital", "town", "metropolis"]),
                 ("gram-plural", NOUNS, ["one", "single", "a", "lone"],
                  ["many", "several", "two", "some"])]
    fillers = [f"the{i}" for i in range(8)]
    sentences = []
    for _ in range(n_sentences):
        _, pairs, role_a, role_b = relations[int(rng.integers(2))]
        i = int(rng.integers(len(pairs)))
        side = int(rng.integers(2))
        word = pairs[i][side]
        roles = role_b if side else role_a
        topic = [f"t_{pairs[i][0]}_{k}" for k in range(topic_words)]
        sentence = [word] + list(rng.choice(roles, size=2)) + list(rng.choice(topic, size=3))
        sentence += list(rng.choice(fillers, size=2))
        rng.shuffle(sentence)
        sentences.append([str(w) for w in sentence])
    questions = [(name, [(a, b, c, d) for a, b in pairs for c, d in pairs if a != c])
                 for name, pairs, _, _ in relations]
    return sentences, questions


def write_questions(path, questions):
    """Write analogy sections in the Google questions-words.txt format."""
    with open(path, "w", encoding="utf-8") as f:
        for name, rows in questions:
            f.write(f": {name}\n")
            for row in rows:
                f.write(" ".join(row) + "\n")
