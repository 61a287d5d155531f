"""The measured parts of ``benchmarks/efficiency.py``: demo batches, training steppers, encoders."""

from __future__ import annotations

import copy
import inspect
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hybridbatch.comparison.runs.config import DEMO_TRAIN_SETTINGS
from hybridbatch.sampling import build_sampler
from hybridbatch.training import TrainConfig
from hybridbatch.training.data import prepare_data
from hybridbatch.training.features import (
    BatchTexts,
    batch_texts,
    embed_bucketed,
    length_sorted_chunks,
    model_prompts,
    tokenize,
)
from hybridbatch.training.losses import build_loss
from hybridbatch.training.speed import clip_grad_norm, embed_packed, make_adamw, pack_rows

MAX_LENGTH = DEMO_TRAIN_SETTINGS["max_passage_length"]  # queries: the default max_query_length, also 64
DEMO_STEPS = 120
LENGTH_BUCKET_ROWS = 16  # today's path (before issue 13): each side in 16-row length buckets


@dataclass
class StepTimes:
    """Per-step wall and CPU seconds of one variant (timed steps only) and its tokenizing share."""

    wall_steps: list[float] = field(default_factory=list)
    cpu_steps: list[float] = field(default_factory=list)
    tokenize_cpu: list[float] = field(default_factory=list)
    optimizer: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_steps)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "tokenize_cpu_s": statistics.median(self.tokenize_cpu) if self.tokenize_cpu else 0.0,
            "wall_steps": self.wall_steps,
            "cpu_steps": self.cpu_steps,
            "optimizer": self.optimizer,
        }


def demo_config(model_spec: str = "builtin:multilingual-e5-small") -> TrainConfig:
    """The training configuration of one ``make demo`` strategy (hybrid, α 0.5)."""
    settings = {k: v for k, v in DEMO_TRAIN_SETTINGS.items() if k != "checkpoint_every"}
    return TrainConfig(model=model_spec, data=["mlqa-r"], steps=DEMO_STEPS, out=Path("unused"), **settings)


def demo_texts(model, steps: int) -> list[BatchTexts]:
    """The texts of the first ``steps`` demo batches (the trainer's sampler, seed 0)."""
    config = demo_config()
    data = prepare_data(config)
    sampler = build_sampler(config.sampler_config(DEMO_STEPS), data.train)
    return [batch_texts(sampler.batch_at(step), sampler.sources) for step in range(steps)]


def _features(model, texts: BatchTexts) -> tuple[dict, dict]:
    query_prompt, passage_prompt = model_prompts(model)
    return tokenize(model, texts.queries, query_prompt, MAX_LENGTH), tokenize(
        model, texts.docs, passage_prompt, MAX_LENGTH
    )


def non_embedding_params(model) -> int:
    """Parameters of the encoder outside its embedding lookups (what every token multiplies through)."""
    auto_model = model[0].auto_model
    return sum(p.numel() for name, p in auto_model.named_parameters() if not name.startswith("embeddings."))


def step_useful_flops(model, texts: list[BatchTexts]) -> tuple[int, list[dict[str, float]]]:
    """N and, per demo step: real tokens, tokens padded to the side's longest, useful and attention FLOPs."""
    n = non_embedding_params(model)
    config = model[0].auto_model.config
    rows = []
    for batch in texts:
        queries, docs = _features(model, batch)
        lengths = torch.cat([queries["attention_mask"].sum(1), docs["attention_mask"].sum(1)]).double()
        tokens = int(lengths.sum())
        attention = 3 * float((4 * lengths**2 * config.hidden_size * config.num_hidden_layers).sum())
        padded = queries["attention_mask"].numel() + docs["attention_mask"].numel()
        bucketed = sum(
            chunk["attention_mask"].numel()
            for side in (queries, docs)
            for chunk in length_sorted_chunks(side, LENGTH_BUCKET_ROWS)[0]
        )
        longest = int(lengths.max())
        packed = len(pack_rows([int(n) for n in lengths], longest)) * longest
        rows.append(
            {
                "tokens": tokens,
                "padded_tokens": padded,
                "bucketed_tokens": bucketed,
                "packed_tokens": packed,
                "useful_flop": 6.0 * n * tokens,
                "attn_flop": attention,
            }
        )
    return n, rows


