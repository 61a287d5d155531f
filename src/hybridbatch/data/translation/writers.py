"""The output layouts of ``data translate``, one per source kind, each one ``train --data DIR`` reads:

- ``qa`` -> ``collection.jsonl`` (the JSONL collection of :mod:`hybridbatch.data.jsonl`);
- ``pairs`` -> ``pairs.jsonl`` (the layout of :mod:`hybridbatch.data.pairs`; passage ids ``p<n>`` are
  shared by a passage and its translations);
- ``bitext`` -> ``<lang>.txt`` aligned by line, ``documents.tsv`` (:mod:`hybridbatch.data.bitext`) and
  ``ids.tsv`` (the source's parallel id of each line).
  A line that failed, came back empty or (with ``--drop-untranslated``) stayed untranslated in any
  language is left out of every file, so line *i* stays the translation of line *i* (with
  ``--keep-languages``, so is an id that one of the source's languages lacks).

Each writer returns, per target language, the records kept and those dropped by reason.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from hybridbatch.data.bitext import DOCUMENTS_FILE
from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.data.jsonl import JSONL_DIRECTORY_FILE, write_jsonl
from hybridbatch.data.sources import PAIRS_DIRECTORY_FILE
from hybridbatch.data.translation.engines import Failure, Output
from hybridbatch.data.translation.translated import (
    DropRule,
    broken,
    normalise,
    translate_side,
    untranslated_share,
    with_translations,
)
from hybridbatch.io import atomic_write_text

IDS_FILE = "ids.tsv"  # bitext: the source's parallel id of each line (for the record; loaders number lines)
Results = dict[str, dict[str, Output | Failure]]  # target language -> source sentence -> result


def write_translation(
    source: ParallelQACollection, lang: str, results: Results, rule: DropRule, directory: Path
) -> dict[str, dict[str, Any]]:
    """Write the translated collection of ``source`` (its ``lang`` side) in its kind's layout."""
    if source.kind == "bitext":
        return _write_bitext(source, lang, results, rule, directory)
    sides = {target: translate_side(source, lang, target, done, rule) for target, done in results.items()}
    collection = with_translations(source, sides, directory.name)
    if source.kind == "pairs":
        atomic_write_text(directory / PAIRS_DIRECTORY_FILE, "".join(_pairs_lines(collection)))
    else:
        write_jsonl(collection, directory / JSONL_DIRECTORY_FILE)
    return {t: {"kept": len(side.questions), "dropped": dict(side.dropped)} for t, side in sides.items()}


def _pairs_lines(collection: ParallelQACollection) -> list[str]:
    lines = []
    for lang in collection.languages:
        pool = collection.candidates[lang]
        for qid, question in sorted(collection.questions.get(lang, {}).items()):
            passage = pool[question.answer]
            record = {"query_id": qid, "lang": lang, "query": question.text}
            record |= {"passage_id": f"p{passage.paragraph}", "passage": passage.text}
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return lines


def _write_bitext(
    source: ParallelQACollection, lang: str, results: Results, rule: DropRule, directory: Path
) -> dict[str, dict[str, Any]]:
    pool = source.candidates[lang]
    ids = [qid for qid in source.ids_in(lang) if len(source.languages_of(qid)) == len(source.languages)]
    texts = {qid: normalise(source.question(qid, lang).text) for qid in ids}
    reasons: dict[str, dict[str, str]] = {target: {} for target in results}
    for target, done in results.items():
        for qid, text in texts.items():
            reason = broken([text], done)
            if reason is None and rule.enabled and untranslated_share([text], done) > rule.threshold:
                reason = "untranslated share above --max-untranslated"
            if reason is not None:
                reasons[target][qid] = reason
    bad = {qid for found in reasons.values() for qid in found}
    kept = [qid for qid in ids if qid not in bad]
    files = {code: [source.question(qid, code).text for qid in kept] for code in source.languages}
    files |= {target: [done[texts[qid]].text for qid in kept] for target, done in results.items()}  # type: ignore[union-attr]
    for code, lines in files.items():
        atomic_write_text(directory / f"{code}.txt", "".join(f"{line}\n" for line in lines))
    documents = [f"d{pool[source.question(qid, lang).answer].paragraph}" for qid in kept]
    atomic_write_text(directory / DOCUMENTS_FILE, "".join(f"{doc}\n" for doc in documents))
    atomic_write_text(directory / IDS_FILE, "".join(f"{qid}\n" for qid in kept))
    summary = {}
    for target, own in reasons.items():
        dropped = Counter(own.values())
        dropped["dropped with another language's line"] = len(bad - set(own))
        summary[target] = {"kept": len(kept), "dropped": {k: n for k, n in dropped.items() if n}}
    return summary
