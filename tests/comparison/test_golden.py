"""Golden numbers: the tiny-model ``compare`` gives the same scores and losses as before the refactor.

``golden_compare.json`` was written by this test against the code before the settings/trainer refactor
(issue 10): every strategy's summary scores, training steps and per-step losses / α, and the dev and
adaptive-α records. Regenerate only on purpose: ``HYBRIDBATCH_WRITE_GOLDEN=1 pytest tests/comparison/test_golden.py``.
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


def _assert_same(actual, expected, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            _assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(actual, bool):
        assert isinstance(actual, (int, float)), where
        assert math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9), f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def test_tiny_compare_matches_golden_numbers(tmp_path: Path, cli) -> None:
    out = tmp_path / "cmp"
    code, _, err = cli(
        "compare", "--config", str(_config(tmp_path)), "--out", str(out),
        "--strategies", "base,xy,hybrid-adaptive", "--alpha", "0.8",
    )  # fmt: skip
    assert code == 0, err
    numbers = _numbers(out)
    if os.environ.get("HYBRIDBATCH_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert set(numbers) == {"base", "xy", "hybrid-adaptive", "hybrid-a0.8"}
    assert any(r.get("alpha_before") is not None for r in expected["hybrid-adaptive"]["dev_log"])
    _assert_same(numbers, expected)
