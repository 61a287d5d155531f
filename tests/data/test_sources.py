"""Source specs: ``NAME[:SPLIT][@WEIGHT]`` / ``[KIND:]PATH[@WEIGHT]`` / YAML mappings, canonical strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridbatch.data.sources import detect_kind, parse_source


@pytest.mark.parametrize(
    ("text", "name", "split", "kind", "weight", "canonical"),
    [
        ("mlqa-r", "mlqa-r", None, "qa", None, "mlqa-r"),
        ("flores200", "flores200", "train", "bitext", None, "flores200:train"),
        ("flores200:train@0.3", "flores200", "train", "bitext", 0.3, "flores200:train@0.3"),
        ("flores200:dev", "flores200", "dev", "bitext", None, "flores200:dev"),
        ("bitext:flores200:train", "flores200", "train", "bitext", None, "flores200:train"),
        ("mlqa-r@2", "mlqa-r", None, "qa", 2.0, "mlqa-r@2.0"),
        ("bitext:corpus/dir@0.25", "corpus/dir", None, "bitext", 0.25, "bitext:corpus/dir@0.25"),
        ("pairs:marco.jsonl", "marco.jsonl", None, "pairs", None, "pairs:marco.jsonl"),
        ("qa:mine.jsonl", "mine.jsonl", None, "qa", None, "mine.jsonl"),
        ("missing/dir", "missing/dir", None, "qa", None, "missing/dir"),
    ],
)
def test_spec_strings(text, name, split, kind, weight, canonical) -> None:
    spec = parse_source(text)
    assert (spec.name, spec.split, spec.kind, spec.weight) == (name, split, kind, weight)
    assert str(spec) == canonical
    assert parse_source(str(spec)) == spec  # the canonical string reads back as the same source


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("foo:data.jsonl", "unknown source kind 'foo'"),
        ("mlqa-r@0", "must be a finite number > 0, got 0.0"),
        ("mlqa-r@-1", "must be a finite number > 0"),
        ("mlqa-r@nan", "must be a finite number > 0"),
        ("mlqa-r@inf", "must be a finite number > 0"),
        ("mlqa-r@heavy", "weight 'heavy' of source 'mlqa-r@heavy' is not a number"),
        ("flores200:test", "flores200: unknown split 'test' (choose from train, dev)"),
        ("mlqa-r:train", "mlqa-r: unknown split 'train' (it has no named splits)"),
        ("qa:flores200", "flores200 is a bitext source, not qa"),
        ("", "empty source"),
        ({"name": "flores200", "path": "x"}, "exactly one of 'name'"),
        ({"path": "x", "kind": "bitexts"}, "unknown source kind 'bitexts'"),
        ({"path": "x", "weight": float("inf")}, "finite number > 0"),
        ({"path": "x", "size": 3}, "unknown source key 'size'"),
        ({"name": "squad"}, "unknown dataset name 'squad'"),
        (3, "a source is a string"),
    ],
)
def test_bad_specs_name_the_problem(value, message) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_source(value)
    assert message in str(info.value)


def test_yaml_mappings() -> None:
    spec = parse_source({"name": "flores200", "split": "train", "weight": 0.3})
    assert str(spec) == "flores200:train@0.3"
    assert str(parse_source({"path": "d", "kind": "bitext", "weight": 1})) == "bitext:d@1.0"


def test_kind_is_detected_from_the_layout(tmp_path: Path, toy_dir: Path) -> None:
    bitext = tmp_path / "bitext"
    bitext.mkdir()
    (bitext / "en.txt").write_text("a\n", encoding="utf-8")
    pairs = tmp_path / "pairs.jsonl"
    record = {"query_id": "q", "lang": "en", "query": "q?", "passage_id": "p", "passage": "p."}
    pairs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"id": "q", "lang": "en", "question": "?", "sentences": ["a"], "answer": 0}) + "\n"
    )
    assert [detect_kind(p) for p in (bitext, pairs, qa, toy_dir)] == ["bitext", "pairs", "qa", "qa"]
    assert str(parse_source(str(bitext))) == f"bitext:{bitext}"
    assert str(parse_source(f"{pairs}@0.5")) == f"pairs:{pairs}@0.5"
    assert str(parse_source(str(toy_dir))) == str(toy_dir)  # a qa path stays as written (old fingerprints)


def test_an_existing_path_with_an_at_sign_is_a_path(tmp_path: Path) -> None:
    odd = tmp_path / "data@v2"
    odd.mkdir()
    assert parse_source(str(odd)).name == str(odd) and parse_source(str(odd)).weight is None
