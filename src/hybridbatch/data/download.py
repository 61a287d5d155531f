"""Named datasets and their downloader.

``xquad-r`` and ``mlqa-r`` live under the data home, one ``<lang>.json`` per language. A missing
file is downloaded from the pinned upstream commit of google-research-datasets/lareqa (MLQA-R was
removed from that repository's head, so it has its own commit), checked against its pinned sha256
and written atomically, so an interrupted download never leaves a partial file behind.
"""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hybridbatch.errors import DataError
from hybridbatch.io import atomic_write_bytes

RAW_URL = "https://raw.githubusercontent.com/google-research-datasets/lareqa/{commit}/{directory}/{lang}.json"
CHUNK = 1 << 16

#: Opens a URL for reading (``urllib.request.urlopen``-like); tests substitute a fake.
Opener = Callable[[str], IO[bytes]]


@dataclass(frozen=True)
class NamedDataset:
    """A LAReQA-format dataset pinned to an upstream commit, with the sha256 of each file."""

    name: str
    commit: str
    directory: str
    sha256: dict[str, str]
    url_template: str = RAW_URL

    @property
    def languages(self) -> list[str]:
        """Sorted language codes of the dataset."""
        return sorted(self.sha256)

    def url(self, lang: str) -> str:
        """Upstream address of ``<lang>.json``."""
        return self.url_template.format(commit=self.commit, directory=self.directory, lang=lang)


DATASETS: dict[str, NamedDataset] = {
    "xquad-r": NamedDataset(
        "xquad-r",
        "9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c",
        "xquad-r",
        {
            "ar": "c52922d3b8ac1ae03ed5ac38647ad59870dca3dda2beefe18ecdc30729acb69d",
            "de": "16fb0f4bf4916154b585a20c24c66074591c9718a1affe764ff4697572328949",
            "el": "163fd43ee785a30eb534ae2061e9eaa766a7ee4e8ffce5e4b422480c150f64b6",
            "en": "7b0954f39297c27a31fef610f0883337dd2907fa8699151dc922afdd0fa12ffe",
            "es": "f8e836b2d91009c4363e04315f7ede363eedbbb49c67dda60de6c4aa782f58de",
            "hi": "ea45ba8ae4513d1533b222bebdc02a90bc319c055d3aeea68584a053d2e92872",
            "ru": "7f4dff853538b9a5fcc28c070b8bb983a5c5d190ac747b8e005a1ada9cab18f1",
            "th": "c3a041864c3a9fb0b4dd91cfdf99cf36b411b3e704c58a303c97bc6dc786cfe4",
            "tr": "f3e8c13002bbce154a4578f535f7533cb70f3da08840e6b62735935baec7bd94",
            "vi": "e35926bf5cc6fc6ecbdfca49467aabeb454f08d152d7818143a906bd31dde995",
            "zh": "80c2cde7b9c2fb134c303cbb52f2ba396ead9eb0014aec43993543d2ba9e93ed",
        },
    ),
    "mlqa-r": NamedDataset(
        "mlqa-r",
        "354d67d1cd066854cdfbf5ad0e6105528976141d",
        "mlqa-r",
        {
            "ar": "2132fbc03208535c0fe01f2e2c5121d06f9c2aa799af93b0a719dbc105bdf137",
            "de": "ce9454dc5aa6f2d85c23cd6e49cb367fbb7c4c6e62d7f71e355c6b5dae4d0886",
            "en": "fedd9a5cc0848dda80caf84aa36f482adaae230526a3f6e9e86926a93ef3b1e4",
            "es": "70ecba276b8c96a692b120693a595d076ce94ad21d4b28311538a9fcbfe0f9d7",
            "hi": "4dd0fb3c06f737a5481d705bc1dcac7876712a5815c9265908fbb3a0696cb654",
            "vi": "9d3baff6ba03e6793b25594217265ea59a136b9733833dca8a9582a84a78ff85",
            "zh": "57f01d2fff50cf3392805635b01445339f225ad5bf28ba8443b12f8dbd1e69dc",
        },
    ),
}


def named_dataset(name: str) -> NamedDataset:
    """The pinned description of dataset ``name`` (DataError if unknown)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None


def ensure_dataset(
    name: str,
    home: Path,
    languages: list[str] | None = None,
    opener: Opener | None = None,
    progress: bool = True,
) -> Path:
    """Make sure ``home/name/<lang>.json`` exists for each language; download what is missing.

    Args:
        name: ``xquad-r`` or ``mlqa-r``.
        home: the data home (see :func:`hybridbatch.data.data_home`).
        languages: only these languages (default all of the dataset's).
        opener: URL opener (default ``urllib.request.urlopen``).
        progress: show a tqdm progress bar per file.

    Returns:
        The dataset directory ``home/name``.

    Raises:
        DataError: unknown name or language, no network, or a checksum mismatch.
    """
    dataset = named_dataset(name)
    wanted = dataset.languages if languages is None else list(languages)
    unknown = sorted(set(wanted) - set(dataset.languages))
    if unknown:
        raise DataError(
            f"{name}: no language(s) {', '.join(unknown)} (available: {', '.join(dataset.languages)})"
        )
    target = home / name
    for lang in wanted:
        file = target / f"{lang}.json"
        if not file.exists():
            download(dataset.url(lang), file, dataset.sha256[lang], opener=opener, progress=progress)
    return target


def download(url: str, dest: Path, sha256: str, opener: Opener | None = None, progress: bool = True) -> Path:
    """Fetch ``url`` into ``dest`` atomically after checking its sha256 (DataError on any failure)."""
    open_url = opener or _urlopen
    try:
        with open_url(url) as response:
            data = _read_with_progress(response, dest.name, progress)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"cannot download {url} ({reason}); check your connection or "
            f"set HYBRIDBATCH_DATA to a local copy holding {dest.parent.name}/{dest.name}"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise DataError(
            f"checksum mismatch for {url}: sha256 {digest}, expected {sha256}; nothing was written to {dest}"
        )
    try:
        return atomic_write_bytes(dest, data)
    except OSError as exc:
        raise DataError(
            f"{dest}: cannot write ({exc.strerror}); set HYBRIDBATCH_DATA to a writable directory"
        ) from None


def _urlopen(url: str) -> IO[bytes]:
    return urllib.request.urlopen(url, timeout=60)


def _read_with_progress(response: IO[bytes], label: str, progress: bool) -> bytes:
    from tqdm.auto import tqdm

    total = getattr(response, "length", None) or None
    buffer = io.BytesIO()
    with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not progress, leave=False) as bar:
        while chunk := response.read(CHUNK):
            buffer.write(chunk)
            bar.update(len(chunk))
    return buffer.getvalue()
