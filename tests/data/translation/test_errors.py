"""Bad input to ``data translate``: one ``error:`` line, exit 2, nothing translated, no output left."""

from __future__ import annotations

import json

import pytest

from conftest import TOY, write_lareqa
from data.translation.conftest import logged


def _fails(cli, *args: str) -> str:
    code, _, err = cli("data", "translate", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_apertium_not_installed_names_the_packages(cli, toy_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    line = _fails(cli, str(toy_dir), "--to", "es", "--out", str(tmp_path / "mt"))
    assert "the apertium command is not installed (apt-get install apertium apertium-eng-spa" in line
    assert not (tmp_path / "mt").exists()


def test_a_missing_pair_names_its_package_before_anything_is_translated(
    cli, toy_dir, tmp_path, fake_apertium, monkeypatch
):
    monkeypatch.setenv("FAKE_APERTIUM_MODES", "eng-spa")
    line = _fails(cli, str(toy_dir), "--to", "es,ca", "--out", str(tmp_path / "mt"))
    assert "no en→ca pair installed (apt-get install apertium-eng-cat)" in line
    assert logged(fake_apertium) == [] and not (tmp_path / "mt").exists()


@pytest.mark.parametrize("target", ["ro", "eu"])
def test_a_pair_no_route_reaches_is_refused(cli, toy_dir, tmp_path, fake_apertium, monkeypatch, target):
    monkeypatch.setenv("FAKE_APERTIUM_MODES", "eng-spa es-pt")  # es-pt pivots to pt only
    assert f"no en→{target} pair installed" in _fails(
        cli, str(toy_dir), "--to", target, "--out", str(tmp_path / "mt")
    )


def test_a_source_without_an_english_side_suggests_from(cli, tmp_path, fake_apertium, monkeypatch):
    source = write_lareqa(tmp_path / "de-only", {qid: {"de": q["de"]} for qid, q in TOY.items()})
    line = _fails(cli, str(source), "--to", "es", "--out", str(tmp_path / "mt"))
    assert (
        "no questions in language 'en' to translate from (languages with questions: de); pass --from LANG"
        in line
    )
    line = _fails(cli, str(source), "--from", "de", "--to", "es", "--out", str(tmp_path / "mt"))
    assert "no de→es pair installed (Debian packages no such Apertium pair; use --engine hf:MODEL)" in line
    monkeypatch.setenv("FAKE_APERTIUM_MODES", "deu-spa")
    code, _, err = cli(
        "data", "translate", str(source), "--from", "de", "--to", "es", "--out", str(tmp_path / "mt")
    )
    assert code == 0, err


def test_an_empty_source_is_refused(cli, tmp_path, fake_apertium):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert "no records" in _fails(
        cli, str(tmp_path / "empty.jsonl"), "--to", "es", "--out", str(tmp_path / "mt")
    )
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "en.json").write_text(json.dumps({"data": []}), encoding="utf-8")
    assert "no questions in language 'en'" in _fails(
        cli, str(tmp_path / "empty"), "--to", "es", "--out", str(tmp_path / "mt")
    )
    assert logged(fake_apertium) == []


def test_an_unusable_cache_file_is_refused_and_kept(cli, toy_dir, tmp_path, fake_apertium):
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"my notes, not a database" * 50)
    line = _fails(cli, str(toy_dir), "--to", "es", "--cache", str(cache), "--out", str(tmp_path / "mt"))
    assert f"--cache {cache}: not a usable translation cache" in line
    assert cache.read_bytes() == b"my notes, not a database" * 50
    assert logged(fake_apertium) == [] and not (tmp_path / "mt").exists()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        ([], "Invalid value for '--to': give the target languages, e.g. --to es,ca"),
        (["--to", ""], "--to: give at least one target language"),
        (["--to", "es,es"], "--to: a language is listed twice: es,es"),
        (["--to", "es", "--batch-size", "0"], "--batch-size"),
    ],
)
def test_bad_flags_are_one_error_line(cli, toy_dir, tmp_path, fake_apertium, flags, fragment):
    assert fragment in _fails(cli, str(toy_dir), *flags, "--out", str(tmp_path / "mt"))
    assert logged(fake_apertium) == [] and not (tmp_path / "mt").exists()


def test_a_model_that_does_not_translate_is_refused_before_loading_it(cli, toy_dir, tmp_path):
    (tmp_path / "bert").mkdir()
    config = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    (tmp_path / "bert" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    line = _fails(
        cli, str(toy_dir), "--to", "es", "--engine", f"hf:{tmp_path}/bert", "--out", str(tmp_path / "mt")
    )
    assert "a bert model is not a seq2seq translation model" in line
