"""AfriQA retrieval: per-language nDCG/MRR/Recall, native vs translate-test, against hand-computed ranks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from data.test_afriqa import write_afriqa  # tests/ is on sys.path (conftest)
from hybridbatch.data.afriqa import load_afriqa
from hybridbatch.evaluation.afriqa import AfriqaReport, afriqa_in_folder, evaluate_afriqa, write_afriqa_report

# Pool order (files by language): 0 "passage C" (fon), 1 "T passage A", 2 "T passage B" (hau).
# A passage's vector is one-hot; a question's score for passage i is its i-th weight.
WEIGHTS = {
    "fon q0": (3, 1, 2),  # gold 0 at rank 1
    "hau q0": (1, 2, 3),  # gold 1 at rank 2
    "hau q1": (1, 2, 3),  # gold 2 at rank 1
    "hau q2": (3, 1, 2),  # gold 1 at rank 3
}


class LookupEncoder:
    """A stand-in model: one-hot passages, weighted native questions, perfect translations."""

    hybridbatch_spec = "lookup"

    def __init__(self) -> None:
        self.prompts = {"query": "query: ", "passage": "passage: "}
        passages = ["passage C", "T passage A", "T passage B"]
        self.vectors = {p: np.eye(3)[i] for i, p in enumerate(passages)}
        self.vectors |= {q: np.array(w, dtype=float) for q, w in WEIGHTS.items()}
        self.vectors |= {
            "fr q0": np.eye(3)[0],
            "en q0": np.eye(3)[1],
            "en q1": np.eye(3)[2],
            "en q2": np.eye(3)[1],
        }

    def encode(self, texts, normalize_embeddings=False, **_) -> np.ndarray:
        emb = np.stack([self.vectors[t] for t in texts]).astype(np.float32)
        return emb / np.linalg.norm(emb, axis=1, keepdims=True) if normalize_embeddings else emb


@pytest.fixture
def report(tmp_path: Path) -> AfriqaReport:
    return evaluate_afriqa(LookupEncoder(), "test", root=write_afriqa(tmp_path / "afriqa"))


def test_hand_computed_scores(report: AfriqaReport) -> None:
    hau, fon = report.languages["hau"], report.languages["fon"]
    assert (hau.pivot, hau.num_queries, fon.pivot, fon.num_queries) == ("en", 3, "fr", 1)
    assert hau.native["mrr10"] == pytest.approx((1 / 2 + 1 + 1 / 3) / 3)
    assert hau.native["ndcg10"] == pytest.approx((1 / math.log2(3) + 1 + 1 / math.log2(4)) / 3)
    assert hau.native["r100"] == pytest.approx(1.0)
    assert fon.native["mrr10"] == pytest.approx(1.0)
    assert all(v == pytest.approx(1.0) for v in hau.translated.values())
    assert hau.gap["mrr10"] == pytest.approx(1 - (1 / 2 + 1 + 1 / 3) / 3)
    assert report.mean_native["mrr10"] == pytest.approx((hau.native["mrr10"] + 1.0) / 2)  # macro
    assert report.mean_gap["mrr10"] == pytest.approx(1.0 - report.mean_native["mrr10"])
    assert report.per_query["native"]["hau:2"]["mrr10"] == pytest.approx(1 / 3)
    assert set(report.per_query["translated"]) == {"hau:0", "hau:1", "hau:2", "fon:0"}
    assert report.num_passages == 3 and report.dropped == {"no gold passage (context null or empty)": 1}


def test_report_files(report: AfriqaReport, tmp_path: Path) -> None:
    out = write_afriqa_report(report, tmp_path / "out")
    data = json.loads((out / "report.json").read_text())
    assert AfriqaReport.model_validate(data).languages["hau"].num_queries == 3
    markdown = (out / "report.md").read_text()
    assert "| hau | en | 3 |" in markdown and "**mean**" in markdown and "translate-test" in markdown
    assert "Not evaluated (no gold passages in this split upstream): bem, ibo," in markdown
    assert (
        "| language | pivot | queries | nDCG@10 native | nDCG@10 transl. | nDCG@10 gap | MRR@10" in markdown
    )


def _with_legacy_keys(value):
    """JSON as reports wrote it before the one metric namespace (``ndcg@10``, ``recall@100``)."""
    legacy = {"ndcg10": "ndcg@10", "r100": "recall@100", "mrr10": "mrr@10", "r10": "recall@10"}
    if isinstance(value, dict):
        return {legacy.get(k, k): _with_legacy_keys(v) for k, v in value.items()}
    return value


def test_an_older_cached_report_reads_with_the_new_names(report: AfriqaReport, tmp_path: Path) -> None:
    new = json.loads(report.model_dump_json())
    old = _with_legacy_keys(new)
    assert "ndcg@10" in old["mean_native"] and "ndcg10" not in old["mean_native"]
    (tmp_path / "report.json").write_text(json.dumps(old))

    def never() -> None:
        raise AssertionError("a cached report for the same model is reused, not re-evaluated")

    assert afriqa_in_folder(tmp_path, str(report.model), never, report.split) == new
    assert AfriqaReport.model_validate(old) == report


def test_tiny_model_runs_on_a_real_split(tiny_model, shared_data: Path) -> None:
    data = load_afriqa(shared_data / "afriqa", "dev", ["hau", "fon"])
    report = evaluate_afriqa(tiny_model, "dev", data=data, batch_size=128)
    assert set(report.languages) == {"fon", "hau"}
    for row in report.languages.values():
        assert all(0.0 <= v <= 1.0 for v in (*row.native.values(), *row.translated.values()))


def test_cli_evaluate_retrieval_afriqa(afriqa_home: Path, tmp_path: Path, cli) -> None:
    code, out, err = cli("evaluate-retrieval", "--model", "builtin:tiny", "--data", "afriqa")
    assert code == 0, err
    assert "| hau | en | 3 |" in out and "| fon | fr | 1 |" in out and "gap" in out and "**mean**" in out
    code, out, err = cli(
        "evaluate-retrieval", "--model", "builtin:tiny", "--data", "afriqa", "--out", str(tmp_path / "r")
    )
    assert code == 0, err
    assert AfriqaReport.model_validate_json((tmp_path / "r" / "report.json").read_text()).split == "test"
    code, out, err = cli(
        "evaluate-retrieval", "--model", "builtin:tiny", "--data", "afriqa", "--precision", "int8"
    )
    assert code == 0, err
    assert "(int8)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "afriqa", "--split", "validation"], "--split: AfriQA has no split 'validation'"),
        (["--data", "afriqa", "-k", "5"], "-k: AfriQA reports fixed cutoffs"),
        (["--data", "some-beir-dir"], "--out: required for BEIR data"),
        (["--data", "afriqa", "--precision", "fp16"], "--precision: unknown 'fp16'"),
    ],
)
def test_cli_bad_afriqa_flags_are_one_line(afriqa_home: Path, cli, args: list[str], message: str) -> None:
    code, _, err = cli("evaluate-retrieval", "--model", "builtin:tiny", *args)
    assert code == 2
    assert err.strip().startswith("error:") and message in err and len(err.strip().splitlines()) == 1
