"""FLORES-200 devtest as bitext: the fixed train / dev split by sentence id, and its loader.

Upstream (NLLB Team 2022, arXiv 2207.04672) ships ``devtest/<code>.devtest``: 1,012 sentences per
language variant, line *i* of every file the translation of line *i* of every other, and
``metadata_devtest.tsv`` (a header, then ``URL  domain  topic  has_image  has_hyperlink`` per line):
sentences with the same URL come from one document, so a sentence's neighbours are known.

**The split is fixed by sentence id** (the 0-based line number) and never changes:
``train`` = ids 0–811 (:data:`TRAIN_IDS`, bitext a recipe may train on), ``dev`` = ids 812–1011
(:data:`DEV_IDS`, the bitext-retrieval yardstick); the two halves are never mixed. One document
(its URL) may straddle the boundary at id 812; its dev sentences are still dev.

Languages (codes, the held-out list) live in :mod:`hybridbatch.data.flores_languages`. Damaged
files — missing, empty, a blank line, a line count other than 1,012 or differing between
languages, a malformed metadata row, a file of an unknown language code — are a
:class:`~hybridbatch.errors.DataError` naming the file (and line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hybridbatch.data.flores_languages import CODES, PIVOT, check_codes
from hybridbatch.data.validation import read_utf8
from hybridbatch.errors import DataError

NUM_SENTENCES = 1012
#: Sentence ids (0-based lines of every ``.devtest`` file) of each split.
TRAIN_IDS = range(0, 812)
DEV_IDS = range(812, 1012)
SPLITS: dict[str, range] = {"train": TRAIN_IDS, "dev": DEV_IDS}
METADATA = "metadata_devtest.tsv"
METADATA_COLUMNS = ("URL", "domain", "topic", "has_image", "has_hyperlink")


@dataclass(frozen=True)
class FloresSplit:
    """One split of FLORES-200: aligned sentences per language variant.

    ``sentences[code][i]`` is sentence ``ids[i]`` in language ``code``; ``documents[i]`` its
    document (the source URL), ``domains[i]`` its domain (wikinews, wikivoyage, wikibooks).
    """

    split: str
    ids: list[int]
    documents: list[str]
    domains: list[str]
    sentences: dict[str, list[str]]

    @property
    def languages(self) -> list[str]:
        """The loaded language variants, sorted."""
        return sorted(self.sentences)

    def __len__(self) -> int:
        return len(self.ids)


def devtest_files(root: str | Path) -> dict[str, Path]:
    """``code -> devtest/<code>.devtest`` under a FLORES-200 directory (DataError if there are none)."""
    folder = Path(root) / "devtest"
    files = {file.name.removesuffix(".devtest"): file for file in sorted(folder.glob("*.devtest"))}
    if not files:
        raise DataError(f"{folder}: no <code>.devtest files (expected FLORES-200's devtest/ folder)")
    for code, file in files.items():
        if code not in CODES:
            raise DataError(f"{file}: unknown FLORES-200 language code {code!r} (codes look like deu_Latn)")
    return files


def load_flores(root: str | Path, split: str = "dev", languages: list[str] | None = None) -> FloresSplit:
    """Load ``split`` of the FLORES-200 directory ``root`` (all variants, or ``languages`` and English).

    ``languages`` may use dataset codes (``de`` for ``deu_Latn``). Every file read is checked whole
    (1,012 non-blank lines), so damage is found however small the split.

    Raises:
        DataError: unknown split or code, a missing or damaged file (message names file and line).
    """
    ids = split_ids(split)
    files = devtest_files(root)
    wanted = sorted(files) if languages is None else _wanted(files, languages, root)
    sentences = {code: _read_lines(files[code]) for code in wanted}
    documents, domains = read_metadata(Path(root) / METADATA)
    return FloresSplit(
        split=split,
        ids=list(ids),
        documents=[documents[i] for i in ids],
        domains=[domains[i] for i in ids],
        sentences={code: [lines[i] for i in ids] for code, lines in sentences.items()},
    )


def split_ids(split: str) -> range:
    """The sentence ids of ``split`` (``train`` or ``dev``)."""
    if split not in SPLITS:
        raise DataError(f"flores200: unknown split {split!r} (choose from {', '.join(SPLITS)})")
    return SPLITS[split]


def read_metadata(file: Path) -> tuple[list[str], list[str]]:
    """The document (URL) and domain of each sentence id from ``metadata_devtest.tsv``."""
    if not file.is_file():
        raise DataError(f"{file}: no such file (FLORES-200's per-sentence metadata)")
    lines = _split_lines(read_utf8(file), file)
    header = tuple(lines[0].split("\t")) if lines else ()
    if header[:3] != METADATA_COLUMNS[:3]:
        raise DataError(f"{file}:1: expected the header {' / '.join(METADATA_COLUMNS)}, got {lines[:1]}")
    rows = lines[1:]
    if len(rows) != NUM_SENTENCES:
        raise DataError(f"{file}: {len(rows)} sentence rows, expected {NUM_SENTENCES} (one per sentence)")
    documents, domains = [], []
    for number, row in enumerate(rows, 2):
        fields = row.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(f"{file}:{number}: expected tab-separated URL and domain, got {row[:80]!r}")
        documents.append(fields[0].strip())
        domains.append(fields[1].strip())
    return documents, domains


def _wanted(files: dict[str, Path], languages: list[str], root: str | Path) -> list[str]:
    codes = check_codes(languages, where=f"{Path(root)}/devtest")
    missing = sorted(set(codes) - set(files))
    if missing:
        raise DataError(
            f"{Path(root) / 'devtest'}: no file for {', '.join(f'{c}.devtest' for c in missing)} "
            f"({len(files)} languages there)"
        )
    if PIVOT in files and PIVOT not in codes:
        codes.append(PIVOT)
    return sorted(set(codes))


def _read_lines(file: Path) -> list[str]:
    """The 1,012 sentences of one ``.devtest`` file (DataError naming file and line)."""
    lines = _split_lines(read_utf8(file), file)
    if not lines:
        raise DataError(f"{file}: empty file (expected {NUM_SENTENCES} sentences, one per line)")
    if len(lines) != NUM_SENTENCES:
        raise DataError(
            f"{file}: {len(lines)} lines, expected {NUM_SENTENCES} (line i of every language must be "
            "the translation of line i of every other)"
        )
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise DataError(f"{file}:{number}: blank sentence")
    return [line.strip() for line in lines]


def _split_lines(text: str, file: Path) -> list[str]:
    """Lines split on ``\\n`` only (sentences may hold other Unicode line separators)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
