"""Each command's inputs as one settings model (issue 20): the flags, their help and defaults, and the
one-line errors (``--batch-size: batch size must be >= 1, got 0``) are generated from the fields by
:func:`hybridbatch.settings.settings_options`; the command maps the validated model to a library call.

Only pydantic and light modules are imported here: a bad flag is rejected before torch is imported
(the precision vocabulary is looked up once a ``--precision`` is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field

from hybridbatch.commands import OVERWRITE_HELP, PRECISION_HELP
from hybridbatch.data.translation.config import TranslateSettings
from hybridbatch.search.limits import ServiceLimits
from hybridbatch.search.security import SecuritySettings
from hybridbatch.search.storage import IndexLoading
from hybridbatch.settings import Settings


def _known_precision(value: str) -> str:
    """A known precision, with its runtime installed (``auto`` stays ``auto``: the library records it)."""
    from hybridbatch.models.encoding import precision_problem

    problem = precision_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _known_method(value: str | None) -> str | None:
    from hybridbatch.neutrality.projection import METHODS

    if value is not None and value.strip().lower() not in METHODS:
        raise ValueError(f"unknown method {value!r} (choose lsar or center)")
    return value if value is None else value.strip().lower()


def _cutoffs(values: list[int]) -> list[int]:
    if not values or min(values) < 1:
        raise ValueError(f"cutoffs must be >= 1, got {','.join(map(str, values)) or 'none'}")
    return values


#: The encoding precision, declared once for every command that encodes.
PrecisionName = Annotated[str, AfterValidator(_known_precision)]
Method = Annotated[str | None, AfterValidator(_known_method)]
BatchSize = Annotated[int, Field(ge=1, description="Encoding batch size")]


class EvaluateSettings(Settings):
    """``hybridbatch evaluate``: LAReQA Mono / Cross / Multi on one model."""

    FLAGS: ClassVar[dict[str, str]] = {"lareqa_settings": "--settings"}

    model: str = Field(description="Model spec (builtin:..., path)")
    data: list[str] = Field(description="xquad-r, mlqa-r or a LAReQA dir (repeatable)")
    out: str = Field(description="Directory for report.json, report.md and plots")
    batch_size: BatchSize = 64
    overwrite: bool = Field(False, description=OVERWRITE_HELP)
    cache: Path | None = Field(None, description="Embedding cache dir [default: HYBRIDBATCH_HOME/embeddings]")
    no_cache: bool = Field(False, description="No cached embeddings")
    with_context: bool = Field(False, description="Candidates with paragraph")
    lareqa_settings: list[str] = Field(["mono", "cross", "multi"], description="Comma-separated subset")
    neutralize: Method = Field(None, description="lsar or center")
    fit_on: str = Field("pool", description="pool (evaluated pools) or a dataset")
    rank: int | None = Field(None, ge=1, description="LSAR rank r (default L-1)")
    precision: PrecisionName = Field("fp32", description=PRECISION_HELP)


class RetrievalSettings(Settings):
    """``hybridbatch evaluate-retrieval``: BEIR / MIRACL, AfriQA or FLORES-200."""

    FLAGS: ClassVar[dict[str, str]] = {"k": "-k --k"}

    model: str = Field(description="Model spec (builtin:..., path, HF id)")
    data: str = Field(description="BEIR/MIRACL dir, a dir of them, afriqa or flores200[:dev]")
    out: str | None = Field(None, description="Directory for report.json and report.md (afriqa: optional)")
    split: str | None = Field(None, description="Split (BEIR: dev; afriqa: test)")
    k: Annotated[list[int], AfterValidator(_cutoffs)] = Field([10, 100], description="Cutoffs (repeatable)")
    batch_size: BatchSize = 64
    overwrite: bool = Field(False, description=OVERWRITE_HELP)
    precision: PrecisionName = Field("fp32", description=PRECISION_HELP)
    reference: str | None = Field(None, description="flores200: model to compare with [default: base model]")


class IndexSettings(Settings):
    """``hybridbatch index``: encode a corpus into a faiss index directory."""

    model: str = Field(description="Model spec (builtin:..., path, HF id)")
    corpus: str = Field(description="BEIR dir, JSONL {id,text[,lang]}, or dataset")
    out: str = Field(description="Index directory to write")
    hnsw: bool = Field(False, description="Approximate HNSW index instead of exact")
    batch_size: BatchSize = 64
    overwrite: bool = Field(False, description=OVERWRITE_HELP)
    neutralize: Method = Field(None, description="lsar or center")
    precision: PrecisionName = Field("fp32", description=f"Documents and later queries: {PRECISION_HELP}")


class SearchSettings(IndexLoading):
    """``hybridbatch search``: one query against an index."""

    FLAGS: ClassVar[dict[str, str]] = {"k": "-k --k", "as_json": "--json"}

    index: str = Field(description="Index directory (hybridbatch index)")
    k: int = Field(10, ge=1, description="Number of hits")
    lang: str | None = Field(None, description="Only documents of this language")
    model: str | None = Field(None, description="Override the index's model")
    as_json: bool = Field(False, description="Print hits as one JSON list")
    query_lang: str | None = Field(None, description="Query language (center)")


class ServeSettings(ServiceLimits, SecuritySettings, IndexLoading):
    """``hybridbatch serve``: the index, the address, and the limits, access rules and loading of
    :class:`ServiceLimits`, :class:`SecuritySettings` and :class:`IndexLoading` in one model."""

    FLAGS: ClassVar[dict[str, str]] = {"allowed_hosts": "--allowed-host"}

    index: str = Field(description="Index directory (hybridbatch index)")
    host: str = Field("127.0.0.1", description="Address to bind")
    port: int = Field(8000, ge=0, le=65535, description="Port (0 = any free)")
    model: str | None = Field(None, description="Override the index's model")

    def part(self, kind: type[Settings]) -> Settings:
        """The :class:`ServiceLimits` or :class:`SecuritySettings` inside these settings."""
        return kind.model_validate(self.model_dump(include=set(kind.model_fields)))


class NeutralizeSettings(Settings):
    """``hybridbatch neutralize``: a model with an LSAR / centering projection built in."""

    model: str = Field(description="Model spec (builtin:..., path, HF id)")
    fit_on: str = Field(description="Dataset/LAReQA dir (pools), or corpus with lang")
    out: str = Field(description="Directory of the new sentence-transformers model")
    method: Method = Field("lsar", description="lsar (no language id) or center")
    rank: int | None = Field(None, ge=1, description="LSAR rank r (default L-1)")
    batch_size: BatchSize = 64
    no_cache: bool = Field(False, description="No cached embeddings")
    overwrite: bool = Field(False, description="Write into a non-empty --out")


class MergeSettings(Settings):
    """``hybridbatch merge``: WiSE-FT interpolation of two models, or uniform checkpoint averaging."""

    out: str = Field(description="Directory of the merged model")
    base: str | None = Field(None, description="Base model A (λ = 0)")
    tuned: str | None = Field(None, description="Fine-tuned model B (λ = 1)")
    weight: float = Field(0.5, ge=0, le=1, description="λ in [0, 1]: (1-λ)·A + λ·B")
    average: list[str] = Field([], description="Checkpoints to average")
    overwrite: bool = Field(False, description="Write into a non-empty --out")


class TranslateCommandSettings(TranslateSettings):
    """``hybridbatch data translate``: the translation settings, and where the translation goes."""

    out: Path = Field(description="Output directory: collection.jsonl + translate.json")
    quiet: bool = Field(False, description="No progress bar")
    overwrite: bool = Field(False, description=OVERWRITE_HELP)

    def translation(self) -> TranslateSettings:
        """The library's part: what to translate, and how."""
        return TranslateSettings.model_validate(self.model_dump(include=set(TranslateSettings.model_fields)))


