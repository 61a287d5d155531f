"""evaluate_beir: nDCG/Recall/MRR against hand-computed values on a 3-query toy."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hybridbatch.errors import ConfigError, DataError
from hybridbatch.evaluation.beir import BeirReport, evaluate_beir, score_run, write_beir_report

# Five orthonormal documents; a query's score for d_i is its i-th weight, so rankings are known.
DOCS = {f"d{i}": f"document {i}" for i in range(1, 6)}
QUERY_WEIGHTS = {
    "q1": (5, 4, 3, 2, 1),  # ranking d1 d2 d3 d4 d5
    "q2": (1, 2, 3, 4, 5),  # ranking d5 d4 d3 d2 d1
    "q3": (3, 5, 1, 4, 2),  # ranking d2 d4 d1 d5 d3
}
QRELS = "q1\td2\t1\nq1\td4\t2\nq2\td5\t1\nq3\td3\t1\nq3\tghost\t1\n"


class LookupEncoder:
    """A stand-in model: fixed vectors per text (queries by their weights, documents one-hot)."""

    hybridbatch_spec = "lookup"

    def __init__(self) -> None:
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self.vectors = {text: np.eye(5)[i] for i, text in enumerate(DOCS.values())}
        self.vectors |= {f"question {q}": np.array(w, dtype=float) for q, w in QUERY_WEIGHTS.items()}
        self.calls: list[str | None] = []

    def encode(self, texts, prompt_name=None, normalize_embeddings=False, **_) -> np.ndarray:
        self.calls.append(prompt_name)
        emb = np.stack([self.vectors[t] for t in texts]).astype(np.float32)
        return emb / np.linalg.norm(emb, axis=1, keepdims=True) if normalize_embeddings else emb


def write_toy(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    corpus = "".join(json.dumps({"_id": d, "title": "", "text": t}) + "\n" for d, t in DOCS.items())
    queries = "".join(json.dumps({"_id": q, "text": f"question {q}"}) + "\n" for q in QUERY_WEIGHTS)
    (root / "corpus.jsonl").write_text(corpus, encoding="utf-8")
    (root / "queries.jsonl").write_text(queries, encoding="utf-8")
    (root / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\n" + QRELS, encoding="utf-8")
    return root


def hand_computed() -> dict[str, dict[str, float]]:
    """trec_eval's nDCG (gain = relevance, discount log2(rank + 1)), recall and reciprocal rank."""
    log2 = math.log2
    idcg_q1 = 2 / log2(2) + 1 / log2(3)
    return {
        "q1": {  # d2 (rel 1) at rank 2, d4 (rel 2) at rank 4
            "ndcg2": (1 / log2(3)) / idcg_q1,
            "ndcg5": (1 / log2(3) + 2 / log2(5)) / idcg_q1,
            "r2": 0.5,
            "r5": 1.0,
            "mrr2": 0.5,
            "mrr5": 0.5,
        },
        "q2": dict.fromkeys(("ndcg2", "ndcg5", "r2", "r5", "mrr2", "mrr5"), 1.0),
        "q3": {  # d3 at rank 5
            "ndcg2": 0.0,
            "ndcg5": 1 / log2(6),
            "r2": 0.0,
            "r5": 1.0,
            "mrr2": 0.0,
            "mrr5": 0.2,
        },
    }


def test_metrics_match_hand_computed_values(tmp_path: Path) -> None:
    model = LookupEncoder()
    report = evaluate_beir(model, write_toy(tmp_path / "toy"), split="dev", k_values=(5, 2))
    assert report.k_values == [2, 5] and report.model == "lookup"
    result = report.sets["toy"]
    assert result.num_queries == 3 and result.num_documents == 5
    assert result.dropped == {"qrels document not in corpus": 1}
    expected = hand_computed()
    for qid, metrics in expected.items():
        assert result.per_query[qid] == pytest.approx(metrics, abs=1e-6), qid
    for name in expected["q1"]:
        assert result.metrics[name] == pytest.approx(sum(m[name] for m in expected.values()) / 3, abs=1e-6)
    assert report.mean == result.metrics
    assert set(model.calls) == {"passage", "query"}


def test_several_query_sets_are_macro_averaged(tmp_path: Path) -> None:
    write_toy(tmp_path / "sets" / "a")
    write_toy(tmp_path / "sets" / "b")
    (tmp_path / "sets" / "b" / "qrels" / "dev.tsv").write_text("q2\td5\t1\n", encoding="utf-8")
    report = evaluate_beir(LookupEncoder(), tmp_path / "sets", k_values=(2, 5))
    assert list(report.sets) == ["a", "b"]
    assert report.sets["b"].metrics["ndcg2"] == 1.0
    expected = (report.sets["a"].metrics["ndcg2"] + 1.0) / 2
    assert report.mean["ndcg2"] == pytest.approx(expected)


def test_report_files(tmp_path: Path) -> None:
    report = evaluate_beir(LookupEncoder(), write_toy(tmp_path / "toy"), k_values=(2, 5))
    out = write_beir_report(report, tmp_path / "out")
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["sets"]["toy"]["metrics"]["r5"] == 1.0
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| toy | 3 | 5 |" in markdown and "nDCG@2" in markdown and "ghost" not in markdown
    assert "qrels document not in corpus (1)" in markdown
    legacy = json.loads(json.dumps(saved).replace('"ndcg2"', '"ndcg@2"').replace('"r5"', '"recall@5"'))
    assert "ndcg@2" in legacy["mean"]
    assert BeirReport.model_validate(legacy) == report  # older report.json files read as the new names


def test_score_run_missing_query_scores_zero() -> None:
    per_query = score_run({"q": {"d": 1}, "r": {"d": 1}}, {"q": {"d": 1.0, "e": 0.5}}, (1,))
    assert per_query == {
        "q": {"ndcg1": 1.0, "r1": 1.0, "mrr1": 1.0},
        "r": dict.fromkeys(per_query["q"], 0.0),
    }


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a BEIR dataset"):
        evaluate_beir(LookupEncoder(), tmp_path)
    with pytest.raises(ConfigError, match="k values"):
        evaluate_beir(LookupEncoder(), write_toy(tmp_path / "toy"), k_values=(0,))
    with pytest.raises(DataError, match=r"no qrels/test\.tsv"):
        evaluate_beir(LookupEncoder(), tmp_path / "toy", split="test")
