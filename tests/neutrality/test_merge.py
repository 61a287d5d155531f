"""``merge``: WiSE-FT interpolation (Wortsman et al. 2022) and checkpoint averaging."""

from __future__ import annotations

import pytest
import torch

from hybridbatch.errors import ConfigError
from hybridbatch.models import load_model
from hybridbatch.neutrality.merge import average_models, merge_models
from hybridbatch.neutrality.model import save_model


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """The tiny builtin (A) and a copy with perturbed weights (B), saved as model directories."""
    root = tmp_path_factory.mktemp("merge")
    a = load_model("builtin:tiny", device="cpu")
    save_model(a, root / "a", {}, "# A")
    b = load_model("builtin:tiny", device="cpu")
    with torch.no_grad():
        for p in b.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    save_model(b, root / "b", {}, "# B")
    return root / "a", root / "b"


def _state(path) -> dict[str, torch.Tensor]:
    return load_model(str(path), device="cpu").state_dict()


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_endpoints_reproduce_the_parents_exactly(two_models, tmp_path, weight):
    a, b = two_models
    out = merge_models(str(a), str(b), weight, tmp_path / "m")
    merged, parent = _state(out), _state(b if weight else a)
    assert merged.keys() == parent.keys()
    for key, tensor in parent.items():
        assert torch.equal(merged[key], tensor), key


def test_midpoint_and_average_are_the_mean(two_models, tmp_path):
    a, b = two_models
    half = _state(merge_models(str(a), str(b), 0.5, tmp_path / "h"))
    avg = _state(average_models([str(a), str(b)], tmp_path / "avg"))
    sa, sb = _state(a), _state(b)
    key = next(k for k, v in sa.items() if v.is_floating_point() and not torch.equal(v, sb[k]))
    torch.testing.assert_close(half[key], (sa[key] + sb[key]) / 2)
    torch.testing.assert_close(avg[key], half[key])
    assert "WiSE-FT" in (tmp_path / "h" / "README.md").read_text()


def test_bad_inputs_are_one_line_errors(two_models, tmp_path):
    a, b = two_models
    for weight in (-0.1, 1.5):
        with pytest.raises(ConfigError, match=r"^weight must be in \[0, 1\]"):
            merge_models(str(a), str(b), weight, tmp_path / "w")
    other = load_model("builtin:tiny", device="cpu")
    from sentence_transformers import SentenceTransformer

    SentenceTransformer(modules=list(other)[:2], device="cpu").save(str(tmp_path / "nonorm"))
    with pytest.raises(ConfigError, match="different architectures"):
        merge_models(str(a), str(tmp_path / "nonorm"), 0.5, tmp_path / "z")
    with pytest.raises(ConfigError, match="at least 2"):
        average_models([str(a)], tmp_path / "one")
    assert not (tmp_path / "w").exists() and not (tmp_path / "z").exists()
