"""Synthetic parallel collections for sampler tests (built in memory, no files)."""

from __future__ import annotations

import pytest

from hybridbatch.data import Candidate, ParallelQACollection, Question


def make_collection(
    n_ids: int = 60,
    langs: tuple[str, ...] = ("en", "de", "es", "fr"),
    name: str = "synth",
    coverage: int | None = None,
    shared: tuple[tuple[int, int, str], ...] = (),
) -> ParallelQACollection:
    """``n_ids`` parallel ids; id ``i`` exists in every language, or (``coverage`` = c) in English plus
    c − 1 other languages chosen by ``i``. Each id gets its own 3-sentence paragraph per language,
    answered by sentence 0; ``shared`` = ((i, j, lang), ...) makes id j answered by id i's sentence in
    ``lang``."""
    questions: dict[str, dict[str, Question]] = {lang: {} for lang in langs}
    candidates: dict[str, list[Candidate]] = {lang: [] for lang in langs}
    others = [lang for lang in langs if lang != "en"]
    answer_of: dict[tuple[str, int], int] = {}
    for i in range(n_ids):
        id_langs = list(langs)
        if coverage is not None:
            picked = [others[(i + k) % len(others)] for k in range(coverage - 1)]
            id_langs = [lang for lang in langs if lang == "en" or lang in picked]
        for lang in id_langs:
            pool = candidates[lang]
            paragraph = len({c.paragraph for c in pool})
            texts = [f"{lang} answer {i}.", f"{lang} filler {i} a.", f"{lang} filler {i} b."]
            first = len(pool)
            pool.extend(Candidate(lang, t, paragraph, " ".join(texts)) for t in texts)
            answer_of[(lang, i)] = first
            questions[lang][f"q{i:03d}"] = Question(f"q{i:03d}", lang, f"{lang} question {i}?", first)
    for i, j, lang in shared:
        q = questions[lang][f"q{j:03d}"]
        questions[lang][q.id] = Question(q.id, lang, q.text, answer_of[(lang, i)])
    return ParallelQACollection(name, {k: v for k, v in questions.items() if v}, candidates)


@pytest.fixture
def synth() -> ParallelQACollection:
    return make_collection()


@pytest.fixture(scope="session")
def mlqa():
    """The real MLQA-R collection (skipped without the local data mirror)."""
    import os
    from pathlib import Path

    if not (Path(os.environ.get("HYBRIDBATCH_DATA", "")) / "mlqa-r").is_dir():
        pytest.skip("no local data mirror (HYBRIDBATCH_DATA)")
    from hybridbatch.data import load_collection

    return load_collection("mlqa-r")
