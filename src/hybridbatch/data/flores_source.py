"""FLORES-200 as the named bitext source ``flores200`` (``flores200:train`` / ``flores200:dev``).

Reading, the fixed sentence-id split and the language tables are :mod:`.flores` and
:mod:`.flores_languages`; this module only turns a split into a ``bitext`` collection:

- parallel ids are the sentence ids (``0000``–``1011``), documents are upstream's source URLs;
- languages carry the code the other datasets use where there is one (``deu_Latn`` -> ``de``), so
  ``--languages de,en`` and the seen/unseen split mean the same language across sources;
- ``train`` leaves out the fixed held-out variants (never trained on through ``flores200``) and, per
  language, any sentence whose text also occurs in the ``dev`` half (upstream repeats one in
  ``dyu_Latn``), so training on ``flores200:train`` never shows the model a dev sentence;
- ``dev`` keeps every variant (it is evaluation data; :class:`TrainConfig` refuses to train on it).
"""

from __future__ import annotations

import re
from pathlib import Path

from hybridbatch.data.bitext import bitext_collection
from hybridbatch.data.collection import LoadReport, ParallelQACollection
from hybridbatch.errors import DataError

NAME = "flores200"


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def load_flores_source(home: Path, split: str, languages: list[str] | None = None) -> ParallelQACollection:
    """The ``flores200:<split>`` bitext collection from ``home/flores200`` (see the module docstring)."""
    from hybridbatch.data.flores import load_flores
    from hybridbatch.data.flores_languages import dataset_code, trainable_languages

    root = _flores_root(home)
    codes = trainable_languages() if split == "train" else None
    if languages is not None:
        from hybridbatch.data.flores_languages import check_codes, is_held_out

        wanted = check_codes(languages, where=f"{NAME}:{split}")
        if split == "train" and any(is_held_out(code) for code in wanted):
            held = [lang for lang in languages if is_held_out(lang)]
            raise DataError(f"{NAME}: {', '.join(held)} is held out (never trained on through {NAME})")
        codes = wanted
    data = load_flores(root, split, codes)
    sentences: dict[str, list[str | None]] = {code: list(lines) for code, lines in data.sentences.items()}
    if codes is not None:
        sentences = {code: sentences[code] for code in codes}
    report = LoadReport()
    if split == "train":
        _drop_dev_sentences(root, sentences, report)
    ids = [f"{i:04d}" for i in data.ids]
    by_code = {dataset_code(code): lines for code, lines in sentences.items()}
    return bitext_collection(f"{NAME}:{split}", ids, by_code, data.documents, report)


def requested_languages(languages: list[str]) -> list[str]:
    """The training languages a flores200 source reads: those FLORES-200 names, and anything shaped like
    a FLORES code (``xyz_Latn``), so that an unknown one is refused; other codes belong to other sources."""
    from hybridbatch.data.flores_languages import flores_code

    wanted = [lang for lang in languages if flores_code(lang) is not None or _FLORES_SHAPE.match(lang)]
    if not wanted:
        raise DataError(f"{NAME}: none of the languages {', '.join(languages)} is a FLORES-200 language")
    return wanted


_FLORES_SHAPE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


def _flores_root(home: Path) -> Path:
    """``home/flores200``, its files downloaded from the pinned upstream commit when missing."""
    from hybridbatch.data.download import ensure_flores

    return ensure_flores(home)


def _drop_dev_sentences(root: Path, sentences: dict[str, list[str | None]], report: LoadReport) -> None:
    """Blank out (None) train sentences whose text occurs in the same language's dev half."""
    from hybridbatch.data.flores import load_flores

    dev = load_flores(root, "dev", sorted(sentences)).sentences
    for code, lines in sentences.items():
        seen = {_normal(text) for text in dev.get(code, [])}
        for i, text in enumerate(lines):
            if text is not None and _normal(text) in seen:
                lines[i] = None
                report.drop("sentence also in flores200:dev", f"{code} line {i + 1}")
