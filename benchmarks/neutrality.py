"""Write ``benchmarks/neutrality.md``: post-hoc language neutralization and weight interpolation, measured.

For the base model and the demo's trained models (``runs/demo/runs/{hybrid,xy,xx}/model``), on XQuAD-R
with the project's evaluator (Mono / Cross / Multi mAP, rank distance, language preference rate; seen
= the 7 MLQA-R training languages, unseen = el ru th tr):

- as is;
- + LSAR (Xie et al., EMNLP 2022) fitted on the training set (a fixed sample of MLQA-R candidates);
- + LSAR / per-language centering (Libovický et al., 2020) fitted on the evaluated candidate pools;
- the LSAR rank sweep r;
- WiSE-FT merges (Wortsman et al., CVPR 2022) of hybrid with base, λ in ``--merge-weights``.

Embeddings are computed once per model through the evaluator's embedding cache (keyed by the model's
fingerprint: its weights and module configs), so the post-hoc variants cost seconds.
Usage (heavy: run under ``flock /work/coord/heavy.lock``)::

    python benchmarks/neutrality.py [--runs runs/demo/runs] [--merge-weights 0.3,0.5,0.7] [--no-merge]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hybridbatch.data import load_collection
from hybridbatch.evaluation.beir import renamed_legacy_keys  # stored numbers of older runs: ndcg@10 …
from hybridbatch.evaluation.lareqa import CollectionEmbeddings, score_collection
from hybridbatch.figures import pyplot, save_png
from hybridbatch.io import atomic_write_json, atomic_write_text
from hybridbatch.neutrality import fit
from hybridbatch.neutrality.embeddings import neutralize_collection
from hybridbatch.neutrality.model import load_clean
from hybridbatch.paths import embeddings_home

HERE = Path(__file__).resolve().parent
BASE = "builtin:multilingual-e5-small"
TRAIN_LANGS = ["ar", "de", "en", "es", "hi", "vi", "zh"]
COLUMNS = [
    ("Mono", "mono_map"),
    ("Cross", "cross_map"),
    ("Multi", "multi_map"),
    ("RD", "rank_distance"),
    ("LPR", "lpr"),
]


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- embeddings -----------------------------------------------------------------------------------
def embeddings_of(model, collection) -> CollectionEmbeddings:
    from hybridbatch.evaluation.encode import EncodeOptions, encode_collection

    log(
        f"embedding {collection.name} ({collection.num_questions()} questions, "
        f"{collection.num_candidates()} candidates; cached by model fingerprint)"
    )
    return encode_collection(model, collection, EncodeOptions(cache_dir=embeddings_home()))


def training_sample(model, per_lang: int) -> dict[str, np.ndarray]:
    """Passage embeddings of an evenly spaced sample of MLQA-R candidates per language."""
    from hybridbatch.models.embedding_cache import encode_cached, model_cache

    mlqa = load_collection("mlqa-r")
    out, cache = {}, model_cache(model, embeddings_home())
    for lang in mlqa.languages:
        pool = mlqa.candidates[lang]
        texts = [pool[i].text for i in np.linspace(0, len(pool) - 1, min(per_lang, len(pool))).astype(int)]
        out[lang] = encode_cached(model, texts, "passage", f"mlqa-r-sample{per_lang}-{lang}", cache)
    return out


# --- variants ------------------------------------------------------------------------------------
def score(collection, emb) -> dict:
    report = score_collection(collection, emb, train_languages=TRAIN_LANGS)
    row = {}
    for part, summary in (
        ("all", report.summary),
        ("seen", report.summary_seen),
        ("unseen", report.summary_unseen),
    ):
        for _, key in COLUMNS:
            row[f"{part}:{key}"] = summary.get(key) if summary is not None else None
    return row


def variants(name: str, collection, emb, sample, ranks: list[int]) -> dict[str, dict]:
    """Scores of the model as is and of every post-hoc variant."""
    rows = {"as is": score(collection, emb)}
    if sample is not None:
        rows[f"+LSAR (MLQA-R, r={len(sample) - 1})"] = _mapped(
            collection, emb, fit(sample, "lsar", source="mlqa-r")
        )
    pools = emb.candidates
    top = len(pools) - 1
    rows[f"+LSAR (pools, r={top})"] = _mapped(collection, emb, fit(pools, "lsar", source="pools"))
    rows["+center (pools)"] = _mapped(collection, emb, fit(pools, "center", source="pools"))
    for r in ranks:
        if r < top:
            rows[f"sweep: LSAR (pools, r={r})"] = _mapped(
                collection, emb, fit(pools, "lsar", r, source="pools")
            )
    log(f"{name}: {len(rows)} variants scored")
    return rows


def _mapped(collection, emb, lmap) -> dict:
    return score(collection, neutralize_collection(lmap, collection, emb))


def merged_model(base, tuned, weight: float):
    """(1 − λ)·base + λ·tuned in memory (WiSE-FT); the architecture is checked as in ``merge``."""
    import copy

    from hybridbatch.neutrality.merge import check_same_architecture, combine

    check_same_architecture(base, tuned, ("base", "tuned"))
    model = copy.deepcopy(base)
    model.load_state_dict(combine([base.state_dict(), tuned.state_dict()], [1 - weight, weight]))
    return model


# --- running -------------------------------------------------------------------------------------
def models_to_run(runs: Path, base: str) -> list[tuple[str, str]]:
    """``(name, spec)`` of base and of the trained demo (and anchored) models present."""
    out = [("base", base)]
    for name in ("hybrid", "xy", "xx"):
        if (runs / name / "model" / "modules.json").is_file():
            out.append((name, str(runs / name / "model")))
    anchored = sorted(p.parent.parent for p in runs.glob("*anchor*/model/modules.json"))  # the run dirs
    out += [(p.name, str(p / "model")) for p in anchored]
    return out


def run(args: argparse.Namespace) -> dict:
    store = Path(args.out).with_suffix(".json")
    results = renamed_legacy_keys(json.loads(store.read_text())) if store.is_file() else {"models": {}}
    xquad = load_collection(args.data)
    base = load_clean(args.base)
    full: dict[str, CollectionEmbeddings] = {}
    for name, spec in models_to_run(Path(args.runs), args.base):
        needed_for_merges = args.merge_weights and (name in ("base", "hybrid") or "anchor" in name)
        if name in results["models"] and not needed_for_merges:
            continue
        started = time.perf_counter()
        model = base if name == "base" else load_clean(spec)
        full[name] = embeddings_of(model, xquad)
        if name not in results["models"]:
            sample = training_sample(model, args.mlqa_sample)
            ranks = args.ranks if name in ("base", "hybrid") else []
            rows = variants(name, xquad, full[name], sample, ranks)
            seconds = round(time.perf_counter() - started, 1)
            results["models"][name] = {"spec": spec, "seconds": seconds, "variants": rows}
            save(results, args)
        log(f"{name} done in {time.perf_counter() - started:.0f} s")
    if args.merge_weights and "hybrid" in full:
        merges(results, args, xquad, base, full)
    if args.afriqa_split:
        afriqa_curve(results, args, base)
    save(results, args)
    return results


def afriqa_curve(results: dict, args: argparse.Namespace, base) -> None:
    """AfriQA (9 African languages, none trained on): every model and every merge weight, native and
    translate-test (each a re-encode of the split unless the embedding cache has it)."""
    from hybridbatch.evaluation.afriqa import evaluate_afriqa

    runs = Path(args.runs)
    makers = {
        name: (lambda spec=spec: base if spec == args.base else load_clean(spec))
        for name, spec in models_to_run(runs, args.base)
    }
    if (runs / "hybrid" / "model" / "modules.json").is_file():
        for weight in args.merge_weights:
            makers[f"hybrid@{weight:g}"] = lambda w=weight: merged_model(
                base, load_clean(str(runs / "hybrid" / "model")), w
            )
    table = results.setdefault("afriqa", {"split": args.afriqa_split, "models": {}})
    for name, make in makers.items():
        if name in table["models"]:
            continue
        report = evaluate_afriqa(make(), split=args.afriqa_split, cache_dir=embeddings_home())
        table["models"][name] = {
            "native": report.mean_native,
            "translated": report.mean_translated,
            "seconds": report.seconds,
        }
        save(results, args)
        log(f"AfriQA {name} done in {report.seconds:.0f} s")


def merge_curve_plot(results: dict, out: Path) -> Path | None:
    """λ (0 = base, 1 = hybrid) against XQuAD-R subset Mono / Cross / Multi / unseen Multi and AfriQA
    nDCG@10, one line each."""
    merge, afriqa = results.get("merge"), (results.get("afriqa") or {}).get("models", {})
    if not merge or not all(n in merge["models"] for n in ("base", "hybrid")):
        return None
    plt = pyplot()
    names = {0.0: "base", 1.0: "hybrid"} | {
        float(n.split("@")[1]): n for n in merge["models"] if n.startswith("hybrid@")
    }
    lams = sorted(names)
    series = {
        "XQuAD-R Mono": "all:mono_map",
        "XQuAD-R Cross": "all:cross_map",
        "XQuAD-R Multi": "all:multi_map",
        "XQuAD-R Multi, unseen": "unseen:multi_map",
    }
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, key in series.items():
        ax.plot(lams, [merge["models"][names[x]]["variants"]["as is"][key] for x in lams], "o-", label=label)
    if all(names[x] in afriqa for x in lams):
        ax.plot(lams, [afriqa[names[x]]["native"]["ndcg10"] for x in lams], "s--", label="AfriQA nDCG@10")
    ax.set_xlabel("λ in (1 − λ)·base + λ·hybrid")
    ax.set_ylabel("score")
    ax.set_title("WiSE-FT merge curve (XQuAD-R: 1/6 subset; AfriQA test)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return save_png(out, fig, dpi=110)


def save(results: dict, args: argparse.Namespace) -> None:
    results["machine"] = f"{platform.machine()}, {platform.system()}, torch CPU"
    results["written"] = datetime.now(UTC).isoformat(timespec="minutes")
    atomic_write_json(Path(args.out).with_suffix(".json"), results)
    atomic_write_text(args.out, render(results, args))


def subset_of(collection, every: int):
    """The ids whose English answer paragraph number is a multiple of ``every`` (pools shrink alike)."""
    en = collection.questions["en"]
    ids = [i for i in collection.ids if collection.candidates["en"][en[i].answer].paragraph % every == 0]
    return collection.subset(ids, name=f"{collection.name}-every{every}")


def slice_embeddings(full, emb: CollectionEmbeddings, sub) -> CollectionEmbeddings:
    """The rows of ``full``'s embeddings that ``sub`` (a :meth:`subset` of it) keeps."""
    queries, candidates = {}, {}
    for lang in sub.languages:
        position = {qid: i for i, qid in enumerate(full.ids_in(lang))}
        queries[lang] = emb.queries[lang][[position[q] for q in sub.ids_in(lang)]]
        kept = {c.paragraph for c in sub.candidates[lang]}
        rows = [i for i, c in enumerate(full.candidates[lang]) if c.paragraph in kept]
        assert len(rows) == len(sub.candidates[lang]), lang
        candidates[lang] = emb.candidates[lang][rows]
    return CollectionEmbeddings(queries, candidates)


