#!/usr/bin/env python
"""Usage: python benchmarks/td_test_split.py [MODEL_DIR]   (prints JSON)

Td on the published test split with the bundled models (fitted on train+val only) through GlassPredictor.predict:
every test CIF (absolute paths), the same frameworks as table rows, the structure-only view, and the baselines."""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from mlglass.datasets import load_thermal
from mlglass.models.cif_input import round_oxidation_states
from mlglass.models.decomposition import graph_matrix
from mlglass.models.evaluate import regression_metrics
from mlglass.models.predictor import GlassPredictor
from mlglass.thermal import default_shared_thermal_dir

SHARED = default_shared_thermal_dir()
p = GlassPredictor.load(sys.argv[1]) if len(sys.argv) > 1 else GlassPredictor.default()
th = load_thermal()
te = th[th["split"] == "test"].reset_index(drop=True)
y = te["td_c"].to_numpy(float)
t0 = time.perf_counter()
cifs = [str(SHARED / "cifs" / f"{c}.cif") for c in te["core_name"]]
out = p.predict(pd.DataFrame({"id": te["refcode"], "cif": cifs}))
sec_cif = time.perf_counter() - t0
ok = out[["td_c", "td_lo_c", "td_hi_c"]].notna().all(axis=1).to_numpy()
res = {"n_test": len(te), "n_with_td": int(ok.sum()), "frac_with_td": float(ok.mean()),
       "seconds_cif_predict": sec_cif, "td_source": out["td_source"].value_counts().to_dict()}


def m(pred, lo=None, hi=None, rows=None):
    rows = np.isfinite(pred) if rows is None else rows
    r = regression_metrics(y[rows], pred[rows])
    r["n"] = int(rows.sum())
    if lo is not None:
        r["coverage"] = float(np.mean((y[rows] >= lo[rows]) & (y[rows] <= hi[rows])))
        r["width_c"] = float(np.mean(hi[rows] - lo[rows]))
    return r


td, lo, hi = (out[c].to_numpy(float) for c in ("td_c", "td_lo_c", "td_hi_c"))
res["predictor_all"] = m(td, lo, hi, ok)
for src in ("cif", "structure"):
    r = (out["td_source"] == src).to_numpy()
    if r.any():
        res[f"predictor_{src}"] = m(td, lo, hi, r)
record_cols = ["refcode", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality", "geometry"]
rowframe = te[record_cols].rename(columns={"refcode": "id"}).copy()
rowframe["oxidation_state"] = [round_oxidation_states(v) for v in rowframe["oxidation_state"]]
rowframe.loc[te["error"] != "", ["metal", "ligands"]] = ""
outr = p.predict(rowframe)
tdr, lor, hir = (outr[c].to_numpy(float) for c in ("td_c", "td_lo_c", "td_hi_c"))
g = p.heads["td_struct"]
tds = g.predict(graph_matrix(te).astype(np.float32))
hs = g.halfwidth(0.8)
common = (out["td_source"] == "cif").to_numpy() & np.isfinite(tdr)
td_table = pd.read_csv(SHARED / "td.csv")[["core_name", "split", "td_c"]]
rac = pd.read_csv(SHARED / "rac_zeo_features.csv").merge(td_table, on="core_name")
f = [c for c in rac.columns if c not in ("core_name", "split", "td_c")]
trm = rac["split"].isin(["train", "val"])
rf = RandomForestRegressor(n_estimators=500, min_samples_leaf=2, random_state=0, n_jobs=1)
rf.fit(rac.loc[trm, f].to_numpy(float), rac.loc[trm, "td_c"].to_numpy(float))
rfp = dict(zip(rac.loc[~trm, "core_name"], rf.predict(rac.loc[~trm, f].to_numpy(float))))
rfpred = np.array([rfp[c] for c in te["core_name"]])
mean = np.full(len(y), rac.loc[trm, "td_c"].mean())
res["common_rows"] = {"n": int(common.sum()), "mean": m(mean, rows=common), "rf_rac_zeo": m(rfpred, rows=common),
                      "mlglass_cif": m(td, lo, hi, common), "mlglass_row": m(tdr, lor, hir, common),
                      "mlglass_structure": m(tds, tds - hs, tds + hs, common)}
res["all_rows"] = {"mean": m(mean), "rf_rac_zeo": m(rfpred), "mlglass_structure": m(tds, tds - hs, tds + hs)}
res["halfwidths"] = {k: p.heads[k].halfwidth(0.8) for k in ("td_cif", "td_row", "td_struct")}
print(json.dumps(res, indent=1, default=float))

