"""`benchmarks/mlqa_dev_settings.py --pool full`: the dev questions against every candidate."""

from __future__ import annotations

from pathlib import Path

from conftest import load_benchmark
from hybridbatch.data import load_lareqa


def _script():
    return load_benchmark("mlqa_dev_settings")


def test_full_pool_keeps_the_dev_questions_and_every_candidate(toy_dir: Path) -> None:
    full = load_lareqa(toy_dir)
    _, dev = full.split(0.5, seed=0)
    assert dev.ids and len(dev.ids) < len(full.ids)
    pooled = _script().dev_questions_full_pool(full, dev)
    assert pooled.ids == dev.ids  # no training question is scored
    assert pooled.candidates == full.candidates  # every sentence is a candidate
    for lang, by_id in pooled.questions.items():
        for qid in by_id:  # answer indices still point at the same sentence
            assert pooled.answer(qid, lang).text == dev.answer(qid, lang).text
    grown = [lang for lang in pooled.languages if len(pooled.candidates[lang]) > len(dev.candidates[lang])]
    assert grown  # the training paragraphs' sentences join the pool
