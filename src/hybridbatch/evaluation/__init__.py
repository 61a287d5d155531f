"""Evaluation of multilingual retrievers on LAReQA-style data: Mono / Cross / Multi mAP, rank distance.

Metrics are registered scores (:mod:`.registry`); encoding goes through :mod:`hybridbatch.models.encoding`.
Public entry points: :func:`evaluate_model` (one collection -> :class:`DatasetReport`) and
:func:`evaluate` (several datasets -> :class:`EvaluationReport`, optionally written as a report).
"""

from hybridbatch.evaluation.encode import EmbeddingTransform, EncodeOptions
from hybridbatch.evaluation.evaluate import evaluate, evaluate_model, read_train_languages
from hybridbatch.evaluation.lareqa import CollectionEmbeddings, score_collection
from hybridbatch.evaluation.metrics import get_metric
from hybridbatch.evaluation.per_query import PerQueryScores
from hybridbatch.evaluation.rank_distance import rank_distance
from hybridbatch.evaluation.ranking import Ranks, relevant_ranks
from hybridbatch.evaluation.registry import Score, get_score, register, register_pair
from hybridbatch.evaluation.results import DatasetReport, EvaluationReport, LanguageRow, PairCell, Summary

__all__ = [
    "CollectionEmbeddings",
    "DatasetReport",
    "EmbeddingTransform",
    "EncodeOptions",
    "EvaluationReport",
    "LanguageRow",
    "PairCell",
    "PerQueryScores",
    "Ranks",
    "Score",
    "Summary",
    "evaluate",
    "evaluate_model",
    "get_metric",
    "get_score",
    "rank_distance",
    "read_train_languages",
    "register",
    "register_pair",
    "relevant_ranks",
    "score_collection",
]
