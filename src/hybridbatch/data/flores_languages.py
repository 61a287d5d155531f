"""FLORES-200 language variants: the fixed held-out list and the one table of dataset language codes.

**Codes.** FLORES-200 names each of its 204 language variants ``<iso639-3>_<Script>`` (``deu_Latn``,
``zho_Hans``); XQuAD-R / MLQA-R use ISO 639-1 (``de``, ``zh``), AfriQA ISO 639-3 (``swa``, ``hau``),
MIRACL ISO 639-1 (``sw``, ``yo``). :data:`DATASET_CODES` is the one table between them, and
:func:`flores_code` / :func:`same_language` are how every module decides that two codes name one
language ("seen language" means the same thing for MLQA-R training, FLORES bitext and every report).
A script variant is its own language: ``zh`` is ``zho_Hans`` (XQuAD-R and MLQA-R are Simplified
Chinese), never ``zho_Hant``.

**Held-out languages** (fixed before any FLORES training, never to change): every 4th variant of the
204 codes in sorted order (positions 4, 8, …, 204: ``CODES[3::4]``, 51 codes), except ``eng_Latn``
(the pivot; the rule does not hit it) and the variants of an XQuAD-R or MLQA-R language, which the
rule hits three times (``arb_Arab``, ``deu_Latn``, ``ell_Grek``) and which stay trainable: MLQA-R
trains on ar and de anyway, so FLORES could not make them unseen, and every XQuAD-R language is
treated alike (its seen/unseen side is decided by a recipe's languages, not by alphabetical accident).
That leaves 48 held-out variants (:data:`HELD_OUT`; AfriQA's hau, wol and zul among them). No recipe
may train on them through ``flores200``; :func:`trainable_languages` gives the other 156.
"""

from __future__ import annotations

