"""Machine translation of parallel QA collections, bitext and pairs sources (``hybridbatch data
translate``): engines (Apertium, Hugging Face seq2seq models), a per-sentence cache, quality checks and
the writers of each source kind's layout."""

from hybridbatch.data.translation.config import TranslateSettings
from hybridbatch.data.translation.pipeline import REPORT_FILE, translate_dataset

__all__ = ["REPORT_FILE", "TranslateSettings", "translate_dataset"]
