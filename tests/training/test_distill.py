"""Distillation from a frozen teacher (issue 22): the objective by hand, λ = 0 is today's step, English
targets, GradCache, and exact resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from hybridbatch.errors import ConfigError
from hybridbatch.training import TrainConfig, train
from hybridbatch.training.checkpoint import Checkpointer
from hybridbatch.training.distill import DistilledObjective, DistillTargets, english_sides
from hybridbatch.training.distributed import DistributedContext
from hybridbatch.training.losses import InfoNCELoss
from hybridbatch.training.state import TrainingState, build_state
from hybridbatch.training.step import compute_gradients

TINY = "builtin:tiny"


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_objective_is_contrastive_plus_lambda_times_distance_by_hand() -> None:
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(2, 4)), rng.normal(size=(3, 4))
    tq, td = rng.normal(size=(2, 4)), rng.normal(size=(3, 4))
    targets = DistillTargets(
        torch.tensor(tq), torch.tensor(td), torch.tensor([True, True]), torch.tensor([True, True, False])
    )
    labels = torch.tensor([0, 1])
    objective = DistilledObjective(InfoNCELoss(0.05), 0.7, targets)
    got = objective(torch.tensor(q), torch.tensor(d), labels)
    distances = [1 - _unit(q[i]) @ _unit(tq[i]) for i in range(2)]
    distances += [1 - _unit(d[i]) @ _unit(td[i]) for i in range(2)]  # doc row 2 (a negative): no target
    contrastive = InfoNCELoss(0.05)(torch.tensor(q), torch.tensor(d), labels).item()
    assert objective.stats["distill"] == pytest.approx(np.mean(distances), rel=1e-12)
    assert got.item() == pytest.approx(contrastive + 0.7 * np.mean(distances), rel=1e-12)
    # GradCache's reordering moves the targets with their rows: the same value
    reordered = objective.reordered(torch.tensor([1, 0]), torch.tensor([2, 0, 1]))
    value = reordered(torch.tensor(q[[1, 0]]), torch.tensor(d[[2, 0, 1]]), torch.tensor([2, 1]))
    assert value.item() == pytest.approx(got.item(), rel=1e-12)
    assert reordered.stats is objective.stats


def test_english_targets_are_the_english_sides_of_the_parallel_ids(toy_dir: Path) -> None:
    from hybridbatch.data import load_collection
    from hybridbatch.sampling.batch import Batch, Pair
    from hybridbatch.training.features import batch_texts

    toy = load_collection(str(toy_dir))
    no_english = toy.subset(toy.ids, ["de", "es"])
    batch = Batch(step=0, kind="xy", pairs=[Pair("q3", "de", "es", (1,)), Pair("q1", "es", "en")])
    texts = batch_texts(batch, {toy.name: toy})
    queries, docs = english_sides(batch, texts, {toy.name: toy})
    assert queries == ["Who wrote the book?", "Where is the tower?"]
    assert docs == ["Anna wrote the book.", "The tower is in Paris.", None]  # the hard negative: none
    batch = Batch(step=0, kind="xy", pairs=[Pair("q3", "de", "es")])
    assert english_sides(batch, batch_texts(batch, {toy.name: no_english}), {toy.name: no_english}) == (
        [None],
        [None],
    )


def _state(toy_dir: Path, tmp_path: Path, **settings) -> TrainingState:
    """A training state on the toy data, dropout off, trainable weights moved away from the teacher's."""
    config = TrainConfig(
        model=TINY,
        data=[str(toy_dir)],
        batch_size=3,
        steps=2,
        dev_fraction=0.0,
        out=tmp_path / "run",
        hard_negatives=1,
        **settings,
    )
    ctx = DistributedContext()
    state = build_state(config, ctx, Checkpointer(config, ctx))
    for module in state.st_model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in state.trainable:
            p.add_(torch.randn(p.shape, generator=generator) * 0.05)
    return state


def _gradients(state: TrainingState) -> tuple[float, list[torch.Tensor]]:
    loss = compute_gradients(state, state.sampler.batch_at(0))
    return loss, [p.grad.clone() for p in state.trainable]


