"""How ``hf:`` picks the target language per model family, from the tokenizer's vocabulary alone
(NLLB, M2M100, multi-target and single-pair Marian), without loading a model."""

from __future__ import annotations

import pytest

from hybridbatch.data.translation.hf import HFEngine
from hybridbatch.data.translation.languages import LANGUAGES
from hybridbatch.errors import ConfigError

EN, ES, GL = LANGUAGES["en"], LANGUAGES["es"], LANGUAGES["gl"]


class Tokenizer:
    def __init__(self, vocab: list[str], **declared: str) -> None:
        self.vocab = {token: i for i, token in enumerate(["<pad>", "</s>", "▁a", *vocab])}
        self.__dict__.update(declared)

    def get_vocab(self) -> dict[str, int]:
        return self.vocab


def engine(tokenizer: Tokenizer) -> HFEngine:
    found = HFEngine("hf:test")
    found._tokenizer = tokenizer
    return found


def test_nllb_and_m2m100_select_the_target_by_language_token():
    nllb = engine(Tokenizer(["eng_Latn", "spa_Latn", "glg_Latn"]))
    assert (nllb._source_token(EN), nllb._target_token(EN, GL)) == ("eng_Latn", "glg_Latn")
    m2m = engine(Tokenizer(["__en__", "__es__"]))
    assert (m2m._source_token(EN), m2m._target_token(EN, ES)) == ("__en__", "__es__")
    with pytest.raises(ConfigError, match="has no language token for gl"):
        m2m.check_pairs(EN, [ES, GL])


def test_marian_multi_target_prefix_and_single_pair_check():
    multi = engine(Tokenizer([">>spa<<", ">>glg<<"]))
    assert multi._target_token(EN, GL) == ">>glg<<"
    single = engine(Tokenizer([], source_lang="en", target_lang="es"))
    assert single._target_token(EN, ES) is None
    with pytest.raises(ConfigError, match="translates into 'es', not gl"):
        single.check_pairs(EN, [GL])
    with pytest.raises(ConfigError, match="translates from 'en', not es"):
        single.check_pairs(ES, [GL])
