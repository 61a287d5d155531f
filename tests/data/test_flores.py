"""FLORES-200: the fixed split by sentence id, the loader's checks, the language table, the held-out
list, the registry entry and the pinned downloader (offline, file:// URLs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hybridbatch.data import download as dl
from hybridbatch.data.afriqa import LANGUAGES as AFRIQA_LANGUAGES
from hybridbatch.data.download import DATASETS
from hybridbatch.data.flores import (
    DEV_IDS,
    METADATA,
    NUM_SENTENCES,
    TRAIN_IDS,
    load_flores,
    split_ids,
)
from hybridbatch.data.flores_languages import (
    CODES,
    DATASET_CODES,
    HELD_OUT,
    PIVOT,
    check_codes,
    dataset_code,
    flores_code,
    is_held_out,
    same_language,
    trainable_languages,
)
from hybridbatch.data.flores_sha256 import FLORES_SHA256
from hybridbatch.data.registry import load_collection, load_flores_split
from hybridbatch.errors import DataError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "flores200"
#: Small documents of 5 sentences each: sentence i belongs to document i // 5.
SENTENCES_PER_DOCUMENT = 5


def write_flores(
    root: Path, codes: tuple[str, ...] = ("eng_Latn", "deu_Latn", "swh_Latn", "hau_Latn")
) -> Path:
    """A fake FLORES-200 directory: ``devtest/<code>.devtest`` (1,012 aligned lines) and the metadata."""
    (root / "devtest").mkdir(parents=True, exist_ok=True)
    for code in codes:
        lines = [f"{code} sentence {i}: word{i % 37} thing{i % 11} item{i}" for i in range(NUM_SENTENCES)]
        (root / "devtest" / f"{code}.devtest").write_text("\n".join(lines) + "\n", "utf-8")
    rows = ["URL\tdomain\ttopic\thas_image\thas_hyperlink"]
    for i in range(NUM_SENTENCES):
        rows.append(f"https://en.wikinews.org/wiki/Doc_{i // SENTENCES_PER_DOCUMENT}\twikinews\tt\tno\tno")
    (root / METADATA).write_text("\n".join(rows) + "\n", "utf-8")
    return root


@pytest.fixture
def flores(tmp_path) -> Path:
    return write_flores(tmp_path / "flores200")


# --- the split ------------------------------------------------------------------------------------
def test_split_is_fixed_by_sentence_id() -> None:
    assert (TRAIN_IDS.start, TRAIN_IDS.stop, DEV_IDS.start, DEV_IDS.stop) == (0, 812, 812, 1012)
    assert set(TRAIN_IDS).isdisjoint(DEV_IDS) and len(TRAIN_IDS) + len(DEV_IDS) == NUM_SENTENCES
    with pytest.raises(DataError, match="unknown split 'test'"):
        split_ids("test")


def test_load_dev_is_aligned_with_documents(flores) -> None:
    dev = load_flores(flores, "dev")
    assert dev.languages == ["deu_Latn", "eng_Latn", "hau_Latn", "swh_Latn"]
    assert dev.ids == list(range(812, 1012)) and len(dev) == 200
    assert dev.sentences["deu_Latn"][0].startswith("deu_Latn sentence 812:")
    assert dev.sentences["eng_Latn"][-1].startswith("eng_Latn sentence 1011:")
    assert dev.documents[0] == f"https://en.wikinews.org/wiki/Doc_{812 // SENTENCES_PER_DOCUMENT}"
    assert dev.domains == ["wikinews"] * 200
    train = load_flores(flores, "train")
    assert train.ids == list(range(812)) and train.sentences["hau_Latn"][5].startswith("hau_Latn sentence 5:")


def test_languages_accept_dataset_codes_and_bring_english(flores) -> None:
    dev = load_flores(flores, "dev", ["de", "swa"])
    assert dev.languages == ["deu_Latn", "eng_Latn", "swh_Latn"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda r: _lines(r / "devtest/deu_Latn.devtest", drop=1),
            r"deu_Latn\.devtest: 1011 lines, expected 1012",
        ),
        (lambda r: (r / "devtest/hau_Latn.devtest").write_text(""), r"hau_Latn\.devtest: empty file"),
        (lambda r: _lines(r / "devtest/swh_Latn.devtest", blank=7), r"swh_Latn\.devtest:8: blank sentence"),
        (lambda r: (r / METADATA).unlink(), r"metadata_devtest\.tsv: no such file"),
        (lambda r: _lines(r / METADATA, blank=3), r"metadata_devtest\.tsv:4: expected tab-separated URL"),
        (lambda r: _lines(r / METADATA, drop=1), r"metadata_devtest\.tsv: 1011 sentence rows"),
        (
            lambda r: (r / "devtest/eng_Latn.devtest").write_bytes(b"\xff\xfe"),
            r"eng_Latn\.devtest: not valid UTF-8",
        ),
    ],
)
def test_damaged_files_name_file_and_line(flores, damage, message) -> None:
    damage(flores)
    with pytest.raises(DataError, match=message):
        load_flores(flores, "dev")


def test_unknown_or_missing_language(flores) -> None:
    with pytest.raises(DataError, match=r"unknown language code\(s\) xx_Latn"):
        load_flores(flores, "dev", ["xx_Latn"])
    with pytest.raises(DataError, match=r"no file for fra_Latn\.devtest"):
        load_flores(flores, "dev", ["fr"])
    (flores / "devtest" / "xyz_Latn.devtest").write_text("x\n")
    with pytest.raises(DataError, match=r"xyz_Latn\.devtest: unknown FLORES-200 language code 'xyz_Latn'"):
        load_flores(flores, "dev", ["de"])
    with pytest.raises(DataError, match=r"no <code>\.devtest files"):
        load_flores(flores.parent / "nothing", "dev")


def _lines(file: Path, drop: int = 0, blank: int | None = None) -> None:
    lines = file.read_text("utf-8").splitlines()
    if blank is not None:
        lines[blank] = "  "
    file.write_text("\n".join(lines[: len(lines) - drop]) + "\n", "utf-8")


# --- languages ------------------------------------------------------------------------------------
def test_codes_are_the_204_sorted_variants() -> None:
    assert len(CODES) == 204 and list(CODES) == sorted(set(CODES)) and PIVOT in CODES
    if SHARED.is_dir():
        assert sorted(p.name.removesuffix(".devtest") for p in (SHARED / "devtest").iterdir()) == list(CODES)


def test_held_out_rule() -> None:
    lareqa = {flores_code(lang) for name in ("xquad-r", "mlqa-r") for lang in DATASETS[name].languages}
    assert tuple(c for c in CODES[3::4] if c != PIVOT and c not in lareqa) == HELD_OUT
    assert set(CODES[3::4]) - set(HELD_OUT) == {"arb_Arab", "deu_Latn", "ell_Grek"}
    assert len(HELD_OUT) == 48 and PIVOT not in HELD_OUT
    trainable = trainable_languages()
    assert len(trainable) == 156 and PIVOT in trainable and set(trainable) | set(HELD_OUT) == set(CODES)
    assert set(trainable).isdisjoint(HELD_OUT)
    assert is_held_out("hau") and is_held_out("zul_Latn") and not is_held_out("de") and not is_held_out("xx")


def test_one_table_covers_every_dataset_language() -> None:
    ours = {*DATASETS["xquad-r"].languages, *DATASETS["mlqa-r"].languages, *AFRIQA_LANGUAGES}
    assert {lang for lang in ours if flores_code(lang) is None} == set()
    assert all(dataset_code(flores_code(lang)) == lang for lang in ours)  # type: ignore[arg-type]
    assert set(DATASET_CODES) <= set(CODES)
    aliases = [a for codes in DATASET_CODES.values() for a in codes]
    assert len(aliases) == len(set(aliases))
    assert flores_code("zh") == "zho_Hans" and flores_code("sw") == flores_code("swa") == "swh_Latn"
    assert (
        same_language("swa", "sw") and same_language("de", "deu_Latn") and not same_language("zh", "zho_Hant")
    )
    assert dataset_code("kas_Arab") == "kas_Arab" and check_codes(["de", "eng_Latn"]) == [
        "deu_Latn",
        "eng_Latn",
    ]


# --- registry and downloader ----------------------------------------------------------------------
@pytest.fixture
def upstream(tmp_path, monkeypatch):
    """A fake OPUS-MT-testsets flores200_dataset/ folder served from file:// URLs, pinned by sha256."""
    source = write_flores(tmp_path / "upstream" / "flores200_dataset", ("eng_Latn", "deu_Latn"))
    pins = {
        str(f.relative_to(source)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in source.rglob("*")
        if f.is_file()
    }
    monkeypatch.setattr("hybridbatch.data.flores_sha256.FLORES_SHA256", pins)
    monkeypatch.setattr(dl, "FLORES_URL", (tmp_path / "upstream").as_uri() + "/flores200_dataset/{path}")
    home = tmp_path / "home"
    monkeypatch.setenv("HYBRIDBATCH_DATA", str(home))
    return source, home


def test_pinned_upstream() -> None:
    assert dl.FLORES_COMMIT == "ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180"
    assert (
        "Helsinki-NLP/OPUS-MT-testsets/{commit}/datasets/facebook/flores/flores200_dataset/" in dl.FLORES_URL
    )
    assert set(FLORES_SHA256) == {METADATA, *(f"devtest/{c}.devtest" for c in CODES)}


def test_download_then_load(upstream) -> None:
    _, home = upstream
    dev = load_flores_split("dev", ["de"])
    assert (home / "flores200" / "devtest" / "deu_Latn.devtest").is_file()
    assert dev.languages == ["deu_Latn", "eng_Latn"] and len(dev) == 200


def test_checksum_mismatch_writes_nothing(upstream) -> None:
    source, home = upstream
    (source / "devtest" / "deu_Latn.devtest").write_text("changed\n")
    with pytest.raises(DataError, match="checksum mismatch"):
        load_flores_split("dev")
    assert not (home / "flores200" / "devtest" / "deu_Latn.devtest").exists()


def test_not_a_collection_and_unknown_split(upstream) -> None:
    for spec in ("flores200", "flores200:dev"):
        with pytest.raises(DataError, match="evaluate-retrieval --data flores200"):
            load_collection(spec)
    with pytest.raises(DataError, match="unknown split 'devtest'"):
        load_flores_split("devtest")
    assert not (upstream[1] / "flores200").exists()  # nothing downloaded for a bad split


@pytest.mark.skipif(not SHARED.is_dir(), reason="no local FLORES-200 copy")
def test_shared_copy_matches_the_pins_and_loads() -> None:
    for path, sha in FLORES_SHA256.items():
        assert hashlib.sha256((SHARED / path).read_bytes()).hexdigest() == sha, path
    dev = load_flores(SHARED, "dev", ["zh", "swa"])
    assert dev.languages == ["eng_Latn", "swh_Latn", "zho_Hans"] and len(dev) == 200
    assert len(set(load_flores(SHARED, "train", ["de"]).documents)) > 200
