"""``--precision auto``: the CPU's native bf16 decides (cpuinfo mocked both ways), and reports say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridbatch.models import capability
from hybridbatch.models.capability import CpuCapability, detect
from hybridbatch.models.encoding import check_precision

ZEN4 = (
    "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n"
)
SPR = "processor\t: 0\nmodel name\t: Intel Xeon 8480\nflags\t\t: avx2 avx512f avx512_bf16 amx_tile amx_bf16\n"
ZEN3 = "processor\t: 0\nmodel name\t: AMD EPYC 7R13\nflags\t\t: fpu sse avx avx2 fma\n"


@pytest.fixture
def cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``cpu(text)`` makes ``text`` this machine's /proc/cpuinfo."""

    def use(text: str) -> Path:
        file = tmp_path / "cpuinfo"
        file.write_text(text + "processor\t: 1\nflags\t\t: other flags\n", encoding="utf-8")
        monkeypatch.setattr(capability, "CPUINFO", file)
        return file

    return use


@pytest.mark.parametrize(
    ("text", "flags", "chosen"),
    [(ZEN4, ("avx512_bf16",), "bf16"), (SPR, ("amx_bf16", "avx512_bf16"), "bf16"), (ZEN3, (), "fp32")],
    ids=["avx512_bf16", "amx", "avx2 only"],
)
def test_auto_is_bf16_only_with_native_bf16(cpu, text, flags, chosen) -> None:
    cpu(text)
    found = detect(with_torch=False)
    assert found.bf16_flags == flags and found.native_bf16 == bool(flags)
    assert found.model_name.startswith(("AMD", "Intel")) and found.source == "cpuinfo"
    assert check_precision("auto") == chosen
    assert found.as_dict()["bf16_flags"] == list(flags)


def test_explicit_precisions_are_kept_whatever_the_cpu(cpu) -> None:
    cpu(ZEN3)
    assert [check_precision(p) for p in ("fp32", "bf16", "int8")] == ["fp32", "bf16", "int8"]


