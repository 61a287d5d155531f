"""The ``hf:MODEL`` engine: a Hugging Face seq2seq translation model through ``transformers``.

``MODEL`` is a local model directory or a hub id already in the local Hugging Face cache. The target
language is chosen the way each model family expects, found from the tokenizer's vocabulary:

- NLLB-200 (``spa_Latn`` tokens) and M2M100 (``__es__`` tokens): ``src_lang`` on the tokenizer and the
  target token forced as the first generated token;
- multi-target Marian / OPUS-MT (``>>spa<<`` tokens): the token prefixed to every sentence;
- single-pair Marian (``opus-mt-en-es``): no token; the pair is checked against the tokenizer's
  ``source_lang`` / ``target_lang`` when it declares them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hybridbatch.data.translation.engines import EngineError, Output
from hybridbatch.data.translation.languages import Language
from hybridbatch.errors import ConfigError


class HFEngine:
    """Batched beam-search translation with a seq2seq model (loaded on the first batch)."""

    default_batch_size = 32

    def __init__(self, spec: str, beam_size: int = 4, max_length: int = 256) -> None:
        self.spec = spec
        self.model_name = spec.removeprefix("hf:")
        self.beam_size = beam_size
        self.max_length = max_length
        self._tokenizer: Any = None
        self._model: Any = None

    # --- loading and checks --------------------------------------------------------------------
    def tokenizer(self) -> Any:
        """The model's tokenizer (ConfigError naming the model or package to install)."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = _load(AutoTokenizer, self.model_name, self.spec)
        return self._tokenizer

    def model(self) -> Any:
        """The model, in evaluation mode (on the GPU when there is one)."""
        if self._model is None:
            import torch
            from transformers import AutoModelForSeq2SeqLM

            model = _load(AutoModelForSeq2SeqLM, self.model_name, self.spec).eval()
            self._model = model.to("cuda") if torch.cuda.is_available() else model
        return self._model

    def version(self) -> str:
        import transformers

        return f"transformers {transformers.__version__}; {self.model_name} {_fingerprint(self.model_name)}"

    def check(self, source: Language, targets: list[Language]) -> None:
        self._check_seq2seq()
        self.check_pairs(source, targets)

    def _check_seq2seq(self) -> None:
        from transformers import AutoConfig

        config = _load(AutoConfig, self.model_name, self.spec)
        if not getattr(config, "is_encoder_decoder", False):
            kind = getattr(config, "model_type", "unknown")
            raise ConfigError(
                f"--engine {self.spec}: a {kind} model is not a seq2seq translation model "
                "(use e.g. hf:Helsinki-NLP/opus-mt-en-es or hf:facebook/nllb-200-distilled-600M)"
            )

    def check_pairs(self, source: Language, targets: list[Language]) -> None:
        """ConfigError unless the tokenizer can select ``source`` and every target (see module doc)."""
        self._source_token(source)
        for target in targets:
            self._target_token(source, target)

    def pair_id(self, source: Language, target: Language) -> str:
        return f"{source.code}-{target.code} beam={self.beam_size} max_length={self.max_length}"

    def _vocab(self) -> dict[str, int]:
        return self.tokenizer().get_vocab()

    def _source_token(self, source: Language) -> str | None:
        vocab = self._vocab()
        for token in (source.nllb, source.m2m_token):
            if token in vocab:
                return token
        declared = getattr(self.tokenizer(), "source_lang", None)
        if declared and declared not in (source.code, source.iso3) and not self._multi_target():
            raise ConfigError(
                f"--engine {self.spec}: the model translates from {declared!r}, not {source.code}"
            )
        return None

    def _multi_target(self) -> bool:
        return any(t.startswith(">>") and t.endswith("<<") for t in self._vocab())

    def _target_token(self, source: Language, target: Language) -> str | None:
        """The token that selects ``target`` (None for a single-pair model); ConfigError if unsupported."""
        vocab = self._vocab()
        for token in (target.nllb, target.m2m_token, *target.marian_tokens):
            if token in vocab:
                return token
        if self._source_token(source) is not None or self._multi_target():
            raise ConfigError(
                f"--engine {self.spec}: the model has no language token for {target.code} "
                f"(looked for {target.nllb}, {target.m2m_token}, {target.marian_tokens[0]})"
            )
        declared = getattr(self.tokenizer(), "target_lang", None)
        if declared and declared not in (target.code, target.iso3):
            raise ConfigError(
                f"--engine {self.spec}: the model translates into {declared!r}, not {target.code} "
                "(use a model for that pair, e.g. hf:Helsinki-NLP/opus-mt-en-" + target.code + ")"
            )
        return None

    # --- translation ---------------------------------------------------------------------------
    def translate(self, texts: list[str], source: Language, target: Language) -> list[Output]:
        import torch

        tokenizer, model = self.tokenizer(), self.model()
        source_token, token = self._source_token(source), self._target_token(source, target)
        kwargs: dict[str, Any] = {"num_beams": self.beam_size, "max_new_tokens": self.max_length}
        inputs = list(texts)
        if source_token is not None:
            tokenizer.src_lang = source_token.strip("_") if source_token == source.m2m_token else source_token
        if token is not None and token.startswith(">>"):
            inputs = [f"{token} {text}" for text in texts]
        elif token is not None:
            kwargs["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(token)
        try:
            batch = tokenizer(
                inputs, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length
            )
            with torch.inference_mode():
                generated = model.generate(**batch.to(model.device), **kwargs)
            decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise EngineError(f"{self.spec}: {type(exc).__name__}: {str(exc)[:200]}") from None
        return [Output(" ".join(text.split())) for text in decoded]


def _load(kind: Any, name: str, spec: str) -> Any:
    try:
        return kind.from_pretrained(name)
    except ImportError as exc:
        raise ConfigError(f"--engine {spec}: a package the tokenizer needs is missing ({exc})") from None
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ConfigError(
            f"--engine {spec}: cannot load model {name!r} ({first}); download it first "
            f"(huggingface-cli download {name}) or give a local model directory"
        ) from None


def _fingerprint(name: str) -> str:
    """A short hash of a local model's config and weights (head and size); the name for a hub id."""
    root = Path(name)
    if not root.is_dir():
        return name
    digest = hashlib.sha256()
    for file in sorted(root.iterdir()):
        if file.is_file() and (file.suffix in (".json", ".safetensors", ".bin", ".spm", ".model")):
            with file.open("rb") as handle:
                digest.update(file.name.encode() + str(file.stat().st_size).encode() + handle.read(1 << 20))
    return digest.hexdigest()[:16]