def merges(results: dict, args, xquad, base, full: dict) -> None:
    """WiSE-FT merges of hybrid with base on a subset of XQuAD-R (each merge is a re-encode)."""
    sub = subset_of(xquad, args.merge_every)
    table = results.setdefault("merge", {"every": args.merge_every, "ids": len(sub.ids), "models": {}})
    for name in ["base", "hybrid", *(n for n in full if "anchor" in n)]:
        emb = slice_embeddings(xquad, full[name], sub)
        table["models"][name] = {"variants": two_variants(sub, emb)}
    tuned = load_clean(str(Path(args.runs) / "hybrid" / "model"))
    for weight in args.merge_weights:
        name = f"hybrid@{weight:g}"
        if name in table["models"]:
            continue
        started = time.perf_counter()
        emb = embeddings_of(merged_model(base, tuned, weight), sub)
        table["models"][name] = {
            "variants": two_variants(sub, emb),
            "seconds": round(time.perf_counter() - started),
        }
        save(results, args)
        log(f"{name} done in {time.perf_counter() - started:.0f} s")


def two_variants(collection, emb) -> dict:
    lsar = fit(emb.candidates, "lsar", source="pools")
    return {"as is": score(collection, emb), "+LSAR (pools)": _mapped(collection, emb, lsar)}


