"""Matching free text to FAQ topics: phone-typing normalisation, synonyms, rapidfuzz scores.

Pure: no database, no channel. A question becomes tokens (accents, elisions, punctuation,
stop words and typos handled; synonyms folded into one token per group, across languages),
then each candidate topic gets a fuzzy score against its question variants and a coverage
score (how much of the question's rare words the topic knows). Out-of-scope questions fail
on coverage (their key words are unknown to the knowledge base) or come closer to the typical
out-of-scope questions of faq/out_of_scope.yaml than to any topic.
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
from bot.faq.knowledge import OUTSIDE, KnowledgeBase, Topic

Outcome = Literal["answer", "suggest", "none"]
CANDIDATES = 30  # variants kept from each scorer before combining


@dataclass(frozen=True)
class Thresholds:
    # Tuned on tests/data/faq_dev*.tsv (never on faq_test.tsv).
    answer: float = 0.55  # at least this to answer
    margin: float = 0.01  # ...and this far ahead of the runner-up
    outside_margin: float = 0.0  # ...and not behind the typical out-of-scope questions
    outside_lead: float = 0.10  # those this far ahead: not even a suggestion
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
    postings: dict[str, np.ndarray]  # per token, the variants that contain it

    @classmethod
    def of(cls, documents: list[Document], rows: list[int]) -> Pool:
        texts = [d.text for d in documents]
        starts = [
            i for i, d in enumerate(documents) if i == 0 or documents[i - 1].topic_id != d.topic_id
        ]
        postings: dict[str, list[int]] = defaultdict(list)
        for index, text in enumerate(texts):
            for token in set(text.split()):
                postings[token].append(index)
        return cls(
            documents,
            texts,
            [" ".join(sorted(t.split())) for t in texts],
            np.array(rows, dtype=np.intp),
            np.array(starts, dtype=np.intp),
            tuple(documents[i].topic_id for i in starts),
            {token: np.array(found, dtype=np.intp) for token, found in postings.items()},
        )

    def sharing(self, tokens: list[str]) -> np.ndarray:
        """The variants that share at least one token with the query."""
        found = [self.postings[t] for t in set(tokens) if t in self.postings]
        return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)


class Ngrams:
    """The second signal: character n-grams (TF-IDF, cosine) of the normalised variants.
    It sees shared word pieces ("detassat", "rimbors") where whole-word fuzzy scores do not."""

    def __init__(self, texts: list[str]) -> None:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
        )
        columns = vectorizer.fit_transform(texts).tocsc()
        columns.sort_indices()
        self.documents = columns.shape[0]
        self.indptr, self.indices, self.data = columns.indptr, columns.indices, columns.data
        self.analyse = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_.astype(np.float32)

    def similarities(self, query: str) -> np.ndarray:
        """Cosine similarity of the query with every document, in document order. The
        query's vector is weighted here as the vectorizer would (1 + log tf, idf, L2):
        its own transform() costs more than the whole rest of a match."""
        counts = Counter(g for g in self.analyse(query) if g in self.vocabulary)
        if not counts:
            return np.zeros(self.documents, dtype=np.float32)
        columns = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.intp)
        weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self.idf[columns]
        weights /= np.linalg.norm(weights)
        # The matrix product by hand: gather each n-gram's column from the CSC arrays and
        # add it up per document (scipy's column slicing costs more than a whole match).
        starts, ends = self.indptr[columns], self.indptr[columns + 1]
        lengths = ends - starts
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
            lengths.sum()
        )
        values = self.data[positions] * np.repeat(weights, lengths)
        found = np.bincount(self.indices[positions], weights=values, minlength=self.documents)
        return found.astype(np.float32)

    @staticmethod
    def per_topic(similarities: np.ndarray, pool: Pool) -> dict[str, float]:
        best = np.maximum.reduceat(similarities[pool.rows], pool.starts)
        return dict(zip(pool.topic_ids, best.tolist(), strict=True))


class Matcher:
    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        texts = [
            (topic.id, lang, t) for topic in kb.topics.values() for lang, t in _topic_texts(topic)
        ]
        texts += [
            (OUTSIDE, lang, q) for lang in SUPPORTED_LOCALES for q in kb.out_of_scope.get(lang)
        ]
        self.normaliser = Normaliser(kb, [text for _, _, text in texts])
        self.documents = [
            Document(topic_id, lang, " ".join(self.normaliser.tokens(text)))
            for topic_id, lang, text in texts
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
        """Over the topics only: a word only out-of-scope questions use stays unknown."""
        topics_vocab = [words for topic_id, words in self.vocab.items() if topic_id != OUTSIDE]
        frequency = Counter(token for words in topics_vocab for token in words)
        topics = len(topics_vocab)
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
        scores.pop(OUTSIDE, None)
        return sorted(scores, key=lambda topic_id: scores[topic_id], reverse=True)[:limit]

    def _match(self, tokens: list[str], similarities: np.ndarray, pool: Pool) -> Match:
        scores = self.scores(tokens, similarities, pool)
        if not scores:
            return Match("none", None, 0.0)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        return decide(ranked, self.thresholds)

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
        whole = process.cdist([ordered], pool.sorted_texts, scorer=fuzz.ratio, dtype=np.float32)[0]
        # token_set_ratio costs ten times ratio; without a shared token it is the ratio of
        # the sorted tokens, which `whole` already holds: only sharing variants need it.
        subset = whole.copy()
        sharing = pool.sharing(tokens)
        if sharing.size:
            texts = [pool.texts[i] for i in sharing]
            scorer = fuzz.token_set_ratio
            subset[sharing] = process.cdist([query], texts, scorer=scorer, dtype=np.float32)[0]
        share = self.thresholds.subset_weight
        chosen = np.union1d(_best(subset, CANDIDATES), _best(whole, CANDIDATES))
        combined = (share * subset[chosen] + (1 - share) * whole[chosen]) / 100
        return dict(zip(chosen.tolist(), combined.tolist(), strict=True))

    def coverage(self, tokens: list[str], topic_id: str, total: float) -> float:
        """How much of the question's weight the topic knows. A word found in a single one
        of its texts counts for less: an incidental word ("Italy" in one variant) must not
        decide the match on its own."""
        known = self.vocab[topic_id]
        # Out-of-scope examples are few and each about something else: one use is enough.
        support = 1.0 if topic_id == OUTSIDE else self.thresholds.support
        return sum(self.weight(t) * min(1.0, known[t] / support) for t in tokens) / total


def decide(ranked: list[tuple[str, float]], limits: Thresholds) -> Match:
    """Answer when the best topic is sure enough, ahead of the runner-up and of the
    typical out-of-scope questions; else suggest ("Intendevi...?", where "Nessuna di
    queste" leads to a person) or nothing."""
    outside = dict(ranked).get(OUTSIDE, 0.0)
    ranked = [(t, s) for t, s in ranked if t != OUTSIDE]
    if not ranked:
        return Match("none", None, 0.0)
    best_id, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    close = tuple(t for t, s in ranked[:3] if s >= limits.suggest)
    ahead = best - runner_up >= limits.margin and best - outside >= limits.outside_margin
    if best >= limits.answer and ahead:
        others = tuple(t for t in close if t != best_id)
        return Match("answer", best_id, best, others, best_id)
    # Behind the out-of-scope questions, a topic is offered only if it is itself sure, and
    # not at all when they are far ahead (staff marked a question like this one).
    floor = limits.suggest if best - outside >= limits.outside_margin else limits.answer
    if best >= floor and outside - best < limits.outside_lead:
        return Match("suggest", None, best, close, best_id)
    return Match("none", None, best, (), best_id)


def _best(scores: np.ndarray, limit: int) -> np.ndarray:
    """The indices of the `limit` highest scores, in no order."""
    if scores.size <= limit:
        return np.arange(scores.size)
    return np.argpartition(-scores, limit)[:limit]


def _topic_texts(topic: Topic) -> list[tuple[str, str]]:
    """The texts a topic is matched on: its question variants, title and keywords."""
    texts: list[tuple[str, str]] = []
    for lang in SUPPORTED_LOCALES:
        texts += [(lang, q) for q in topic.questions.get(lang)]
        texts.append((lang, topic.title.get(lang)))
        if topic.keywords:
            texts += [(lang, k) for k in topic.keywords.get(lang)]
    return texts
