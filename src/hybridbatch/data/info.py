"""A summary of a collection for ``hybridbatch data info``: shape, counts and loader findings."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from hybridbatch.data.collection import ParallelQACollection


class DatasetInfo(BaseModel):
    """Counts describing a parallel QA collection.

    ``ids_per_language_count[k]`` is how many parallel ids have a question in exactly ``k``
    languages (XQuAD-R: all 1,190 ids in 11; MLQA-R: 2 to 4).
    """

    name: str
    kind: str = "qa"
    languages: list[str]
    ids_total: int
    questions_total: int
    questions_per_language: dict[str, int]
    candidates_per_language: dict[str, int]
    candidates_total: int
    paragraphs_per_language: dict[str, int]
    ids_per_language_count: dict[int, int]
    dropped: dict[str, int]
    fixed: dict[str, int]
    findings: list[str]


def collection_info(collection: ParallelQACollection) -> DatasetInfo:
    """Summarize ``collection`` (its loader report included)."""
    langs = collection.languages
    per_count = Counter(len(collection.languages_of(qid)) for qid in collection.ids)
    return DatasetInfo(
        name=collection.name,
        kind=collection.kind,
        languages=langs,
        ids_total=len(collection.ids),
        questions_total=collection.num_questions(),
        questions_per_language={lang: len(collection.questions.get(lang, {})) for lang in langs},
        candidates_per_language={lang: len(collection.candidates.get(lang, [])) for lang in langs},
        candidates_total=collection.num_candidates(),
        paragraphs_per_language={
            lang: len({c.paragraph for c in collection.candidates.get(lang, [])}) for lang in langs
        },
        ids_per_language_count=dict(sorted(per_count.items())),
        dropped=dict(collection.report.dropped),
        fixed=dict(collection.report.fixed),
        findings=list(collection.report.findings),
    )


def render_info(info: DatasetInfo) -> str:
    """A plain-text report: totals, a per-language table, ids per language count, findings."""
    lines = [
        f"dataset     {info.name} ({info.kind})",
        f"languages   {len(info.languages)} ({' '.join(info.languages)})",
        f"ids         {info.ids_total:,}",
        f"questions   {info.questions_total:,}",
        f"candidates  {info.candidates_total:,}",
        "",
        f"{'lang':<6}{'questions':>10}{'candidates':>12}{'paragraphs':>12}",
    ]
    for lang in info.languages:
        lines.append(
            f"{lang:<6}{info.questions_per_language[lang]:>10,}"
            f"{info.candidates_per_language[lang]:>12,}{info.paragraphs_per_language[lang]:>12,}"
        )
    lines += ["", "ids by number of languages:"]
    lines += [f"  in {k:>2} language(s): {n:,}" for k, n in info.ids_per_language_count.items()]
    lines.append("")
    lines.append("dropped: " + (_counts(info.dropped) or "nothing"))
    lines.append("fixed:   " + (_counts(info.fixed) or "nothing"))
    if info.findings:
        lines.append("findings (first few per reason):")
        lines += [f"  - {finding}" for finding in info.findings]
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {n:,}" for reason, n in sorted(counts.items()))