# --- report --------------------------------------------------------------------------------------
def _f(value, key: str) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if key == "rank_distance" else f"{value:.3f}"


HEADER = (
    "| model | variant | Mono | Cross | Multi | RD | LPR | Multi seen | Multi unseen | Cross unseen | "
    "Mono unseen |\n|---|---|---|---|---|---|---|---|---|---|---|"
)
EXTRA = ("seen:multi_map", "unseen:multi_map", "unseen:cross_map", "unseen:mono_map")


def table(models: dict, keep=lambda variant: not variant.startswith("sweep")) -> list[str]:
    lines = [HEADER]
    for name, entry in models.items():
        for variant, row in entry["variants"].items():
            if keep(variant):
                cells = [_f(row[f"all:{k}"], k) for _, k in COLUMNS] + [_f(row[k], k) for k in EXTRA]
                lines.append(f"| {name} | {variant} | " + " | ".join(cells) + " |")
    return lines


def rank_sweep(models: dict) -> list[str]:
    names = [n for n in ("base", "hybrid") if n in models]
    if not names:
        return []
    ranks = sorted(
        {
            int(v.split("r=")[1].rstrip(")"))
            for n in names
            for v in models[n]["variants"]
            if "LSAR (pools" in v
        }
    )
    lines = [
        "| r | " + " | ".join(f"{n} Mono | {n} Multi | {n} RD" for n in names) + " |",
        "|---|" + "---|---|---|" * len(names),
    ]
    for r in ranks:
        cells = []
        for n in names:
            row = next(
                (v for k, v in models[n]["variants"].items() if k.endswith(f"LSAR (pools, r={r})")), None
            )
            cells += [_f(row and row[f"all:{k}"], k) for k in ("mono_map", "multi_map", "rank_distance")]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return lines


