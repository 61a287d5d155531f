"""Machine translation of parallel QA collections (``hybridbatch data translate``): engines
(Apertium, Hugging Face seq2seq models), a per-sentence cache, quality checks and the writer."""

from hybridbatch.data.translation.config import TranslateSettings
from hybridbatch.data.translation.pipeline import COLLECTION_FILE, REPORT_FILE, translate_dataset

__all__ = ["COLLECTION_FILE", "REPORT_FILE", "TranslateSettings", "translate_dataset"]
