"""Parallel QA collections: the data model, loaders (LAReQA, JSONL) and named datasets."""

from hybridbatch.data.collection import Candidate, LoadReport, ParallelQACollection, Question
from hybridbatch.data.lareqa import load_lareqa
from hybridbatch.data.registry import data_home, load_collection

__all__ = [
    "Candidate",
    "LoadReport",
    "ParallelQACollection",
    "Question",
    "data_home",
    "load_collection",
    "load_lareqa",
]
