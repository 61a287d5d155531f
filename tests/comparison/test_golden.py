"""Golden numbers: the tiny-model ``compare`` gives the same scores and losses as before the refactor.

``golden_compare.json`` was written by this test against the code before the settings/trainer refactor
(issue 10): every strategy's summary scores, training steps and per-step losses / α, and the dev and
adaptive-α records. Regenerate only on purpose:
``HYBRIDBATCH_WRITE_GOLDEN=1 python -m pytest tests/comparison/test_golden.py``.

The file was written on one CPU (Intel, AMX); other CPUs sum fp32 in another order. Tolerances, measured
on an AMD EPYC (AVX512-BF16) under its native kernels, ``ATEN_CPU_CAPABILITY=avx2`` +
``MKL_ENABLE_INSTRUCTIONS=AVX2`` + ``ONEDNN_MAX_CPU_ISA=AVX2``, ``ATEN_CPU_CAPABILITY=default``, and with
1 and 2 threads: training losses (logged to 6 decimals, after up to 4 optimizer steps at lr 0.005,
which amplify reordering error) differ by at most 2.3e-6 relative; every score, α and lr matched
exactly. ``LOSS_RTOL`` = 1e-4 leaves 40x headroom for kernel noise and still fails on any real change
(another batch, loss or schedule moves a loss by 1e-2 or more); other floats keep 1e-6.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import yaml
from tests.conftest import TOY, write_lareqa

GOLDEN = Path(__file__).with_name("golden_compare.json")
LOSS_RTOL = 1e-4  # fp32 reordering across CPU kernels: measured <= 2.3e-6 relative (module docstring)
FLOAT_RTOL = 1e-6


def _config(tmp_path: Path) -> Path:
    train = write_lareqa(tmp_path / "train")
    held_out = {k: dict(langs) for k, langs in TOY.items()}
    held_out["q1"]["fr"] = ("Où est la tour ?", ["La tour est à Paris.", "Elle est haute."], 0)
    evaluation = write_lareqa(tmp_path / "heldout", held_out)
    settings = {
        "model": "builtin:tiny",
        "train": [str(train)],
        "eval": [str(evaluation)],
        "allow_overlap": True,  # the held-out toy repeats the training texts (the leakage guard would refuse)
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
    """Every place where ``actual`` differs from ``expected`` (losses to ``LOSS_RTOL``, other floats 1e-6)."""
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
        rel_tol = LOSS_RTOL if where.endswith(".loss") else FLOAT_RTOL
        same = math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=1e-9)
    else:
        same = actual == expected
    return [] if same else [f"{where}: {actual!r} != {expected!r}"]


def test_tiny_compare_matches_golden_numbers(tmp_path: Path, cli, monkeypatch) -> None:
    # a private embedding cache: every score is computed by the code under test
    monkeypatch.setattr("hybridbatch.comparison.runs.run.embeddings_home", lambda: tmp_path / "embeddings")
    out = tmp_path / "cmp"
    code, _, err = cli(
        "compare",
        "--config",
        str(_config(tmp_path)),
        "--out",
        str(out),
        "--strategies",
        "base,xy,hybrid-adaptive",
        "--alpha",
        "0.8",
        "--model",
        "builtin:tiny",
    )
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


def test_tolerances_still_catch_a_real_change() -> None:
    expected = {"run": {"steps_log": [{"loss": 1.302366}], "summary": {"multi_map": 0.5}}}
    kernel_noise = {"run": {"steps_log": [{"loss": 1.302369}], "summary": {"multi_map": 0.5}}}
    other_batch = {"run": {"steps_log": [{"loss": 1.3025}], "summary": {"multi_map": 0.5}}}
    other_score = {"run": {"steps_log": [{"loss": 1.302366}], "summary": {"multi_map": 0.50001}}}
    assert _differences(kernel_noise, expected) == []
    assert _differences(other_batch, expected) == [".run.steps_log[0].loss: 1.3025 != 1.302366"]
    assert len(_differences(other_score, expected)) == 1
