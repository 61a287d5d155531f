"""Issue 23's done-when: ``data translate mlqa-r --to es,ca --engine apertium --limit 200`` writes a
collection ``train --data`` accepts, and a second run translates nothing again (real Apertium)."""

from __future__ import annotations

import json

from data.translation.test_engines import needs_apertium
from hybridbatch.data import load_collection


@needs_apertium
def test_mlqa_sample_translated_by_apertium_trains_and_reruns_from_the_cache(cli, shared_data, tmp_path):
    out = tmp_path / "runs" / "mt"
    args = ["data", "translate", "mlqa-r", "--to", "es,ca", "--engine", "apertium", "--limit", "200"]
    code, _, err = cli(*args, "--out", str(out), "--quiet")
    assert code == 0, err
    report = json.loads((out / "translate.json").read_text())
    assert report["source_ids"] == 200
    for lang in ("es", "ca"):
        stats = report["languages"][lang]
        assert stats["translated"] == stats["sentences"] > 1000 and stats["failed"] == 0
        assert stats["quality"]["empty"] == 0 and stats["quality"]["identical_share"] < 0.05
        assert stats["records"]["kept"] >= 195
    collection = load_collection(out)
    assert collection.languages == ["ca", "en", "es"] and len(collection.ids) == 200

    run = ["train", "--model", "builtin:tiny", "--data", str(out), "--steps", "1", "--batch-size", "4"]
    code, _, err = cli(*run, "--out", str(tmp_path / "run"), "--quiet")
    assert code == 0, err
    trained = json.loads((tmp_path / "run" / "model" / "hybridbatch_training.json").read_text())
    assert "ca" in json.dumps(trained)

    code, _, err = cli(*args, "--out", str(out), "--quiet")
    rerun = json.loads((out / "translate.json").read_text())
    assert code == 0 and rerun["totals"]["translated"] == 0
    assert rerun["totals"]["cached"] == report["totals"]["translated"]
