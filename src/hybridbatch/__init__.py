"""hybridbatch: language-agnostic multilingual dense retrievers with hybrid batch training.

Hybrid batch training (Elmahdy, Lin, Ahmad 2024, arXiv 2408.10536) mixes monolingual (X-X) and
cross-lingual (X-Y) contrastive batches so one model is good in the monolingual, cross-lingual and
multilingual retrieval settings, with less language bias.
"""

__version__ = "0.1.0"