def test_without_cpuinfo_pytorch_probes_the_cpu(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(capability, "CPUINFO", tmp_path / "absent")
    monkeypatch.setattr(capability, "_torch_bf16_flags", lambda: ("avx512_bf16",))
    found = detect()
    assert found.source == "torch" and found.auto_precision() == "bf16"
    assert found.torch_capability not in ("", "unknown")  # torch reports its kernel level
    monkeypatch.setattr(capability, "_torch_bf16_flags", lambda: ())
    assert detect(with_torch=False).auto_precision() == "fp32"


def test_describe_names_the_flags() -> None:
    assert "native bf16 (avx512_bf16)" in CpuCapability(("avx512_bf16",), "EPYC", "AVX512").describe()
    assert "no native bf16" in CpuCapability((), "EPYC", "AVX2").describe()


@pytest.mark.parametrize(
    ("text", "chosen", "why"),
    [(ZEN4, "bf16", "native bf16 (avx512_bf16)"), (ZEN3, "fp32", "without")],
    ids=["avx512_bf16", "avx2 only"],
)
def test_the_report_records_what_auto_chose_and_the_cpu(
    cpu, cli, toy_dir, tmp_path, text, chosen, why
) -> None:
    import json

    cpu(text)
    out = tmp_path / "eval"
    args = ["--model", "builtin:tiny", "--data", str(toy_dir), "--out", str(out), "--no-cache"]
    code, _, err = cli("evaluate", *args, "--precision", "auto")
    assert code == 0, err
    dataset = next(iter(json.loads((out / "report.json").read_text())["datasets"].values()))
    assert (dataset["precision"], dataset["precision_requested"]) == (chosen, "auto")
    assert dataset["cpu"]["bf16_flags"] == (["avx512_bf16"] if chosen == "bf16" else [])
    assert (
        f"{chosen} by auto on a CPU" in (out / "report.md").read_text()
        and why in (out / "report.md").read_text()
    )


def test_an_explicit_precision_is_recorded_without_a_request_note(cpu, toy_dir) -> None:
    from hybridbatch.evaluation import EncodeOptions, evaluate_model

    cpu(ZEN4)
    encoding = EncodeOptions(show_progress=False, precision="fp32")
    report = evaluate_model("builtin:tiny", str(toy_dir), encoding=encoding)
    assert report.precision == "fp32" and report.precision_requested is None
    assert report.cpu is not None and report.cpu["native_bf16"] is True


@pytest.mark.parametrize(("text", "chosen", "folder"), [(ZEN4, "bf16", "eval-bf16"), (ZEN3, "fp32", "eval")])
def test_compare_resolves_auto_so_folders_name_what_ran(cpu, tmp_path, text, chosen, folder) -> None:
    from hybridbatch.comparison.runs.config import ComparisonSettings

    cpu(text)
    config = ComparisonSettings(out=tmp_path / "cmp", precision="auto")
    assert (config.precision, config.eval_name) == (chosen, folder)


@pytest.mark.parametrize(
    ("text", "setting", "trained_bf16"),
    [(ZEN4, "auto", True), (ZEN3, "auto", False), (ZEN3, "bf16", True), (ZEN4, "fp32", False)],
)
def test_compare_train_precision_sets_every_runs_bf16(cpu, tmp_path, text, setting, trained_bf16) -> None:
    from hybridbatch.comparison.runs.config import ComparisonSettings, plan_runs, train_config

    cpu(text)
    config = ComparisonSettings(
        out=tmp_path / "cmp", train_precision=setting, strategies=["base", "xy", "hybrid"]
    )
    trained = [train_config(run, config) for run in plan_runs(config) if run.overrides is not None]
    assert len(trained) == 2 and all(c.bf16 is trained_bf16 for c in trained)


def test_an_index_built_with_auto_records_the_precision_used(cpu, tiny_model, tmp_path) -> None:
    from hybridbatch.search import DenseIndex, build_index

    cpu(ZEN4)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(f'{{"id": "d{i}", "text": "text {i}"}}\n' for i in range(5)), encoding="utf-8")
    build_index(tiny_model, str(corpus), tmp_path / "index", precision="auto")
    info = DenseIndex.load(tmp_path / "index", model=tiny_model).info
    assert info.precision == "bf16" and info.cpu is not None and info.cpu["model_name"] == "AMD EPYC 9R14"


def test_afriqa_and_beir_reports_record_the_cpu(cpu, tmp_path) -> None:
    from data.test_afriqa import write_afriqa  # tests/ is on sys.path (conftest)
    from evaluation.test_afriqa import LookupEncoder as AfriqaEncoder
    from evaluation.test_beir import LookupEncoder as BeirEncoder
    from evaluation.test_beir import write_toy
    from hybridbatch.evaluation.afriqa import evaluate_afriqa
    from hybridbatch.evaluation.beir import evaluate_beir

    cpu(ZEN3)
    afriqa = evaluate_afriqa(AfriqaEncoder(), "test", root=write_afriqa(tmp_path / "afriqa"))
    beir = evaluate_beir(BeirEncoder(), write_toy(tmp_path / "toy"), k_values=(2,))
    for report in (afriqa, beir):
        assert report.cpu is not None and report.cpu["model_name"] == "AMD EPYC 7R13"
        assert report.cpu["native_bf16"] is False


@pytest.mark.parametrize(("text", "chosen"), [(ZEN4, True), (ZEN3, False)], ids=["avx512_bf16", "avx2 only"])
def test_train_bf16_auto_is_resolved_in_the_settings(cpu, tmp_path, text, chosen) -> None:
    from hybridbatch.training.config import TrainConfig

    cpu(text)
    config = TrainConfig.validated({"out": tmp_path / "run", "bf16": "auto"}, source="train.yaml")
    assert config.bf16 is chosen and config.material()["bf16"] is chosen  # the fingerprint names what ran
    assert TrainConfig(out=tmp_path / "run", bf16=True).bf16 is True
