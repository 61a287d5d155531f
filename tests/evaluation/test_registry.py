"""Adding a metric is one registration: it is scored, stored, written and shown without other edits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.evaluation.test_lareqa import embeddings

from hybridbatch.data import load_collection
from hybridbatch.evaluation import (
    EvaluationReport,
    Score,
    get_metric,
    register,
    register_pair,
    score_collection,
)
from hybridbatch.evaluation.registry import SCORES, cell_keys, get_score, scores
from hybridbatch.evaluation.report import render_markdown


@pytest.fixture
def extra_scores():
    """Register ``multi_r1`` and the pair key ``r2`` for one test, then remove them."""
    before = dict(SCORES)
    register(Score("multi_r1", "Multi R@1", "multi", lambda ranks, own: get_metric("r1")(ranks)))
    register_pair("r2")
    yield
    SCORES.clear()
    SCORES.update(before)


def test_a_registered_score_flows_to_every_output(toy_dir, extra_scores):
    toy = load_collection(str(toy_dir))
    report = score_collection(toy, embeddings(toy, {("q1", "en"): "q2"}))
    # Multi R@1 of en: q1 points at q2 (0), q2 has 2 answers, q3 and q4 have 3, one of them at rank 1
    rows = {row.lang: row for row in report.languages}
    assert rows["en"].multi_r1 == pytest.approx((0 + 1 / 2 + 1 / 3 + 1 / 3) / 4)
    assert report.cell("en", "en").r2 == pytest.approx(3 / 4) and report.summary.get("cross_r2") is not None
    assert "r2" in cell_keys()
    per_query = report.per_query
    assert np.nanmean(per_query.values("multi", "multi_r1")[:4]) == pytest.approx(rows["de"].multi_r1)
    data = json.loads(EvaluationReport(model="m", datasets={"toy": report}).model_dump_json())
    assert {"multi_r1", "mono_r2", "cross_r2"} <= set(data["summary"])
    md = render_markdown(EvaluationReport(model="m", datasets={"toy": report}))
    assert "Multi R@1" in md and "Cross R@2" in md


def test_registration_errors():
    with pytest.raises(ValueError, match="already registered"):
        register(get_score("multi_map"))
    with pytest.raises(ValueError, match="cell_key"):
        register(Score("mono_x", "x", "mono", lambda ranks, own: ranks[:, 0]))
    with pytest.raises(KeyError, match="unknown score"):
        get_score("nope")


def test_registry_order_and_tables():
    names = [s.name for s in scores(table="main")]
    assert names[:7] == [
        "mono_map",
        "cross_map",
        "multi_map",
        "mono_r1",
        "cross_r1",
        "multi_r10",
        "rank_distance",
    ]
    assert {"lpr", "tlr10"} <= {s.name for s in scores("multi", headline=True)}
    assert get_score("rank_distance").format(1234.56) == "1,234.6"
    assert get_score("rank_distance").format(1234.56, compact=True) == "1,235"
    assert get_score("lpr").header == "LPR ↓" and get_score("tlr10").format(None) == "–"
