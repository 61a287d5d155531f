"""``data translate``: a parallel QA collection's source side translated into other languages.

Order of work: the settings, the output directory, the source, the engine and its pairs (what to
install) and the cache are all checked before the first sentence is translated. The output directory
(a ``translation`` artefact) is written in one piece at the end: the source side plus every
translation, parallel ids kept, in the layout of the source's kind that ``train --data DIR`` reads
(:mod:`.writers`), and ``translate.json`` (engine, version, pairs, counts, seconds, quality,
failures). An interrupted run leaves no output, only its cache; the rerun translates what the cache
lacks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.data.translation.cache import TranslationCache
from hybridbatch.data.translation.config import TranslateSettings
from hybridbatch.data.translation.engines import Engine, resolve_engine
from hybridbatch.data.translation.languages import language
from hybridbatch.data.translation.quality import QualityCounts
from hybridbatch.data.translation.run import PairRun, translate_texts
from hybridbatch.data.translation.translated import DropRule, source_texts
from hybridbatch.data.translation.writers import write_translation
from hybridbatch.errors import ConfigError, DataError
from hybridbatch.io import artefact_directory, atomic_write_json

KIND = "translation"
REPORT_FILE = "translate.json"
#: Part of every cache key: bump when the cleaning of engine outputs changes (e.g. the unknown-word
#: marks removed), so outputs cleaned the old way are translated again.
OUTPUT_FORMAT = 2


def prepare_engine(settings: TranslateSettings) -> tuple[Engine, str]:
    """The engine, its pairs checked, and its cache id (engine, version); ConfigErrors name what to
    install. Nothing is translated."""
    engine = resolve_engine(settings.engine, settings.beam_size, settings.max_length)
    source = language(settings.from_lang, "--from")
    engine.check(source, [language(code) for code in settings.to])
    return engine, f"{engine.spec} {engine.version()} (outputs v{OUTPUT_FORMAT})"


def load_source(spec: str, settings: TranslateSettings) -> ParallelQACollection:
    """The ``--from`` side of the source ``spec`` (a ``qa``, ``bitext`` or ``pairs`` source, see
    :mod:`hybridbatch.data.sources`), or with ``--keep-languages`` every language; only the first
    ``--limit`` parallel ids when given."""
    from hybridbatch.data.registry import load_source as load

    lang, limit = settings.from_lang, settings.limit
    collection = load(spec)
    ids = collection.ids_in(lang)
    if not ids:
        has = ", ".join(lang for lang, qs in collection.questions.items() if qs) or "none"
        raise DataError(
            f"{spec}: no questions in language {lang!r} to translate from "
            f"(languages with questions: {has}); pass --from LANG"
        )
    if settings.keep_languages:
        present = [code for code in settings.to if code in collection.languages]
        if present:
            raise ConfigError(
                f"--to {','.join(present)}: {spec} already has {', '.join(present)}; with --keep-languages "
                "translate only into languages it lacks"
            )
        return collection if limit is None else collection.subset(ids[:limit], name=collection.name)
    if limit is not None:
        return collection.subset(ids[:limit], [lang], name=collection.name)
    questions, candidates = {lang: collection.questions[lang]}, {lang: collection.candidates[lang]}
    return ParallelQACollection(collection.name, questions, candidates, kind=collection.kind)


def translate_dataset(
    spec: str, out: str | Path, settings: TranslateSettings, show_progress: bool = True
) -> dict[str, Any]:
    """Translate ``spec`` into ``settings.to`` and write the ``out`` directory; return the report."""
    start = time.perf_counter()
    source = load_source(spec, settings)
    engine, engine_id = prepare_engine(settings)
    cache = TranslationCache(settings.cache_path())
    try:
        texts = source_texts(source, settings.from_lang)
        rule = DropRule(settings.drop_untranslated, settings.max_untranslated)
        runs: dict[str, PairRun] = {}
        batch_size = settings.batch_size or engine.default_batch_size
        for code in settings.to:
            pair = (language(settings.from_lang, "--from"), language(code))
            runs[code] = translate_texts(engine, engine_id, cache, texts, pair, batch_size, show_progress)
    finally:
        cache.close()
    results = {code: run.results for code, run in runs.items()}
    with artefact_directory(out, KIND) as tmp:
        records = write_translation(source, settings.from_lang, results, rule, tmp)
        report = _report(spec, settings, engine_id, source, runs, records)
        report["files"] = sorted([*(p.name for p in tmp.iterdir()), REPORT_FILE])
        report["seconds"] = round(time.perf_counter() - start, 3)
        atomic_write_json(tmp / REPORT_FILE, report)
    return report


def _report(
    spec: str,
    settings: TranslateSettings,
    engine_id: str,
    source: ParallelQACollection,
    runs: dict[str, PairRun],
    records: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The content of ``translate.json``."""
    languages: dict[str, Any] = {}
    failures: list[dict[str, str]] = []
    for code, run in runs.items():
        counts = QualityCounts()
        for text, result in run.results.items():
            counts.add(text, result)
        failures += [{"lang": code, **failure} for failure in counts.failures]
        languages[code] = {**run.summary(), "quality": counts.summary(), "records": records[code]}
    totals = {
        key: sum(lang[key] for lang in languages.values()) for key in ("translated", "cached", "failed")
    }
    return {
        "source": spec,
        "kind": source.kind,
        "from": settings.from_lang,
        "to": settings.to,
        "engine": {"spec": settings.engine, "id": engine_id},
        "pairs": [lang["pair"] for lang in languages.values()],
        "settings": settings.model_dump(mode="json", exclude={"cache"}),
        "cache": str(settings.cache_path()),
        "source_ids": len(source.ids),
        "source_sentences": len(source_texts(source, settings.from_lang)),
        "totals": {**totals, "cache_corrupt": sum(lang["cache_corrupt"] for lang in languages.values())},
        "languages": languages,
        "failures": failures,
    }
