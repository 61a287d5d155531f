"""The README model card of a trained model: data, sampler settings, training settings and results,
rendered from the ``hybridbatch_training.json`` the trainer writes beside the weights."""

from __future__ import annotations

from typing import Any

from hybridbatch.models.metadata import TrainingMetadata


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return str(value)


def _table(rows: list[tuple[str, Any]]) -> str:
    lines = ["| setting | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in rows]
    return "\n".join(lines)


def _sampler_rows(sampler: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("strategy", sampler.get("strategy")),
        ("alpha (P of an X-X batch)", sampler.get("alpha")),
        ("alpha schedule", sampler.get("schedule")),
        ("alpha end", sampler.get("alpha_end")),
        ("languages per X-Y batch", sampler.get("languages_per_batch") or "all"),
        ("hard negatives per pair", sampler.get("hard_negatives")),
        ("hard negatives of X-Y pairs from", sampler.get("hard_negatives_from", "passage")),
        ("global batch size", sampler.get("batch_size")),
        ("seed", sampler.get("seed")),
    ]


def _train_rows(meta: dict[str, Any]) -> list[tuple[str, Any]]:
    cfg = meta["config"]
    rows = [
        ("loss", cfg["loss"]),
        ("temperature", cfg["temperature"]),
        ("learning rate", cfg["lr"]),
        ("weight decay", cfg["weight_decay"]),
        ("warmup steps", cfg["warmup_steps"] if cfg["warmup_steps"] is not None else "10% of steps"),
        ("steps", meta["result"]["steps"]),
        ("max query / passage length", f"{cfg['max_query_length']} / {cfg['max_passage_length']}"),
        ("word embeddings frozen", cfg["freeze_embeddings"]),
        ("cross-device negatives", cfg["cross_device_negatives"]),
        ("processes (world size)", meta.get("world_size", 1)),
    ]
    if cfg.get("anchor_weight"):
        rows.append(("L2-SP anchor weight μ (Li et al., ICML 2018)", cfg["anchor_weight"]))
    return rows + _adaptation_rows(cfg)


def _adaptation_rows(cfg: dict[str, Any]) -> list[tuple[str, Any]]:
    """Distillation, LoRA and frozen layers (issue 22), when on."""
    rows: list[tuple[str, Any]] = []
    if cfg.get("distill_weight"):
        teacher = cfg.get("distill_teacher") or "the base model"
        rows.append(
            (
                "distillation λ · (1 − cos)",
                f"{cfg['distill_weight']} ({cfg['distill_mode']}, teacher: {teacher})",
            )
        )
        rows.append(("distilled on", cfg.get("distill_data")))
    if cfg.get("lora_rank"):
        targets = ", ".join(cfg.get("lora_target_modules") or [])
        rows.append(
            ("LoRA (merged into the weights)", f"r {cfg['lora_rank']}, α {cfg['lora_alpha']}, {targets}")
        )
    if cfg.get("freeze_layers") is not None:
        rows.append(("frozen transformer layers (and embeddings)", cfg["freeze_layers"]))
    return rows


def write_model_card(metadata: TrainingMetadata) -> str:
    """Markdown model card of the training metadata (``hybridbatch_training.json``)."""
    meta = metadata.to_json()
    cfg, result = meta["config"], meta["result"]
    title = f"{cfg['model']} fine-tuned with {cfg['sampler']} batches (hybridbatch)"
    data_rows = "\n".join(
        f"| {d['spec']} | {', '.join(d['languages'])} | {d['train_ids']} | {d['train_questions']} | "
        f"{d['dev_ids']} | {d['dev_questions']} |"
        for d in meta["datasets"]
    )
    dev = result.get("dev_metrics") or {}
    dev_lines = [f"- dev {k.replace('_', ' ')}: {v:.4f}" for k, v in dev.items()]
    dev_text = "\n".join(dev_lines) or "- no dev split (dev_fraction = 0)"
    sampler_rows, train_rows = _sampler_rows(meta["sampler"]), _train_rows(meta)
    return f"""---
library_name: sentence-transformers
tags: [sentence-transformers, multilingual, retrieval, hybridbatch]
base_model: {cfg["model"]}
---

# {title}

A multilingual dense retriever trained with **hybrid batch training** (Elmahdy, Lin, Ahmad 2024,
arXiv 2408.10536): contrastive InfoNCE fine-tuning where each batch is monolingual (X-X) with
probability α, else cross-lingual (X-Y), built from parallel QA data.

## Usage

```python
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("path/to/this/model")
q = model.encode(["Where is the tower?"], prompt_name="query")
d = model.encode(["Der Turm ist in Paris."], prompt_name="passage")
print(model.similarity(q, d))
```

## Training data

Training languages: {", ".join(meta["train_languages"])}. Dev ids are held out by parallel id
(dev_fraction {cfg["dev_fraction"]}, split seed {cfg["split_seed"]}).

| dataset | languages | train ids | train questions | dev ids | dev questions |
|---|---|---|---|---|---|
{data_rows}

## Sampler

{_table(sampler_rows)}

## Training

{_table(train_rows)}

## Results

{dev_text}
- steps: {result["steps"]}, time: {result["seconds"]:.1f} s
- training throughput: {result["pairs_per_second"]:.1f} pairs/s
"""
