"""Named datasets and their downloader.

``xquad-r`` and ``mlqa-r`` live under the data home, one ``<lang>.json`` per language; ``afriqa`` keeps
upstream's ``gold_passages/<lang>/`` layout (masakhane-io/afriqa, pinned commit), ``flores200``
upstream's ``devtest/<code>.devtest`` and ``metadata_devtest.tsv`` (Helsinki-NLP/OPUS-MT-testsets). A missing
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


# AfriQA (Ogundepo et al. 2023): the gold-passage files of masakhane-io/afriqa's ``data/`` folder.
AFRIQA_URL = "https://raw.githubusercontent.com/masakhane-io/afriqa/{commit}/data/{path}"
AFRIQA_COMMIT = "5c29933753692c28773c34ac1f68482007f1d2bb"
#: sha256 of each gold-passage file, keyed (question language, pivot language, split).
AFRIQA_SHA256: dict[tuple[str, str, str], str] = {
    ("bem", "en", "dev"): "3ec8d5a9f74623a940092399970c6140c6c61322169285606daeae67f41371ae",
    ("bem", "en", "test"): "72e7f7e3dd207b955968403f9a3699fb11aef996981d142063614e7f434e7c52",
    ("bem", "en", "train"): "17dfc33975c94ef5372a72b27108d04a90c2a54096c5fa31c2c1272f0c69037d",
    ("fon", "fr", "dev"): "0c94c4405a2b448d647bee4387cbb34b7dfc14f63fc6655f498c2d49254c8a2b",
    ("fon", "fr", "test"): "3308b7d0e455912d4e37dd0b9e8b06e6c1d108d2af040a7f7ffbc3e838dfc927",
    ("fon", "fr", "train"): "8fd0b5ad42ee3ebdc91ac8d770c6da15718ae5605f754b9934183c09f56b383c",
    ("hau", "en", "dev"): "ef9cb217e8ea4922935c7fb9e7456364e91c2712519390071170a18131e9e132",
    ("hau", "en", "test"): "e1a0d530d75641760387a2947044d69090c15db620fd9a4dbcf8dc52940d7687",
    ("hau", "en", "train"): "21d975df45d8e1316c964f4fe8521dd7ab455fbe1b0edea1564824352b67be2e",
    ("ibo", "en", "dev"): "9636bfa38368c69319f1b7a2bca1ab995c7b4ad63c5801a25da53b34a5fa4e02",
    ("ibo", "en", "test"): "490af9c615ec5e56ec50a3da21efed82df5f67c794ac5d8d6c5e7d30845cc48d",
    ("ibo", "en", "train"): "5300a29efc78c3dec1fc68c66eb1fec3a72577de4136a41d7c85aac355f1a5b8",
    ("kin", "en", "dev"): "5598ac675fecfc5e7009a3cb1a511e81c69983a763715726d3dda2bcd3ed9d28",
    ("kin", "en", "test"): "fe067f3aa30c581adbaae7d0012eea5290b5f3119396bbb1c70d665d9e6f31eb",
    ("kin", "en", "train"): "967a849f4e6d58ebbb3ea81bbbddd4f9d00a30d8752c2354cb894c1596285dc2",
    ("swa", "en", "test"): "18609b69d21c37b737426baed0a4f02495ab237285dd524e8f502f756350d0bf",
    ("twi", "en", "dev"): "d9bd337c4a47bb1dbccffb74fa170e418911c7b6c3cbb8c034ae17d6794ada79",
    ("twi", "en", "test"): "329221245f9880896b9038405c44b7f8ef48db3067aa556fbd82819de46b954d",
    ("twi", "en", "train"): "cdbba2a4d6a40e6e8fd587d25cb56e57ea2fe888bac254f66fc29409cec1afaa",
    ("yor", "en", "test"): "0aa0f6c1769f07788c918fd0dc1848b70ec0f06e8de9a6893d9037b9ff05abaa",
    ("yor", "en", "train"): "864d91d1cab11b587b6535e6a293cc21ba2cf62ce7cc44f175f0fd7656f4925c",
    ("zul", "en", "dev"): "3332f7063e65d80cad27d6625de1c9681569a357a6e6eab64132416e64871689",
    ("zul", "en", "test"): "e6edc93eed66267a0f8b98a96bc4ef104c66e33a903678fa260219e8c66efd75",
    ("zul", "en", "train"): "a5bd82873ef476aaad58cbfb7f5b4234d5f4798aa09ba934dc23edc397355655",
}


def afriqa_path(lang: str, pivot: str, split: str) -> str:
    """Path of an AfriQA gold-passage file inside the dataset directory (and upstream's ``data/``)."""
    return f"gold_passages/{lang}/gold_span_passages.afriqa.{lang}.{pivot}.{split}.json"


def ensure_afriqa(home: Path, split: str, opener: Opener | None = None, progress: bool = True) -> Path:
    """Make sure ``home/afriqa`` holds every gold-passage file of ``split``; download what is missing."""
    target = home / "afriqa"
    for (lang, pivot, file_split), sha in sorted(AFRIQA_SHA256.items()):
        file = target / afriqa_path(lang, pivot, file_split)
        if file_split == split and not file.exists():
            url = AFRIQA_URL.format(commit=AFRIQA_COMMIT, path=afriqa_path(lang, pivot, file_split))
            download(url, file, sha, opener=opener, progress=progress)
    return target


# FLORES-200 devtest (NLLB Team 2022): Helsinki-NLP/OPUS-MT-testsets' copy, pinned; sha256 per file.
FLORES_URL = (
    "https://raw.githubusercontent.com/Helsinki-NLP/OPUS-MT-testsets/{commit}/"
    "datasets/facebook/flores/flores200_dataset/{path}"
)
FLORES_COMMIT = "ac0f19c0be3cb4e0d9450fcb2d7a9847c4bdd180"


def ensure_flores(home: Path, opener: Opener | None = None, progress: bool = True) -> Path:
    """Make sure ``home/flores200`` holds every devtest file and the metadata; download what is missing."""
    from hybridbatch.data.flores_sha256 import FLORES_SHA256

    target = home / "flores200"
    for path, sha in sorted(FLORES_SHA256.items()):
        file = target / path
        if not file.exists():
            url = FLORES_URL.format(commit=FLORES_COMMIT, path=path)
            download(url, file, sha, opener=opener, progress=progress)
    return target


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
