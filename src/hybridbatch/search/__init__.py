"""Search and serving: index a corpus with a trained retriever, search it from Python, the CLI or HTTP.

>>> from hybridbatch.search import DenseIndex, load_documents
>>> index = DenseIndex.build("builtin:tiny", load_documents("corpus.jsonl"))  # doctest: +SKIP
>>> index.save("my-index"); DenseIndex.load("my-index").search(["where is the tower?"], k=5)  # doctest: +SKIP

The names are imported on first use, so that ``serve``'s settings (``search.limits``,
``search.security``) can be read and checked without loading faiss and torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "Document": "corpus",
    "documents_from_beir": "corpus",
    "documents_from_collection": "corpus",
    "load_documents": "corpus",
    "read_documents_jsonl": "corpus",
    "DenseIndex": "index",
    "Hit": "index",
    "IndexInfo": "index",
    "build_index": "index",
    "render_hits": "render",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
