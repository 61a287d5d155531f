"""Translate a list of unique sentences into one language: cache first, then the engine in batches
(one cache commit per batch, so an interrupted run resumes where it stopped), with a progress bar."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hybridbatch.data.translation.cache import TranslationCache, cache_key
from hybridbatch.data.translation.engines import Engine, Failure, Output, translate_batch
from hybridbatch.data.translation.languages import Language


@dataclass
class PairRun:
    """The results of one language pair and what it took."""

    source: Language
    target: Language
    route: str
    results: dict[str, Output | Failure] = field(default_factory=dict)
    cached: int = 0
    translated: int = 0
    corrupt: int = 0
    failed: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Counts for ``translate.json``."""
        rate = self.translated / self.seconds if self.seconds > 0 else None
        return {
            "pair": f"{self.source.code}-{self.target.code}",
            "route": self.route,
            "sentences": len(self.results),
            "cached": self.cached,
            "translated": self.translated,
            "cache_corrupt": self.corrupt,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "sentences_per_second": round(rate, 1) if rate else None,
        }


def translate_texts(
    engine: Engine,
    engine_id: str,
    cache: TranslationCache,
    texts: list[str],
    pair: tuple[Language, Language],
    batch_size: int,
    show_progress: bool = True,
) -> PairRun:
    """``texts`` (unique, whitespace-normalised) translated ``pair[0] -> pair[1]``.

    Cached sentences are never retranslated; corrupt cache entries are counted and retranslated;
    failed sentences are recorded (:class:`Failure`) and not cached, so a rerun tries them again.
    """
    source, target = pair
    route = engine.pair_id(source, target)
    run = PairRun(source, target, route)
    keys = {text: cache_key(engine_id, route, text) for text in texts}
    found, corrupt = cache.get(list(keys.values()))
    run.corrupt = len(corrupt)
    todo = []
    for text, key in keys.items():
        if key in found:
            run.results[text] = found[key]
        else:
            todo.append(text)
    run.cached = len(texts) - len(todo)
    start = time.perf_counter()
    with _progress(len(todo), f"{source.code}→{target.code}", show_progress) as bar:
        for first in range(0, len(todo), batch_size):
            batch = todo[first : first + batch_size]
            outputs = translate_batch(engine, batch, source, target)
            done = [(keys[t], o) for t, o in zip(batch, outputs, strict=True) if isinstance(o, Output)]
            cache.put(engine_id, route, done)
            run.results.update(zip(batch, outputs, strict=True))
            run.translated += len(done)
            run.failed += len(batch) - len(done)
            bar.update(len(batch))
    run.seconds = time.perf_counter() - start
    return run


def _progress(total: int, label: str, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"translate {label}", unit="sent", disable=not show or total == 0)
