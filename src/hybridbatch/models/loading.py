"""Resolve a model spec to a sentence-transformers model.

A spec is ``builtin:<name>`` (built on first use into ``models_home()/<name>``), a local path (a
sentence-transformers directory or a plain transformers checkpoint) or a Hugging Face id.
"""

from __future__ import annotations

import json
import os
import socket
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from hybridbatch.errors import ModelError
from hybridbatch.io import atomic_directory, sibling_lock
from hybridbatch.models.builders import DEFAULT_PROMPTS, NO_POOLER, build_multilingual_e5_small, build_tiny
from hybridbatch.paths import HOME_ENV, models_home

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUILTIN_PREFIX = "builtin:"
#: Builtin model name -> builder writing a sentence-transformers directory into an empty folder.
BUILTIN_MODELS: dict[str, Callable[[Path], Path]] = {
    "multilingual-e5-small": build_multilingual_e5_small,
    "tiny": build_tiny,
}
#: Bump when a builder's output changes, so cached builds are rebuilt.
BUILD_VERSION = 2
MARKER = "hybridbatch_builtin.json"


def _builtin_name(spec: str) -> str:
    name = spec.removeprefix(BUILTIN_PREFIX)
    if name not in BUILTIN_MODELS:
        known = ", ".join(BUILTIN_PREFIX + n for n in BUILTIN_MODELS)
        raise ModelError(f"unknown builtin model {spec!r} (known: {known})")
    return name


def builtin_path(spec: str) -> Path:
    """Cache directory of a builtin model (built or not)."""
    return models_home() / _builtin_name(spec)


def _is_built(path: Path) -> bool:
    try:
        meta = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("build_version") == BUILD_VERSION and (path / "modules.json").is_file()


def build_builtin(spec: str, force: bool = False) -> Path:
    """Build ``builtin:<name>`` (or bare ``<name>``) into the model cache unless cached; return its path.

    The directory is written atomically (temporary sibling, then renamed); concurrent builders wait on
    a lock file and reuse the first one's result.
    """
    name = _builtin_name(spec)
    path = models_home() / name
    if not force and _is_built(path):
        return path
    try:
        return _build(name, path, force)
    except OSError as exc:
        raise ModelError(
            f"cannot build builtin:{name} into {path} ({exc.strerror or exc}); "
            f"set {HOME_ENV} to a writable directory"
        ) from None


def _build(name: str, path: Path, force: bool) -> Path:
    with sibling_lock(path):
        if not force and _is_built(path):
            return path
        with atomic_directory(path) as tmp:
            tmp.chmod(0o755)  # mkdtemp creates 0700; the cache is shared like any other
            BUILTIN_MODELS[name](tmp)
            marker = tmp / MARKER
            meta = json.loads(marker.read_text(encoding="utf-8"))
            marker.write_text(json.dumps({**meta, "build_version": BUILD_VERSION}, indent=2) + "\n")
    return path


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _looks_like_path(spec: str) -> bool:
    """Hugging Face ids are ``name`` or ``org/name``; anything else that is not on disk is a missing path."""
    return spec.startswith(("/", ".", "~")) or spec.count("/") > 1 or "\\" in spec


def _load_local(path: Path, device: str | None) -> SentenceTransformer:
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"model path {path} is neither a sentence-transformers directory (modules.json) "
            "nor a transformers checkpoint (config.json)"
        )
    try:
        return _load_dir(path, device)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a broken directory fails in many ways (JSON, OSError, safetensors, ...)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ModelError(
            f"model directory {path} cannot be loaded ({type(exc).__name__}: {reason[:300]})"
        ) from exc


def _load_dir(path: Path, device: str | None) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    kwargs = _no_pooler(path)
    if (path / "modules.json").is_file():
        return SentenceTransformer(str(path), device=device, local_files_only=True, model_kwargs=kwargs)
    # a plain transformers checkpoint: add mean pooling + normalize
    transformer = Transformer(str(path), model_kwargs={"local_files_only": True, **kwargs})
    dim = transformer.get_embedding_dimension()
    return SentenceTransformer(modules=[transformer, Pooling(dim, "mean"), Normalize()], device=device)