class RunSettings(Settings):
    """``hybridbatch train``: how the run behaves on this terminal and this ``--out`` (not settings of
    the training itself, so not YAML keys: those are ``TrainConfig``'s)."""

    quiet: bool = Field(False, description="No progress on stderr (bars, resume and dev lines)")
    overwrite: bool = Field(False, description=OVERWRITE_HELP)


class PlanSettings(Settings):
    """``hybridbatch batches``: where the planned batches go and how many (the sampler's settings and
    the sources come from ``SamplerConfig`` and ``TrainConfig``)."""

    FLAGS: ClassVar[dict[str, str]] = {"as_json": "--json"}

    out: Path = Field(description="JSONL file: one planned batch per line")
    steps: int = Field(1000, ge=1, description="Number of batches to plan")
    top: int = Field(10, ge=1, description="Language pairs to list")
    as_json: bool = Field(False, description="Print the summary as JSON")
    overwrite: bool = Field(False, description="Replace an existing --out file")


class InfoSettings(Settings):
    """``data info`` and ``models info``: how the description is printed."""

    FLAGS: ClassVar[dict[str, str]] = {"as_json": "--json"}

    as_json: bool = Field(False, description="Print one JSON object")


class ExportSettings(Settings):
    """``data export``."""

    overwrite: bool = Field(False, description="Replace an existing OUT file")


class BuildSettings(Settings):
    """``models build``."""

    force: bool = Field(False, description="Rebuild even if cached")


class CompareRunSettings(Settings):
    """``hybridbatch compare``: where the comparison goes and how this invocation runs it (the recipe,
    also readable from YAML, is ``ComparisonSettings``)."""

    out: Path = Field(description="Comparison directory; rerun to resume")
    quick: bool = Field(False, description="A few-minute trial: small budget and batch")
    overwrite: bool = Field(False, description=OVERWRITE_HELP)
    seeds: str | None = Field(None, description="Train every run once per seed, e.g. 0,1,2")
    reference: str | None = Field(None, description="Run tested against (default: hybrid)")


class StudyRunSettings(Settings):
    """``hybridbatch study``: whether to train what is missing and where the Markdown goes."""

    train: bool = Field(False, description="Train the missing runs first (slow)")
    report: Path | None = Field(
        None, description="Markdown path (default: the study's report, benchmarks/studies/NAME.md)"
    )
