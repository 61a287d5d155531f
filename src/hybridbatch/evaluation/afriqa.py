"""AfriQA as cross-lingual retrieval: African-language questions against their gold passages.

Every question of a split (in bem fon hau ibo kin swa twi yor zul) searches the pool of all distinct
gold passages of that split (English; French for fon) by exact inner product of normalized
embeddings (``query`` / ``passage`` prompts); the run is scored with ``pytrec_eval`` (the registered
``retrieval`` scores, see :func:`hybridbatch.evaluation.beir.score_run`). The same pool searched with the
human-translated question is *translate-test*, the upper bound of a perfect translator (Ogundepo et
al. 2023, arXiv 2305.06897, report the gap between the two for their retrievers); the gap
``translated − native`` is the headline: how much a model loses to the question's language.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hybridbatch import paths  # paths.embeddings_home looked up per call (HYBRIDBATCH_* env, tests)
from hybridbatch.data.afriqa import LANGUAGES, SPLITS, AfriqaSplit, load_afriqa
from hybridbatch.data.registry import afriqa_dir
from hybridbatch.errors import ConfigError
from hybridbatch.evaluation.beir import LegacyKeys, renamed_legacy_keys, score_run
from hybridbatch.evaluation.metrics import metric_title
from hybridbatch.evaluation.registry import score_names
from hybridbatch.io import atomic_write_text, marked_output, prepare_output_dir
from hybridbatch.models.capability import cpu_record
from hybridbatch.models.embedding_cache import encode_cached, model_cache
from hybridbatch.models.encoding import resolve_model

K_VALUES = (10, 100)
SIDES = ("native", "translated")


class AfriqaLanguage(LegacyKeys):
    """One question language: scores with the native and with the translated question."""

    lang: str
    pivot: str
    num_queries: int
    native: dict[str, float]
    translated: dict[str, float]

    @property
    def gap(self) -> dict[str, float]:
        """translate-test minus native, per metric (positive: the question's language costs this much)."""
        return {m: self.translated[m] - self.native[m] for m in self.native}


class AfriqaReport(LegacyKeys):
    """A model on one AfriQA split (``report.json`` of ``evaluate-retrieval --data afriqa``)."""

    model: str | None
    split: str
    num_passages: int
    languages: dict[str, AfriqaLanguage]
    mean_native: dict[str, float]
    mean_translated: dict[str, float]
    per_query: dict[str, dict[str, dict[str, float]]]  # side -> "lang:id" -> metric -> value
    dropped: dict[str, int]
    seconds: float
    created: str
    precision: str = "fp32"
    cpu: dict[str, Any] | None = None  # the CPU encoded on (models.capability)

    @property
    def mean_gap(self) -> dict[str, float]:
        """Macro-averaged translate-test gap per metric."""
        return {m: self.mean_translated[m] - self.mean_native[m] for m in self.mean_native}


def evaluate_afriqa(
    model: Any,
    split: str = "test",
    root: str | Path | None = None,
    batch_size: int = 64,
    show_progress: bool = False,
    data: AfriqaSplit | None = None,
    cache_dir: Path | None = None,
    precision: str = "fp32",
) -> AfriqaReport:
    """Score ``model`` (a spec or a loaded model) on AfriQA ``split`` (data home's copy unless ``root``).

    ``cache_dir``: the embedding cache (:mod:`hybridbatch.models.embedding_cache`; None = no cache);
    ``precision``: ``fp32``, ``bf16`` or ``int8`` (:mod:`hybridbatch.models.quantize`).
    """

    if data is None:
        data = load_afriqa(root if root is not None else afriqa_dir(split), split)  # fail before the model
    model, spec = resolve_model(model)
    start = time.perf_counter()
    cache = model_cache(model, cache_dir)
    label = f"afriqa-{data.split}"

    def embed(texts: list[str], kind: str, side: str) -> np.ndarray:
        return encode_cached(
            model,
            texts,
            kind,
            f"{label}-{side}",
            cache,
            batch_size,
            show_progress,
            precision=precision,  # type: ignore[arg-type]
        )  # type: ignore[arg-type]

    passages = embed(data.passages, "passage", "passages")
    questions = [q for lang in data.languages for q in data.questions[lang]]
    vectors = {side: embed([_text(q, side) for q in questions], "query", side) for side in SIDES}
    languages, per_query = _score_languages(data, vectors, passages)
    return AfriqaReport(
        model=spec,
        split=data.split,
        num_passages=len(data.passages),
        languages=languages,
        mean_native=_macro(languages, "native"),
        mean_translated=_macro(languages, "translated"),
        per_query=per_query,
        dropped=dict(data.report.dropped),
        seconds=round(time.perf_counter() - start, 2),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        precision=precision,
        cpu=cpu_record(),
    )


def _score_languages(
    data: AfriqaSplit, vectors: dict[str, np.ndarray], passages: np.ndarray
) -> tuple[dict[str, AfriqaLanguage], dict[str, dict[str, dict[str, float]]]]:
    """Per language: search the pool with each side's question vectors (rows in language order), score."""
    per_query: dict[str, dict[str, dict[str, float]]] = {side: {} for side in SIDES}
    languages: dict[str, AfriqaLanguage] = {}
    row = 0
    for lang in data.languages:
        block = data.questions[lang]
        qrels = {f"{lang}:{q.id}": {str(q.passage): 1} for q in block}
        scores = {}
        for side in SIDES:
            run = _search(vectors[side][row : row + len(block)], passages, list(qrels))
            found = score_run(qrels, run, K_VALUES)
            per_query[side].update(found)
            scores[side] = _mean(found)
        row += len(block)
        languages[lang] = AfriqaLanguage(
            lang=lang,
            pivot=data.passage_langs[block[0].passage],
            num_queries=len(block),
            native=scores["native"],
            translated=scores["translated"],
        )
    return languages, per_query


def _text(question: Any, side: str) -> str:
    return question.text if side == "native" else question.translated


def _search(queries: np.ndarray, passages: np.ndarray, qids: list[str]) -> dict[str, dict[str, float]]:
    """The top ``max(K_VALUES)`` passages of every query by inner product (exact)."""
    k = min(max(K_VALUES), len(passages))
    scores = queries @ passages.T
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return {qid: {str(int(p)): float(scores[row, p]) for p in top[row]} for row, qid in enumerate(qids)}


def _mean(per_query: dict[str, dict[str, float]]) -> dict[str, float]:
    metrics = next(iter(per_query.values()))
    return {m: float(np.mean([q[m] for q in per_query.values()])) for m in metrics}


def _macro(languages: dict[str, AfriqaLanguage], side: str) -> dict[str, float]:
    rows = [getattr(row, side) for row in languages.values()]
    return {m: float(np.mean([r[m] for r in rows])) for m in rows[0]}


def render_afriqa_report(report: AfriqaReport, metrics: Sequence[str] | None = None) -> str:
    """Markdown: per language, native / translate-test / gap for each metric (default: the registered
    ``retrieval`` scores, ``ndcg10``, ``mrr10``, ``r100``)."""
    metrics = metrics or score_names(task="retrieval")
    head = " | ".join(f"{metric_title(m)} {side}" for m in metrics for side in ("native", "transl.", "gap"))
    lines = [
        f"# AfriQA {report.split}: cross-lingual retrieval ({report.num_passages} gold passages)",
        "",
        f"Model: `{report.model}` ({report.precision}) · {report.created} · question in the African "
        "language (native) vs its human translation (translate-test, the upper bound); "
        "gap = translate-test − native.",
        "",
        f"| language | pivot | queries | {head} |",
        "|---|---|---:|" + "---:|" * (3 * len(metrics)),
    ]
    for row in report.languages.values():
        cells = _cells(row.native, row.translated, metrics)
        lines.append(f"| {row.lang} | {row.pivot} | {row.num_queries} | {cells} |")
    cells = _cells(report.mean_native, report.mean_translated, metrics, bold=True)
    lines.append(f"| **mean** | | {sum(r.num_queries for r in report.languages.values())} | {cells} |")

    absent = sorted(set(LANGUAGES) - set(report.languages))
    if absent:
        lines += ["", f"Not evaluated (no gold passages in this split upstream): {', '.join(absent)}."]
    if report.dropped:
        lines += [
            "",
            "Dropped upstream records: " + "; ".join(f"{k} ({n})" for k, n in report.dropped.items()),
        ]
    return "\n".join(lines) + "\n"


def _cells(
    native: dict[str, float], translated: dict[str, float], metrics: Sequence[str], bold: bool = False
) -> str:
    out = []
    for m in metrics:
        values = (f"{native[m]:.3f}", f"{translated[m]:.3f}", f"{translated[m] - native[m]:+.3f}")
        out += [f"**{v}**" if bold else v for v in values]
    return " | ".join(out)


def write_afriqa_report(report: AfriqaReport, out_dir: str | Path) -> Path:
    """Write ``report.json`` and ``report.md`` into ``out_dir`` (atomically); return the directory."""
    out = Path(out_dir)
    atomic_write_text(out / "report.json", report.model_dump_json(indent=2) + "\n")
    atomic_write_text(out / "report.md", render_afriqa_report(report))
    return out


def afriqa_in_folder(
    folder: Path,
    label: str,
    load: Callable[[], Any],
    split: str,
    batch_size: int = 64,
    precision: str = "fp32",
) -> dict:
    """The ``report.json`` content of ``label``'s model on ``split`` in ``folder``: reused when written
    for that model, else evaluated (``load()`` gives the model; embedding cache on) and written."""

    done = Path(folder) / "report.json"
    if done.is_file():
        data = renamed_legacy_keys(json.loads(done.read_text("utf-8")))  # older keys: ndcg@10 ...
        if data.get("model") == label:
            return data
    report = evaluate_afriqa(
        load(), split, batch_size=batch_size, cache_dir=paths.embeddings_home(), precision=precision
    )
    report.model = label
    write_afriqa_report(report, folder)
    return json.loads(report.model_dump_json())


def afriqa_command(
    model: str,
    split: str | None,
    out: str | Path | None,
    batch_size: int = 64,
    k_values: Sequence[int] = K_VALUES,
    overwrite: bool = False,
    cache: bool = True,
    precision: str = "fp32",
) -> str:
    """``evaluate-retrieval --data afriqa``: validate, evaluate, write ``out`` if given, return the text."""

    split = split or "test"
    if split not in SPLITS:
        raise ConfigError(f"--split: AfriQA has no split {split!r} (choose from {', '.join(SPLITS)})")
    if sorted(set(k_values)) != list(K_VALUES):
        fixed = ", ".join(metric_title(name) for name in score_names(task="retrieval"))
        raise ConfigError(f"-k: AfriQA reports fixed cutoffs ({fixed}); drop -k")
    target = prepare_output_dir(out, "retrieval-evaluation", overwrite) if out is not None else None
    data = load_afriqa(afriqa_dir(split), split)
    cache_dir = paths.embeddings_home() if cache else None
    report = evaluate_afriqa(
        model,
        split,
        batch_size=batch_size,
        show_progress=True,
        data=data,
        cache_dir=cache_dir,
        precision=precision,
    )
    text = render_afriqa_report(report)
    if target is not None:
        with marked_output(target, "retrieval-evaluation"):
            write_afriqa_report(report, target)
        text += f"\nwrote {out}/report.json and report.md"
    return text
