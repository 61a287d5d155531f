"""Language neutrality without training: post-hoc projections (LSAR, centering) and weight merges.

See :mod:`.projection` (the maps), :mod:`.model` (``hybridbatch neutralize``), :mod:`.merge`
(``hybridbatch merge``: WiSE-FT and checkpoint averaging) and :mod:`.embeddings` (applying a map to
a collection's cached embeddings in ``evaluate`` and to an index in ``index``/``search``/``serve``).
"""

from hybridbatch.neutrality.projection import METHODS, LanguageMap, check_method, fit, normalize

__all__ = ["METHODS", "LanguageMap", "check_method", "fit", "normalize"]
