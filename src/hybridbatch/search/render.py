"""Plain-text and JSON rendering of search hits for the command line."""

from __future__ import annotations

import json

from hybridbatch.search.index import Hit


def render_hits(hits: list[Hit], as_json: bool = False, width: int = 100) -> str:
    """One line per hit (rank, score, id, language, text shortened to ``width``), or a JSON list."""
    if as_json:
        return json.dumps([h.model_dump() for h in hits], ensure_ascii=False, indent=2)
    if not hits:
        return "no hits"
    lines = []
    for rank, hit in enumerate(hits, start=1):
        text = " ".join(hit.text.split())
        text = text if len(text) <= width else text[: width - 1] + "…"
        lang = f" [{hit.lang}]" if hit.lang else ""
        lines.append(f"{rank:>3}. {hit.score:.4f}  {hit.id}{lang}  {text}")
    return "\n".join(lines)
