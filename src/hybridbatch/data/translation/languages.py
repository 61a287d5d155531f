"""The language vocabulary of ``data translate``: ISO 639-1 codes (as the datasets use), each mapped
once to the names every engine uses — Apertium's pair names, Marian's ``>>xxx<<`` target tokens,
NLLB-200's ``xxx_Scrp`` and M2M100's ``__xx__`` language tokens."""

from __future__ import annotations

from dataclasses import dataclass

from hybridbatch.errors import ConfigError


@dataclass(frozen=True)
class Language:
    """One language: ``code`` (ISO 639-1, the vocabulary of the command line and of the data),
    ``iso3`` (ISO 639-3), ``nllb`` (NLLB-200 / FLORES-200 code) and ``apertium`` (the name Apertium's
    pair modes use when it is not ``iso3``, e.g. ``hbs_HR``)."""

    code: str
    iso3: str
    nllb: str
    name: str
    apertium: str = ""

    @property
    def apertium_names(self) -> tuple[str, ...]:
        """The names Apertium pair modes may use for this language (``eng-spa`` and ``en-gl`` both exist)."""
        return tuple(dict.fromkeys(n for n in (self.apertium or self.iso3, self.code) if n))

    @property
    def marian_tokens(self) -> tuple[str, ...]:
        """Target-language tokens of multi-target Marian (OPUS-MT) models."""
        return (f">>{self.iso3}<<", f">>{self.code}<<")

    @property
    def m2m_token(self) -> str:
        """M2M100's language token."""
        return f"__{self.code}__"


_TABLE = [
    Language("en", "eng", "eng_Latn", "English"),
    Language("es", "spa", "spa_Latn", "Spanish"),
    Language("ca", "cat", "cat_Latn", "Catalan"),
    Language("gl", "glg", "glg_Latn", "Galician"),
    Language("pt", "por", "por_Latn", "Portuguese"),
    Language("it", "ita", "ita_Latn", "Italian"),
    Language("ro", "ron", "ron_Latn", "Romanian"),
    Language("fr", "fra", "fra_Latn", "French"),
    Language("eo", "epo", "epo_Latn", "Esperanto"),
    Language("eu", "eus", "eus_Latn", "Basque"),
    Language("is", "isl", "isl_Latn", "Icelandic"),
    Language("mk", "mkd", "mkd_Cyrl", "Macedonian"),
    Language("hr", "hrv", "hrv_Latn", "Croatian", apertium="hbs_HR"),
    Language("sr", "srp", "srp_Cyrl", "Serbian", apertium="hbs_SR"),
    Language("bs", "bos", "bos_Latn", "Bosnian", apertium="hbs_BS"),
    Language("de", "deu", "deu_Latn", "German"),
    Language("nl", "nld", "nld_Latn", "Dutch"),
    Language("ru", "rus", "rus_Cyrl", "Russian"),
    Language("el", "ell", "ell_Grek", "Greek"),
    Language("tr", "tur", "tur_Latn", "Turkish"),
    Language("ar", "ara", "arb_Arab", "Arabic"),
    Language("hi", "hin", "hin_Deva", "Hindi"),
    Language("vi", "vie", "vie_Latn", "Vietnamese"),
    Language("th", "tha", "tha_Thai", "Thai"),
    Language("zh", "zho", "zho_Hans", "Chinese"),
    Language("sw", "swa", "swh_Latn", "Swahili"),
    Language("yo", "yor", "yor_Latn", "Yoruba"),
    Language("ha", "hau", "hau_Latn", "Hausa"),
]
LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _TABLE}

#: Apertium pair modes -> the Debian package that installs them (named in the "install" errors).
APERTIUM_PACKAGES = {
    "eng-spa": "apertium-eng-spa",
    "eng-cat": "apertium-eng-cat",
    "en-gl": "apertium-en-gl",
    "en-eo": "apertium-eo-en",
    "eng-hbs": "apertium-hbs-eng",
    "spa-eng": "apertium-eng-spa",
    "cat-eng": "apertium-eng-cat",
    "gl-en": "apertium-en-gl",
    "es-pt": "apertium-es-pt",
    "spa-ita": "apertium-spa-ita",
    "spa-cat": "apertium-spa-cat",
    "es-gl": "apertium-es-gl",
}
#: Pivot languages tried when Apertium has no direct pair (e.g. en -> es -> pt).
APERTIUM_PIVOTS = ("es",)


def language(code: str, flag: str = "--to") -> Language:
    """The table entry of ``code`` (ConfigError naming ``flag`` and the known codes otherwise)."""
    found = LANGUAGES.get(code)
    if found is None:
        known = ", ".join(sorted(LANGUAGES))
        raise ConfigError(f"{flag}: unknown language code {code!r} (use ISO 639-1 codes: {known})")
    return found


def apertium_hint(source: Language, target: Language) -> str:
    """What to do for a missing ``source -> target`` Apertium pair: the Debian package that has it, or
    another engine."""
    targets = [*target.apertium_names, (target.apertium or target.iso3).split("_")[0]]
    for a in source.apertium_names:
        for b in targets:
            if f"{a}-{b}" in APERTIUM_PACKAGES:
                return f"apt-get install {APERTIUM_PACKAGES[f'{a}-{b}']}"
    return "Debian packages no such Apertium pair; use --engine hf:MODEL"
