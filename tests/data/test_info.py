"""``collection_info`` / ``render_info`` and ``hybridbatch data info``."""

from __future__ import annotations

import json

from hybridbatch.data import load_lareqa
from hybridbatch.data.info import collection_info, render_info


def test_toy_info(toy_dir):
    info = collection_info(load_lareqa(toy_dir))
    assert info.languages == ["de", "en", "es"]
    assert info.questions_per_language == {"de": 4, "en": 4, "es": 3}
    assert info.candidates_per_language == {"de": 8, "en": 8, "es": 6}
    assert info.candidates_total == 22 and info.ids_total == 4 and info.questions_total == 11
    assert info.ids_per_language_count == {2: 1, 3: 3}
    text = render_info(info)
    assert "3 (de en es)" in text and "in  2 language(s): 1" in text and "dropped: nothing" in text


def test_cli_json_on_the_real_datasets(shared_data, cli):
    code, out, err = cli("data", "info", "xquad-r", "--json")
    assert code == 0, err
    xquad = json.loads(out)
    assert len(xquad["languages"]) == 11 and xquad["candidates_total"] == 13014
    assert set(xquad["questions_per_language"].values()) == {1190}
    assert xquad["ids_total"] == 1190 and xquad["ids_per_language_count"] == {"11": 1190}
    code, out, _ = cli("data", "info", "mlqa-r", "--json")
    mlqa = json.loads(out)
    assert mlqa["candidates_total"] == 20534 and len(mlqa["languages"]) == 7
    assert sum(mlqa["candidates_per_language"].values()) == 20534
    assert set(mlqa["ids_per_language_count"]) == {"2", "3", "4"}


def test_cli_table(toy_dir, cli):
    code, out, _ = cli("data", "info", str(toy_dir))
    assert code == 0
    assert "candidates  22" in out and "es" in out
