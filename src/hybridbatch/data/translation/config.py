"""The settings of ``data translate``, declared once (flags are generated from these fields)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from hybridbatch.data.translation.languages import LANGUAGES
from hybridbatch.settings import Settings


def _check_code(code: str, flag: str) -> str:
    if code not in LANGUAGES:
        known = ", ".join(sorted(LANGUAGES))
        raise ValueError(f"unknown language code {code!r} for {flag} (ISO 639-1 codes: {known})")
    return code


class TranslateSettings(Settings):
    """What to translate, with which engine, and how hard to filter the output."""

    #: Flags not spelled as their key (hybridbatch.settings.model_flag).
    FLAGS: ClassVar[dict[str, str]] = {"from_lang": "--from"}

    to: list[str] = Field(..., description="Target languages (ISO 639-1), e.g. es,ca,gl.")
    from_lang: str = Field("en", description="The source side of SOURCE to translate from.")
    engine: str = Field("apertium", description="apertium, or hf:MODEL (a seq2seq model dir or hub id).")
    limit: int | None = Field(None, ge=1, description="Translate only the first N parallel ids (a sample).")
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Sentences per engine call (and cache commit) [default: apertium 500, hf: 32].",
    )
    beam_size: int = Field(4, ge=1, description="Beam size of hf: models.")
    max_length: int = Field(256, ge=1, description="Max tokens in and out per sentence (hf: models).")
    drop_untranslated: bool = Field(
        False, description="Drop records whose share of untranslated words exceeds --max-untranslated."
    )
    max_untranslated: float = Field(
        0.5, ge=0.0, le=1.0, description="Threshold of --drop-untranslated (share of a record's words)."
    )
    keep_languages: bool = Field(
        False,
        description="Also keep SOURCE's other languages (translate-train data that augments it; "
        "--to must be languages it lacks).",
    )
    cache: Path | None = Field(
        None, description="Sentence cache file [default: HYBRIDBATCH_HOME/translations.sqlite]."
    )

    @field_validator("to")
    @classmethod
    def _targets(cls, codes: list[str]) -> list[str]:
        if not codes:
            raise ValueError("give at least one target language, e.g. --to es,ca")
        for code in codes:
            _check_code(code, "--to")
        if len(set(codes)) != len(codes):
            raise ValueError(f"a language is listed twice: {','.join(codes)}")
        return codes

    @field_validator("from_lang")
    @classmethod
    def _source(cls, code: str) -> str:
        return _check_code(code, "--from")

    @model_validator(mode="after")
    def _not_to_itself(self) -> TranslateSettings:
        if self.from_lang in self.to:
            raise ValueError(f"--to includes the source language {self.from_lang!r} (--from)")
        return self

    def cache_path(self) -> Path:
        """``cache`` or the default file under the hybridbatch home."""
        from hybridbatch.paths import cache_home

        return self.cache or cache_home() / "translations.sqlite"
