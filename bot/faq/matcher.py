"""Matching free text to FAQ topics: phone-typing normalisation, synonyms, rapidfuzz scores.

Pure: no database, no channel. A question becomes tokens (accents, elisions, punctuation,
stop words and typos handled; synonyms folded into one token per group, across languages),
then each candidate topic gets a fuzzy score against its question variants and a coverage
score (how much of the question's rare words the topic knows). Out-of-scope questions fail
on coverage: their key words are unknown to the knowledge base.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.config import SUPPORTED_LOCALES
from bot.faq.knowledge import KnowledgeBase, Topic

Outcome = Literal["answer", "suggest", "none"]
CANDIDATES = 30  # variants kept from each scorer before combining


@dataclass(frozen=True)
class Thresholds:
    # Tuned on tests/data/faq_dev*.tsv (never on faq_test.tsv).
    answer: float = 0.60  # at least this to answer
    margin: float = 0.01  # ...and this far ahead of the runner-up
    suggest: float = 0.50  # "Intendevi...?" between this and answer
    fuzzy_weight: float = 0.6  # share of the fuzzy score in the total...
    ngram_weight: float = 0.1  # ...of the character n-grams; coverage has the rest
    subset_weight: float = 0.7  # token_set_ratio vs token_sort_ratio in the fuzzy score
    support: float = 2.0  # texts of a topic a word must appear in to count fully for it
    unknown_weight: float = 1.5  # a word unknown to the knowledge base, times the rarest known


@dataclass(frozen=True)
class Match:
    outcome: Outcome
    topic_id: str | None  # set only when the outcome is "answer"
    score: float
    alternatives: tuple[str, ...] = ()
    best: str | None = None  # the first-ranked topic, whatever the outcome


_ELISION = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^\w\s]|_")
_STEM = re.compile(r"(?<=\w{3})[aeiouyxs]+$")


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes and punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", _ELISION.sub(" ", bare)).split())


def stem(token: str) -> str:
    """A crude stem that makes singular and plural meet (buono/buoni, voucher/vouchers)."""
    return _STEM.sub("", token) if len(token) > 4 else token


class Normaliser:
    """Turns text into the tokens the matcher compares."""

    def __init__(self, kb: KnowledgeBase, extra_vocabulary: Iterable[str]) -> None:
        self.stopwords = {fold(word) for word in kb.stopwords.all()}
        self.phrases = self._synonym_phrases(kb)
        self.longest = max((len(p) for p in self.phrases), default=1)
        words = {w for text in extra_vocabulary for w in fold(text).split()}
        words |= {w for phrase in self.phrases for w in phrase}
        self.vocabulary = sorted(w for w in words if len(w) >= 4)
        self._known = set(words)
        self.correct = lru_cache(maxsize=20_000)(self._correct)

    @staticmethod
    def _synonym_phrases(kb: KnowledgeBase) -> dict[tuple[str, ...], str]:
        phrases: dict[tuple[str, ...], str] = {}
        for index, group in enumerate(kb.synonyms.groups):
            for lang in SUPPORTED_LOCALES:
                for term in getattr(group, lang):
                    phrases[tuple(fold(term).split())] = f"syn{index}"
        return phrases

    def tokens(self, text: str) -> list[str]:
        words = [self.correct(word) for word in fold(text).split()]
        folded = self._fold_synonyms(words)
        # Amounts and years say little about the topic ("5300", "2026"): left out.
        return [stem(w) for w in folded if w not in self.stopwords and not w.isdigit()]

    def _fold_synonyms(self, words: list[str]) -> list[str]:
        result: list[str] = []
        index = 0
        while index < len(words):
            for size in range(min(self.longest, len(words) - index), 0, -1):
                group = self.phrases.get(tuple(words[index : index + size]))
                if group:
                    result.append(group)
                    index += size
                    break
            else:
                result.append(words[index])
                index += 1
        return result

    def _correct(self, word: str) -> str:
        """A typo ("carburnte", "tiket", "bouni") becomes the known word one or two edits
        away; two swapped letters count as one edit (optimal string alignment)."""
        if word in self._known or len(word) < 5 or word.isdigit():
            return word
        allowed = 1 if len(word) < 8 else 2  # "pizza" must not become "polizza"
        best = process.extractOne(word, self.vocabulary, scorer=OSA.distance, score_cutoff=allowed)
        return str(best[0]) if best else word


@dataclass(frozen=True)
class Document:
    topic_id: str
    lang: str
    text: str  # normalised tokens joined by spaces


@dataclass(frozen=True)
class Pool:
    """Variants searched together, with their tokens also pre-sorted: token_sort_ratio is
    ratio on sorted tokens, so sorting once here makes each search several times cheaper.
    `rows` are the variants' places among all documents; `starts` where each topic's run
    of variants begins (documents come topic by topic), for a per-topic maximum."""

    documents: list[Document]
    texts: list[str]
    sorted_texts: list[str]
    rows: np.ndarray
    starts: np.ndarray
    topic_ids: tuple[str, ...]

    @classmethod
    def of(cls, documents: list[Document], rows: list[int]) -> Pool:
        texts = [d.text for d in documents]
        starts = [
            i for i, d in enumerate(documents) if i == 0 or documents[i - 1].topic_id != d.topic_id
        ]
        return cls(
            documents,
            texts,
            [" ".join(sorted(t.split())) for t in texts],
            np.array(rows, dtype=np.intp),
            np.array(starts, dtype=np.intp),
            tuple(documents[i].topic_id for i in starts),
        )


class Ngrams:
    """The second signal: character n-grams (TF-IDF, cosine) of the normalised variants.
    It sees shared word pieces ("detassat", "rimbors") where whole-word fuzzy scores do not."""

    def __init__(self, texts: list[str]) -> None:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
        )
        self.columns = vectorizer.fit_transform(texts).tocsc()
        self.analyse = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_.astype(np.float32)

    def similarities(self, query: str) -> np.ndarray:
        """Cosine similarity of the query with every document, in document order. The
        query's vector is weighted here as the vectorizer would (1 + log tf, idf, L2):
        its own transform() costs more than the whole rest of a match."""
        counts = Counter(g for g in self.analyse(query) if g in self.vocabulary)
        if not counts:
            return np.zeros(self.columns.shape[0], dtype=np.float32)
        columns = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.intp)
        weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self.idf[columns]
        weights /= np.linalg.norm(weights)
        return np.asarray(self.columns[:, columns] @ weights).ravel()

    @staticmethod
    def per_topic(similarities: np.ndarray, pool: Pool) -> dict[str, float]:
        best = np.maximum.reduceat(similarities[pool.rows], pool.starts)
        return dict(zip(pool.topic_ids, best.tolist(), strict=True))


class Matcher:
    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        texts = [t for topic in kb.topics.values() for _, t in _topic_texts(topic)]
        self.normaliser = Normaliser(kb, texts)
        self.documents = [
            Document(topic.id, lang, " ".join(self.normaliser.tokens(text)))
            for topic in kb.topics.values()
            for lang, text in _topic_texts(topic)
        ]
        self.by_lang = {lang: self._pool(lang) for lang in SUPPORTED_LOCALES}
        self.everything = self._pool(None)
        self.ngrams = Ngrams([d.text for d in self.documents])
        self.all_choices = self.everything.texts
        self.vocab = self._vocabularies()
        self.idf = self._idf()
        self.unknown_weight = self.thresholds.unknown_weight * max(self.idf.values(), default=1.0)

    def _pool(self, lang: str | None) -> Pool:
        """The variants in one language, or in all of them (None)."""
        rows = [i for i, d in enumerate(self.documents) if lang in (None, d.lang)]
        return Pool.of([self.documents[i] for i in rows], rows)

    def _vocabularies(self) -> dict[str, Counter[str]]:
        """Per topic, in how many of its texts each word appears."""
        vocab: dict[str, Counter[str]] = defaultdict(Counter)
        for document in self.documents:
            vocab[document.topic_id].update(set(document.text.split()))
        return dict(vocab)

    def _idf(self) -> dict[str, float]:
        frequency = Counter(token for words in self.vocab.values() for token in words)
        topics = len(self.vocab)
        return {t: math.log((topics + 1) / (n + 0.5)) for t, n in frequency.items()}

    def weight(self, token: str) -> float:
        """Rare words weigh more; a word the knowledge base never uses weighs the most."""
        return self.idf.get(token, self.unknown_weight)

    def match(self, text: str, lang: str = "it") -> Match:
        """Answer, suggest or none; in the user's language first, then across languages."""
        tokens = self.normaliser.tokens(text)
        if not tokens:
            return Match("none", None, 0.0)
        similarities = self.ngrams.similarities(" ".join(tokens))
        own = self._match(tokens, similarities, self.by_lang.get(lang, self.everything))
        if own.outcome == "answer":
            return own
        every = self._match(tokens, similarities, self.everything)
        return every if every.score > own.score else own

    def ranked(self, text: str, lang: str, limit: int = 3) -> list[str]:
        """The likeliest topics for a text, best first, however low their scores."""
        tokens = self.normaliser.tokens(text)
        if not tokens:
            return []
        similarities = self.ngrams.similarities(" ".join(tokens))
        own = self.scores(tokens, similarities, self.by_lang.get(lang, self.everything))
        every = self.scores(tokens, similarities, self.everything)
        scores = {t: max(own.get(t, 0.0), every.get(t, 0.0)) for t in own.keys() | every.keys()}
        return sorted(scores, key=lambda topic_id: scores[topic_id], reverse=True)[:limit]

    def _match(self, tokens: list[str], similarities: np.ndarray, pool: Pool) -> Match:
        scores = self.scores(tokens, similarities, pool)
        if not scores:
            return Match("none", None, 0.0)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        return self.decide(ranked)

    def scores(self, tokens: list[str], similarities: np.ndarray, pool: Pool) -> dict[str, float]:
        """Combined score per candidate topic, from 0 to 1: fuzzy, coverage and n-grams."""
        fuzzy: dict[str, float] = {}
        for index, score in self._candidates(tokens, pool).items():
            topic_id = pool.documents[index].topic_id
            fuzzy[topic_id] = max(fuzzy.get(topic_id, 0.0), score)
        ngram = Ngrams.per_topic(similarities, pool)
        total = sum(self.weight(t) for t in tokens)
        limits = self.thresholds
        coverage_weight = 1 - limits.fuzzy_weight - limits.ngram_weight
        return {
            topic_id: limits.fuzzy_weight * score
            + limits.ngram_weight * ngram[topic_id]
            + coverage_weight * self.coverage(tokens, topic_id, total)
            for topic_id, score in fuzzy.items()
        }

    def _candidates(self, tokens: list[str], pool: Pool) -> dict[int, float]:
        """Best variants by two scorers: token_set_ratio is 100 for any variant containing
        the query; token_sort_ratio finds the variants that say little else, and breaks
        the ties between the former."""
        query, ordered = " ".join(tokens), " ".join(sorted(tokens))
        subset = process.extract(query, pool.texts, scorer=fuzz.token_set_ratio, limit=CANDIDATES)
        whole = process.extract(ordered, pool.sorted_texts, scorer=fuzz.ratio, limit=CANDIDATES)
        set_scores = {index: score for _, score, index in subset}
        sort_scores = {index: score for _, score, index in whole}
        share = self.thresholds.subset_weight
        return {
            index: (
                share * set_scores.get(index, fuzz.token_set_ratio(query, pool.texts[index]))
                + (1 - share)
                * sort_scores.get(index, fuzz.ratio(ordered, pool.sorted_texts[index]))
            )
            / 100
            for index in set_scores.keys() | sort_scores.keys()
        }

    def coverage(self, tokens: list[str], topic_id: str, total: float) -> float:
        """How much of the question's weight the topic knows. A word found in a single one
        of its texts counts for less: an incidental word ("Italy" in one variant) must not
        decide the match on its own."""
        known = self.vocab[topic_id]
        support = self.thresholds.support
        return sum(self.weight(t) * min(1.0, known[t] / support) for t in tokens) / total

    def decide(self, ranked: list[tuple[str, float]]) -> Match:
        limits = self.thresholds
        best_id, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        close = tuple(t for t, s in ranked[:3] if s >= limits.suggest)
        if best >= limits.answer and best - runner_up >= limits.margin:
            others = tuple(t for t in close if t != best_id)
            return Match("answer", best_id, best, others, best_id)
        if best >= limits.suggest:
            return Match("suggest", None, best, close, best_id)
        return Match("none", None, best, (), best_id)


def _topic_texts(topic: Topic) -> list[tuple[str, str]]:
    """The texts a topic is matched on: its question variants, title and keywords."""
    texts: list[tuple[str, str]] = []
    for lang in SUPPORTED_LOCALES:
        texts += [(lang, q) for q in topic.questions.get(lang)]
        texts.append((lang, topic.title.get(lang)))
        if topic.keywords:
            texts += [(lang, k) for k in topic.keywords.get(lang)]
    return texts
