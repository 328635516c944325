"""Explanations describe the model that produced the number (issue 11, Td-anchored Tm)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mlglass.models.explanations import ANCHOR_PREFIX, TG_RATIO_PREFIX, anchored_contributions, explain_head

FRAME = pd.DataFrame([
    {"id": "zif62", "formula": "Zn(Im)1.75(bIm)0.25", "dimensionality": 3},
    {"id": "ca_formate", "metal": "Ca", "ligands": "[O-]C=O:2"},
    {"id": "pb_im2", "formula": "Pb(Im)2"},
])


@pytest.fixture(scope="module")
def anchored():  # type: ignore[no-untyped-def]
    from mlglass.models.predictor import GlassPredictor

    p = GlassPredictor.default()
    if p.metadata.get("tm_anchor", {}).get("kind") not in ("gated_td", "gated_range"):
        pytest.skip("the bundled models carry no gated Td-anchored Tm head")
    return p


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r" ([+-][0-9.e+-]+) degC", text)]


def test_td_anchored_rows_are_explained_by_the_td_head(anchored) -> None:  # type: ignore[no-untyped-def]
    p = anchored
    kept: dict = {}
    out = p.predict(FRAME, explain=True, descriptors=kept).set_index("id")
    X = kept["features"][kept["row"]]
    by_tm = explain_head(p, X, "tm", 3, "degC")
    state = p.metadata["tm_anchor"]
    anchored_c = anchored_contributions(p, X)
    assert out.loc["zif62", "tm_domain"] == "in"
    assert out.loc["zif62", "tm_top_features"] == by_tm[0]  # the boosted model made this number
    for i, cid in ((1, "ca_formate"), (2, "pb_im2")):
        assert out.loc[cid, "tm_domain"] == "out"
        order = np.argsort(-np.abs(anchored_c[i]))[:3]
        expected = "; ".join(f"{p.feature_labels[k]} {anchored_c[i, k]:+.3g} degC" for k in order)
        assert out.loc[cid, "tm_top_features"] == ANCHOR_PREFIX + expected
        assert out.loc[cid, "tm_top_features"] != by_tm[i]
        # the contributions add up to the number: Td_hat's (with its bias) + offset + the residual trees' (with bias)
        full = p.heads["td_row"].contributions(X[i:i + 1].astype(np.float32))[0]
        total = float(full.sum()) + state["residual"]["offset_c"]
        if "tm_anchor" in p.heads and not (state["kind"] == "gated_range" and full.sum() > state["tm_train_max_c"]):
            total += float(p.heads["tm_anchor"].contributions(X[i:i + 1].astype(np.float32))[0].sum())
        if state["kind"] == "gated_td":
            np.testing.assert_allclose(out.loc[cid, "tm_c"], out.loc[cid, "td_c"], rtol=1e-5)  # Tm is Td_hat
        np.testing.assert_allclose(out.loc[cid, "tm_c"], total, rtol=1e-4)
    # Tg = r * Tm: the same descriptors, each contribution times r
    r = p.metadata["tm_anchor"]["tg_tm_ratio"]
    for cid in out.index:
        tg_text, tm_text = out.loc[cid, "tg_top_features"], out.loc[cid, "tm_top_features"]
        assert tg_text.startswith(TG_RATIO_PREFIX)
        np.testing.assert_allclose(_numbers(tg_text), r * np.array(_numbers(tm_text)), rtol=0.01)
    # explaining the kept descriptors with the predicted domains gives the same texts
    again = p.explain_features(X, tm_domain=out["tm_domain"].to_numpy())
    for c in ("tm_top_features", "tg_top_features"):
        assert again[c].tolist() == out[c].tolist()