def _trainable_copy(model):
    clone = copy.deepcopy(model)
    clone[0].auto_model.get_input_embeddings().weight.requires_grad_(False)  # freeze_embeddings=True
    clone.train()
    return clone


def _param_groups(model, weight_decay: float) -> list[dict[str, Any]]:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _timed(fn, times: StepTimes, record: bool) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    if record:
        times.wall_steps.append(time.perf_counter() - wall)
        times.cpu_steps.append(time.process_time() - cpu)
    return out


def _kind(optimizer: torch.optim.Optimizer) -> str:
    """Which AdamW kernel runs: fused, foreach (multi-tensor) or the per-parameter loop."""
    defaults = optimizer.defaults
    return "fused" if defaults.get("fused") else "foreach" if defaults.get("foreach") else "loop"


def ours_stepper(
    model, texts: list[BatchTexts], improved: bool, warmup: int, bf16: bool = False
) -> StepTimes:
    """Train a fresh copy on ``texts`` the way our trainer does (improved or today's path; ``bf16``:
    under ``train --bf16``'s autocast, loss in fp32); step times."""
    config = demo_config()
    torch.manual_seed(0)
    clone = _trainable_copy(model)
    groups = _param_groups(clone, config.weight_decay)
    optimizer = make_adamw(groups, config.lr) if improved else torch.optim.AdamW(groups, lr=config.lr)
    loss_fn = build_loss(config.loss, config.temperature)
    params = [p for p in clone.parameters() if p.requires_grad]
    times = StepTimes(optimizer=_kind(optimizer))

    def step(batch: BatchTexts) -> None:
        cpu = time.process_time()
        queries, docs = _features(clone, batch)
        times.tokenize_cpu.append(time.process_time() - cpu)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            if improved:
                query_emb, doc_emb = embed_packed(clone, [queries, docs])
            else:
                query_emb = embed_bucketed(clone, queries, LENGTH_BUCKET_ROWS)
                doc_emb = embed_bucketed(clone, docs, LENGTH_BUCKET_ROWS)
        loss_fn(query_emb.float(), doc_emb.float(), batch.labels).backward()
        if improved:
            clip_grad_norm(params, config.max_grad_norm)
        else:
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for i, batch in enumerate(texts):
        _timed(lambda b=batch: step(b), times, record=i >= warmup)
    times.tokenize_cpu = times.tokenize_cpu[warmup:]
    return times


def st_stepper(model, texts: list[BatchTexts], warmup: int) -> StepTimes:
    """A plain sentence-transformers loop (MNRL over anchor/positive/negative columns); step times."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    config = demo_config()
    torch.manual_seed(0)
    clone = _trainable_copy(model)
    clone.max_seq_length = MAX_LENGTH
    loss_fn = MultipleNegativesRankingLoss(clone, scale=1.0 / config.temperature)
    params = [p for p in clone.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(_param_groups(clone, config.weight_decay), lr=config.lr)
    times = StepTimes(optimizer=_kind(optimizer))

    def step(batch: BatchTexts) -> None:
        b = len(batch.queries)
        cpu = time.process_time()
        columns = [
            clone.preprocess(batch.queries, prompt=clone.prompts["query"]),
            clone.preprocess(batch.docs[:b], prompt=clone.prompts["passage"]),
            clone.preprocess(batch.docs[b:], prompt=clone.prompts["passage"]),
        ]
        times.tokenize_cpu.append(time.process_time() - cpu)
        loss_fn(columns, None).backward()
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for i, batch in enumerate(texts):
        _timed(lambda b=batch: step(b), times, record=i >= warmup)
    times.tokenize_cpu = times.tokenize_cpu[warmup:]
    return times


def gradient_check(model, batch: BatchTexts) -> dict[str, float]:
    """Largest gradient difference, today's path vs packed, with dropout off (same function)."""
    grads = []
    loss_fn = build_loss("infonce", demo_config().temperature)
    clone = _trainable_copy(model).eval()
    queries, docs = _features(clone, batch)
    for packed in (False, True):
        clone.zero_grad(set_to_none=True)
        if packed:
            query_emb, doc_emb = embed_packed(clone, [queries, docs])
        else:
            query_emb = embed_bucketed(clone, queries, LENGTH_BUCKET_ROWS)
            doc_emb = embed_bucketed(clone, docs, LENGTH_BUCKET_ROWS)
        loss_fn(query_emb, doc_emb, batch.labels).backward()
        grads.append({n: p.grad.clone() for n, p in clone.named_parameters() if p.grad is not None})
    today, packed = grads
    diff = torch.cat([(today[n] - packed[n]).flatten() for n in today])
    whole = torch.cat([g.flatten() for g in today.values()])
    return {
        "max_abs_diff": float(diff.abs().max()),
        "max_abs_grad": float(whole.abs().max()),
        "rel_diff_norm": float(diff.norm() / whole.norm()),  # ‖Δg‖ / ‖g‖ over all trainable parameters
        "tensors": len(today),
        "same_keys": sorted(today) == sorted(packed),
    }


