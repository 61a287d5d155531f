"""The downloader of named datasets, offline: file:// URLs and fake openers."""

from __future__ import annotations

import hashlib
import io
import urllib.error

import pytest

from conftest import write_lareqa
from hybridbatch.data import download as dl
from hybridbatch.data import load_collection
from hybridbatch.errors import DataError


@pytest.fixture
def upstream(tmp_path, monkeypatch):
    """A fake upstream (file:// URLs) for 'xquad-r' holding the toy files, pinned by sha256."""
    source = write_lareqa(tmp_path / "upstream" / "xquad-r")
    sha = {f.stem: hashlib.sha256(f.read_bytes()).hexdigest() for f in source.glob("*.json")}
    template = (tmp_path / "upstream").as_uri() + "/{directory}/{lang}.json"
    fake = dl.NamedDataset("xquad-r", "0" * 40, "xquad-r", sha, url_template=template)
    monkeypatch.setitem(dl.DATASETS, "xquad-r", fake)
    home = tmp_path / "home"
    monkeypatch.setenv("HYBRIDBATCH_DATA", str(home))
    return source, home


def test_download_then_load(upstream):
    source, home = upstream
    collection = load_collection("xquad-r")
    assert collection.name == "xquad-r" and collection.languages == ["de", "en", "es"]
    for f in source.glob("*.json"):
        assert (home / "xquad-r" / f.name).read_bytes() == f.read_bytes()
    assert not list((home / "xquad-r").glob(".*"))  # no temporary files left


def test_only_missing_languages_are_fetched(upstream):
    _, home = upstream
    fetched = []

    def opener(url):
        fetched.append(url.rsplit("/", 1)[1])
        return open(url.removeprefix("file://"), "rb")

    dl.ensure_dataset("xquad-r", home, languages=["en"], opener=opener, progress=False)
    dl.ensure_dataset("xquad-r", home, opener=opener, progress=False)
    assert fetched == ["en.json", "de.json", "es.json"]


def test_checksum_mismatch_writes_nothing(upstream):
    source, home = upstream
    (source / "de.json").write_text('{"data": []}', encoding="utf-8")
    with pytest.raises(DataError, match=r"checksum mismatch.*de\.json"):
        dl.ensure_dataset("xquad-r", home, progress=False)
    assert not (home / "xquad-r" / "de.json").exists()


def test_offline_gives_a_clear_error(upstream, monkeypatch, cli):
    def offline(url):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(dl, "_urlopen", offline)
    code, _, err = cli("data", "info", "xquad-r")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: cannot download") and "set HYBRIDBATCH_DATA to a local copy" in err


def test_progress_bar_reads_in_chunks():
    payload = b"x" * (dl.CHUNK * 2 + 5)
    assert dl._read_with_progress(io.BytesIO(payload), "f", progress=False) == payload


def test_unknown_language():
    with pytest.raises(DataError, match=r"no language.*fr.*available"):
        dl.ensure_dataset("mlqa-r", dl.Path("/nonexistent"), languages=["fr"])


def test_pinned_checksums_match_the_local_mirror(shared_data):
    for dataset in dl.DATASETS.values():
        files = sorted(p.stem for p in (shared_data / dataset.directory).glob("*.json"))
        assert files == dataset.languages
        for lang in files:
            data = (shared_data / dataset.directory / f"{lang}.json").read_bytes()
            assert hashlib.sha256(data).hexdigest() == dataset.sha256[lang], lang
    assert dl.DATASETS["mlqa-r"].url("de") == (
        "https://raw.githubusercontent.com/google-research-datasets/lareqa/"
        "354d67d1cd066854cdfbf5ad0e6105528976141d/mlqa-r/de.json"
    )
