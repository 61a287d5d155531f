"""Parameter-efficient training (issue 22): frozen bottom layers, LoRA save/load and exact resume, and the
checks that run before any weights are loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hybridbatch.errors import ConfigError
from hybridbatch.training import TrainConfig, train
from hybridbatch.training.checkpoint import Checkpointer, list_checkpoints
from hybridbatch.training.distributed import DistributedContext
from hybridbatch.training.state import build_state

from .test_distill import crash_and_resume, same_files

TINY = "builtin:tiny"
TEXTS = ["Wo ist der Turm?", "The tower is in Paris.", "¿Quién escribió el libro?"]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _config(data: Path, out: Path, **settings) -> TrainConfig:
    values = dict(model=TINY, data=[str(data)], batch_size=3, steps=6, dev_fraction=0.0, checkpoint_every=3)
    values |= dict(lr=1e-2, warmup_steps=0, show_progress=False, num_threads=1)
    return TrainConfig(**{**values, **settings}, out=out)


def _base_weights() -> dict[str, torch.Tensor]:
    from hybridbatch.models.loading import build_builtin

    return load_file(str(build_builtin(TINY) / "model.safetensors"))


def test_freeze_layers_keeps_embeddings_and_bottom_layers(toy_dir, tmp_path) -> None:
    result = train(_config(toy_dir, tmp_path / "run", freeze_layers=1, freeze_embeddings=False))
    base, trained = _base_weights(), load_file(str(result.model_dir / "model.safetensors"))
    frozen = [k for k in base if k.startswith(("embeddings.", "encoder.layer.0."))]
    training = [k for k in base if k.startswith("encoder.layer.1.")]
    assert len(frozen) > 10 and len(training) > 10
    assert all(torch.equal(base[k], trained[k]) for k in frozen)
    changed = [k for k in training if not torch.equal(base[k], trained[k])]
    assert len(changed) == len(training), sorted(set(training) - set(changed))
    meta = json.loads((result.model_dir / "hybridbatch_training.json").read_text())
    assert meta["frozen_parameters"] == sum(base[k].numel() for k in frozen)


def test_freeze_layers_beyond_the_depth_fails_before_loading(toy_dir, tmp_path, monkeypatch) -> None:
    import hybridbatch.models

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(hybridbatch.models, "load_model", no_loading)
    with pytest.raises(
        ConfigError, match=r"--freeze-layers: 3 is more than the model's 2 transformer layers"
    ):
        train(_config(toy_dir, tmp_path / "deep", freeze_layers=3))
    with pytest.raises(ConfigError, match=r"--lora-target-modules: nothing match no module .* query, value"):
        train(_config(toy_dir, tmp_path / "lora", lora_rank=2, lora_target_modules=["nothing"]))
    with pytest.raises(
        ConfigError,
        match=r"--lora-target-modules: LayerNorm include a LayerNorm module, which LoRA cannot adapt",
    ):
        train(_config(toy_dir, tmp_path / "lora", lora_rank=2, lora_target_modules=["LayerNorm"]))
    assert not (tmp_path / "deep").exists() and not (tmp_path / "lora").exists()


def test_model_skeleton_needs_a_config_on_disk(tmp_path) -> None:
    from hybridbatch.training.tuning import model_skeleton, transformer_layers

    skeleton = model_skeleton(TINY)
    assert skeleton is not None and next(skeleton.parameters()).device.type == "meta"
    assert len(transformer_layers(skeleton)) == 2
    assert model_skeleton("some-org/not-on-this-machine") is None
    assert model_skeleton(str(tmp_path)) is None


def test_lora_saves_a_merged_model_that_encodes_like_the_trained_one(toy_dir, tmp_path) -> None:
    from sentence_transformers import SentenceTransformer

    from hybridbatch.training.tuning import save_adapter, save_merged

    config = _config(toy_dir, tmp_path / "run", lora_rank=4, lora_target_modules=["query", "value", "dense"])
    ctx = DistributedContext()
    state = build_state(config, ctx, Checkpointer(config, ctx))
    assert state.trainable and all(
        ".lora_" in n for n, p in state.st_model.named_parameters() if p.requires_grad
    )
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():  # a trained adapter: B is no longer zero
        for p in state.trainable:
            p.add_(torch.randn(p.shape, generator=generator) * 0.3)
    state.st_model.eval()
    want = state.st_model.encode(TEXTS, convert_to_tensor=True)
    save_merged(state.st_model, state.adapter, tmp_path / "model")
    save_adapter(state.adapter, tmp_path / "adapter")
    assert sum(".lora_" in n for n, _ in state.st_model.named_parameters()) > 0  # still adapted in memory
    merged = SentenceTransformer(str(tmp_path / "model"))
    assert not any("lora" in k for k in load_file(str(tmp_path / "model" / "model.safetensors")))
    torch.testing.assert_close(merged.encode(TEXTS, convert_to_tensor=True), want, atol=1e-5, rtol=0)
    unmerged = _base_with_adapter(tmp_path / "adapter")  # the base model plus the adapter alone
    torch.testing.assert_close(unmerged.encode(TEXTS, convert_to_tensor=True), want, atol=1e-5, rtol=0)


def _base_with_adapter(adapter: Path):
    from hybridbatch.models import load_model

    model = load_model(TINY)
    model.load_adapter(str(adapter))
    return model.eval()


def test_lora_run_resumes_exactly_and_checkpoints_only_the_adapter(toy_dir, tmp_path, monkeypatch) -> None:
    settings = {"lora_rank": 2, "distill_weight": 0.5}
    straight = train(_config(toy_dir, tmp_path / "straight", **settings))
    crashed = _config(toy_dir, tmp_path / "crashed", **settings)
    crash_and_resume(crashed, monkeypatch, at_step=4)
    assert same_files(tmp_path / "straight" / "model", tmp_path / "crashed" / "model")
    assert same_files(
        tmp_path / "straight" / "adapter", tmp_path / "crashed" / "adapter", "adapter_model.safetensors"
    )
    (_, checkpoint), *_ = list_checkpoints(crashed.out)
    assert all(".lora_" in k for k in load_file(str(checkpoint / "trainable.safetensors")))
    base = _base_weights()
    trained = load_file(str(straight.model_dir / "model.safetensors"))
    adapted = [
        k for k in base if k.endswith((".query.weight", ".key.weight", ".value.weight", ".dense.weight"))
    ]
    assert len(adapted) == 12 and all(not torch.equal(base[k], trained[k]) for k in adapted)  # merged in
    kept = [k for k in base if k not in adapted]
    assert all(torch.equal(base[k], trained[k]) for k in kept)  # norms, biases, embeddings: the base's
