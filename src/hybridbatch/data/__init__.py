"""Parallel QA collections: the data model, loaders (LAReQA, JSONL) and named datasets."""

from hybridbatch.data.collection import Candidate, LoadReport, ParallelQACollection, Question
from hybridbatch.data.download import DATASETS, ensure_dataset
from hybridbatch.data.jsonl import load_jsonl, write_jsonl
from hybridbatch.data.lareqa import load_lareqa
from hybridbatch.data.registry import data_home, load_collection

__all__ = [
    "DATASETS",
    "Candidate",
    "LoadReport",
    "ParallelQACollection",
    "Question",
    "data_home",
    "ensure_dataset",
    "load_collection",
    "load_jsonl",
    "load_lareqa",
    "write_jsonl",
]