def verdicts(models: dict) -> list[str]:
    """One plain sentence per model: which variant helps (Multi, unseen Multi) and what it costs (Mono)."""
    lines = []
    for name, entry in models.items():
        rows = entry["variants"]
        plain = rows["as is"]
        best = max(
            (v for v in rows if not v.startswith("sweep")), key=lambda v: rows[v]["all:multi_map"] or -1
        )
        keys = ("all:multi_map", "all:mono_map", "all:cross_map", "unseen:multi_map")
        d = {k: (rows[best][k] or 0) - (plain[k] or 0) for k in keys}
        train = next((v for v in rows if "MLQA" in v), None)
        train_note = ""
        if train:
            dt = (rows[train]["all:multi_map"] or 0) - (plain["all:multi_map"] or 0)
            du = (rows[train]["unseen:multi_map"] or 0) - (plain["unseen:multi_map"] or 0)
            train_note = f" LSAR fitted on the training set: Multi {dt:+.3f}, unseen Multi {du:+.3f}."
        pools = next((v for v in rows if v.startswith("+LSAR (pools")), None)
        if pools:
            dm = (rows[pools]["all:multi_map"] or 0) - (plain["all:multi_map"] or 0)
            dmono = (rows[pools]["all:mono_map"] or 0) - (plain["all:mono_map"] or 0)
            train_note += (
                f" LSAR on the pools (no query language needed): Multi {dm:+.3f}, Mono {dmono:+.3f}."
            )
        if best == "as is":
            multi = plain["all:multi_map"]
            lines.append(
                f"- **{name}**: no post-hoc variant beats it on Multi mAP ({multi:.3f}).{train_note}"
            )
            continue
        lines.append(
            f"- **{name}**: best Multi with {best}: Multi {d['all:multi_map']:+.3f}, Cross "
            f"{d['all:cross_map']:+.3f}, Mono {d['all:mono_map']:+.3f}, unseen Multi "
            f"{d['unseen:multi_map']:+.3f}.{train_note}"
        )
    return lines


