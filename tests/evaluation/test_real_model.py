"""The off-the-shelf multilingual-e5-small on a small XQuAD-R slice (3 languages x 100 ids)."""

from __future__ import annotations

import pytest

from hybridbatch.data import load_collection
from hybridbatch.evaluation import EncodeOptions, evaluate_model


@pytest.mark.real_model
def test_e5_small_on_xquad_slice(shared_data):
    full = load_collection("xquad-r", languages=["de", "en", "zh"])
    collection = full.subset(full.ids[:100], name="xquad-r-slice")
    encoding = EncodeOptions(batch_size=32, show_progress=False)
    report = evaluate_model("builtin:multilingual-e5-small", collection, encoding=encoding)
    s = report.summary
    assert report.num_queries == 300
    # a good retriever with a language bias: Mono > Cross > Multi, and answers in other
    # languages ranked well below the same-language one
    assert 0.7 < s.mono_map <= 1 and s.mono_r1 > 0.6
    assert 0.4 < s.cross_map < s.mono_map
    assert s.multi_map < s.mono_map
    assert s.rank_distance > 2
    assert {row.lang for row in report.languages} == {"de", "en", "zh"}
