"""The paper's Table 1 (Elmahdy et al. 2024, arXiv 2408.10536): mAP, macro-averaged; rank distance."""

from __future__ import annotations

# (model, batches) -> (XQuAD-R mono, cross, multi, MLQA-R mono, cross, multi, RD XQuAD-R, RD MLQA-R)
PAPER_TABLE: dict[tuple[str, str], tuple[float, float, float, float, float, float, int, int]] = {
    ("XLM-R", "X-X"): (0.792, 0.674, 0.547, 0.648, 0.584, 0.473, 410, 288),
    ("XLM-R", "X-Y"): (0.755, 0.700, 0.593, 0.626, 0.620, 0.508, 295, 227),
    ("XLM-R", "hybrid"): (0.798, 0.705, 0.593, 0.648, 0.623, 0.512, 287, 227),
    ("LaBSE", "X-X"): (0.808, 0.752, 0.652, 0.681, 0.656, 0.550, 262, 225),
    ("LaBSE", "X-Y"): (0.801, 0.762, 0.679, 0.671, 0.677, 0.576, 225, 198),
    ("LaBSE", "hybrid"): (0.817, 0.767, 0.682, 0.686, 0.681, 0.579, 221, 195),
}


def paper_rows(dataset: str) -> list[tuple[str, float, float, float, int]]:
    """The paper's (label, mono, cross, multi, rank distance) rows for ``xquad-r`` or ``mlqa-r``."""
    offset = {"xquad-r": 0, "mlqa-r": 3}.get(dataset)
    if offset is None:
        return []
    rd = 6 if dataset == "xquad-r" else 7
    return [
        (f"paper {model} {batches}", v[offset], v[offset + 1], v[offset + 2], v[rd])
        for (model, batches), v in PAPER_TABLE.items()
    ]
