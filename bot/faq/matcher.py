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

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.config import SUPPORTED_LOCALES
from bot.faq.knowledge import KnowledgeBase, Topic

Outcome = Literal["answer", "suggest", "none"]
CANDIDATES = 30  # variants kept from each scorer before combining


@dataclass(frozen=True)
class Thresholds:
    # Tuned on tests/data/faq_dev*.tsv (never on faq_test.tsv).
    answer: float = 0.60  # at least this to answer
    margin: float = 0.03  # ...and this far ahead of the runner-up
    suggest: float = 0.50  # "Intendevi...?" between this and answer
    fuzzy_weight: float = 0.6  # fuzzy score vs coverage of the question's rare words
    subset_weight: float = 0.7  # token_set_ratio vs token_sort_ratio in the fuzzy score
    unknown_weight: float = 1.0  # a word unknown to the knowledge base, times the rarest known


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
        """A typo ("carburnte", "tiket") becomes the known word one or two edits away."""
        if word in self._known or len(word) < 5 or word.isdigit():
            return word
        allowed = 1 if len(word) < 8 else 2  # "pizza" must not become "polizza"
        best = process.extractOne(
            word, self.vocabulary, scorer=Levenshtein.distance, score_cutoff=allowed
        )
        return str(best[0]) if best else word


@dataclass(frozen=True)
class Document:
    topic_id: str
    lang: str
    text: str  # normalised tokens joined by spaces


@dataclass(frozen=True)
class Pool:
    """Variants searched together, with their tokens also pre-sorted: token_sort_ratio is
    ratio on sorted tokens, so sorting once here makes each search several times cheaper."""

    documents: list[Document]
    texts: list[str]
    sorted_texts: list[str]

    @classmethod
    def of(cls, documents: list[Document]) -> Pool:
        texts = [d.text for d in documents]
        return cls(documents, texts, [" ".join(sorted(t.split())) for t in texts])


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
        self.by_lang = {
            lang: Pool.of([d for d in self.documents if d.lang == lang])
            for lang in SUPPORTED_LOCALES
        }
        self.everything = Pool.of(self.documents)
        self.all_choices = self.everything.texts
        self.vocab = self._vocabularies()
        self.idf = self._idf()
        self.unknown_weight = self.thresholds.unknown_weight * max(self.idf.values(), default=1.0)

    def _vocabularies(self) -> dict[str, set[str]]:
        vocab: dict[str, set[str]] = defaultdict(set)
        for document in self.documents:
            vocab[document.topic_id].update(document.text.split())
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
        own = self._match(tokens, self.by_lang.get(lang, self.everything))
        if own.outcome == "answer":
            return own
        every = self._match(tokens, self.everything)
        return every if every.score > own.score else own

    def _match(self, tokens: list[str], pool: Pool) -> Match:
        scores = self.scores(tokens, pool)
        if not scores:
            return Match("none", None, 0.0)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        return self.decide(ranked)

    def scores(self, tokens: list[str], pool: Pool) -> dict[str, float]:
        """Combined score per candidate topic, from 0 to 1."""
        fuzzy: dict[str, float] = {}
        for index, score in self._candidates(tokens, pool).items():
            topic_id = pool.documents[index].topic_id
            fuzzy[topic_id] = max(fuzzy.get(topic_id, 0.0), score)
        total = sum(self.weight(t) for t in tokens)
        weight = self.thresholds.fuzzy_weight
        return {
            topic_id: weight * score + (1 - weight) * self.coverage(tokens, topic_id, total)
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
        known = self.vocab[topic_id]
        return sum(self.weight(t) for t in tokens if t in known) / total

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