def test_step_loss_is_contrastive_plus_lambda_times_the_hand_distance(toy_dir, tmp_path) -> None:
    from hybridbatch.training.features import batch_texts

    plain = _state(toy_dir, tmp_path)
    distilled = _state(toy_dir, tmp_path, distill_weight=0.5, distill_precision="fp32")
    teacher = distilled.distiller.teacher
    assert teacher is not distilled.st_model and not teacher.training
    loss0, _ = _gradients(plain)
    loss1, _ = _gradients(distilled)
    batch = distilled.sampler.batch_at(0)
    texts = batch_texts(batch, distilled.sampler.sources)
    distances = []
    for side, prompt in ((texts.queries, "query"), (texts.docs, "passage")):
        student = distilled.st_model.encode(side, prompt_name=prompt, normalize_embeddings=True)
        target = teacher.encode(side, prompt_name=prompt, normalize_embeddings=True)
        distances += list(1 - (student * target).sum(axis=1))
    assert np.mean(distances) > 1e-4  # the student moved away from the teacher
    assert distilled.step_metrics["distill"] == pytest.approx(np.mean(distances), rel=1e-4)
    assert loss1 == pytest.approx(loss0 + 0.5 * np.mean(distances), abs=1e-5)
    assert distilled.step_metrics["teacher_seconds"] > 0


def test_zero_weight_through_the_distillation_path_is_the_plain_step(toy_dir, tmp_path) -> None:
    plain = _state(toy_dir, tmp_path)
    distilled = _state(toy_dir, tmp_path, distill_weight=0.5)
    settings = distilled.config.distillation.model_copy(update={"distill_weight": 0.0})
    distilled.distiller.settings = settings  # the teacher runs, its term is weighted 0
    loss0, grads0 = _gradients(plain)
    loss1, grads1 = _gradients(distilled)
    assert loss1 == loss0
    assert all(torch.equal(a, b) for a, b in zip(grads0, grads1, strict=True))


def test_gradcache_with_distillation_gives_the_plain_gradient(toy_dir, tmp_path) -> None:
    plain = _state(toy_dir, tmp_path, distill_weight=0.5, distill_mode="english")
    cached = _state(toy_dir, tmp_path, distill_weight=0.5, distill_mode="english", mini_batch_size=2)
    loss0, grads0 = _gradients(plain)
    loss1, grads1 = _gradients(cached)
    assert plain.step_metrics["distill"] > 0
    assert cached.step_metrics["distill"] == pytest.approx(plain.step_metrics["distill"], rel=1e-5)
    assert loss1 == pytest.approx(loss0, abs=1e-6)
    for a, b in zip(grads0, grads1, strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-4)


def _config(data: Path, out: Path, **settings) -> TrainConfig:
    values = dict(model=TINY, data=[str(data)], batch_size=3, steps=6, dev_fraction=0.0, checkpoint_every=3)
    values |= dict(lr=1e-3, warmup_steps=0, show_progress=False, num_threads=1)
    return TrainConfig(**{**values, **settings}, out=out)


