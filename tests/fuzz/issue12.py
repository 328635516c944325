"""Drivers of the robustness harness for the issue-12 promises (used by :mod:`fuzz.harness`).

``bundle``      a saved model bundle with one hostile change (edited metadata, swapped or truncated
                model, symlinked member, sealed-but-mistyped metadata, oversized sparse file, bad
                manifest) loaded with ``GlassPredictor.load``: a changed, unsealed bundle must be
                refused with :class:`~mlglass.errors.ModelFileError`.
``resume``      a finished screen whose work folder is damaged (part copied over another, garbage
                part, checkpoint with bad keys / types / short stats) resumed with ``resume=True``:
                a clean error, or a complete output with every id once.
``spec``        ``enumerate`` specs (YAML alias chains, bad ``base_amount``, wrong types): a documented
                error, never an expansion; alias specs are always refused.
``csv_writer``  ``write_table`` on frames with bare CR/LF, quotes, formula-like cells and headers:
                the file reads back (csv module) with the same rows and no unescaped formula.
``outputs``     ``check_output_path`` on hostile output paths (input itself, a folder, unknown
                extension, a file used as a folder): a documented error or a writable path.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from typing import Any

import pandas as pd

__all__ = ["DRIVERS"]

_TEXT = ["x\r=cmd|' /C calc'!A0", "=1+1", "+2", "-3", "-x", "@SUM(A1)", "\t=x", "a\nb", 'q"uote', "plain", "",
         "-5", "1e5", "\r", "\r\n", "ok\r"]


def _bundle(run: Any, gen: Any, ctx: dict) -> None:
    from mlglass.errors import ModelFileError
    from mlglass.models.persistence import MANIFEST_NAME, seal_bundle
    from mlglass.models.predictor import GlassPredictor

    src = ctx.get("bundle_src")
    if src is None:
        src = ctx["tmp"] / "bundle-src"
        ctx["predictor"].save(src)
        ctx["bundle_src"] = src
    d = ctx["tmp"] / f"bundle{gen.rng.randrange(10**9)}"
    shutil.copytree(src, d)
    kinds = ["meta-edit", "meta-type-sealed", "swap", "truncate", "symlink", "sparse", "manifest-garbage",
             "manifest-missing", "manifest-edit", "untouched", "meta-resealed"]
    kind = gen.choice(kinds)
    meta_path = d / "metadata.json"
    meta = json.loads(meta_path.read_text())
    must_fail = kind not in ("untouched", "meta-resealed")
    try:
        if kind == "meta-edit":
            key = gen.choice(["tg_tm_ratio_cap", "coverage", "residuals", "constant"])
            if key in ("residuals", "constant"):
                meta["files"]["tm"][key] = [1e4] * 5 if key == "residuals" else 99999
            else:
                meta[key] = gen.choice([0.2, 0.99, 0.5])
            meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        elif kind == "meta-type-sealed":
            meta[gen.choice(["coverage", "tg_tm_ratio_cap"])] = gen.choice(["x", [1], None, True, {"a": 1}, 1e400])
            meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True, allow_nan=True) + "\n")
            seal_bundle(d)
        elif kind == "swap":
            a, b = gen.rng.sample(["tm.json", "tg.json", "melt.json"], 2)
            (d / a).write_bytes((d / b).read_bytes())
        elif kind == "truncate":
            name = gen.choice(["tm.json", "metadata.json", "melt.json"])
            body = (d / name).read_bytes()
            (d / name).write_bytes(body[: gen.rng.randrange(len(body))])
        elif kind == "symlink":
            name = gen.choice(["tm.json", "metadata.json"])
            (d / f"real-{name}").write_bytes((d / name).read_bytes())
            (d / name).unlink()
            (d / name).symlink_to(f"real-{name}")
        elif kind == "sparse":
            with open(d / gen.choice(["tm.json", "metadata.json", MANIFEST_NAME]), "r+b") as fh:
                fh.truncate(gen.choice([300 * 1024**2, 2 * 1024**3]))
        elif kind == "manifest-garbage":
            (d / MANIFEST_NAME).write_bytes(gen.choice([b"", b"[]", b"\x80garbage", b'{"files": []}', b"{}"]))
        elif kind == "manifest-missing":
            (d / MANIFEST_NAME).unlink()
        elif kind == "manifest-edit":
            man = json.loads((d / MANIFEST_NAME).read_text())
            man["files"]["tm.json"]["sha256"] = "0" * 64
            (d / MANIFEST_NAME).write_text(json.dumps(man))
        elif kind == "meta-resealed":
            meta["notes"] = "edited and re-sealed by its owner"
            meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
            seal_bundle(d)
        if kind == "meta-type-sealed":
            must_fail = True
        shown = lambda: f"GlassPredictor.load(<bundle: {kind}>)"  # noqa: E731
        ok, res = run.call("bundle", lambda: GlassPredictor.load(d), shown)
        if ok and must_fail:
            run.violation("bundle", "accepted-tampered", shown(), f"a bundle changed by {kind!r} was loaded",
                          key=(kind,))
        elif not ok and not must_fail and res is not None:
            run.violation("bundle", "refused-valid", shown(), f"a valid bundle ({kind}) was refused: {res}",
                          key=(kind,))
        elif not ok and isinstance(res, Exception) and not isinstance(res, ModelFileError):
            run.violation("bundle", "wrong-error", shown(), f"{type(res).__name__} instead of ModelFileError",
                          key=(kind,))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _resume(run: Any, gen: Any, ctx: dict) -> None:
    from mlglass.screen import screen_file

    folder = ctx["tmp"] / f"resume{gen.rng.randrange(10**9)}"
    folder.mkdir()
    try:
        n = gen.rng.randrange(2, 60)
        frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "metal": [gen.choice(["Zn", "Co"]) for _ in range(n)],
                              "ligands": [f"Im:{2 - 0.01 * i:.2f};bIm:{0.01 * i:.2f}" for i in range(n)]})
        inp, out = folder / "in.csv", folder / "out.csv"
        frame.to_csv(inp, index=False)
        chunk = gen.rng.randrange(1, max(2, n // 2))
        screen_file(inp, out, ctx["predictor"], chunk_size=chunk, keep_parts=True, progress=False, explain_top=0)
        out.unlink()
        work = folder / "out.csv.parts"
        parts = sorted(work.glob("part-*.parquet"))
        ck_path = work / "checkpoint.json"
        kind = gen.choice(["copy-part", "garbage-part", "delete-part", "bad-key", "list", "short-stats",
                           "not-json", "signature-list", "big-key"])
        if kind == "copy-part" and len(parts) > 1:
            a, b = gen.rng.sample(parts, 2)
            shutil.copy(a, b)
        elif kind == "garbage-part":
            gen.choice(parts).write_bytes(gen.choice([b"", b"garbage", b"PAR1xxxxPAR1"]))
        elif kind == "delete-part":
            gen.choice(parts).unlink()
        else:
            ck = json.loads(ck_path.read_text())
            if kind == "bad-key":
                ck["completed"]["x"] = [1, 0, 0, "0" * 64]
            elif kind == "list":
                ck["completed"] = [1, 2]
            elif kind == "short-stats":
                ck["completed"] = {k: v[:1] for k, v in ck["completed"].items()}
            elif kind == "signature-list":
                ck["signature"] = [1]
            elif kind == "big-key":
                ck["completed"]["9" * 30] = [1, 0, 0, "0" * 64]
            text = "{not json" if kind == "not-json" else json.dumps(ck)
            ck_path.write_text(text)
        shown = lambda: f"screen_file(<{n} rows, chunk {chunk}, damaged: {kind}>, resume=True)"  # noqa: E731
        ok, _ = run.call("resume", lambda: screen_file(inp, out, ctx["predictor"], chunk_size=chunk, resume=True,
                                                       progress=False, explain_top=0), shown)
        if ok:
            got = pd.read_csv(out, dtype=str, keep_default_na=False)
            run.rows("resume", list(frame["id"]), list(got["id"]), shown())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spec(run: Any, gen: Any, ctx: dict) -> None:
    from mlglass.screen import count_candidates

    folder = ctx["tmp"] / "spec"
    folder.mkdir(exist_ok=True)
    kind = gen.choice(["alias", "base", "types", "ok"])
    if kind == "alias":
        depth = gen.rng.randrange(1, 8)
        lines = ["a: &a [Zn, Zn, Zn]"] + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]"
                                          for i in range(depth)]
        lines += [f"metals: *{chr(97 + depth)}", "linkers: [Im]"]
        text = "\n".join(lines) + "\n"
    elif kind == "base":
        text = f"metals: [Zn]\nlinkers: [Im]\nbase_amount: {gen.choice(['1e308', '0', '-1', '.nan', '.inf', 'x', '1e-9'])}\n"
    elif kind == "types":
        text = gen.choice(["[]", "3", "metals: 5\nlinkers: [Im]\n", "metals: [Zn]\nlinkers: {a: 1}\n", "'x'",
                           "metals: [Zn]\nlinkers: [Im]\nmix: 7\n", "!!python/object:os.system {}\n"])
    else:
        text = "metals: [Zn, Co]\nlinkers: [Im]\nmix: [{ligand: bIm, start: 0, stop: 0.5, step: 0.1}]\n"
    path = folder / f"s{gen.rng.randrange(10**9)}.yaml"
    path.write_text(text)
    try:
        shown = lambda: f"count_candidates(<yaml {kind}: {text[:120]!r}>)"  # noqa: E731
        ok, res = run.call("spec", lambda: count_candidates(path), shown)
        if ok and kind in ("alias", "base"):
            run.violation("spec", "accepted-invalid", shown(), f"spec accepted ({res} rows)", key=(kind,))
        if not ok and kind == "ok":
            run.violation("spec", "refused-valid", shown(), f"valid spec refused: {res}", key=(kind,))
    finally:
        path.unlink()


def _csv_writer(run: Any, gen: Any, ctx: dict) -> None:
    from mlglass.tables import FORMULA_PREFIXES, PLAIN_NUMBER, write_table

    import re

    n = gen.rng.randrange(1, 6)
    cols = [gen.choice(_TEXT + ["id", "tm_c", "p_melt"]) for _ in range(gen.rng.randrange(1, 4))]
    cols = list(dict.fromkeys(c or "blank" for c in cols))
    frame = pd.DataFrame({c: [gen.choice(_TEXT) for _ in range(n)] for c in cols})
    path = ctx["tmp"] / f"w{gen.rng.randrange(10**9)}.csv"
    shown = lambda: f"write_table({frame.to_dict('list')!r})"  # noqa: E731
    ok, _ = run.call("csv_writer", lambda: write_table(frame, path), shown)
    if not ok:
        return
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if len(rows) != n + 1:
            run.violation("csv_writer", "rows", shown(), f"{n} rows written, {len(rows) - 1} read back",
                          key=("rows",))
            return
        plain = re.compile(PLAIN_NUMBER)
        for cell in [c for r in rows for c in r]:
            if cell.startswith(FORMULA_PREFIXES) and not plain.match(cell):
                run.violation("csv_writer", "formula", shown(), f"unescaped formula cell {cell!r}", key=("formula",))
                return
    finally:
        path.unlink(missing_ok=True)


def _outputs(run: Any, gen: Any, ctx: dict) -> None:
    from mlglass._io import check_output_path

    folder = ctx["tmp"] / "outputs"
    folder.mkdir(exist_ok=True)
    inp = folder / "in.csv"
    inp.write_text("id\n1\n")
    (folder / "adir.csv").mkdir(exist_ok=True)
    (folder / "afile").write_text("x")
    kind, path = gen.choice([("input", inp), ("folder", folder / "adir.csv"), ("ext", folder / "o.xlsx"),
                             ("under-file", folder / "afile" / "o.csv"), ("ok", folder / "new" / "o.csv"),
                             ("ok", folder / "o.parquet"), ("input-alias", folder / "." / "in.csv")])
    shown = lambda: f"check_output_path({kind}: {path.name}, inputs=[in.csv])"  # noqa: E731
    ok, res = run.call("outputs", lambda: check_output_path(path, inputs=[inp]), shown)
    if ok and not kind.startswith("ok"):
        run.violation("outputs", "accepted-invalid", shown(), f"{kind} output accepted", key=(kind,))
    if not ok and kind == "ok":
        run.violation("outputs", "refused-valid", shown(), f"valid output refused: {res}", key=(kind,))
    if os.path.exists(folder / "new"):
        shutil.rmtree(folder / "new", ignore_errors=True)


DRIVERS = {"bundle": _bundle, "resume": _resume, "spec": _spec, "csv_writer": _csv_writer, "outputs": _outputs}