from hybridbatch.errors import DataError


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: The 204 FLORES-200 devtest variants (upstream's file names without ``.devtest``), sorted.
CODES: tuple[str, ...] = _words(
    """
    ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn als_Latn amh_Ethi apc_Arab
    arb_Arab arb_Latn ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn
    bak_Cyrl bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn
    bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn dan_Latn deu_Latn
    dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn fij_Latn
    fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gaz_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr
    hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn
    isl_Latn ita_Latn jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor
    kaz_Cyrl kbp_Latn kea_Latn khk_Cyrl khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kmr_Latn knc_Arab
    knc_Latn kon_Latn kor_Hang lao_Laoo lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn
    lua_Latn lug_Latn luo_Latn lus_Latn lvs_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Arab min_Latn
    mkd_Cyrl mlt_Latn mni_Beng mos_Latn mri_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nso_Latn
    nus_Latn nya_Latn oci_Latn ory_Orya pag_Latn pan_Guru pap_Latn pbt_Arab pes_Arab plt_Latn pol_Latn
    por_Latn prs_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Olck scn_Latn shn_Mymr
    sin_Sinh slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn srd_Latn srp_Cyrl
    ssw_Latn sun_Latn swe_Latn swh_Latn szl_Latn tam_Taml taq_Latn taq_Tfng tat_Cyrl tel_Telu tgk_Cyrl
    tgl_Latn tha_Thai tir_Ethi tpi_Latn tsn_Latn tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng
    uig_Arab ukr_Cyrl umb_Latn urd_Arab uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr
    yor_Latn yue_Hant zho_Hans zho_Hant zsm_Latn zul_Latn
    """
)

#: The pivot language: every bitext pair is ``<code>`` ↔ English.
PIVOT = "eng_Latn"

#: Variants no recipe may train on through ``flores200`` (rule in the module docstring; fixed).
HELD_OUT: tuple[str, ...] = _words(
    """
    acq_Arab aka_Latn arz_Arab ayr_Latn bam_Latn ben_Beng bod_Tibt cat_Latn ckb_Arab eus_Latn fin_Latn
    fuv_Latn glg_Latn hau_Latn hrv_Latn ilo_Latn jav_Latn kam_Latn kat_Geor khk_Cyrl kir_Cyrl knc_Latn
    lij_Latn lmo_Latn lug_Latn mag_Deva min_Arab mni_Beng nld_Latn nso_Latn ory_Orya pbt_Arab por_Latn
    run_Latn sat_Olck slk_Latn snd_Arab srd_Latn swe_Latn taq_Latn tgk_Cyrl tpi_Latn tum_Latn uig_Arab
    uzn_Latn wol_Latn yue_Hant zul_Latn
    """
)

#: FLORES code -> the codes other datasets use for that language (first: XQuAD-R / MLQA-R / AfriQA's).
DATASET_CODES: dict[str, tuple[str, ...]] = {
    "arb_Arab": ("ar",),
    "ben_Beng": ("bn",),
    "deu_Latn": ("de",),
    "ell_Grek": ("el",),
    "eng_Latn": ("en",),
    "spa_Latn": ("es",),
    "pes_Arab": ("fa",),
    "fin_Latn": ("fi",),
    "fra_Latn": ("fr",),
    "hin_Deva": ("hi",),
    "ind_Latn": ("id",),
    "jpn_Jpan": ("ja",),
    "kor_Hang": ("ko",),
    "rus_Cyrl": ("ru",),
    "tel_Telu": ("te",),
    "tha_Thai": ("th",),
    "tur_Latn": ("tr",),
    "vie_Latn": ("vi",),
    "zho_Hans": ("zh",),
    "bem_Latn": ("bem",),
    "fon_Latn": ("fon",),
    "hau_Latn": ("hau",),
    "ibo_Latn": ("ibo",),
    "kin_Latn": ("kin",),
    "swh_Latn": ("swa", "sw"),
    "twi_Latn": ("twi",),
    "wol_Latn": ("wol",),
    "yor_Latn": ("yor", "yo"),
    "zul_Latn": ("zul",),
}
_TO_FLORES = {alias: code for code, aliases in DATASET_CODES.items() for alias in aliases}


def flores_code(code: str) -> str | None:
    """The FLORES variant of a language code (``de`` -> ``deu_Latn``, ``swa`` -> ``swh_Latn``, a
    FLORES code -> itself); ``None`` when the code names no FLORES variant."""
    if code in _TO_FLORES:
        return _TO_FLORES[code]
    return code if code in _CODE_SET else None


def dataset_code(code: str) -> str:
    """The code XQuAD-R / MLQA-R / AfriQA use for a FLORES variant (``deu_Latn`` -> ``de``), else itself."""
    aliases = DATASET_CODES.get(code)
    return aliases[0] if aliases else code


def same_language(a: str, b: str) -> bool:
    """Whether two codes (FLORES or dataset codes) name one language variant."""
    return a == b or (flores_code(a) is not None and flores_code(a) == flores_code(b))


def check_codes(codes: list[str] | tuple[str, ...], where: str = "flores200") -> list[str]:
    """``codes`` as FLORES codes (dataset codes such as ``de`` translated); DataError names unknown ones."""
    known = [flores_code(code) for code in codes]
    unknown = [code for code, found in zip(codes, known, strict=True) if found is None]
    if unknown:
        raise DataError(
            f"{where}: unknown language code(s) {', '.join(unknown)} "
            "(FLORES-200 codes look like deu_Latn, zho_Hans; see hybridbatch.data.flores_languages.CODES)"
        )
    return [code for code in known if code is not None]


def trainable_languages() -> list[str]:
    """The variants a recipe may train on through ``flores200``: every code but :data:`HELD_OUT`
    (``eng_Latn`` included: it is the pivot side of every pair)."""
    return [code for code in CODES if code not in _HELD_OUT_SET]


def is_held_out(code: str) -> bool:
    """Whether a language (FLORES or dataset code) is one of the fixed held-out variants."""
    return flores_code(code) in _HELD_OUT_SET


_CODE_SET = frozenset(CODES)
_HELD_OUT_SET = frozenset(HELD_OUT)
