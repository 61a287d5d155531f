"""BEIR / MIRACL layout loading and its error messages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from hybridbatch.data.beir import is_beir_dir, load_beir
from hybridbatch.errors import DataError

CORPUS = [
    {"_id": "d1", "title": "Paris", "text": "The tower is in Paris."},
    {"_id": "d2", "title": "", "text": "Anna wrote the book."},
    {"_id": "d3", "title": "Rivers", "text": "Rivers flow into the sea."},
]
QUERIES = [{"_id": "q1", "text": "Where is the tower?"}, {"_id": "q2", "text": "Who wrote it?"}]


def write_beir(
    root: Path, corpus=CORPUS, queries=QUERIES, qrels="q1\td1\t1\nq2\td2\t2\n", split="dev"
) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus), encoding="utf-8")
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (root / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels, encoding="utf-8")
    return root


def test_loads_beir_layout(tmp_path: Path) -> None:
    ds = load_beir(write_beir(tmp_path / "toy"))
    assert is_beir_dir(tmp_path / "toy") and not is_beir_dir(tmp_path)
    assert ds.name == "toy" and ds.split == "dev" and len(ds) == 3
    assert ds.corpus_ids == ["d1", "d2", "d3"]
    assert ds.documents == [
        "Paris The tower is in Paris.",
        "Anna wrote the book.",
        "Rivers Rivers flow into the sea.",
    ]
    assert ds.queries == {"q1": "Where is the tower?", "q2": "Who wrote it?"}
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"d2": 2}}
    assert not ds.report.dropped


def test_keeps_only_judged_queries_of_the_split(tmp_path: Path) -> None:
    ds = load_beir(write_beir(tmp_path / "toy", qrels="q2\td2\t1\n"))
    assert list(ds.queries) == ["q2"]
    assert any("1 queries without" in f for f in ds.report.findings)


def test_unknown_ids_in_qrels_are_dropped_and_counted(tmp_path: Path) -> None:
    qrels = "q1\td1\t1\nq1\tmissing\t1\nq9\td1\t1\nq2\td2\t1\n"
    ds = load_beir(write_beir(tmp_path / "toy", qrels=qrels))
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}}
    assert ds.report.dropped == {"qrels document not in corpus": 1, "qrels query not in queries": 1}
    assert any("missing" in f for f in ds.report.findings)


def test_miracl_trec_layout(tmp_path: Path) -> None:
    root = tmp_path / "miracl-sw"
    (root / "topics").mkdir(parents=True)
    (root / "qrels").mkdir()
    with gzip.open(root / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
        for i, text in enumerate(["Nairobi ni mji mkuu.", "Simba ni mnyama."]):
            handle.write(json.dumps({"docid": f"{i}#0", "title": "T", "text": text}) + "\n")
    (root / "topics" / "topics.miracl-v1.0-sw-dev.tsv").write_text(
        "7\tMji mkuu?\n8\tSimba?\n", encoding="utf-8"
    )
    (root / "topics" / "topics.miracl-v1.0-sw-train.tsv").write_text("1\tOther\n", encoding="utf-8")
    (root / "qrels" / "qrels.miracl-v1.0-sw-dev.tsv").write_text(
        "7\tQ0\t0#0\t1\n7\tQ0\t1#0\t0\n8\tQ0\t1#0\t1\n", encoding="utf-8"
    )
    ds = load_beir(root, "dev")
    assert ds.corpus_ids == ["0#0", "1#0"]
    assert ds.queries == {"7": "Mji mkuu?", "8": "Simba?"}
    assert ds.qrels == {"7": {"0#0": 1, "1#0": 0}, "8": {"1#0": 1}}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: (r / "corpus.jsonl").unlink(), "no corpus.jsonl"),
        (lambda r: (r / "qrels" / "dev.tsv").unlink(), "no qrels/dev.tsv"),
        (
            lambda r: (r / "corpus.jsonl").write_text('{"_id": "d1", "text": "ok"}\n{"_id": "d2", "te\n'),
            "corpus.jsonl:2: malformed JSON",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text('{"title": "x", "text": "ok"}\n'),
            "corpus.jsonl:1: missing or empty field '_id'",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text('{"_id": "d1", "text": "  "}\n'),
            "corpus.jsonl:1: document 'd1' has an empty 'text'",
        ),
        (
            lambda r: (r / "corpus.jsonl").write_text(
                '{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n'
            ),
            "corpus.jsonl:2: duplicate document id 'd1'",
        ),
        (
            lambda r: (r / "queries.jsonl").write_text('{"_id": "q1", "text": ""}\n'),
            "queries.jsonl:1: query 'q1' has an empty 'text'",
        ),
        (
            lambda r: (r / "queries.jsonl").write_text('{"_id": "q1", "text": 3}\n'),
            "queries.jsonl:1: field 'text' is not a string",
        ),
        (
            lambda r: (r / "qrels" / "dev.tsv").write_text("q-id\tc-id\tscore\nq1\td1\thigh\n"),
            "dev.tsv:2: field 'score' is not a number",
        ),
        (
            lambda r: (r / "qrels" / "dev.tsv").write_text("q1 d1\n"),
            "dev.tsv:1: expected 'query-id corpus-id score'",
        ),
        (lambda r: (r / "qrels" / "dev.tsv").write_text("q1\tnope\t1\n"), "no qrels of split 'dev' match"),
        (lambda r: (r / "corpus.jsonl").write_bytes(b'{"_id": "d1", "text": "\xff"}\n'), "not valid UTF-8"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, mutate, expected: str) -> None:
    root = write_beir(tmp_path / "toy")
    mutate(root)
    with pytest.raises(DataError) as info:
        load_beir(root)
    assert expected in str(info.value)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a directory"):
        load_beir(tmp_path / "absent")
