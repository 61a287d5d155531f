"""FLORES-200 bitext retrieval: does a model still find a sentence's translation, in 203 languages?

For every language variant ``xx`` (English excluded) and every sentence of the split (``dev``: ids
812–1011, 200 sentences), the sentence in ``xx`` searches the split's English sentences (xx→eng) and
the English sentence the split's ``xx`` sentences (eng→xx) by cosine similarity; a query counts as
found when its translation scores strictly above every other candidate (a tie is a miss). The
registered scores (:mod:`.registry`, task ``flores200``) are ``x2en_r1``, ``en2x_r1`` and their
mean ``bitext_r1`` (the headline), per language and macro-averaged over the *trained* languages
(every variant a ``flores200`` recipe may train on), the *held-out* ones
(:data:`hybridbatch.data.flores_languages.HELD_OUT`) and *all*. Every sentence is encoded once as a
``query`` (e5's prompt for symmetric tasks) through the embedding cache, one cache entry per
language, so an interrupted evaluation resumes and a re-evaluation is cheap.

:class:`FloresTask` is the task (load, encode, score, per-query scores, headline) in the shape the
``Task`` protocol of issue 20 will give every evaluation; :mod:`.flores_report` turns two models'
scores (model and reference) into the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybridbatch.data.flores import FloresSplit, load_flores
from hybridbatch.data.flores_languages import PIVOT, is_held_out
from hybridbatch.evaluation.registry import get_score, score_names

TASK = "flores200"
HEADLINE = "bitext_r1"
GROUPS = ("trained", "held-out", "all")


@dataclass
class BitextScores:
    """One model's per-query scores: ``values[metric][lang]`` holds one value per sentence of the split."""

    dataset: str
    ids: list[int]
    values: dict[str, dict[str, np.ndarray]]

    @property
    def languages(self) -> list[str]:
        """Evaluated languages (English, the pivot, is not one), sorted."""
        return sorted(next(iter(self.values.values())))

    def language_means(self, lang: str) -> dict[str, float]:
        """Every metric's mean over the split's sentences in ``lang``."""
        return {metric: float(by_lang[lang].mean()) for metric, by_lang in self.values.items()}

    def table(self) -> dict[str, dict[str, float]]:
        """``{metric: {"<lang>:<id>": value}}``: the ``per_query.json`` layout of every task."""
        return {
            metric: {
                f"{lang}:{sid}": float(v)
                for lang in sorted(by_lang)
                for sid, v in zip(self.ids, by_lang[lang], strict=True)
            }
            for metric, by_lang in self.values.items()
        }


def language_group(lang: str) -> str:
    """``held-out`` for the fixed held-out variants, else ``trained``."""
    return "held-out" if is_held_out(lang) else "trained"


class FloresTask:
    """FLORES-200 bitext retrieval on one split (see the module docstring)."""

    name = TASK
    headline = HEADLINE

    def __init__(
        self,
        split: str = "dev",
        root: str | Path | None = None,
        languages: list[str] | None = None,
    ) -> None:
        self.split = split
        self.root = root
        self.languages = languages
        self._data: FloresSplit | None = None

    @property
    def dataset(self) -> str:
        """The evaluation set's name (``flores200:dev``), the key in ``per_query.json``."""
        return f"{TASK}:{self.split}"

    def load(self) -> FloresSplit:
        """Read and check the split (data home's copy unless ``root``); cached on the task."""
        if self._data is None:
            if self.root is None:
                from hybridbatch.data.registry import load_flores_split

                self._data = load_flores_split(self.split, self.languages)
            else:
                self._data = load_flores(self.root, self.split, self.languages)
        return self._data

    def encode(
        self,
        model: Any,
        cache_dir: Path | None = None,
        batch_size: int = 64,
        precision: str = "fp32",
        show_progress: bool = False,
    ) -> dict[str, np.ndarray]:
        """``lang -> (sentences × dim)`` unit vectors of every language, English included."""
        from hybridbatch.models.embedding_cache import encode_cached, model_cache

        data = self.load()
        cache = model_cache(model, cache_dir)
        options = {"cache": cache, "batch_size": batch_size, "show_progress": show_progress}
        return {
            lang: encode_cached(
                model,
                data.sentences[lang],
                "query",
                f"{TASK}-{self.split}-{lang}",
                precision=precision,
                **options,
            )
            for lang in sorted(data.languages, key=lambda code: code != PIVOT)  # English first
        }

    def score(self, embeddings: dict[str, np.ndarray]) -> BitextScores:
        """Per sentence and language, whether its translation is found in each direction."""
        data = self.load()
        english = embeddings[PIVOT]
        values: dict[str, dict[str, np.ndarray]] = {name: {} for name in score_names(TASK)}
        for lang in data.languages:
            if lang == PIVOT:
                continue
            similarity = embeddings[lang] @ english.T
            ranks = np.stack([translation_ranks(similarity), translation_ranks(similarity.T)], axis=1)
            for name in values:
                values[name][lang] = get_score(name).per_query(ranks, np.full(len(ranks), -1))
        return BitextScores(self.dataset, list(data.ids), values)

    def evaluate(self, model: Any, **options: Any) -> BitextScores:
        """:meth:`encode` then :meth:`score`."""
        return self.score(self.encode(model, **options))


def translation_ranks(similarity: np.ndarray) -> np.ndarray:
    """Rank of each row's translation (the diagonal) among its row; ties count against it."""
    gold = np.diag(similarity)[:, None]
    return (similarity >= gold).sum(axis=1).astype(np.float64)  # the translation itself counts once


def macro_means(scores: BitextScores) -> dict[str, dict[str, float]]:
    """Per group (trained, held-out, all): every metric macro-averaged over the group's languages."""
    rows = {lang: scores.language_means(lang) for lang in scores.languages}
    means: dict[str, dict[str, float]] = {}
    for group in GROUPS:
        members = [lang for lang in rows if group == "all" or language_group(lang) == group]
        if members:
            means[group] = {m: float(np.mean([rows[lang][m] for lang in members])) for m in scores.values}
    return means
