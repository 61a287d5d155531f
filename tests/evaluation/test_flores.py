"""FLORES-200 bitext retrieval: hand-computed accuracies (ties are misses), group means, the Δ table
against a reference model, per-query scores for compare's paired tests, the CLI on the tiny model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from data.test_flores import write_flores  # tests/ is on sys.path (conftest)
from hybridbatch.comparison.significance.paired import lareqa_per_query
from hybridbatch.comparison.significance.significance import compare_paired
from hybridbatch.data.flores import NUM_SENTENCES
from hybridbatch.evaluation.flores import FloresTask, translation_ranks
from hybridbatch.evaluation.flores_report import (
    FloresReport,
    base_model,
    evaluate_flores,
    render_flores_report,
    write_flores_report,
)

# Wrong vectors per (language, sentence id): the sentence points (mostly) at another id's English.
SWAPS = {
    ("deu_Latn", 812): 900,
    **{("swh_Latn", s): s + 100 for s in range(820, 825)},
    ("hau_Latn", 813): 814,
}
DIM = NUM_SENTENCES + 1


class LookupEncoder:
    """A stand-in model: sentence ``i`` of any language is the one-hot ``e_i``, except the swapped ones
    (``0.3 e_i + e_j``; hau 813 is exactly ``e_814``, a tie)."""

    hybridbatch_spec = "lookup"

    def __init__(self, swaps: dict[tuple[str, int], int] | None = None) -> None:
        self.prompts = {"query": "query: ", "passage": "passage: "}
        self.swaps = swaps or {}

    def encode(self, texts, **_) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def _vector(self, text: str) -> np.ndarray:
        code, rest = text.split(" sentence ")
        sid = int(rest.split(":")[0])
        vector = np.zeros(DIM)
        other = self.swaps.get((code, sid))
        if other is None:
            vector[sid] = 1.0
        elif code == "hau_Latn":
            vector[other] = 1.0
        else:
            vector[sid], vector[other] = 0.3, 1.0
        return vector


@pytest.fixture
def tree(tmp_path) -> Path:
    return write_flores(tmp_path / "flores200")


@pytest.fixture
def evaluated(tree):
    return evaluate_flores(LookupEncoder(SWAPS), FloresTask("dev", root=tree), reference=LookupEncoder())


def test_translation_ranks_count_ties_against_the_query() -> None:
    similarity = np.array([[0.9, 0.1, 0.2], [0.5, 0.5, 0.1], [0.3, 0.8, 0.4]])
    assert translation_ranks(similarity).tolist() == [1.0, 2.0, 2.0]


def test_hand_computed_accuracy_and_groups(evaluated) -> None:
    report, _ = evaluated
    deu, swh, hau = (report.languages[c] for c in ("deu_Latn", "swh_Latn", "hau_Latn"))
    assert (deu.scores["x2en_r1"], deu.scores["en2x_r1"]) == (199 / 200, 1.0)
    assert (swh.scores["x2en_r1"], swh.scores["en2x_r1"]) == (195 / 200, 1.0)
    # hau 813 = e_814: its English is not found; English 814 ties hau 813 and 814; English 813 ties all
    assert (hau.scores["x2en_r1"], hau.scores["en2x_r1"]) == (199 / 200, 198 / 200)
    assert (deu.group, swh.group, hau.group) == ("trained", "trained", "held-out")
    assert report.means["trained"]["bitext_r1"] == pytest.approx((399 / 400 + 395 / 400) / 2)
    assert report.means["held-out"]["bitext_r1"] == pytest.approx(397 / 400)
    assert report.means["all"]["bitext_r1"] == pytest.approx((399 + 395 + 397) / 1200)
    assert report.reference_means["all"] == {"x2en_r1": 1.0, "en2x_r1": 1.0, "bitext_r1": 1.0}
    assert report.headline == report.means["all"]["bitext_r1"]
    assert "eng_Latn" not in report.languages and report.num_sentences == 200


def test_delta_table_counts_languages_more_than_one_point_below(evaluated) -> None:
    report, _ = evaluated
    assert report.languages["deu_Latn"].delta == pytest.approx(-0.0025)
    assert report.languages["swh_Latn"].delta == pytest.approx(-0.0125)
    assert report.below_reference == {"trained": 1, "held-out": 0, "all": 1}
    text = render_flores_report(report)
    rows = [line.split(" | ")[0].strip("| ") for line in text.splitlines() if "_Latn |" in line]
    assert rows == ["swh_Latn", "hau_Latn", "deu_Latn"]  # by Δ, most damaged first
    assert "| **held-out** | 1 |" in text and "reference: `lookup`" in text


def test_per_query_scores_pair_up_for_compare(evaluated, tmp_path) -> None:
    report, scores = evaluated
    out = write_flores_report(report, scores, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == [
        "flores.png",
        "per_query.json",
        "report.json",
        "report.md",
    ]
    table = lareqa_per_query(out / "report.json", "flores200:dev")  # what compare's paired tests read
    assert table is not None and sorted(table) == ["bitext_r1", "en2x_r1", "x2en_r1"]
    assert len(table["bitext_r1"]) == 3 * 200
    assert table["x2en_r1"]["deu_Latn:812"] == 0.0 and table["bitext_r1"]["deu_Latn:812"] == 0.5
    reference = evaluate_flores(LookupEncoder(), FloresTask("dev", root=out.parent / "flores200"))[1].table()
    test = compare_paired("bitext acc.", table["bitext_r1"], reference["bitext_r1"], n_resamples=200)
    assert test.n == 600 and test.difference == pytest.approx(report.means["all"]["bitext_r1"] - 1.0)
    assert FloresReport.model_validate_json((out / "report.json").read_text()).below_reference["all"] == 1


def test_base_model_is_the_reference_default(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "hybridbatch_training.json").write_text(json.dumps({"config": {"model": "builtin:tiny"}}))
    assert base_model(str(run)) == "builtin:tiny"
    assert base_model("builtin:multilingual-e5-small") == "builtin:multilingual-e5-small"


# --- the command, on the tiny model ---------------------------------------------------------------
@pytest.fixture
def flores_home(tmp_path, monkeypatch) -> Path:
    """A data home whose FLORES-200 is a fake tree, pinned as the only files (no download)."""
    home = tmp_path / "home"
    root = write_flores(home / "flores200", ("eng_Latn", "deu_Latn", "hau_Latn"))
    pins = {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in root.rglob("*.*")}
    monkeypatch.setattr("hybridbatch.data.flores_sha256.FLORES_SHA256", pins)
    monkeypatch.setenv("HYBRIDBATCH_DATA", str(home))
    monkeypatch.setattr("hybridbatch.paths.embeddings_home", lambda: tmp_path / "embeddings")  # fresh cache
    return home


@pytest.fixture
def perturbed_tiny(tiny_model, tmp_path) -> Path:
    """builtin:tiny with noise on its weights, saved as a model directory (a different model)."""
    import copy

    import torch

    model = copy.deepcopy(tiny_model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * parameter.std() * 0.5)
    model.save(str(tmp_path / "perturbed"))
    return tmp_path / "perturbed"


def test_cli_on_the_tiny_model_with_a_reference(
    cli, flores_home, perturbed_tiny, tmp_path, monkeypatch
) -> None:
    from hybridbatch.models import embedding_cache

    out = tmp_path / "out"
    args = ["evaluate-retrieval", "--model", "builtin:tiny", "--data", "flores200:dev", "--out", str(out)]
    code, stdout, err = cli(*args, "--reference", str(perturbed_tiny))
    assert code == 0, err
    for group in ("trained", "held-out", "all"):
        assert f"| **{group}** |" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["reference_model"] == str(perturbed_tiny) and len(report["languages"]) == 2
    assert report["cpu"]["model_name"] is not None  # the CPU encoded on (models.capability)
    deltas = [row["delta"] for row in report["languages"].values()]
    assert any(d != 0 for d in deltas)
    table = [line for line in stdout.splitlines() if "_Latn |" in line]
    assert [float(line.split(" | ")[-1].strip(" |")) for line in table] == sorted(round(d, 3) for d in deltas)
    per_query = json.loads((out / "per_query.json").read_text())["flores200:dev"]
    assert set(per_query["bitext_r1"]) == {
        f"{c}:{i}" for c in ("deu_Latn", "hau_Latn") for i in range(812, 1012)
    }
    calls = []
    monkeypatch.setattr(embedding_cache, "encode_texts", lambda *a, **k: calls.append(a) or None)
    code, stdout, err = cli(*args, "--overwrite")  # the base model is its own reference: Δ 0, all cached
    assert code == 0, err
    assert calls == []
    assert all(
        row["delta"] == 0 for row in json.loads((out / "report.json").read_text())["languages"].values()
    )
