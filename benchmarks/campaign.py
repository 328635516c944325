"""Simulated discovery campaigns on the curated dataset: do UCB / EI beat random picking?

Not a test. Two tasks on ``datasets/glasses.csv``:

``tm-low``  (objective ``meltable``)
    pool = compounds with a measured Tm; targets = the k lowest-Tm compounds
    that melt (``melts`` true).
``tg-high`` (objective ``stable-glass``)
    pool = compounds with a measured Tg; targets = the k highest-Tg glasses.

All labels of the pool are hidden. A campaign starts from ``--initial``
random measured pool compounds; each round it retrains a small
``GlassPredictor`` on the measured compounds (plus, unless
``--no-background``, the compounds outside the pool, whose labels are public),
predicts the unmeasured pool, picks ``--batch`` compounds with
:func:`mlglass.screen.suggest_batch` (or at random) and "measures" them by
revealing their labels. Reported: the number of measurements (initial ones
included, counted per batch) until all k targets have been measured, k = 3
and 5, mean +- sd over ``--seeds`` seeds, and the random-order expectation
``k (N + 1) / (k + 1)``.

    .venv/bin/python benchmarks/campaign.py            # 5 seeds, ucb / ei / greedy / random
    .venv/bin/python benchmarks/campaign.py --quick    # 2 seeds, ucb / ei / random, batch 5
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KS = (3, 5)
TASKS = {
    "tm-low": {"objective": "meltable", "label": "tm_c", "ascending": True},
    "tg-high": {"objective": "stable-glass", "label": "tg_c", "ascending": False},
}


def load_data() -> pd.DataFrame:
    from mlglass.datasets import load_glasses
    from mlglass.errors import SchemaError
    from mlglass.featurize import GlassFeaturizer

    try:
        data = load_glasses()
    except SchemaError:
        data = load_glasses(validate=False)
    ok = GlassFeaturizer().transform(data)["error"] == ""
    return data[ok.to_numpy()].reset_index(drop=True)


def pool_and_targets(data: pd.DataFrame, task: str) -> tuple[np.ndarray, dict[int, set[int]]]:
    spec = TASKS[task]
    label = data[spec["label"]]
    pool = np.flatnonzero(label.notna().to_numpy())
    cand = data.iloc[pool]
    if task == "tm-low":
        cand = cand[cand["melts"].fillna(False).astype(bool)]
    order = cand[spec["label"]].sort_values(ascending=spec["ascending"], kind="stable").index.to_numpy()
    return pool, {k: set(order[:k].tolist()) for k in KS}


def observed_score(data: pd.DataFrame, rows: list[int], objective: str) -> float:
    """Best score of the measured compounds computed from their measured labels (for EI)."""
    from mlglass.screen import score_predictions

    m = data.iloc[rows]
    tm = m["tm_c"].to_numpy(dtype=float)
    tg = m["tg_c"].to_numpy(dtype=float)
    p = m["melts"].astype("float").fillna(0.5).to_numpy(dtype=float)
    frame = pd.DataFrame({"tm_c": tm, "tm_lo_c": tm, "tm_hi_c": tm, "tg_c": tg, "tg_lo_c": tg, "tg_hi_c": tg,
                          "p_melt": p, "error": ""})
    s = score_predictions(frame, objective)["score"].to_numpy(dtype=float)
    s = s[np.isfinite(s)]
    return float(s.max()) if len(s) else 0.0


def run_campaign(data: pd.DataFrame, task: str, strategy: str, seed: int, *, initial: int, batch: int,
                 background: bool, diversity: float, n_estimators: int) -> dict[int, int]:
    from mlglass.models.predictor import GlassPredictor
    from mlglass.screen import score_predictions, suggest_batch

    objective = TASKS[task]["objective"]
    pool, targets = pool_and_targets(data, task)
    rng = np.random.default_rng(seed)
    measured: list[int] = list(rng.choice(pool, size=min(initial, len(pool)), replace=False))
    outside = np.setdiff1d(np.arange(len(data)), pool)
    found: dict[int, int] = {}
    params = {k: {"n_estimators": n_estimators} for k in ("tm", "tg", "melt")}

    def check() -> None:
        have = set(measured)
        for k, tset in targets.items():
            if k not in found and tset <= have:
                found[k] = len(measured)

    check()
    while len(found) < len(targets):
        left = np.setdiff1d(pool, measured)
        if len(left) == 0:
            break
        if strategy == "random":
            picks = list(rng.choice(left, size=min(batch, len(left)), replace=False))
        else:
            train_rows = list(measured) + (outside.tolist() if background else [])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = GlassPredictor.train(data.iloc[train_rows].reset_index(drop=True), params=params, seed=seed)
            cand = data.iloc[left].reset_index(drop=True)
            cand = cand.drop(columns=[c for c in cand.columns if c in ("tm_c", "tg_c", "td_c")])
            cand["_row"] = left
            scored = score_predictions(model.predict(cand), objective)
            best = observed_score(data, measured, objective) if strategy == "ei" else None
            chosen = suggest_batch(scored, batch=batch, acquisition=strategy, diversity=diversity, seed=seed,
                                   best=best)
            picks = chosen["_row"].astype(int).tolist()
            if not picks:  # nothing eligible (all predictions failed constraints): fall back to random
                picks = list(rng.choice(left, size=min(batch, len(left)), replace=False))
        measured.extend(int(p) for p in picks)
        check()
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 seeds, ucb/ei/random, batch 5")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--strategies", default="ucb,ei,greedy,random")
    ap.add_argument("--initial", type=int, default=5)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--diversity", type=float, default=0.5)
    ap.add_argument("--n-estimators", type=int, default=60)
    ap.add_argument("--no-background", action="store_true", help="train on the measured pool compounds only")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.strategies, args.batch, args.n_estimators = 2, "ucb,ei,random", 5, 30
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    data = load_data()
    t0 = time.perf_counter()
    results: dict[tuple[str, int, str], list[int]] = {}
    for task in TASKS:
        pool, targets = pool_and_targets(data, task)
        for strategy in strategies:
            for seed in range(args.seeds):
                found = run_campaign(data, task, strategy, seed, initial=args.initial, batch=args.batch,
                                     background=not args.no_background, diversity=args.diversity,
                                     n_estimators=args.n_estimators)
                for k in KS:
                    results.setdefault((task, k, strategy), []).append(found.get(k, len(pool)))
    print(f"dataset rows usable: {len(data)}; initial {args.initial} random, batch {args.batch}, "
          f"diversity {args.diversity}, {args.seeds} seeds, background {'off' if args.no_background else 'on'}; "
          f"{time.perf_counter() - t0:.0f} s")
    print("measurements until all k targets are found (mean +- sd; lower is better)")
    head = f"{'task':<9} {'k':>2} {'pool':>5} " + " ".join(f"{s:>14}" for s in strategies) + f" {'E[random]':>10}"
    print(head)
    print("-" * len(head))
    for task in TASKS:
        pool, _ = pool_and_targets(data, task)
        for k in KS:
            cells = []
            for s in strategies:
                v = np.asarray(results[(task, k, s)], dtype=float)
                cells.append(f"{v.mean():>7.1f} +- {v.std():>4.1f}")
            expect = k * (len(pool) + 1) / (k + 1)
            print(f"{task:<9} {k:>2} {len(pool):>5} " + " ".join(f"{c:>14}" for c in cells) + f" {expect:>10.1f}")


if __name__ == "__main__":
    main()