def xquad_slice(per_lang: int) -> list[str]:
    """The first ``per_lang`` candidate sentences of every XQuAD-R language (a fixed slice)."""
    from hybridbatch.data import load_collection

    collection = load_collection("xquad-r")
    return [c.text for lang in sorted(collection.candidates) for c in collection.candidates[lang][:per_lang]]


def encode_variants(model, per_lang: int, repeats: int, int8: bool) -> dict[str, Any]:
    """Wall/CPU seconds and useful FLOP/s of encoding the slice: ours fp32/int8/bf16 and ST's ``encode``."""
    from hybridbatch.models import encoding

    texts = xquad_slice(per_lang)
    model.eval()
    prompt = model.prompts.get("passage", "")
    lengths = [
        len(x)
        for x in model.tokenizer(
            [prompt + t for t in texts], truncation=True, max_length=model.max_seq_length
        )["input_ids"]
    ]
    tokens = int(sum(lengths))
    runs: dict[str, Any] = {
        "ours fp32": lambda: encoding.encode_texts(model, texts, "passage", batch_size=64),
        "sentence-transformers encode": lambda: model.encode(
            texts, prompt_name="passage", batch_size=64, convert_to_numpy=True, normalize_embeddings=True
        ),
    }
    quantize_s = None
    if int8 and "precision" in inspect.signature(encoding.encode_texts).parameters:
        start = time.perf_counter()
        encoding.encode_texts(model, texts[:2], "passage", batch_size=64, precision="int8")  # builds the copy
        quantize_s = time.perf_counter() - start
        runs["ours int8"] = lambda: encoding.encode_texts(
            model, texts, "passage", batch_size=64, precision="int8"
        )
    if "bf16" in getattr(encoding, "PRECISIONS", ()):
        encoding.encode_texts(model, texts[:2], "passage", batch_size=64, precision="bf16")  # builds the copy
        runs["ours bf16"] = lambda: encoding.encode_texts(
            model, texts, "passage", batch_size=64, precision="bf16"
        )
    best: dict[str, dict[str, float]] = {}
    vectors: dict[str, np.ndarray] = {}
    for repeat in range(repeats):
        for name in list(runs) if repeat % 2 == 0 else list(reversed(runs)):
            wall, cpu = time.perf_counter(), time.process_time()
            vectors[name] = np.asarray(runs[name]())
            measured = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
            if name not in best or measured["cpu_s"] < best[name]["cpu_s"]:
                best[name] = measured
    fidelity = {}
    for precision in ("int8", "bf16"):
        if f"ours {precision}" in vectors:
            cosine = (vectors[f"ours {precision}"] * vectors["ours fp32"]).sum(axis=1)
            fidelity[precision] = {"mean_cosine": float(cosine.mean()), "min_cosine": float(cosine.min())}
    return {
        "texts": len(texts),
        "per_lang": per_lang,
        "tokens": tokens,
        "useful_flop": 2.0 * non_embedding_params(model) * tokens,
        "variants": best,
        "int8_quantize_s": quantize_s,
        "int8_vs_fp32": fidelity.get("int8"),
        "bf16_vs_fp32": fidelity.get("bf16"),
    }
