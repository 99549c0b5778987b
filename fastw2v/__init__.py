"""fastw2v: word2vec with a C/Cython core, released from the GIL, on every core."""
from fastw2v.config import Word2VecConfig
from fastw2v.corpus import LineSentence, PathLineSentences, Text8Corpus
from fastw2v.embedding import Embedding, EmbeddingBag
from fastw2v.keyedvectors import KeyedVectors
from fastw2v.phrases import ENGLISH_CONNECTOR_WORDS, FrozenPhrases, Phraser, Phrases
from fastw2v.vocab import RULE_DEFAULT, RULE_DISCARD, RULE_KEEP, Vocab
from fastw2v.word2vec import Word2Vec

__version__ = "0.1.0"
__all__ = ["Word2Vec", "Word2VecConfig", "KeyedVectors", "Vocab", "Embedding", "EmbeddingBag",
           "Phrases", "FrozenPhrases", "Phraser", "ENGLISH_CONNECTOR_WORDS",
           "LineSentence", "PathLineSentences", "Text8Corpus",
           "RULE_DEFAULT", "RULE_DISCARD", "RULE_KEEP", "__version__"]
