"""Every known bad input: one ``error:`` line naming the flag or file, exit code 2, nothing touched.

One row per failure mode of issue 11 (and the data/model ones before it): ``(args, message
fragment)``. ``{t}`` is a scratch directory holding the files of :func:`scratch`. The commands run
in-process through ``cli.main``; every row fails before a model is loaded or anything is encoded
(model specs are ``{t}/no-model`` wherever the order matters, so that loading one would fail
with a different message).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_lareqa

NO_MODEL = "{t}/no-model"
DEEP = "[" * 100_000 + "]" * 100_000
BERT_CONFIG = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}


def scratch(t: Path) -> None:
    """The inputs the rows refer to."""
    (t / "runs" / "model").mkdir(parents=True)
    (t / "runs" / "notes.txt").write_text("my notes", encoding="utf-8")
    (t / "file.txt").write_text("mine", encoding="utf-8")
    (t / "empty.key").write_text("\n", encoding="utf-8")
    corpus = "".join(json.dumps({"id": f"d{i}", "text": f"text {i}"}) + "\n" for i in range(200))
    (t / "corpus.jsonl").write_text(corpus, encoding="utf-8")
    packed = gzip.compress(corpus.encode())
    (t / "truncated.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (t / "corrupt.jsonl.gz").write_bytes(packed[:20] + bytes(b ^ 0xFF for b in packed[20:40]) + packed[40:])
    (t / "deep.jsonl").write_text('{"id": "a", "text": ' + DEEP + "}\n", encoding="utf-8")
    (t / "deep-lareqa").mkdir()
    (t / "deep-lareqa" / "en.json").write_text(DEEP, encoding="utf-8")
    write_lareqa(t / "toy")
    _broken_models(t)
    (t / "binary.yaml").write_bytes(bytes(range(256)))
    (t / "unknown-key.yaml").write_text("strategies: [base]\nbogus_key: 1\n", encoding="utf-8")
    _bad_sources(t)


def _bad_sources(t: Path) -> None:
    """Damaged bitext and pairs sources (issue 21)."""
    for name, files in {
        "uneven": {"en.txt": "One.\nTwo.\n", "de.txt": "Eins.\n"},
        "empty-lang": {"en.txt": "One.\n", "de.txt": ""},
    }.items():
        (t / name).mkdir()
        for file, text in files.items():
            (t / name / file).write_text(text, encoding="utf-8")
    record = {"query_id": "q1", "lang": "en", "query": "Where?", "passage_id": "p1"}
    (t / "no-passage.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")


def _broken_models(t: Path) -> None:
    for name in ("bad-modules", "bad-config", "bad-weights", "no-weights"):
        (t / name).mkdir()
    (t / "bad-modules" / "modules.json").write_text("{bad", encoding="utf-8")
    (t / "bad-config" / "config.json").write_text("{bad", encoding="utf-8")
    for name in ("bad-weights", "no-weights"):
        (t / name / "config.json").write_text(json.dumps(BERT_CONFIG), encoding="utf-8")
    (t / "bad-weights" / "model.safetensors").write_bytes(b"garbage, not safetensors")


INDEX = ["index", "--model", NO_MODEL, "--corpus", "{t}/corpus.jsonl"]
EVALUATE = ["evaluate", "--model", NO_MODEL, "--data", "{t}/toy"]
RETRIEVAL = ["evaluate-retrieval", "--model", NO_MODEL, "--data", "{t}/toy"]
TRAIN = ["train", "--model", "builtin:tiny", "--data", "{t}/toy", "--steps", "1", "--batch-size", "2"]
SERVE = ["serve", "--index", "{t}/runs", "--port", "0"]
TRANSLATE = ["data", "translate", "{t}/toy", "--engine", "apertium"]
COMPARE = ["compare", "--model", "builtin:tiny", "--train", "{t}/toy", "--eval", "{t}/toy", "--budget", "1"]
SOURCES = ["train", "--model", NO_MODEL, "--steps", "1", "--batch-size", "2", "--out", "{t}/run", "--data"]
BATCHES = ["batches", "--data", "{t}/toy", "--steps", "3", "--batch-size", "2"]

CASES: list[tuple[list[str], str] | object] = [
    # --- output locations: validated before the model is loaded, never replaced -------------
    ([*INDEX, "--out", "{t}/runs"], "not a hybridbatch index; pass --overwrite"),
    ([*INDEX, "--out", "{t}/file.txt"], "--out {t}/file.txt: is an existing file"),
    ([*INDEX, "--out", "{t}/file.txt/index"], "{t}/file.txt is a file, not a directory"),
    ([*INDEX, "--out", ""], "--out: empty path"),
    ([*INDEX, "--out", "."], "--out .: refusing to write into the current directory"),
    ([*INDEX, "--out", "/sys/hybridbatch-index"], "--out /sys/hybridbatch-index: cannot write in /sys"),
    ([*EVALUATE, "--out", "{t}/runs"], "not a hybridbatch evaluation; pass --overwrite"),
    ([*EVALUATE, "--out", "{t}/file.txt"], "is an existing file"),
    ([*EVALUATE, "--out", "{t}/file.txt/report"], "is a file, not a directory"),
    ([*EVALUATE, "--out", ""], "--out: empty path"),
    ([*EVALUATE, "--out", "."], "current directory"),
    ([*EVALUATE, "--out", "/sys/hybridbatch-report"], "cannot write in /sys"),
    ([*EVALUATE, "--out", "{t}/new", "--cache", "{t}/file.txt"], "--cache {t}/file.txt: is an existing file"),
    ([*RETRIEVAL, "--out", "{t}/runs"], "not a hybridbatch retrieval-evaluation; pass --overwrite"),
    ([*RETRIEVAL, "--out", "{t}/file.txt"], "is an existing file"),
    ([*RETRIEVAL, "--out", ""], "--out: empty path"),
    ([*RETRIEVAL, "--out", "."], "current directory"),
    ([*RETRIEVAL, "--out", "{t}/file.txt/report"], "is a file, not a directory"),
    ([*RETRIEVAL, "--out", "/sys/hybridbatch-report"], "cannot write in /sys"),
    (["data", "export", "{t}/toy", "{t}/file.txt"], "OUT {t}/file.txt: file exists; pass --overwrite"),
    (["data", "export", "{t}/toy", "{t}/runs", "--overwrite"], "OUT {t}/runs: is a directory"),
    (["data", "export", "{t}/toy", "{t}/file.txt/x.jsonl"], "is a file, not a directory"),
    (["data", "export", "{t}/toy", ""], "OUT: empty path"),
    (["data", "export", "{t}/toy", "/dev/null", "--overwrite"], "OUT /dev/null: is not a regular file"),
    # batches --out and train --log-batches: the same checks, before any data or model is loaded (issue 24)
    ([*BATCHES, "--out", "{t}/file.txt/plan.jsonl"], "plan.jsonl: {t}/file.txt is a file, not a directory"),
    ([*BATCHES, "--out", "{t}/runs"], "--out {t}/runs: is a directory; give a file name"),
    ([*BATCHES, "--out", "/sys/plan.jsonl"], "--out /sys/plan.jsonl: cannot write in /sys"),
    ([*BATCHES, "--out", "{t}/file.txt"], "--out {t}/file.txt: file exists; pass --overwrite"),
    ([*TRAIN, "--log-batches", "{t}/runs", "--out", "{t}/run"], "--log-batches {t}/runs: is a directory"),
    ([*TRAIN, "--log-batches", "{t}/file.txt/b.jsonl", "--out", "{t}/run"], "file.txt is a file, not a"),
    ([*TRAIN, "--log-batches", "/sys/b.jsonl", "--out", "{t}/run"], "--log-batches /sys/b.jsonl: cannot"),
    (
        [*TRAIN, "--log-batches", "{t}/file.txt", "--out", "{t}/run"],
        "--log-batches {t}/file.txt: file exists",
    ),
    # --- data translate (issue 23): flags, output, source side, engine; before any translation ---
    ([*TRANSLATE, "--to", "xx", "--out", "{t}/new"], "unknown language code 'xx' for --to"),
    ([*TRANSLATE, "--to", "es,en", "--out", "{t}/new"], "--to includes the source language 'en'"),
    ([*TRANSLATE, "--to", "es", "--from", "zz", "--out", "{t}/new"], "unknown language code 'zz' for --from"),
    ([*TRANSLATE, "--to", "es", "--from", "gl", "--out", "{t}/new"], "no questions in language 'gl'"),
    ([*TRANSLATE, "--to", "es", "--engine", "deepl", "--out", "{t}/new"], "--engine: unknown engine 'deepl'"),
    ([*TRANSLATE, "--to", "es", "--engine", "hf:{t}/no-model", "--out", "{t}/new"], "cannot load model"),
    ([*TRANSLATE, "--to", "es", "--limit", "0", "--out", "{t}/new"], "--limit"),
    ([*TRANSLATE, "--to", "es", "--max-untranslated", "2", "--out", "{t}/new"], "--max-untranslated"),
    ([*TRANSLATE, "--to", "es", "--out", "{t}/runs"], "not a hybridbatch translation; pass --overwrite"),
    ([*TRANSLATE, "--to", "es", "--out", "{t}/file.txt"], "is an existing file"),
    # --- unknown precisions (issue 13) -------------------------------------------------------
    ([*INDEX, "--out", "{t}/new", "--precision", "fp16"], "--precision: unknown 'fp16'"),
    ([*EVALUATE, "--out", "{t}/new", "--precision", "int4"], "--precision: unknown 'int4'"),
    ([*COMPARE, "--out", "{t}/new", "--precision", "fp64"], "--precision"),
    ([*EVALUATE, "--out", "{t}/new", "--precision", "onnx"], "--precision: unknown 'onnx' (choose from"),
    ([*INDEX, "--out", "{t}/new", "--precision", "Auto"], "--precision: unknown 'Auto'"),
    # --- flags generated from each command's settings model (issue 20): the flag as spelled -----
    (["evaluate", "--data", "{t}/toy", "--out", "{t}/new"], "setting '--model' is required"),
    ([*EVALUATE, "--out", "{t}/new", "--batch-size", "0"], "--batch-size: batch size must be >= 1, got 0"),
    ([*INDEX, "--out", "{t}/new", "--neutralize", "pca"], "--neutralize: unknown method 'pca'"),
    ([*RETRIEVAL, "--out", "{t}/new", "-k", "0"], "-k: cutoffs must be >= 1, got 0"),
    ([*SERVE, "--port", "70000"], "--port: port must be in [0, 65535], got 70000"),
    ([*TRAIN, "--threads", "0", "--out", "{t}/run"], "--threads: num threads must be >= 1, got 0"),
    # --- corrupt and hostile input files ----------------------------------------------------
    ([*INDEX[:4], "{t}/truncated.jsonl.gz", "--out", "{t}/new"], "truncated.jsonl.gz: cannot read"),
    ([*INDEX[:4], "{t}/corrupt.jsonl.gz", "--out", "{t}/new"], "corrupt.jsonl.gz: cannot read (corrupt gzip"),
    ([*INDEX[:4], "{t}/deep.jsonl", "--out", "{t}/new"], "deep.jsonl:1: JSON nested too deeply"),
    (["data", "info", "{t}/deep.jsonl"], "deep.jsonl:1: JSON nested too deeply"),
    (["data", "info", "{t}/deep-lareqa"], "en.json: JSON nested too deeply"),
    # --- broken model directories -----------------------------------------------------------
    (
        ["index", "--model", "{t}/bad-modules", "--corpus", "{t}/corpus.jsonl", "--out", "{t}/new"],
        "bad-modules cannot be loaded",
    ),
    (
        ["index", "--model", "{t}/bad-config", "--corpus", "{t}/corpus.jsonl", "--out", "{t}/new"],
        "bad-config cannot be loaded",
    ),
    (
        ["index", "--model", "{t}/bad-weights", "--corpus", "{t}/corpus.jsonl", "--out", "{t}/new"],
        "bad-weights cannot be loaded",
    ),
    (
        ["index", "--model", "{t}/no-weights", "--corpus", "{t}/corpus.jsonl", "--out", "{t}/new"],
        "no-weights cannot be loaded",
    ),
    ([*EVALUATE[:2], "{t}/bad-weights", *EVALUATE[3:], "--out", "{t}/new"], "bad-weights cannot be loaded"),
    (["models", "info", "{t}/bad-modules"], "bad-modules cannot be loaded"),
    (["search", "--index", "{t}/runs", "query"], "not an index directory"),
    (["search", "--index", "{t}/runs", "  "], "QUERY: empty query text"),
    # --- serve: access flags (issue 24), checked before the index and the model load ---------
    ([*SERVE, "--host", "0.0.0.0"], "--host 0.0.0.0: not a loopback address; give an API key"),
    ([*SERVE, "--api-key-file", "{t}/none.key"], "--api-key-file {t}/none.key: cannot read the API key"),
    ([*SERVE, "--api-key-file", "{t}/empty.key"], "--api-key-file {t}/empty.key: no API key in it"),
    ([*SERVE, "--api-key-file", "{t}/file.txt"], "an API key must be at least 16 characters"),
    ([*SERVE, "--ssl-certfile", "{t}/file.txt"], "--ssl-certfile and --ssl-keyfile go together"),
    ([*SERVE, "--max-connections", "0"], "--max-connections"),
    ([*SERVE, "--send-timeout", "inf"], "--send-timeout"),
    # --- train / compare settings (issue 11: non-finite numbers, seeds, devices, YAML) --------
    ([*TRAIN, "--lr", "inf", "--out", "{t}/run"], "--lr"),
    ([*TRAIN, "--lr", "nan", "--out", "{t}/run"], "--lr"),
    ([*TRAIN, "--temperature", "inf", "--out", "{t}/run"], "--temperature"),
    ([*TRAIN, "--seed", "-1", "--out", "{t}/run"], "--seed"),
    ([*TRAIN, "--seed", str(2**70), "--out", "{t}/run"], "--seed"),
    ([*TRAIN, "--device", "foo", "--out", "{t}/run"], "--device"),
    ([*TRAIN, "--device", "cuda:7", "--out", "{t}/run"], "--device"),
    ([*TRAIN, "--config", "{t}/binary.yaml", "--out", "{t}/run"], "binary.yaml"),
    ([*TRAIN, "--out", "{t}/runs"], "pass --overwrite"),
    ([*TRAIN, "--out", "{t}/file.txt"], "is an existing file"),
    # --- distillation and parameter-efficient training (issue 22) ----------------------------
    ([*TRAIN, "--distill-weight", "-0.5", "--out", "{t}/run"], "--distill-weight: distill weight must be >="),
    ([*TRAIN, "--distill-weight", "inf", "--out", "{t}/run"], "--distill-weight: distill weight must be a"),
    ([*TRAIN, "--distill-weight", "nan", "--out", "{t}/run"], "--distill-weight: distill weight must be a"),
    ([*TRAIN, "--lora-rank", "0", "--out", "{t}/run"], "--lora-rank: lora rank must be >= 1, got 0"),
    ([*TRAIN, "--freeze-layers", "3", "--out", "{t}/run"], "--freeze-layers: 3 is more than the model's 2"),
    ([*TRAIN, "--freeze-layers", "1", "--lora-rank", "2", "--out", "{t}/run"], "--freeze-layers: give it or"),
    (
        [*TRAIN, "--lora-rank", "2", "--lora-target-modules", "qkv", "--out", "{t}/run"],
        "--lora-target-modules: qkv match no module of the model",
    ),
    (
        [*TRAIN, "--distill-weight", "1", "--distill-mode", "english", "--languages", "de,es", "--out", "r"],
        "--distill-mode english: training source '{t}/toy' has no English side",
    ),
    ([*TRAIN, "--distill-data", "xquad-r", "--out", "{t}/run"], "--distill-data: xquad-r is an evaluation"),
    ([*TRAIN, "--distill-data", "{t}/toy@0.5", "--out", "{t}/run"], "--distill-data: '{t}/toy@0.5': a dist"),
    ([*TRAIN, "--distill-data", "nope:x", "--out", "{t}/run"], "--distill-data: unknown source kind 'nope'"),
    ([*TRAIN, "--distill-weight", "1", "--distill-teacher", NO_MODEL, "--out", "r"], "--distill-teacher"),
    ([*COMPARE, "--strategies", "", "--out", "{t}/cmp"], "--strategies"),
    ([*COMPARE, "--alpha", "1.5", "--out", "{t}/cmp"], "--alpha: alpha must be in [0, 1], got 1.5"),
    ([*COMPARE, "--strategies", "xx,mono", "--out", "{t}/cmp"], "--strategies: a value is listed twice"),
    ([*COMPARE, "--config", "{t}/unknown-key.yaml", "--out", "{t}/cmp"], "bogus_key"),
    ([*COMPARE[:4], "{t}/no-such-data", *COMPARE[5:], "--out", "{t}/cmp"], "no-such-data"),
    ([*COMPARE, "--out", "{t}/runs"], "pass --overwrite"),
    # --- training sources (issue 21): spec, weight, damaged files, FLORES codes; before any model ---
    ([*SOURCES, "foo:{t}/toy"], "--data: unknown source kind 'foo'"),
    ([*SOURCES, "{t}/toy@0"], "--data: weight of source '{t}/toy@0' must be a finite number > 0, got 0.0"),
    ([*SOURCES, "{t}/toy@-1"], "must be a finite number > 0"),
    ([*SOURCES, "{t}/toy@inf"], "must be a finite number > 0, got inf"),
    ([*SOURCES, "{t}/toy@nan"], "must be a finite number > 0, got nan"),
    ([*SOURCES, "{t}/toy@heavy"], "weight 'heavy' of source '{t}/toy@heavy' is not a number"),
    ([*SOURCES, "flores200:test"], "--data: flores200: unknown split 'test'"),
    ([*SOURCES, "flores200:dev"], "--data: flores200:dev is an evaluation-only dataset"),
    ([*SOURCES, "bitext:{t}/uneven"], "uneven/en.txt: 2 lines, but de.txt has 1"),
    ([*SOURCES, "bitext:{t}/empty-lang"], "empty-lang/de.txt: empty language file"),
    ([*SOURCES, "pairs:{t}/no-passage.jsonl"], "no-passage.jsonl:1: missing field 'passage'"),
    ([*SOURCES, "flores200:train", "--languages", "en,xyz_Latn"], "unknown language code(s) xyz_Latn"),
    ([*SOURCES, "flores200:train", "--languages", "en,hau"], "hau is held out"),
    ([*COMPARE, "--out", "{t}/cmp"], "shares 11 question texts and 11 answer sentences with evaluation set"),
]


def _expand(args: list[str], t: Path) -> list[str]:
    return [a.replace("{t}", str(t)) for a in args]


def _case_id(args: list[str]) -> str:
    shown = [a for a in args if a not in (NO_MODEL, "builtin:tiny", "{t}/toy", "{t}/corpus.jsonl", "1", "2")]
    return " ".join(a.replace("{t}/", "") or "''" for a in shown)


def _params(cases: list) -> list:
    return [
        pytest.param(*case.values, marks=case.marks, id=_case_id(case.values[0]))
        if hasattr(case, "values")
        else pytest.param(*case, id=_case_id(case[0]))
        for case in cases
    ]


@pytest.mark.parametrize(("args", "fragment"), _params(CASES))
def test_bad_input_is_one_error_line_exit_2(cli, tmp_path, monkeypatch, args, fragment) -> None:
    scratch(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    code, _, err = cli(*_expand(args, tmp_path))
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment.replace("{t}", str(tmp_path)) in lines[0]
    assert _snapshot(tmp_path) == before  # nothing the user had was changed, nothing was left behind


# --- FLORES-200 bitext evaluation (issue 21): damaged files and bad flags, before any model ---------
FLORES = ["evaluate-retrieval", "--model", NO_MODEL, "--data", "flores200:dev"]
FLORES_DAMAGE = {
    "short": lambda r: (r / "devtest/deu_Latn.devtest").write_text("Ein Satz.\n" * 1011, encoding="utf-8"),
    "empty": lambda r: (r / "devtest/hau_Latn.devtest").write_text("", encoding="utf-8"),
    "unknown code": lambda r: (r / "devtest/xyz_Latn.devtest").write_text("x\n", encoding="utf-8"),
    "metadata": lambda r: (r / "metadata_devtest.tsv").write_text("URL\tdomain\ttopic\n\n", encoding="utf-8"),
}
FLORES_CASES = [
    ("short", FLORES, "deu_Latn.devtest: 1011 lines, expected 1012"),
    ("empty", FLORES, "hau_Latn.devtest: empty file"),
    ("unknown code", FLORES, "xyz_Latn.devtest: unknown FLORES-200 language code 'xyz_Latn'"),
    ("metadata", FLORES, "metadata_devtest.tsv: 1 sentence rows, expected 1012"),
    (None, [*FLORES[:4], "flores200:test"], "--data flores200:test: FLORES-200 has no split 'test'"),
    (None, [*FLORES, "--split", "train"], "--data flores200:dev and --split train disagree"),
    (None, [*FLORES, "-k", "5"], "-k: FLORES-200 reports top-1 accuracy only"),
    (None, [*FLORES, "--out", "{t}/runs"], "not a hybridbatch retrieval-evaluation; pass --overwrite"),
    (
        None,
        [*RETRIEVAL, "--reference", "builtin:tiny", "--out", "{t}/new"],
        "--reference: only for --data flores200",
    ),
]


@pytest.mark.parametrize(
    ("damage", "args", "fragment"), FLORES_CASES, ids=lambda v: v if isinstance(v, str) else None
)
def test_bad_flores_input_is_one_error_line_exit_2(
    cli, tmp_path, monkeypatch, damage, args, fragment
) -> None:
    import hashlib

    from data.test_flores import write_flores

    root = write_flores(tmp_path / "home" / "flores200")
    pins = {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in root.rglob("*.*")}
    monkeypatch.setattr("hybridbatch.data.flores_sha256.FLORES_SHA256", pins)  # no download
    monkeypatch.setenv("HYBRIDBATCH_DATA", str(tmp_path / "home"))
    if damage is not None:
        FLORES_DAMAGE[damage](root)
    scratch(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    code, _, err = cli(*_expand(args, tmp_path))
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment.replace("{t}", str(tmp_path)) in lines[0]
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["models", "build", "builtin:tiny", "--force"], "cannot build builtin:tiny into {home}/models/tiny"),
        ([*EVALUATE, "--out", "{t}/new"], "--cache {home}/embeddings: "),
    ],
    ids=["models build", "evaluate"],
)
@pytest.mark.parametrize("home", ["/sys/hybridbatch-home", "{t}/file.txt"], ids=["unwritable", "a file"])
def test_an_unusable_hybridbatch_home_is_one_error_line(
    cli, tmp_path, monkeypatch, args, fragment, home
) -> None:
    scratch(tmp_path)
    home = home.replace("{t}", str(tmp_path))
    monkeypatch.setenv("HYBRIDBATCH_HOME", home)
    code, _, err = cli(*_expand(args, tmp_path))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert fragment.replace("{home}", home) in lines[0]


# --- damaged indexes (issue 24): refused before the model ({t}/no-model) is loaded ------------------
DAMAGED_INDEXES = [
    (["search", "--index", "{t}/garbled-faiss", "q"], "garbled-faiss/index.faiss: SHA-256 differs"),
    (["serve", "--index", "{t}/garbled-faiss", "--port", "0"], "garbled-faiss/index.faiss: SHA-256 differs"),
    (["search", "--index", "{t}/null-document", "q"], "null-document/documents.jsonl: 173 bytes, but index"),
    (["search", "--index", "{t}/old-null-document", "q", "--no-verify"], "jsonl:2: field 'id' must be a"),
    (
        ["search", "--index", "{t}/old-number-lang", "q", "--no-verify"],
        "jsonl:1: field 'lang' of document 'd0'",
    ),
    (["search", "--index", "{t}/garbled-meta", "q"], "garbled-meta/index.json: invalid index metadata (not"),
    (["search", "--index", "{t}/truncated-faiss", "q", "--no-verify"], "index.faiss: 100 bytes, but index"),
    # --no-verify skips the checksums: the garbled index gets as far as loading its model
    (["search", "--index", "{t}/garbled-faiss", "q", "--no-verify"], "model path {t}/no-model does not"),
    (["serve", "--index", "{t}/garbled-faiss", "--port", "0", "--no-verify"], "{t}/no-model does not"),
]


def damaged_indexes(t: Path) -> None:
    """A 4-document index whose model is ``{t}/no-model``, and damaged copies of it."""
    import shutil

    import faiss
    import numpy as np

    from hybridbatch.search.corpus import Document
    from hybridbatch.search.storage import IndexInfo, write_index

    flat = faiss.IndexFlatIP(4)
    flat.add(np.eye(4, dtype=np.float32))
    docs = [Document(f"d{i}", f"text {i}", "en") for i in range(4)]
    meta = {"model": str(t / "no-model"), "dim": 4, "count": 4, "prompts": {}, "languages": {"en": 4}}
    write_index(t / "ix", flat, docs, IndexInfo(**meta, created="2026-01-01T00:00:00+00:00"))
    damage = {
        "garbled-faiss": lambda d: _rewrite(d / "index.faiss", lambda b: b[:40] + bytes(64) + b[104:]),
        "null-document": lambda d: _rewrite(d / "documents.jsonl", _null_second_line),
        "old-null-document": lambda d: _rewrite(d / "documents.jsonl", _null_second_line),
        "old-number-lang": lambda d: _rewrite(d / "documents.jsonl", lambda b: b.replace(b'"en"', b"5", 2)),
        "garbled-meta": lambda d: _rewrite(d / "index.json", lambda b: b[:10] + b"\xff\xfe" + b[12:]),
        "truncated-faiss": lambda d: _rewrite(d / "index.faiss", lambda b: b[:100]),
    }
    for name, spoil in damage.items():
        shutil.copytree(t / "ix", t / name)
        if name.startswith("old-"):  # written before checksums were recorded
            _rewrite(t / name / "index.json", lambda b: json.dumps({**json.loads(b), "files": None}).encode())
        spoil(t / name)


def _rewrite(file: Path, change) -> None:
    file.write_bytes(change(file.read_bytes()))


def _null_second_line(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join([lines[0], b'{"id": null, "text": null, "lang": 5}\n', *lines[2:]])


@pytest.mark.parametrize(("args", "fragment"), _params(DAMAGED_INDEXES))
def test_a_damaged_index_is_one_error_line_exit_2(cli, tmp_path, monkeypatch, args, fragment) -> None:
    damaged_indexes(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    code, _, err = cli(*_expand(args, tmp_path))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment.replace("{t}", str(tmp_path)) in lines[0]
    assert _snapshot(tmp_path) == before


ONNX_CASES = [[*EVALUATE, "--out", "{t}/new"], [*INDEX, "--out", "{t}/new"]]


@pytest.mark.parametrize("args", ONNX_CASES, ids=_case_id)
def test_onnx_without_onnxruntime_says_what_to_install(cli, tmp_path, monkeypatch, args) -> None:
    import importlib.util

    scratch(tmp_path)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "onnxruntime" else real(n, *a)
    )
    code, _, err = cli(*_expand([*args, "--precision", "onnx-int8"], tmp_path))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("error: --precision onnx-int8: onnxruntime not installed (pip install")
    assert "onnxruntime==" in lines[0]


def _snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))
    }


def test_no_arguments_shows_help_not_an_empty_error(cli) -> None:
    code, out, err = cli()
    assert code == 2
    assert "Usage: hybridbatch" in out + err and "Commands:" in out + err
    assert "error:" not in out + err


def test_help_keeps_every_option_name_and_shows_defaults(cli) -> None:
    code, out, _ = cli("evaluate", "--help")
    assert code == 0 and "[default: 64" in out and "--overwrite" in out
    code, out, _ = cli("train", "--help")
    assert code == 0
    for name in (
        "--languages-per-batch",
        "--cross-device-negatives",
        "--freeze-embeddings",
        "--checkpoint-every",
    ):
        assert name in out


def test_train_help_shows_the_settings_defaults(cli) -> None:
    code, out, _ = cli("train", "--help")
    assert code == 0 and "[default: 3e-05]" in out.replace("3e-5", "3e-05")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return set(done.stdout.split())


HEAVY = {"torch", "transformers", "sentence_transformers", "faiss", "datasets", "matplotlib", "scipy"}


def test_the_cli_imports_no_heavy_library_up_front() -> None:
    assert not _modules_after("import hybridbatch.cli") & HEAVY


def test_a_bad_train_flag_is_rejected_before_torch_is_imported(tmp_path) -> None:
    write_lareqa(tmp_path / "toy")
    argv = [
        "hybridbatch",
        "train",
        "--data",
        str(tmp_path / "toy"),
        "--lr",
        "inf",
        "--out",
        str(tmp_path / "r"),
    ]
    code = (
        f"from hybridbatch.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 2, exc.code\n"
    )
    assert "torch" not in _modules_after(code)