def _no_pooler(path: Path) -> dict[str, bool]:
    """:data:`NO_POOLER` when the checkpoint holds no pooler weights and its architecture has the option.

    sentence-transformers does not save that load option, so a trained model would otherwise get a
    randomly initialized (and unused: mean pooling) BERT pooler and a "MISSING … newly initialized" report.
    """
    import inspect

    from safetensors import safe_open
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    files = sorted([*path.glob("*.safetensors"), *path.glob("*/*.safetensors")])
    if not files:
        return {}
    for file in files:
        with safe_open(str(file), "pt") as handle:  # reads the header only
            if any(key.startswith("pooler.") or ".pooler." in key for key in handle.keys()):  # noqa: SIM118
                return {}
    folders = [f.parent for f in files if "model_type" in _read_text(f.parent / "config.json")]
    if not folders:  # e.g. only a Dense module's weights (its config.json names no model_type)
        return {}
    config = AutoConfig.from_pretrained(str(folders[0]), local_files_only=True)
    architecture = MODEL_MAPPING.get(type(config), None)
    if architecture is None or "add_pooling_layer" not in inspect.signature(architecture.__init__).parameters:
        return {}
    return dict(NO_POOLER)


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError:
        return ""


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face endpoint accepts a TCP connection (avoids minutes of download retries)."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _load_hub(spec: str, device: str | None) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:  # the local Hugging Face cache first, so that a cached model never touches the network
        return SentenceTransformer(spec, device=device, local_files_only=True)
    except (OSError, ValueError) as local_exc:
        if _offline():
            raise ModelError(
                f"model {spec!r} is not a builtin, not a local path and not in the Hugging Face cache "
                "(HF_HUB_OFFLINE is set)"
            ) from local_exc
        if not _hub_reachable():
            raise ModelError(
                f"model {spec!r} is not a builtin, not a local path and not in the Hugging Face cache, "
                "and the Hugging Face Hub is unreachable"
            ) from local_exc
    try:
        return SentenceTransformer(spec, device=device)
    except Exception as exc:  # network errors come in many types (OSError, requests/httpx errors)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"model {spec!r} could not be found locally or downloaded from the Hugging Face Hub "
            f"({reason[:200]})"
        ) from exc


def ensure_prompts(model: SentenceTransformer) -> SentenceTransformer:
    """Set the E5 prompts ``query`` / ``passage`` unless the model defines non-empty prompts of those names.

    sentence-transformers 6 gives every model empty ``query``/``document`` placeholders, so an empty
    prompt counts as undefined. An undefined ``document`` prompt becomes the ``passage`` prompt, so that
    ``model.encode_document`` and ``encode(..., prompt_name="passage")`` agree.
    """
    prompts = {name: text for name, text in (model.prompts or {}).items() if text}
    prompts = {**DEFAULT_PROMPTS, **prompts}
    prompts.setdefault("document", prompts["passage"])
    model.prompts = prompts
    return model


def resolve_path(spec: str) -> Path | None:
    """The local directory a spec loads from (``None`` for a Hugging Face id), building builtins."""
    if spec.startswith(BUILTIN_PREFIX):
        return build_builtin(spec)
    path = Path(spec).expanduser()
    if path.exists():
        return path
    if _looks_like_path(spec):
        raise ModelError(f"model path {spec} does not exist")
    return None


def load_model(spec: str, device: str | None = None) -> SentenceTransformer:
    """Load ``spec`` (``builtin:<name>``, a local directory or a Hugging Face id) as a SentenceTransformer.

    Builtins are built into the model cache on first use. The returned model always has the prompts
    ``query`` (``"query: "``) and ``passage`` (``"passage: "``) unless it defines its own of those names.
    Raises :class:`ModelError` with one line when the spec cannot be resolved or loaded.
    """
    if not spec or not spec.strip():
        raise ModelError("empty model spec (give builtin:<name>, a path or a Hugging Face id)")
    path = resolve_path(spec)
    model = _load_local(path, device) if path is not None else _load_hub(spec, device)
    keep_no_pooler(model)
    return ensure_prompts(model)


def keep_no_pooler(model: SentenceTransformer) -> None:
    """Make every later save of a pooler-less BERT (trainer checkpoints too) record ``add_pooling_layer``.

    sentence-transformers drops ``model_kwargs`` when saving, so reloading a checkpoint (e.g.
    ``resume_from_checkpoint``) would build a pooler the saved weights do not have. Only the module's
    ``save`` is wrapped: its repr (and so embedding-cache fingerprints) stays the same.
    """
    module = model[0]
    if getattr(getattr(module, "auto_model", None), "pooler", "absent") is None:
        module.save = types.MethodType(_save_without_pooler, module)


def _save_without_pooler(self: Any, output_path: str, *args: Any, **kwargs: Any) -> None:
    type(self).save(self, output_path, *args, **kwargs)
    file = Path(output_path) / self.config_file_name
    config = json.loads(file.read_text(encoding="utf-8"))
    config["model_kwargs"] = {**config.get("model_kwargs", {}), **NO_POOLER}
    file.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")