def crash_and_resume(config: TrainConfig, monkeypatch: pytest.MonkeyPatch, at_step: int) -> None:
    """Train ``config``, crash inside step ``at_step`` (after a checkpoint), then rerun: it resumes."""
    from hybridbatch.training import trainer

    real = trainer.train_step

    def crashing(state, batch):
        if batch.step == at_step:
            raise RuntimeError("simulated crash")
        return real(state, batch)

    monkeypatch.setattr(trainer, "train_step", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(config)
    assert not (config.out / "model").exists()
    monkeypatch.setattr(trainer, "train_step", real)
    result = train(config)
    assert result.resumed_from is not None and result.resumed_from < at_step


def same_files(a: Path, b: Path, name: str = "model.safetensors") -> bool:
    got, want = load_file(str(a / name)), load_file(str(b / name))
    return got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_resume_with_distillation_and_gradcache_is_exact(toy_dir, tmp_path, monkeypatch) -> None:
    settings = {"distill_weight": 0.5, "mini_batch_size": 2}
    straight = train(_config(toy_dir, tmp_path / "straight", **settings))
    assert straight.teacher_seconds is not None and straight.teacher_seconds > 0
    crash_and_resume(_config(toy_dir, tmp_path / "crashed", **settings), monkeypatch, at_step=4)
    assert same_files(tmp_path / "straight" / "model", tmp_path / "crashed" / "model")


def test_zero_weight_is_todays_run(toy_dir, tmp_path) -> None:
    today = _config(toy_dir, tmp_path / "today", checkpoint_every=0)
    off = _config(toy_dir, tmp_path / "off", checkpoint_every=0, distill_weight=0.0, distill_mode="english")
    assert off.fingerprint() == today.fingerprint()
    train(today)
    result = train(off)
    assert result.teacher_seconds is None
    assert same_files(tmp_path / "today" / "model", tmp_path / "off" / "model")


def test_english_mode_needs_an_english_side_before_the_model_loads(toy_dir, tmp_path, monkeypatch) -> None:
    import hybridbatch.models

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(hybridbatch.models, "load_model", no_loading)
    config = _config(
        toy_dir, tmp_path / "run", distill_weight=1.0, distill_mode="english", languages=["de", "es"]
    )
    with pytest.raises(
        ConfigError, match=r"--distill-mode english: .* has no English side \(languages: de, es\)"
    ):
        train(config)


def test_teacher_precision_and_shared_frozen_weights(tiny_model, monkeypatch) -> None:
    from hybridbatch.models import capability
    from hybridbatch.training.distill import build_teacher, teacher_dtype

    cpu = torch.device("cpu")
    native = capability.detect(with_torch=False).native_bf16
    assert teacher_dtype("auto", cpu) == (torch.bfloat16 if native else torch.float32)
    monkeypatch.setattr(capability, "detect", lambda **_: capability.CpuCapability(bf16_flags=()))
    assert teacher_dtype("auto", cpu) == torch.float32
    assert teacher_dtype("bf16", cpu) == torch.bfloat16 and teacher_dtype("fp32", cpu) == torch.float32

    student = tiny_model
    words = student[0].auto_model.get_input_embeddings().weight
    words.requires_grad_(False)
    try:
        fp32 = build_teacher(
            TrainConfig(out=Path("x"), distill_weight=1, distill_precision="fp32"), student, cpu
        )
        bf16 = build_teacher(
            TrainConfig(out=Path("x"), distill_weight=1, distill_precision="bf16"), student, cpu
        )
    finally:
        words.requires_grad_(True)
    assert fp32[0].auto_model.get_input_embeddings().weight is words  # frozen: shared, not copied
    query = "encoder.layer.0.attention.self.query.weight"
    assert fp32[0].auto_model.get_parameter(query) is not student[0].auto_model.get_parameter(query)
    assert all(p.dtype == torch.bfloat16 and not p.requires_grad for p in bf16.parameters())
    assert all(p.dtype == torch.float32 for p in student.parameters())  # the student is untouched
    assert student[0].auto_model.get_parameter(query).requires_grad
    texts = ["Wo ist der Turm?", "The tower is in Paris."]
    a = fp32.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
    b = bf16.encode(texts, convert_to_tensor=True, normalize_embeddings=True).float()
    assert torch.all((a * b).sum(dim=1) > 0.99)


def test_fingerprints_hold_the_new_settings_only_when_they_act() -> None:
    base = TrainConfig(out=Path("x"))
    acting = [
        {"distill_weight": 1.0},
        {"distill_weight": 1.0, "distill_mode": "english"},
        {"distill_weight": 1.0, "distill_data": "flores200:train"},
        {"distill_weight": 1.0, "distill_teacher": "builtin:tiny"},
        {"distill_weight": 1.0, "distill_precision": "fp32"},
        {"lora_rank": 4},
        {"lora_rank": 4, "lora_alpha": 8.0},
        {"lora_rank": 4, "lora_dropout": 0.0},
        {"lora_rank": 4, "lora_target_modules": ["query", "value"]},
        {"freeze_layers": 2},
        {"freeze_layers": 0},
    ]
    prints = [TrainConfig(out=Path("x"), **settings).fingerprint() for settings in acting]
    assert len(set(prints)) == len(acting) and base.fingerprint() not in prints
    idle = [{"distill_weight": 0.0, "distill_mode": "english"}, {"lora_alpha": 8.0, "lora_dropout": 0.0}]
    assert all(
        TrainConfig(out=Path("x"), **settings).fingerprint() == base.fingerprint() for settings in idle
    )
    assert TrainConfig(out=Path("x"), lora_rank=4).differences(base.material()) == ["lora_rank: None -> 4"]


def test_ddp_weighting_of_unequal_ranks_gives_the_global_mean_gradient(monkeypatch) -> None:
    """Two ranks with 3 and 5 distilled rows: DDP averages share_r · ∇mean_r, which must be ∇ of the mean
    over all 8 rows (simulated: the collectives are replaced by their values)."""
    from hybridbatch.training import distributed
    from hybridbatch.training.distill import global_share
    from hybridbatch.training.losses import DistillationLoss

    generator = torch.Generator().manual_seed(1)
    student = torch.randn(8, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(8, 4, generator=generator, dtype=torch.float64)
    (want,) = torch.autograd.grad(DistillationLoss()(student, teacher), student)
    monkeypatch.setattr(distributed, "is_distributed", lambda: True)
    monkeypatch.setattr(distributed, "reduce_mean", lambda value: (3 + 5) / 2)
    got = torch.zeros_like(student)
    for rows in (slice(0, 3), slice(3, 8)):
        local = DistillationLoss()(student[rows], teacher[rows]) * global_share(rows.stop - rows.start)
        (grad,) = torch.autograd.grad(local, student)
        got += grad / 2  # DDP's average over the two ranks
    torch.testing.assert_close(got, want)
