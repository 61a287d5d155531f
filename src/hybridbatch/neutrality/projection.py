"""Post-hoc language neutralization of embeddings: LSAR and per-language centering.

- **LSAR** (Xie et al., EMNLP 2022, "Discovering low-rank subspaces for language-agnostic multilingual
  representations"): stack the per-language mean embeddings (L × d), centre them, take the SVD; the
  top-r right singular vectors V_r span the language subspace. Every embedding is projected with
  P = I − V_rᵀV_r and re-normalised: one shared linear map, no language id at query time.
- **Centering** (Libovický et al., Findings EMNLP 2020): subtract the mean embedding of the text's
  language, then re-normalise; needs every text's language. A text of unknown language falls back
  to P(x − μ̄) with the rank-(L−1) LSAR projection of the same means — which equals P(x − μ_l) for
  *every* fitted language l, so the fallback is centering with the language component removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from hybridbatch.errors import ConfigError, DataError
from hybridbatch.io import atomic_write_bytes, atomic_write_json

Method = Literal["lsar", "center"]
METHODS: tuple[str, ...] = ("lsar", "center")


@dataclass
class LanguageMap:
    """A fitted neutralization: the method, the per-language means and the language subspace.

    Attributes:
        method: ``lsar`` or ``center``.
        languages: fitted languages, in the row order of ``means``.
        means: ``L × d`` mean (unit-normalised) embedding per language.
        basis: ``r × d`` orthonormal rows V_r spanning the language subspace.
        counts: texts per language the means come from.
        source: where the statistics come from (a dataset name, ``pool``, a corpus path).
    """

    method: str
    languages: list[str]
    means: np.ndarray
    basis: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def rank(self) -> int:
        """r, the dimension of the removed language subspace."""
        return int(self.basis.shape[0])

    def projection_matrix(self) -> np.ndarray:
        """P = I − V_rᵀV_r (``d × d``, symmetric, idempotent)."""
        dim = self.means.shape[1]
        return np.eye(dim, dtype=np.float64) - self.basis.T.astype(np.float64) @ self.basis.astype(np.float64)

    def project(self, x: np.ndarray) -> np.ndarray:
        """``x`` with its component in the language subspace removed (not re-normalised)."""
        x = np.asarray(x, dtype=np.float32)
        return x - (x @ self.basis.T) @ self.basis

    def apply(self, x: np.ndarray, langs: Sequence[str | None] | str | None = None) -> np.ndarray:
        """Neutralize rows of ``x`` and re-normalise them.

        ``lsar`` ignores ``langs``. ``center`` subtracts each row's language mean (``langs``: one
        language for all rows or one per row); rows of no or an unfitted language get the fallback.
        """
        x = normalize(np.asarray(x, dtype=np.float32))
        if self.method == "lsar":
            return normalize(self.project(x))
        per_row = [langs] * len(x) if langs is None or isinstance(langs, str) else list(langs)
        if len(per_row) != len(x):
            raise DataError(f"{len(per_row)} languages for {len(x)} embeddings")
        index = {lang: i for i, lang in enumerate(self.languages)}
        rows = np.array([index.get(lang, -1) if lang else -1 for lang in per_row], dtype=np.int64)
        out = np.empty_like(x)
        known = rows >= 0
        out[known] = x[known] - self.means[rows[known]]
        if (~known).any():
            out[~known] = self.project(x[~known] - self.means.mean(axis=0))
        return normalize(out)

    # --- persistence ----------------------------------------------------------------------
    def describe(self) -> dict:
        """JSON-ready record: method, rank, languages, counts, source (no arrays)."""
        return {
            "method": self.method,
            "rank": self.rank,
            "languages": list(self.languages),
            "counts": dict(self.counts),
            "source": self.source,
            "paper": PAPERS[self.method],
        }

    def save(self, directory: str | Path, stem: str = "neutralize") -> Path:
        """Write ``<stem>.npz`` (means, basis) and ``<stem>.json`` (the record) into ``directory``."""
        import io

        directory = Path(directory)
        buffer = io.BytesIO()
        np.savez(buffer, means=self.means.astype(np.float32), basis=self.basis.astype(np.float32))
        atomic_write_bytes(directory / f"{stem}.npz", buffer.getvalue())
        atomic_write_json(directory / f"{stem}.json", self.describe())
        return directory

    @classmethod
    def load(cls, directory: str | Path, stem: str = "neutralize") -> LanguageMap:
        """Read a map written by :meth:`save` (one-line ``DataError`` when missing or malformed)."""
        import json

        directory = Path(directory)
        try:
            record = json.loads((directory / f"{stem}.json").read_text(encoding="utf-8"))
            arrays = np.load(directory / f"{stem}.npz")
            means, basis = arrays["means"], arrays["basis"]
            return cls(
                record["method"],
                list(record["languages"]),
                means,
                basis,
                record.get("counts", {}),
                record.get("source", ""),
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise DataError(f"{directory / stem}.json/.npz: unreadable neutralization map ({exc})") from None


PAPERS = {
    "lsar": "LSAR, Xie et al., EMNLP 2022",
    "center": "per-language centering, Libovický et al., Findings EMNLP 2020",
}


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def check_method(method: str) -> str:
    """Validate a method name (``lsar`` or ``center``)."""
    name = method.strip().lower()
    if name not in METHODS:
        raise ConfigError(f"method: unknown method {method!r} (choose lsar or center)")
    return name


def fit(
    by_lang: Mapping[str, np.ndarray],
    method: str = "lsar",
    rank: int | None = None,
    source: str = "",
) -> LanguageMap:
    """Fit a :class:`LanguageMap` from embeddings grouped by language (``lang -> n × d``).

    Rows are unit-normalised first. ``rank`` (LSAR) defaults to L − 1, the rank of L centred means;
    ``center`` always stores the rank-(L − 1) subspace for its fallback.
    """
    method = check_method(method)
    langs = sorted(lang for lang, x in by_lang.items() if len(x))
    if len(langs) < 2:
        raise DataError(
            f"fit source {source or '(given)'}: needs texts in at least 2 languages, found {len(langs)} "
            f"({', '.join(langs) or 'none'})"
        )
    means = np.stack([normalize(np.asarray(by_lang[lang], dtype=np.float32)).mean(axis=0) for lang in langs])
    top = len(langs) - 1
    if method == "center" or rank is None:
        rank = top
    elif not 1 <= rank <= top:
        raise ConfigError(f"--rank must be between 1 and {top} (number of fitted languages − 1), got {rank}")
    centred = means.astype(np.float64) - means.astype(np.float64).mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    counts = {lang: len(by_lang[lang]) for lang in langs}
    return LanguageMap(method, langs, means.astype(np.float32), vt[:rank].astype(np.float32), counts, source)


def missing_languages(fitted: LanguageMap, wanted: Sequence[str]) -> list[str]:
    """Languages of ``wanted`` the map has no statistics for (sorted)."""
    return sorted(set(wanted) - set(fitted.languages))