def merge_section(merge: dict | None) -> list[str]:
    """The WiSE-FT table (subset of XQuAD-R) and one plain sentence per merge weight."""
    if not merge:
        return [
            "Not measured yet: needs the demo's hybrid model (not trained when this ran); rerun the "
            "script after the demo (each λ re-encodes a 1/6 subset of XQuAD-R)."
        ]
    models = merge["models"]
    lines = [
        f"Subset: the {merge['ids']} XQuAD-R ids whose English answer paragraph number is a multiple of "
        f"{merge['every']} (pools shrink alike); base and hybrid rows are the same subset of their full "
        "embeddings, so all rows compare like for like.",
        "",
        *table(models),
    ]
    if "hybrid" not in models or "base" not in models:
        return lines
    ref = {n: models[n]["variants"]["as is"] for n in ("base", "hybrid")}
    pairs = (
        ("Mono", "all:mono_map"),
        ("Cross", "all:cross_map"),
        ("Multi", "all:multi_map"),
        ("unseen Multi", "unseen:multi_map"),
        ("unseen Cross", "unseen:cross_map"),
    )
    lines.append("")
    for name, entry in models.items():
        if "@" not in name:
            continue
        row = entry["variants"]["as is"]
        parts = []
        for label, k in pairs:
            if None in (row[k], ref["base"][k], ref["hybrid"][k]):
                continue
            value, lo, hi = row[k], ref["base"][k], ref["hybrid"][k]
            tag = (
                "above both parents"
                if value > max(lo, hi)
                else "below both"
                if value < min(lo, hi)
                else "between"
            )
            parts.append(f"{label} {_f(row[k], k)} ({tag})")
        lines.append(f"- **{name}**: " + ", ".join(parts) + ".")
    return lines


def _curve_image(results: dict, args: argparse.Namespace) -> list[str]:
    plot = merge_curve_plot(results, Path(args.out).parent / "neutrality_plots" / "merge_curve.png")
    return [f"![merge curve](neutrality_plots/{plot.name})"] if plot else []


AFRIQA_ORDER = ("base", "hybrid@0.3", "hybrid@0.5", "hybrid@0.7", "hybrid")


