"""Search and serving: index a corpus with a trained retriever, search it from Python, the CLI or HTTP.

>>> from hybridbatch.search import DenseIndex, load_documents
>>> index = DenseIndex.build("builtin:tiny", load_documents("corpus.jsonl"))  # doctest: +SKIP
>>> index.save("my-index"); DenseIndex.load("my-index").search(["where is the tower?"], k=5)  # doctest: +SKIP
"""

from hybridbatch.search.corpus import (
    Document,
    documents_from_beir,
    documents_from_collection,
    load_documents,
    read_documents_jsonl,
)
from hybridbatch.search.index import DenseIndex, Hit, IndexInfo, build_index
from hybridbatch.search.render import render_hits

__all__ = [
    "DenseIndex",
    "Document",
    "Hit",
    "IndexInfo",
    "build_index",
    "documents_from_beir",
    "documents_from_collection",
    "load_documents",
    "read_documents_jsonl",
    "render_hits",
]
