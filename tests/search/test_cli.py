"""The index / search / serve / evaluate-retrieval commands, run in-process with builtin:tiny."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridbatch.cli import main

DOCS = [
    {"id": "a", "text": "The tower is in Paris.", "lang": "en"},
    {"id": "b", "text": "Der Turm ist in Paris.", "lang": "de"},
    {"id": "c", "text": "Anna wrote the book.", "lang": "en"},
]


def run(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["hybridbatch", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _reuse_tiny_model(monkeypatch, tiny_model) -> None:
    """Commands resolve ``builtin:tiny`` to the session's loaded model (loading it again takes seconds)."""
    import hybridbatch.models

    real = hybridbatch.models.load_model
    monkeypatch.setattr(
        hybridbatch.models,
        "load_model",
        lambda spec, *a, **kw: tiny_model if spec == "builtin:tiny" else real(spec, *a, **kw),
    )


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, tiny_model) -> Path:
    from hybridbatch.search import DenseIndex, Document

    docs = [Document(d["id"], d["text"], d["lang"]) for d in DOCS]
    return DenseIndex.build(tiny_model, docs).save(tmp_path_factory.mktemp("cli") / "ix")


def test_index_command_then_search_json(tmp_path: Path, monkeypatch, capsys, tiny_model) -> None:
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    out = tmp_path / "ix"
    args = ["index", "--model", "builtin:tiny", "--corpus", str(corpus), "--out", str(out)]
    code, stdout, _ = run(args, monkeypatch, capsys)
    assert code == 0 and "indexed 3 documents" in stdout
    code, stdout, _ = run(
        ["search", "--index", str(out), "Anna wrote the book.", "-k", "2", "--json"], monkeypatch, capsys
    )
    assert code == 0
    hits = json.loads(stdout)
    assert hits[0]["id"] == "c" and len(hits) == 2 and hits[0]["lang"] == "en"


def test_search_text_output_with_language(index_dir: Path, monkeypatch, capsys) -> None:
    code, out, _ = run(["search", "--index", str(index_dir), "Paris", "--lang", "de"], monkeypatch, capsys)
    assert code == 0 and out.strip().startswith("1.") and " b [de] " in out and out.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--index", "{ix}", "x", "--lang", "fr"], "no documents in language 'fr'"),
        (["search", "--index", "{tmp}", "x"], "not an index directory"),
        (["serve", "--index", "{tmp}", "--port", "0"], "not an index directory"),
        (
            ["index", "--model", "builtin:tiny", "--corpus", "{tmp}/none", "--out", "{tmp}/o"],
            "unknown dataset",
        ),
        (
            ["evaluate-retrieval", "--model", "builtin:tiny", "--data", "{tmp}", "--out", "{tmp}/o"],
            "not a BEIR dataset",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(index_dir: Path, monkeypatch, capsys, args, message) -> None:
    args = [a.format(ix=index_dir, tmp=index_dir.parent) for a in args]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2
    last = err.strip().splitlines()[-1]  # (model loading may print progress bars before)
    assert last.startswith("error: ") and message in last


def test_evaluate_retrieval_writes_reports(tmp_path: Path, monkeypatch, capsys, tiny_model) -> None:
    data = tmp_path / "toy"
    (data / "qrels").mkdir(parents=True)
    (data / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d["id"], "title": "", "text": d["text"]}) + "\n" for d in DOCS),
        encoding="utf-8",
    )
    (data / "queries.jsonl").write_text('{"_id": "q", "text": "Anna wrote the book."}\n', encoding="utf-8")
    (data / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq\tc\t1\n", encoding="utf-8")
    out = tmp_path / "out"
    args = [
        "evaluate-retrieval",
        "--model",
        "builtin:tiny",
        "--data",
        str(data),
        "--out",
        str(out),
        "-k",
        "1",
        "-k",
        "3",
    ]
    code, stdout, _ = run(args, monkeypatch, capsys)
    assert code == 0 and "nDCG@1" in stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["model"] == "builtin:tiny" and report["k_values"] == [1, 3]
    assert set(report["mean"]) == {f"{m}{k}" for m in ("ndcg", "r", "mrr") for k in (1, 3)}
    assert report["mean"]["r3"] == 1.0  # 3 documents: the relevant one is always in the top 3
    assert (out / "report.md").is_file()


def test_index_never_replaces_a_directory_it_did_not_create(tmp_path: Path, monkeypatch, capsys) -> None:
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    runs = tmp_path / "runs"
    (runs / "model").mkdir(parents=True)
    (runs / "notes.txt").write_text("mine", encoding="utf-8")
    args = ["index", "--model", "builtin:tiny", "--corpus", str(corpus), "--out", str(runs)]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2 and "pass --overwrite" in err
    assert sorted(p.name for p in runs.iterdir()) == ["model", "notes.txt"]
    code, _, _ = run([*args, "--overwrite"], monkeypatch, capsys)
    assert code == 0
    assert {"model", "notes.txt", "index.json"} <= {p.name for p in runs.iterdir()}
    assert (runs / "notes.txt").read_text(encoding="utf-8") == "mine"
    fresh = tmp_path / "ix"
    for _ in range(2):  # an index of its own is rebuilt in place without --overwrite
        code, _, _ = run([*args[:-1], str(fresh)], monkeypatch, capsys)
        assert code == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_index_finds_its_local_model_from_another_directory(tmp_path: Path, monkeypatch, capsys) -> None:
    from hybridbatch.models import builtin_path

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "runs").mkdir(parents=True)
    elsewhere.mkdir()
    (work / "runs" / "model").symlink_to(builtin_path("builtin:tiny"))
    (work / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    monkeypatch.chdir(work)
    args = ["index", "--model", "runs/model", "--corpus", "docs.jsonl", "--out", "runs/index"]
    assert run(args, monkeypatch, capsys)[0] == 0
    info = json.loads((work / "runs" / "index" / "index.json").read_text(encoding="utf-8"))
    assert info["model"] == str(work / "runs" / "model")
    monkeypatch.chdir(elsewhere)
    code, out, err = run(
        ["search", "--index", str(work / "runs" / "index"), "Anna", "--json"], monkeypatch, capsys
    )
    assert code == 0, err
    assert {hit["id"] for hit in json.loads(out)} == {"a", "b", "c"}