def afriqa_section(afriqa: dict | None) -> list[str]:
    """Macro-averaged AfriQA scores (native question, translate-test, gap) per model and merge weight."""
    if not afriqa or not afriqa["models"]:
        return ["Not measured yet: rerun the script (each model encodes the AfriQA split, ~3 min)."]
    models = afriqa["models"]
    names = [n for n in AFRIQA_ORDER if n in models] + sorted(n for n in models if n not in AFRIQA_ORDER)
    lines = [
        f"AfriQA {afriqa['split']} (bem fon hau ibo kin swa twi yor zul questions against all gold "
        "passages of the split; macro average over the 9 languages; translate-test = the human-"
        "translated question, the upper bound).",
        "",
        "| model | nDCG@10 | MRR@10 | R@100 | translate-test nDCG@10 | gap |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        native, translated = models[name]["native"], models[name]["translated"]
        gap = translated["ndcg10"] - native["ndcg10"]
        lines.append(
            f"| {name} | {native['ndcg10']:.3f} | {native['mrr10']:.3f} | "
            f"{native['r100']:.3f} | {translated['ndcg10']:.3f} | {gap:.3f} |"
        )
    return lines


def render(results: dict, args: argparse.Namespace) -> str:
    models = results["models"]
    missing = [n for n in ("hybrid", "xy", "xx") if n not in models]
    anchored = [n for n in models if "anchor" in n]
    notes = []
    if missing:
        notes.append(f"- Not measured yet (model not trained when this ran): {', '.join(missing)}.")
    if not anchored:
        notes.append(
            "- Anchored hybrid (`train --anchor-weight`, L2-SP): no trained model in the runs "
            "folder this session, so no row."
        )
    else:
        notes.append(
            f"- Anchored ({', '.join(anchored)}): the demo's hybrid recipe (seed 0, 120 steps) plus "
            "the L2-SP "
            "term μ·‖θ − θ_base‖² (Li et al., ICML 2018) over the trainable parameters; one μ = 0.1, fixed "
            "before training, not tuned: the unanchored hybrid ends at ‖θ − θ_base‖² = 4.15 (21.5M "
            "trainable parameters), where μ = 0.1 costs 0.41, about two thirds of its final contrastive "
            "loss (~0.65) — an anchor strong enough to matter, weak enough to let training move. "
            "Command: `hybridbatch train --model builtin:multilingual-e5-small --data mlqa-r --sampler "
            "hybrid --alpha 0.5 --hard-negatives 1 --batch-size 32 --lr 5e-5 --steps 120 "
            "--max-passage-length 64 --freeze-embeddings --seed 0 --anchor-weight 0.1 --out "
            "runs/demo/runs/hybrid-anchor0.1`."
        )
    return "\n".join(
        [
            "# Language neutrality without training: LSAR, centering, WiSE-FT merges",
            "",
            f"Written by `python benchmarks/neutrality.py` ({results.get('written', '')}, "
            f"{results.get('machine', '')}).",
            "XQuAD-R (11 languages, 1,190 parallel questions, candidate pools of every language),",
            "the project's evaluator; mAP, rank distance (RD, lower is better), language preference rate",
            "(LPR: share of queries whose best-ranked relevant candidate is in their own language; 1/11",
            "≈ 0.09 would be neutral). Seen = the MLQA-R training languages",
            f"({', '.join(TRAIN_LANGS)}); unseen = el, ru, th, tr (Cross unseen: pairs with an unseen",
            "language). Variants: LSAR (Xie et al., EMNLP 2022) fitted on the training set (an evenly",
            f"spaced sample of {args.mlqa_sample} MLQA-R candidates per language, 7 languages, r = 6) or",
            "on the evaluated candidate pools (index-time statistics, r = 10); per-language centering",
            "(Libovický et al., 2020) with candidate-pool means for both sides; WiSE-FT `hybrid@λ` =",
            "(1 − λ)·base + λ·hybrid (Wortsman et al., CVPR 2022). Models: base = builtin",
            "multilingual-e5-small; hybrid / xy / xx = the demo's models (`runs/demo/runs/<name>/model`).",
            "",
            "## What helps which model",
            "",
            *verdicts(models),
            *notes,
            "",
            "## All variants",
            "",
            *table(models),
            "",
            "## WiSE-FT: hybrid merged with base, (1 − λ)·base + λ·hybrid",
            "",
            *merge_section(results.get("merge")),
            "",
            "## AfriQA: the merge curve on languages no model was trained on",
            "",
            *afriqa_section(results.get("afriqa")),
            "",
            *_curve_image(results, args),
            "",
            "## LSAR rank sweep (statistics from the evaluated pools)",
            "",
            *rank_sweep(models),
            "",
            "Reproduce one row: `hybridbatch evaluate --model builtin:multilingual-e5-small --data xquad-r "
            "--neutralize lsar --fit-on pool --out DIR`.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/demo/runs", help="Folder of the demo's trained runs.")
    parser.add_argument("--out", default=str(HERE / "neutrality.md"))
    parser.add_argument("--data", default="xquad-r", help="Evaluation collection (has 'en').")
    parser.add_argument("--base", default=BASE, help="Base model spec.")
    parser.add_argument(
        "--merge-weights", default="0.3,0.5,0.7", type=lambda s: [float(x) for x in s.split(",")]
    )
    parser.add_argument("--no-merge", action="store_true", help="Skip the WiSE-FT merges (re-encoding).")
    parser.add_argument("--ranks", default="1,3,6", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--mlqa-sample", default=300, type=int, help="MLQA-R candidates per language.")
    parser.add_argument("--merge-every", default=6, type=int, help="Merge subset: every Nth paragraph.")
    parser.add_argument("--afriqa-split", default="test", help="AfriQA split of the merge curve ('' = skip).")
    parser.add_argument("--render-only", action="store_true", help="Rewrite the .md from the .json.")
    args = parser.parse_args(argv)
    if args.no_merge:
        args.merge_weights = []
    store = Path(args.out).with_suffix(".json")
    if args.render_only and store.is_file():  # rewrite the markdown from the stored numbers
        atomic_write_text(args.out, render(renamed_legacy_keys(json.loads(store.read_text())), args))
    else:
        run(args)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
