"""FLORES-200 bitext retrieval from the command line and inside comparisons and studies.

``evaluate-retrieval --data flores200[:split]`` (:func:`flores_command`) and ``--eval flores200:dev``
of ``compare`` / ``study`` (:func:`flores_in_folder`, one folder per run, reused when written for
the same model).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hybridbatch.errors import ConfigError

DEFAULT_SPLIT = "dev"


def is_flores(spec: str) -> bool:
    """Whether an evaluation spec names FLORES-200 (``flores200`` or ``flores200:<split>``)."""
    return spec.partition(":")[0] == "flores200"


def flores_split(spec: str, split: str | None = None, flag: str = "--data") -> str:
    """The split of ``flores200[:split]`` (``--split`` may give it instead; default ``dev``)."""
    from hybridbatch.data.flores import SPLITS

    named = spec.partition(":")[2]
    if named and split and named != split:
        raise ConfigError(f"{flag} {spec} and --split {split} disagree: give the split once")
    chosen = named or split or DEFAULT_SPLIT
    if chosen not in SPLITS:
        raise ConfigError(
            f"{flag} {spec}: FLORES-200 has no split {chosen!r} (choose from {', '.join(SPLITS)})"
        )
    return chosen


def flores_command(
    model: str,
    spec: str,
    options: dict[str, Any],
    k_values: Sequence[int] = (10, 100),
) -> str:
    """``evaluate-retrieval --data flores200[:split]``: validate, evaluate, write ``out``, return the text.

    ``options``: ``split``, ``out``, ``reference``, ``batch_size``, ``overwrite``, ``precision``,
    ``cache`` (all optional). Data and flags are checked before any model is loaded.
    """
    from hybridbatch.evaluation.flores import FloresTask
    from hybridbatch.evaluation.flores_report import (
        evaluate_flores,
        render_flores_report,
        write_flores_report,
    )
    from hybridbatch.io import marked_output, prepare_output_dir
    from hybridbatch.paths import embeddings_home

    split = flores_split(spec, options.get("split"))
    if sorted(set(k_values)) != [10, 100]:
        raise ConfigError("-k: FLORES-200 reports top-1 accuracy only; drop -k")
    out = options.get("out")
    target = prepare_output_dir(out, "retrieval-evaluation", options.get("overwrite", False)) if out else None
    task = FloresTask(split)
    task.load()
    report, scores = evaluate_flores(
        model,
        task,
        options.get("reference"),
        embeddings_home() if options.get("cache", True) else None,
        options.get("batch_size", 64),
        options.get("precision", "fp32"),
        show_progress=True,
    )
    text = render_flores_report(report)
    if target is not None:
        with marked_output(target, "retrieval-evaluation"):
            write_flores_report(report, scores, target)
        text += f"\nwrote {out}/report.json, report.md, per_query.json and flores.png"
    return text + f"\n({report.seconds:.0f} s)"


def flores_in_folder(
    folder: Path,
    label: str,
    load: Callable[[], Any],
    split: str,
    reference: str | None,
    batch_size: int = 64,
    precision: str = "fp32",
) -> dict:
    """The ``report.json`` content of ``label``'s model on ``split`` in ``folder`` (plus ``folder``, where
    its ``per_query.json`` is): reused when written for that model and reference, else evaluated
    (embedding cache on) and written."""
    from hybridbatch.evaluation.flores import FloresTask
    from hybridbatch.evaluation.flores_report import evaluate_flores, write_flores_report
    from hybridbatch.paths import embeddings_home

    done = Path(folder) / "report.json"
    if done.is_file() and (Path(folder) / "per_query.json").is_file():
        data = json.loads(done.read_text("utf-8"))
        if data.get("model") == label and data.get("reference_model") == reference:
            return data | {"folder": str(folder)}
    task = FloresTask(split)
    task.load()  # the data is checked before the model is loaded
    report, scores = evaluate_flores(load(), task, reference, embeddings_home(), batch_size, precision)
    report.model = label
    write_flores_report(report, scores, folder)
    return json.loads(report.model_dump_json()) | {"folder": str(folder)}
