"""The web API (FastAPI TestClient): schema, equality with the library, bad rows, limits, CIFs, screen jobs."""

from __future__ import annotations

import io
import math
import os
import threading
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # starlette's notice that httpx will be replaced by httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

from mlglass.web import WebLimits, create_app  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", REPO.parent / "shared" / "cifs"))
EXAMPLE = REPO / "datasets" / "candidates" / "example.csv"
LIMIT = 64 * 1024


@pytest.fixture()
def client(tiny_predictor, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MLGLASS_CACHE_DIR", str(tmp_path / "cif-cache"))
    app = create_app(model_dir=tiny_model_dir, predictor=tiny_predictor, jobs_root=tmp_path,
                     limits=WebLimits(max_upload_bytes=LIMIT, max_predict_rows=50, max_jobs=1, job_ttl_s=600))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _same(api_value, lib_value) -> bool:
    if isinstance(lib_value, float) and math.isnan(lib_value):
        return api_value is None
    if isinstance(lib_value, float):
        return api_value is not None and math.isclose(api_value, lib_value, rel_tol=1e-12, abs_tol=1e-12)
    return api_value == lib_value


def _assert_rows_equal(api_rows, lib: pd.DataFrame):
    assert len(api_rows) == len(lib)
    for api_row, (_, lib_row) in zip(api_rows, lib.iterrows()):
        assert list(api_row) == [str(c) for c in lib.columns]  # every library column, same order
        for col in lib.columns:
            v = lib_row[col]
            v = v.item() if hasattr(v, "item") else v
            assert _same(api_row[col], v), (col, api_row[col], v)


def _wait_job(client, job_id: str, cap_s: float = 300.0) -> dict:
    """Poll the job until it leaves the running states (the cap only guards against a hang)."""
    deadline = time.monotonic() + cap_s
    while True:
        status = client.get(f"/api/jobs/{job_id}").json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


# ---------------------------------------------------------------------------- basics
def test_health_and_page_assets_are_local(client):
    assert client.get("/health").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200 and r.text
    texts = page.text + client.get("/static/app.js").text + client.get("/static/style.css").text
    for remote in ('src="http', "src='http", 'href="http', "url(http", "@import", "//cdn", "fetch(\"http"):
        assert remote not in texts
    assert client.get("/api/docs").status_code == 404  # the interactive docs would load a CDN


def test_predict_formulas_equals_library(client, tiny_predictor):
    formulas = ["Zn(Im)1.75(bIm)0.25", "Co(bba)3[CoCl4]", "Xx(Im)2"]
    r = client.post("/api/predict", json={"formulas": formulas, "explain": True})
    assert r.status_code == 200
    body = r.json()
    lib = tiny_predictor.predict(formulas, explain=True)
    _assert_rows_equal(body["rows"], lib)
    assert body["rows"][0]["error"] == "" and body["rows"][0]["tm_lo_c"] <= body["rows"][0]["tm_c"]
    bad = body["rows"][2]
    assert bad["tm_c"] is None and "Xx" in bad["error"] and "formula" in bad["error"]
    assert "nearest" not in body


def test_predict_rows_bad_rows_and_td_equal_library(client, tiny_predictor):
    rows = [{"id": "zif62", "metal": "Zn", "ligands": "Im:1.75;bIm:0.25", "dimensionality": "3", "td_c": 550},
            {"id": "nometal", "metal": "", "ligands": "Im:2"},
            {"id": "badlig", "metal": "Zn", "ligands": "NotALigand:2", "td_c": None}]
    r = client.post("/api/predict", json={"rows": rows, "coverage": 0.9})
    assert r.status_code == 200
    body = r.json()
    frame = pd.DataFrame(rows)
    frame["dimensionality"] = frame["dimensionality"].fillna("")
    lib = tiny_predictor.predict(frame, coverage=0.9)
    _assert_rows_equal(body["rows"], lib)
    assert body["coverage"] == 0.9
    assert body["rows"][0]["error"] == ""
    assert "nometal" in body["rows"][1]["error"] and body["rows"][1]["p_melt"] is None
    assert "NotALigand" in body["rows"][2]["error"]


def test_every_predictor_column_is_passed_through(client):
    """Columns other issues add to GlassPredictor.predict (Td, domain, ...) reach the client unchanged."""
    real = client.app.state.predictor

    class WithExtras:
        featurizer, feature_labels, coverage = real.featurizer, real.feature_labels, real.coverage

        def predict(self, frame, **kw):
            out = real.predict(frame, **kw)
            out["td_c"], out["td_lo_c"], out["td_hi_c"] = 500.0, 450.0, 550.0
            out["domain"] = "inside"
            return out

    client.app.state.predictor = WithExtras()
    row = client.post("/api/predict", json={"formulas": ["Zn(Im)2"]}).json()["rows"][0]
    assert (row["td_c"], row["td_lo_c"], row["td_hi_c"], row["domain"]) == (500.0, 450.0, 550.0, "inside")


def test_nearest_training_compounds_have_measurements_and_references(client, glasses):
    body = client.post("/api/predict", json={"formulas": ["Zn(Im)1.75(bIm)0.25", "Xx"], "nearest": 3}).json()
    near, none = body["nearest"]
    assert none == [] and len(near) == 3
    ids = set(glasses["id"])
    for n in near:
        assert n["id"] in ids and (n["tm_c"] is not None or n["tg_c"] is not None)
        assert "Chem. Rev. 2022" in n["reference"] and "ref." in n["reference"]
        measured = glasses.set_index("id").loc[n["id"]]
        assert _same(n["tm_c"], float(measured["tm_c"]))
    assert [n["distance"] for n in near] == sorted(n["distance"] for n in near)
    # a dataset compound asked for with its own record is its own nearest neighbour, at distance 0
    own = glasses[glasses["tm_c"].notna()].iloc[[3]]
    cols = ["id", "metal", "oxidation_state", "ligands", "counter_ions", "dimensionality"]
    row = {c: ("" if pd.isna(v) else str(v)) for c, v in own[cols].iloc[0].items()}
    found = client.post("/api/predict", json={"rows": [row], "nearest": 5}).json()["nearest"][0]
    assert found[0]["distance"] == pytest.approx(0.0, abs=1e-6)
    assert own["id"].iloc[0] in [n["id"] for n in found if n["distance"] < 1e-6]


@pytest.mark.parametrize("payload, status, words", [
    (b"{not json", 400, "JSON"),
    (b"[1, 2]", 422, "object"),
    (b'{"formulas": ["Zn(Im)2"], "rows": []}', 422, "exactly one"),
    (b"{}", 422, "exactly one"),
    (b'{"formulas": "Zn(Im)2"}', 422, "list of strings"),
    (b'{"formulas": [1]}', 422, "list of strings"),
    (b'{"rows": [1, 2]}', 422, "list of objects"),
    (b'{"rows": [], "explain": "maybe"}', 422, "explain"),
    (b'{"formulas": ["Zn(Im)2"], "coverage": 2}', 422, "coverage"),
    (b'{"formulas": ["Zn(Im)2"], "coverage": "x"}', 422, "coverage"),
    (b'{"formulas": ["Zn(Im)2"], "nearest": 99}', 422, "nearest"),
    (b'{"formulas": ["Zn(Im)2"], "path": "/etc/passwd"}', 422, "unknown field"),
])
def test_malformed_predict_requests_get_4xx_messages(client, payload, status, words):
    r = client.post("/api/predict", content=payload, headers={"content-type": "application/json"})
    assert r.status_code == status
    detail = r.json()["detail"]
    assert isinstance(detail, str) and words in detail and "Traceback" not in detail


def test_too_many_rows_and_oversize_bodies_get_413(client):
    r = client.post("/api/predict", json={"formulas": ["Zn(Im)2"] * 51})
    assert r.status_code == 413 and "/api/screen" in r.json()["detail"]
    big = b"data_x\n" + b"#" * (LIMIT + 10)
    r = client.post("/api/predict-cif", files={"file": ("big.cif", big, "chemical/x-cif")})
    assert r.status_code == 413 and "MB" in r.json()["detail"]
    r = client.post("/api/screen", files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 413

    def chunks():  # no Content-Length: the limit applies while the body streams in
        for _ in range(LIMIT // 4096 + 4):
            yield b"x" * 4096

    r = client.post("/api/predict-cif", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    assert not any(client.app.state.jobs.root.iterdir())  # nothing left behind


def test_unexpected_errors_are_messages_not_tracebacks(client):
    class Broken:
        def predict(self, *a, **k):
            raise RuntimeError("model exploded")

    client.app.state.predictor = Broken()
    r = client.post("/api/predict", json={"formulas": ["Zn(Im)2"]})
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error (RuntimeError): model exploded"}


# ---------------------------------------------------------------------------- CIF
@pytest.mark.skipif(not (CIFS / "Co-DOBDC.cif").exists(), reason="shared CIFs not available")
def test_cif_upload_gives_the_derived_record_and_library_predictions(client, tiny_predictor):
    from mlglass.structure import records_from_cifs

    data = (CIFS / "Co-DOBDC.cif").read_bytes()
    r = client.post("/api/predict-cif", files=[("file", ("../../etc/Co-DOBDC.cif", data, "chemical/x-cif")),
                                               ("file", ("junk.cif", b"this is not a CIF", "chemical/x-cif"))])
    assert r.status_code == 200
    good, junk = r.json()["rows"]
    assert good["id"] == "Co-DOBDC.cif"  # display name only: the client's path is dropped
    assert "cif" not in good  # the server's temp path is not exposed
    assert good["metal"] == "Co" and good["dimensionality"] == 3 and good["ligands"]
    assert good["error"] == "" and good["tm_c"] is not None
    derived = records_from_cifs([CIFS / "Co-DOBDC.cif"], progress=False, use_cache=False)
    lib = tiny_predictor.predict(derived.drop(columns=["cif", "error"]))
    assert good["tm_c"] == pytest.approx(float(lib["tm_c"].iloc[0]), rel=1e-12)
    assert good["p_melt"] == pytest.approx(float(lib["p_melt"].iloc[0]), rel=1e-12)
    assert junk["id"] == "junk.cif" and junk["tm_c"] is None and junk["cif_error"] and junk["error"]
    assert len(r.json()["nearest"]) == 2


def test_cif_request_without_files_is_4xx(client):
    r = client.post("/api/predict-cif", data={"explain": "true"})
    assert r.status_code == 422 and "file" in r.json()["detail"]
    r = client.post("/api/predict-cif", content=b"garbage", headers={"content-type": "multipart/form-data"})
    assert 400 <= r.status_code < 500


# ---------------------------------------------------------------------------- screen jobs
def test_screen_job_upload_progress_download_equals_library(client, tiny_model_dir, tmp_path):
    from mlglass.workflows import screen_candidates

    small = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False).head(120)
    small.loc[5, "ligands"] = "NotALigand:2"  # one bad row: kept, with its error
    data = small.to_csv(index=False).encode()
    r = client.post("/api/screen", files={"file": ("my list.csv", data, "text/csv")},
                    data={"objective": "meltable", "risk": "pessimistic", "deny": "Cd", "top": "7"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "reading", "screening") and len(job["id"]) == 32
    status = _wait_job(client, job["id"])
    assert status["state"] == "done", status
    assert status["rows_done"] == status["rows_total"] == status["n_rows"] == 120 and status["fraction"] == 1.0
    assert status["n_errors"] == 1 and len(status["top"]) == 7 and status["top"][0]["rank"] == 1
    csv = client.get(status["result_csv"])
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    png = client.get(status["plot_png"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    # the same screen through the library gives the same ranked table
    src = tmp_path / "in.csv"
    src.write_bytes(data)
    screen_candidates(src, tmp_path / "lib.csv", model_dir=tiny_model_dir, progress=False, objective="meltable",
                      risk="pessimistic", deny_elements=["Cd"])
    api = pd.read_csv(io.BytesIO(csv.content), dtype=str, keep_default_na=False)
    lib = pd.read_csv(tmp_path / "lib.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(api, lib)
    assert [r["id"] for r in status["top"]] == lib["id"].head(7).tolist()
    assert status["top"][0]["tm_c"] == pytest.approx(float(lib["tm_c"].iloc[0]))
    assert "NotALigand" in api.loc[api["id"] == small.loc[5, "id"], "error"].iloc[0]


def test_screen_rejects_bad_requests(client):
    ok = EXAMPLE.read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n"
    cases = [({"data": {"objective": "meltable"}}, 422, "file"),
             ({"files": {"file": ("x.xlsx", ok, "application/octet-stream")}}, 415, ".csv"),
             ({"files": {"file": ("x.csv", ok, "text/csv")}, "data": {"objective": "best"}}, 422, "objective"),
             ({"files": {"file": ("x.csv", ok, "text/csv")}, "data": {"tm_max": "hot"}}, 422, "tm_max"),
             ({"files": {"file": ("x.csv", ok, "text/csv")}, "data": {"p_melt_min": "2"}}, 422, "p_melt_min")]
    for kwargs, status, words in cases:
        r = client.post("/api/screen", **kwargs)
        assert r.status_code == status, (kwargs, r.text)
        assert words in r.json()["detail"]


def test_screen_table_naming_files_fails_with_a_message(client):
    data = b"id,metal,ligands,cif\na,Zn,Im:2,/etc/passwd\n"
    job = client.post("/api/screen", files={"file": ("c.csv", data, "text/csv")}).json()
    status = _wait_job(client, job["id"])
    assert status["state"] == "failed" and "cif" in status["error"] and "Traceback" not in status["error"]
    r = client.get(f"/api/jobs/{job['id']}/result.csv")
    assert r.status_code == 409 and "failed" in r.json()["detail"]


def test_unknown_jobs_and_path_like_ids_are_404(client):
    for job_id in ("0" * 32, "..%2F..%2Fetc%2Fpasswd", "abc"):
        assert client.get(f"/api/jobs/{job_id}").status_code == 404
        assert client.get(f"/api/jobs/{job_id}/result.csv").status_code == 404


def test_jobs_are_bounded_private_and_expire(client, monkeypatch):
    from mlglass.web.jobs import JobManager

    release, started = threading.Event(), threading.Event()
    real = JobManager._screen

    def held(self, job):
        started.set()
        assert release.wait(300)
        return real(self, job)

    monkeypatch.setattr(JobManager, "_screen", held)
    data = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False).head(20).to_csv(index=False).encode()
    first = client.post("/api/screen", files={"file": ("a.csv", data, "text/csv")})
    assert first.status_code == 202
    assert started.wait(300)
    second = client.post("/api/screen", files={"file": ("b.csv", data, "text/csv")})
    assert second.status_code == 429 and "limit 1" in second.json()["detail"]
    release.set()
    status = _wait_job(client, first.json()["id"])
    assert status["state"] == "done"
    jobs = client.app.state.jobs
    job = jobs.get(first.json()["id"])
    assert job.folder.parent == jobs.root and (job.folder.stat().st_mode & 0o077) == 0  # private folder
    assert jobs.sweep(now=job.finished + 10) == 0 and job.folder.exists()
    assert jobs.sweep(now=job.finished + jobs.limits.job_ttl_s + 1) == 1
    assert not job.folder.exists()
    assert client.get(f"/api/jobs/{job.id}").status_code == 404


def test_serve_command_is_listed_with_local_defaults():
    from typer.testing import CliRunner

    from mlglass.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "127.0.0.1" in result.output and "8000" in result.output


def test_progress_comes_from_the_screen_checkpoint(tmp_path):
    import json

    from mlglass.screen.stream import CHECKPOINT_NAME, work_dir_for
    from mlglass.web.jobs import Job

    job = Job(id="a" * 32, folder=tmp_path, filename="c.csv", options={}, state="screening", rows_total=1000)
    assert job.status()["rows_done"] == 0 and job.status()["fraction"] == 0.0
    work = work_dir_for(job.output_path)
    work.mkdir()
    (work / CHECKPOINT_NAME).write_text(json.dumps({"completed": {"0": [250, 1, 200], "1": [250, 0, 250]}}))
    status = job.status()
    assert status["rows_done"] == 500 and status["fraction"] == 0.5
    (work / CHECKPOINT_NAME).unlink()  # the screen removes its work folder while it merges: progress stays
    assert job.status()["rows_done"] == 500


def test_mlglass_serve_starts_the_page_on_localhost(tiny_model_dir, tmp_path):
    """`mlglass serve` in a subprocess answers /health and / (synchronised on the answer, not on a sleep)."""
    import socket
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "mlglass.cli", "serve", "--port", str(port), "--models",
                             str(tiny_model_dir)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    assert r.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "mlglass serve did not answer"
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert b"mlglass" in r.read()
    finally:
        proc.terminate()
        proc.wait(60)
