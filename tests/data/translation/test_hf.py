"""The ``hf:MODEL`` engine end to end on a tiny random Marian model built here (no download): the same
loading, tokenizing, beam search and decoding code a real OPUS-MT model goes through."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hybridbatch.data import load_collection

SENTENCES = ["The tower is in Paris.", "It is tall.", "Where is the tower?", "Anna wrote the book.", "hello"]


def build_tiny_marian(root: Path, target_tokens: tuple[str, ...] = (), target_lang: str = "es") -> Path:
    """A 1-layer random MarianMTModel with a 60-piece SentencePiece vocabulary (plus ``target_tokens``)."""
    import sentencepiece
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    root.mkdir(parents=True)
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 20), model_writer=model, vocab_size=60, hard_vocab_limit=False
    )
    for name in ("source.spm", "target.spm"):
        (root / name).write_bytes(model.getvalue())
    pieces = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2, **{t: 3 + i for i, t in enumerate(target_tokens)}}
    for i in range(pieces.get_piece_size()):
        vocab.setdefault(pieces.id_to_piece(i), len(vocab))
    (root / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    files = [str(root / name) for name in ("source.spm", "target.spm", "vocab.json")]
    tokenizer = MarianTokenizer(*files, source_lang="en", target_lang=target_lang)
    torch.manual_seed(0)
    sizes = {"d_model": 16, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "max_position_embeddings": 64}
    layers = {
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
    }
    config = MarianConfig(
        vocab_size=len(vocab),
        pad_token_id=2,
        eos_token_id=0,
        decoder_start_token_id=2,
        forced_eos_token_id=0,
        **sizes,
        **layers,
    )
    MarianMTModel(config).save_pretrained(root)
    tokenizer.save_pretrained(root)
    return root


def test_hf_engine_translates_a_collection_end_to_end(cli, toy_dir, tmp_path):
    model = build_tiny_marian(tmp_path / "marian", target_tokens=(">>spa<<", ">>cat<<"))
    args = [
        "data",
        "translate",
        str(toy_dir),
        "--to",
        "es,ca",
        "--engine",
        f"hf:{model}",
        "--quiet",
        "--beam-size",
        "2",
        "--max-length",
        "12",
        "--batch-size",
        "4",
        "--out",
    ]
    code, _, err = cli(*args, str(tmp_path / "mt"))
    assert code == 0, err
    report = json.loads((tmp_path / "mt" / "translate.json").read_text())
    es = report["languages"]["es"]
    assert es["translated"] == es["sentences"] == report["source_sentences"] > 0
    assert "transformers" in report["engine"]["id"]
    for lang in ("es", "ca"):
        records = report["languages"][lang]["records"]
        assert records["kept"] + sum(records["dropped"].values()) == 4
    collection = load_collection(tmp_path / "mt")
    for lang in collection.languages:
        assert all(c.text for c in collection.candidates[lang])
    code, _, err = cli(*args, str(tmp_path / "mt"))
    report = json.loads((tmp_path / "mt" / "translate.json").read_text())
    assert code == 0 and report["totals"]["translated"] == 0  # the rerun reads the cache


def test_a_single_pair_model_refuses_another_target_before_translating(cli, toy_dir, tmp_path):
    model = build_tiny_marian(tmp_path / "marian", target_lang="es")
    args = [
        "data",
        "translate",
        str(toy_dir),
        "--to",
        "ca",
        "--engine",
        f"hf:{model}",
        "--out",
        str(tmp_path / "mt"),
    ]
    code, _, err = cli(*args)
    assert code == 2
    last = err.strip().splitlines()[-1]  # (above it: the model build's progress bars)
    assert last.startswith("error: --engine hf:") and "translates into 'es', not ca" in last
    assert not (tmp_path / "mt").exists()


def test_a_missing_model_is_one_error_naming_what_to_download(cli, toy_dir, tmp_path):
    code, _, err = cli(
        "data",
        "translate",
        str(toy_dir),
        "--to",
        "es",
        "--engine",
        f"hf:{tmp_path}/none",
        "--out",
        str(tmp_path / "mt"),
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cannot load model" in err and "huggingface-cli download" in err
