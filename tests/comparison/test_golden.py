"""Golden numbers: the tiny-model ``compare`` gives the same scores and losses as before the refactor.

``golden_compare.json`` was written by this test against the code before the settings/trainer refactor
(issue 10): every strategy's summary scores, training steps and per-step losses / α, and the dev and
adaptive-α records. Regenerate only on purpose:
``HYBRIDBATCH_WRITE_GOLDEN=1 python -m pytest tests/comparison/test_golden.py``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import yaml
from tests.conftest import TOY, write_lareqa

GOLDEN = Path(__file__).with_name("golden_compare.json")


def _config(tmp_path: Path) -> Path:
    train = write_lareqa(tmp_path / "train")
    held_out = {k: dict(langs) for k, langs in TOY.items()}
    held_out["q1"]["fr"] = ("Où est la tour ?", ["La tour est à Paris.", "Elle est haute."], 0)
    evaluation = write_lareqa(tmp_path / "heldout", held_out)
    settings = {
        "model": "builtin:tiny",
        "train": [str(train)],
        "eval": [str(evaluation)],
        "budget": 4,
        "train_settings": {
            "batch_size": 2,
            "lr": 0.005,  # large enough that the trained models rank differently from the base model
            "dev_fraction": 0.25,
            "adaptive_every": 2,
            "checkpoint_every": 2,
            "show_progress": False,
        },
    }
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def _numbers(out: Path) -> dict:
    """Scores, steps, losses, α and dev records of every run of the comparison in ``out``."""
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    numbers: dict = {}
    for name, result in data["strategies"].items():
        entry: dict = {
            "summary": result["summary"],
            "summary_unseen": result["summary_unseen"],
            "steps": (result["training"] or {}).get("steps"),
        }
        metrics = out / "runs" / name / "metrics.jsonl"
        if metrics.is_file():
            records = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines()]
            entry["steps_log"] = [
                {k: r.get(k) for k in ("step", "loss", "lr", "alpha", "kind", "language")}
                for r in records
                if "event" not in r
            ]
            entry["dev_log"] = [
                {k: v for k, v in r.items() if k not in ("path", "seconds")}
                for r in records
                if r.get("event") == "dev"
            ]
        numbers[name] = entry
    return numbers


def _differences(actual, expected, where: str = "") -> list[str]:
    """Every place where ``actual`` differs from ``expected`` (floats to 1e-6 relative)."""
    if isinstance(expected, dict):  # newer code may report more metrics: the golden ones must match
        if not isinstance(actual, dict) or not set(actual) >= set(expected):
            return [f"{where}: keys {sorted(actual) if isinstance(actual, dict) else actual!r}"]
        return [d for key in expected for d in _differences(actual[key], expected[key], f"{where}.{key}")]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: {actual!r} != {expected!r}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in _differences(a, e, f"{where}[{i}]")
        ]
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        same = math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9)
    else:
        same = actual == expected
    return [] if same else [f"{where}: {actual!r} != {expected!r}"]


def test_tiny_compare_matches_golden_numbers(tmp_path: Path, cli, monkeypatch) -> None:
    # a private embedding cache: every score is computed by the code under test
    monkeypatch.setattr("hybridbatch.comparison.run.embeddings_home", lambda: tmp_path / "embeddings")
    out = tmp_path / "cmp"
    code, _, err = cli(
        "compare", "--config", str(_config(tmp_path)), "--out", str(out),
        "--strategies", "base,xy,hybrid-adaptive", "--alpha", "0.8", "--model", "builtin:tiny",
    )  # fmt: skip
    assert code == 0, err
    numbers = _numbers(out)
    if os.environ.get("HYBRIDBATCH_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert set(numbers) == {"base", "xy", "hybrid-adaptive", "hybrid-a0.8"}
    assert any(r.get("alpha_before") is not None for r in expected["hybrid-adaptive"]["dev_log"])
    assert expected["xy"]["summary"]["multi_map"] != expected["base"]["summary"]["multi_map"]
    differences = _differences(numbers, expected)
    assert not differences, "\n".join(differences[:40])
