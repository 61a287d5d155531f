"""DenseIndex: build, save, load, search, language filter, corpus sources."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hybridbatch.errors import DataError, ModelError
from hybridbatch.search import DenseIndex, Document, load_documents, read_documents_jsonl

TEXTS = {
    "en-tower": ("en", "The tower is in Paris."),
    "de-tower": ("de", "Der Turm ist in Paris."),
    "en-book": ("en", "Anna wrote the book."),
    "de-sold": ("de", "Es verkaufte sich 1990."),
    "es-tower": ("es", "La torre está en París."),
    "en-cats": ("en", "Cats sleep a lot."),
    "es-cat": ("es", "El gato duerme."),
    "en-river": ("en", "Rivers flow into the sea."),
}
DOCS = [Document(did, text, lang) for did, (lang, text) in TEXTS.items()]


@pytest.fixture(scope="module")
def index(tiny_model) -> DenseIndex:
    return DenseIndex.build(tiny_model, DOCS)


def test_build_records_metadata(index: DenseIndex) -> None:
    assert len(index) == len(DOCS) == index.index.ntotal
    assert index.info.model == "builtin:tiny"
    assert index.info.kind == "flat" and index.info.count == len(DOCS)
    assert index.info.languages == {"de": 2, "en": 4, "es": 2}
    assert index.info.prompts == {"query": "query: ", "passage": "passage: "}
    vectors = index.index.reconstruct_n(0, len(DOCS))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_document_searched_by_its_own_text_comes_first(index: DenseIndex) -> None:
    results = index.search([d.text for d in DOCS], k=3)
    assert [hits[0].id for hits in results] == [d.id for d in DOCS]
    for hits in results:
        assert len(hits) == 3
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert results[0][0].text == DOCS[0].text and results[0][0].lang == "en"


def test_scores_are_cosines_of_query_and_passage_embeddings(index: DenseIndex, tiny_model) -> None:
    hit = index.search("Cats sleep a lot.", k=1)[0][0]
    q = tiny_model.encode(["Cats sleep a lot."], prompt_name="query", normalize_embeddings=True)[0]
    d = tiny_model.encode([TEXTS[hit.id][1]], prompt_name="passage", normalize_embeddings=True)[0]
    assert hit.score == pytest.approx(float(q @ d), abs=1e-4)


def test_language_filter_and_k_larger_than_pool(index: DenseIndex) -> None:
    hits = index.search(["Der Turm ist in Paris."], k=50, lang="de")[0]
    assert {h.id for h in hits} == {"de-tower", "de-sold"}
    assert hits[0].id == "de-tower"
    assert len(index.search(["anything"], k=50)[0]) == len(DOCS)
    with pytest.raises(DataError, match="no documents in language 'fr'"):
        index.search(["x"], lang="fr")


def test_save_load_round_trip(index: DenseIndex, tiny_model, tmp_path: Path) -> None:
    out = index.save(tmp_path / "ix")
    names = sorted(p.name for p in out.iterdir())
    assert names == [".hybridbatch.json", "documents.jsonl", "index.faiss", "index.json"]
    loaded = DenseIndex.load(out, model=tiny_model)
    assert loaded.info == index.info
    assert loaded.documents == index.documents
    query = ["Where does Anna live?", "Paris"]
    assert loaded.search(query, k=4) == index.search(query, k=4)
    index.save(tmp_path / "ix")  # replacing an existing index works and leaves no temp dirs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_reduced_precision_encodes_documents_and_queries_alike(tiny_model, tmp_path: Path, precision) -> None:
    from hybridbatch.models.encoding import encode

    index = DenseIndex.build(tiny_model, DOCS, precision=precision)
    assert index.info.precision == precision
    stored = index.index.reconstruct_n(0, len(DOCS))
    np.testing.assert_allclose(
        stored, encode(tiny_model, [d.text for d in DOCS], "passage", precision=precision)
    )
    loaded = DenseIndex.load(index.save(tmp_path / "ix"), model=tiny_model)
    assert loaded.info.precision == precision
    queries = ["Where is the tower?", "Cats"]
    np.testing.assert_allclose(
        loaded.encode_queries(queries), encode(tiny_model, queries, "query", precision=precision)
    )
    assert not np.allclose(loaded.encode_queries(queries), encode(tiny_model, queries, "query"))
    with pytest.raises(Exception, match=r"^precision: unknown"):
        DenseIndex.build(tiny_model, DOCS, precision="fp16")


def test_save_into_a_foreign_directory_keeps_its_files(index: DenseIndex, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    (runs / "model").mkdir(parents=True)
    (runs / "notes.txt").write_text("mine", encoding="utf-8")
    index.save(runs)
    index.save(runs)
    names = sorted(p.name for p in runs.iterdir())
    assert names == [
        ".hybridbatch.json",
        "documents.jsonl",
        "index.faiss",
        "index.json",
        "model",
        "notes.txt",
    ]
    assert (runs / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert len(DenseIndex.load(runs)) == len(DOCS)


def test_a_local_model_is_recorded_by_absolute_path(tiny_model, tmp_path: Path, monkeypatch) -> None:
    from hybridbatch.models import builtin_path

    model_dir = tmp_path / "runs" / "model"
    model_dir.parent.mkdir()
    model_dir.symlink_to(builtin_path("builtin:tiny"))
    monkeypatch.chdir(tmp_path)
    built = DenseIndex.build(tiny_model, DOCS[:2], model_spec="runs/model")
    assert built.info.model == str(model_dir)
    assert DenseIndex.build(tiny_model, DOCS[:2], model_spec="org/hub-id").info.model == "org/hub-id"
    built.info = built.info.model_copy(update={"model": "gone/model/dir"})
    built._model = None
    with pytest.raises(ModelError, match="pass --model SPEC"):
        built.search("x")


def test_hnsw_index(tiny_model, tmp_path: Path) -> None:
    hnsw = DenseIndex.build(tiny_model, DOCS, hnsw=True)
    assert hnsw.info.kind == "hnsw"
    loaded = DenseIndex.load(hnsw.save(tmp_path / "h"), model=tiny_model)
    assert loaded.search(["Rivers flow into the sea."], k=1)[0][0].id == "en-river"
    assert {h.lang for h in loaded.search(["El gato duerme."], k=5, lang="es")[0]} == {"es"}


def test_load_errors(index: DenseIndex, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not an index directory"):
        DenseIndex.load(tmp_path)
    out = index.save(tmp_path / "ix")
    (out / "documents.jsonl").write_text('{"id": "a", "text": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"documents\.jsonl: 25 bytes, but index\.json records"):
        DenseIndex.load(out)
    _drop_checksums(out)  # an older index: the counts still have to agree
    with pytest.raises(DataError, match="inconsistent index"):
        DenseIndex.load(out)
    (out / "index.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DataError, match=r"index\.json: invalid index metadata"):
        DenseIndex.load(out)


def test_documents_from_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    rows = [{"id": "a", "text": "One.", "lang": "en"}, {"_id": 2, "title": "T", "text": "Two."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert load_documents(path) == [Document("a", "One.", "en"), Document("2", "T Two.", None)]
    path.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"docs.jsonl:2: duplicate document id 'a'"):
        read_documents_jsonl(path)
    path.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"docs.jsonl:1: field 'text' of document 'a' is missing or empty"):
        read_documents_jsonl(path)


def test_documents_from_a_parallel_collection(toy_dir: Path) -> None:
    docs = load_documents(toy_dir)
    assert {d.lang for d in docs} == {"de", "en", "es"}
    by_id = {d.id: d for d in docs}
    from hybridbatch.data import load_collection

    collection = load_collection(str(toy_dir))
    for lang, pool in collection.candidates.items():
        for i, cand in enumerate(pool):
            assert by_id[f"{lang}:{i}"].text == cand.text
    assert len(docs) == collection.num_candidates()


def test_documents_from_a_beir_dir(tmp_path: Path) -> None:
    root = tmp_path / "beir"
    root.mkdir()
    (root / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "Body."}\n', encoding="utf-8")
    assert load_documents(root) == [Document("d1", "T Body.", None)]


def test_unknown_corpus_spec() -> None:
    with pytest.raises(DataError, match="unknown dataset"):
        load_documents("no-such-corpus")


# --- damage: sizes and checksums recorded at build, verified on load (issue 24, item 11) -------------
def _garble(file: Path, count: int = 64) -> None:
    """Overwrite ``count`` bytes in the middle of ``file`` (same size) with their complement."""
    data = bytearray(file.read_bytes())
    middle = len(data) // 2
    data[middle : middle + count] = bytes(b ^ 0xFF for b in data[middle : middle + count])
    file.write_bytes(bytes(data))


def _drop_checksums(out: Path) -> None:
    """Make ``out`` look like an index written before checksums were recorded."""
    meta = json.loads((out / "index.json").read_text(encoding="utf-8"))
    del meta["files"]
    (out / "index.json").write_text(json.dumps(meta), encoding="utf-8")


def test_save_records_the_size_and_sha256_of_every_file(index: DenseIndex, tmp_path: Path) -> None:
    import hashlib

    out = index.save(tmp_path / "ix")
    files = json.loads((out / "index.json").read_text(encoding="utf-8"))["files"]
    assert sorted(files) == ["documents.jsonl", "index.faiss"]
    for name, recorded in files.items():
        data = (out / name).read_bytes()
        assert recorded == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert index.info.files is not None and DenseIndex.load(out).info == index.info


def test_a_garbled_faiss_file_is_refused_unless_unverified(index: DenseIndex, tmp_path: Path) -> None:
    out = index.save(tmp_path / "ix")
    _garble(out / "index.faiss")
    with pytest.raises(DataError, match=r"index\.faiss: SHA-256 differs from the one index\.json records"):
        DenseIndex.load(out)
    assert len(DenseIndex.load(out, verify=False)) == len(DOCS)  # --no-verify: sizes only
    (out / "index.faiss").write_bytes((out / "index.faiss").read_bytes()[:-8])
    with pytest.raises(DataError, match=r"index\.faiss: \d+ bytes, but index\.json records \d+"):
        DenseIndex.load(out, verify=False)


def test_a_changed_document_is_refused(index: DenseIndex, tmp_path: Path) -> None:
    out = index.save(tmp_path / "ix")
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Turm", "Tor ")  # same size, other text
    (out / "documents.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"documents\.jsonl: SHA-256 differs"):
        DenseIndex.load(out)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": None, "text": None, "lang": 5}, "field 'id' must be a non-empty string"),
        ({"id": "", "text": "x"}, "field 'id' must be a non-empty string"),
        ({"id": 7, "text": "x"}, "field 'id' must be a non-empty string"),
        ({"id": "x", "text": None}, "field 'text' of document 'x' must be a string"),
        ({"id": "x", "text": "y", "lang": 5}, "field 'lang' of document 'x' must be a string or null"),
    ],
)
def test_every_document_record_is_validated(index: DenseIndex, tmp_path: Path, record, message) -> None:
    out = index.save(tmp_path / "ix")
    _drop_checksums(out)  # without checksums only the record checks stand between a damaged file and a hit
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    lines[3] = json.dumps(record)
    (out / "documents.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"documents\.jsonl:4: {message}"):
        DenseIndex.load(out)


def test_garbled_metadata_is_one_data_error(index: DenseIndex, tmp_path: Path) -> None:
    out = index.save(tmp_path / "ix")
    raw = (out / "index.json").read_bytes()
    (out / "index.json").write_bytes(raw[:10] + b"\xff\xfe" + raw[12:])
    with pytest.raises(DataError, match=r"index\.json: invalid index metadata \(not UTF-8 at byte 10\)"):
        DenseIndex.load(out)
    (out / "index.json").write_bytes(raw.replace(b'"sha256": "', b'"sha256": "zz', 1))
    with pytest.raises(DataError, match=r"index\.json: invalid index metadata \(files\.[\w.]+sha256"):
        DenseIndex.load(out)


def test_an_index_without_checksums_loads_with_a_warning(index: DenseIndex, tmp_path: Path, caplog) -> None:
    out = index.save(tmp_path / "ix")
    _drop_checksums(out)
    with caplog.at_level("WARNING", logger="hybridbatch.search.storage"):
        loaded = DenseIndex.load(out)
    assert loaded.documents == index.documents and loaded.info.files is None
    assert "records no checksums" in caplog.text and "not verified" in caplog.text
