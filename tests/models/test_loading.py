"""load_model / build_builtin: builtins, local paths, prompts, caching and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from hybridbatch import cli
from hybridbatch.errors import ModelError
from hybridbatch.models import DEFAULT_PROMPTS, build_builtin, builtin_path, load_model, loading
from hybridbatch.models.builders import build_tiny

SENTENCES = ["Where is the tower?", "Der Turm ist in Paris.", "黑豹队的防守丢了多少分？"]


def test_tiny_shape_prompts_and_normalized(tiny_model):
    assert tiny_model.get_embedding_dimension() == 32
    assert tiny_model.prompts["query"] == "query: " and tiny_model.prompts["passage"] == "passage: "
    bert = tiny_model[0].auto_model
    assert bert.config.num_hidden_layers == 2 and bert.config.hidden_size == 32
    assert getattr(bert, "pooler", None) is None  # every parameter is used by mean pooling
    emb = tiny_model.encode(SENTENCES, prompt_name="query")
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_prompt_is_prepended(tiny_model):
    with_prompt = tiny_model.encode(SENTENCES, prompt_name="query")
    manual = tiny_model.encode(["query: " + s for s in SENTENCES])
    passage = tiny_model.encode(SENTENCES, prompt_name="passage")
    np.testing.assert_allclose(with_prompt, manual, atol=1e-6)
    assert not np.allclose(with_prompt, passage, atol=1e-3)


def test_tiny_build_is_deterministic(tiny_model, tmp_path):
    # compare with the cached build on disk: the session fixture may have been trained in place
    cached = SentenceTransformer(str(builtin_path("builtin:tiny")), device="cpu")
    rebuilt = SentenceTransformer(str(build_tiny(tmp_path / "tiny")), device="cpu")
    ours, theirs = cached.state_dict(), rebuilt.state_dict()
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key
    query_weight = next(v for k, v in ours.items() if k.endswith("layer.0.attention.self.query.weight"))
    assert query_weight.std() > 0  # random, not constant, yet identical across builds


def test_tiny_is_trainable(tiny_model):
    features = tiny_model.preprocess(["query: a question", "passage: an answer"])
    out = tiny_model(features)["sentence_embedding"]
    loss = -(out[0] * out[1]).sum()
    loss.backward()
    grads = [p.grad for p in tiny_model.parameters()]
    assert all(g is not None for g in grads)
    tiny_model.zero_grad(set_to_none=True)


@pytest.fixture(scope="module")
def saved_tiny(tiny_model, tmp_path_factory):
    """The tiny model saved once through ``SentenceTransformer.save``."""
    path = tmp_path_factory.mktemp("saved") / "tiny"
    tiny_model.save(str(path))
    return path


def test_save_load_round_trip(tiny_model, saved_tiny):
    reloaded = SentenceTransformer(str(saved_tiny), device="cpu")
    assert reloaded.prompts["query"] == "query: " and reloaded.prompts["passage"] == "passage: "
    np.testing.assert_allclose(
        reloaded.encode(SENTENCES, prompt_name="passage"),
        tiny_model.encode(SENTENCES, prompt_name="passage"),
        atol=1e-6,
    )
    via_spec = load_model(str(saved_tiny))
    assert via_spec.get_embedding_dimension() == 32


def test_a_saved_model_loads_without_a_pooler_or_load_report(tiny_model, saved_tiny, capfd, tmp_path):
    """Plain ST saves drop ``add_pooling_layer=False``; loading must not add a random pooler and warn."""
    import shutil

    plain = shutil.copytree(saved_tiny, tmp_path / "plain")
    config = json.loads((plain / "sentence_bert_config.json").read_text())
    config.pop("model_kwargs", None)
    (plain / "sentence_bert_config.json").write_text(json.dumps(config))
    capfd.readouterr()
    model = load_model(str(plain))
    err = capfd.readouterr().err
    assert "LOAD REPORT" not in err and "MISSING" not in err, err
    assert getattr(model[0].auto_model, "pooler", None) is None
    model.save(str(tmp_path / "again"))  # ...and every later save (e.g. a trainer checkpoint) says so
    assert json.loads((tmp_path / "again" / "sentence_bert_config.json").read_text())["model_kwargs"] == {
        "add_pooling_layer": False
    }
    ours = model.encode(SENTENCES, prompt_name="query")
    np.testing.assert_allclose(ours, tiny_model.encode(SENTENCES, prompt_name="query"), atol=1e-6)


def _break(directory, how):
    if how == "modules.json":
        (directory / "modules.json").write_text("{bad")
    elif how == "config.json":
        (directory / "config.json").write_text("{bad")
    elif how == "no weights":
        (directory / "model.safetensors").unlink()
    elif how == "garbage weights":
        (directory / "model.safetensors").write_bytes(b"garbage")
    elif how == "truncated weights":
        data = (directory / "model.safetensors").read_bytes()
        (directory / "model.safetensors").write_bytes(data[:1000])


@pytest.mark.parametrize(
    "how", ["modules.json", "config.json", "no weights", "garbage weights", "truncated weights"]
)
def test_broken_model_directory_is_one_model_error(saved_tiny, tmp_path, how):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(saved_tiny, broken)
    _break(broken, how)
    with pytest.raises(ModelError, match=r"model directory .*broken cannot be loaded \(") as info:
        load_model(str(broken))
    assert "\n" not in str(info.value)


def test_plain_transformers_checkpoint_gets_pooling_and_prompts(tiny_model, tmp_path):
    plain = tmp_path / "plain"
    tiny_model[0].auto_model.save_pretrained(plain)
    tiny_model.tokenizer.save_pretrained(plain)
    model = load_model(str(plain))
    assert model.prompts["query"] == DEFAULT_PROMPTS["query"]
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    ours = model.encode(SENTENCES, prompt_name="query")
    np.testing.assert_allclose(ours, tiny_model.encode(SENTENCES, prompt_name="query"), atol=1e-5)


def test_existing_prompts_are_kept(saved_tiny, tmp_path):
    custom = tmp_path / "custom"
    custom.mkdir()
    for item in saved_tiny.iterdir():  # link the weights, rewrite only the prompts
        (custom / item.name).symlink_to(item, target_is_directory=item.is_dir())
    config = json.loads((saved_tiny / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "Q: ", "passage": "P: "}
    (custom / "config_sentence_transformers.json").unlink()
    (custom / "config_sentence_transformers.json").write_text(json.dumps(config))
    prompts = load_model(str(custom)).prompts
    assert (prompts["query"], prompts["passage"], prompts["document"]) == ("Q: ", "P: ", "P: ")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("builtin:nope", "unknown builtin model"),
        ("./no/such/model", "does not exist"),
        ("", "empty model spec"),
    ],
)
def test_bad_specs_raise_model_error(spec, message):
    with pytest.raises(ModelError, match=message):
        load_model(spec)


def test_directory_without_model_files(tmp_path):
    with pytest.raises(ModelError, match=r"modules\.json"):
        load_model(str(tmp_path))


def test_unknown_hub_id_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE"):
        load_model("no-such-org/no-such-model")


def test_unknown_hub_id_unreachable(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setattr(loading, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ModelError, match="unreachable"):
        load_model("no-such-org/no-such-model")


def test_cli_unknown_model_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["hybridbatch", "models", "info", "builtin:nope"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown builtin model 'builtin:nope'") and "\n" not in err


def test_cli_info_json(monkeypatch, capsys, tiny_model):
    monkeypatch.setattr("sys.argv", ["hybridbatch", "models", "info", "builtin:tiny", "--json"])
    cli.main()
    info = json.loads(capsys.readouterr().out)
    assert info["embedding_dim"] == 32 and info["prompts"]["passage"] == "passage: "
    assert info["parameters"] == sum(p.numel() for p in tiny_model.parameters())


def _fake_builder(calls):
    def build(out):
        calls.append(out)
        (out / "modules.json").write_text("[]")
        (out / loading.MARKER).write_text(json.dumps({"name": "fake"}))
        return out

    return build


def test_build_builtin_caches_and_force_rebuilds(monkeypatch, tmp_path):
    monkeypatch.setenv("HYBRIDBATCH_HOME", str(tmp_path))
    calls = []
    monkeypatch.setitem(loading.BUILTIN_MODELS, "fake", _fake_builder(calls))
    path = build_builtin("builtin:fake")
    assert path == builtin_path("builtin:fake") == tmp_path / "models" / "fake"
    assert json.loads((path / loading.MARKER).read_text())["build_version"] == loading.BUILD_VERSION
    assert build_builtin("builtin:fake") == path and len(calls) == 1
    build_builtin("fake", force=True)
    assert len(calls) == 2 and calls[1] != path  # built in a temporary sibling, then renamed


def test_failed_build_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("HYBRIDBATCH_HOME", str(tmp_path))

    def broken(out):
        (out / "partial").write_text("x")
        raise RuntimeError("boom")

    monkeypatch.setitem(loading.BUILTIN_MODELS, "broken", broken)
    with pytest.raises(RuntimeError):
        build_builtin("builtin:broken")
    assert not (tmp_path / "models" / "broken").exists()
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.endswith(".tmp")]


def test_document_prompt_follows_passage(tiny_model):
    assert tiny_model.prompts["document"] == "passage: "
    np.testing.assert_allclose(
        tiny_model.encode_document(SENTENCES), tiny_model.encode(SENTENCES, prompt_name="passage"), atol=1e-6
    )


def test_info_reports_training_metadata(saved_tiny):
    from hybridbatch.models.info import model_info, render_model_info
    from hybridbatch.models.metadata import TRAINING_JSON as TRAINING_METADATA

    (saved_tiny / TRAINING_METADATA).write_text(json.dumps({"strategy": "hybrid", "alpha": 0.5}))
    try:
        info = model_info(str(saved_tiny))
    finally:
        (saved_tiny / TRAINING_METADATA).unlink()
    assert info.training == {"strategy": "hybrid", "alpha": 0.5} and info.path == str(saved_tiny)
    assert "alpha: 0.5" in render_model_info(info)
