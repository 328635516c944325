"""JSON API routes: ``/api/predict``, ``/api/predict-cif``, ``/api/screen`` and ``/api/jobs/{id}``.

Rows come back with every column :meth:`mlglass.GlassPredictor.predict` returns (no fixed
column list), NaN as ``null``. A row that cannot be predicted comes back with its
``error`` (HTTP 200); a malformed request gets a 4xx with a ``detail`` message.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from mlglass.errors import MlglassError
from mlglass.schema import is_blank
from mlglass.web.convert import frame_to_rows
from mlglass.web.jobs import EXPLAINED_TOP, JobLimitError

__all__ = ["router", "predict_rows"]

router = APIRouter(prefix="/api")

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_READ_BLOCK = 1024 * 1024
_MAX_NEAREST = 10


def _bad(message: str, status: int = 400) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off", ""):
        return value.lower() in ("true", "1", "yes", "on")
    raise _bad(f"field '{name}' = {value!r}: must be true or false", 422)


def _whole(value: Any, name: str, lo: int, hi: int, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi:
        raise _bad(f"field '{name}' = {value!r}: must be a whole number from {lo} to {hi}", 422)
    return n


def _number(value: Any, name: str) -> float | None:
    if is_blank(value):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        raise _bad(f"field '{name}' = {value!r}: must be a number", 422) from None


def predict_rows(request: Request, frame: pd.DataFrame, *, explain: bool, coverage: float | None,
                 nearest: int) -> dict[str, Any]:
    """Predict a candidate table with the app's predictor; the JSON answer of the predict routes."""
    predictor = request.app.state.predictor
    try:
        out = predictor.predict(frame, coverage=coverage, explain=explain)
    except MlglassError as err:
        raise _bad(str(err), 422) from None
    answer: dict[str, Any] = {"rows": frame_to_rows(out), "coverage": coverage or predictor.coverage}
    if nearest:
        answer["nearest"] = request.app.state.nearest.query(frame, k=nearest)
    return answer


def _frame_from_rows(rows: Any) -> pd.DataFrame:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _bad("'rows' must be a list of objects, one per compound, e.g. "
                   "[{\"id\": \"a\", \"metal\": \"Zn\", \"ligands\": \"Im:2\"}]", 422)
    frame = pd.DataFrame.from_records(rows)
    if frame.columns.duplicated().any():
        raise _bad("duplicate column names in 'rows'", 422)
    for col in frame.columns:  # a missing text cell is "" (as in a CSV read by the library)
        series = frame[col]
        if pd.api.types.is_string_dtype(series.dtype):
            frame[col] = series.fillna("")
        elif series.dtype == object:
            frame[col] = series.where(series.notna(), "")
    return frame


@router.post("/predict")
async def predict(request: Request) -> dict[str, Any]:
    """``{"rows": [...]}`` or ``{"formulas": [...]}`` (+ ``explain``, ``coverage``, ``nearest``) -> rows."""
    try:
        body = await request.json()
    except ValueError:
        raise _bad("the request body must be JSON, e.g. {\"formulas\": [\"Zn(Im)1.75(bIm)0.25\"]}", 400) from None
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object with 'rows' or 'formulas'", 422)
    unknown = sorted(set(body) - {"rows", "formulas", "explain", "coverage", "nearest"})
    if unknown:
        raise _bad(f"unknown field(s) {unknown}; allowed: rows, formulas, explain, coverage, nearest", 422)
    if ("rows" in body) == ("formulas" in body):
        raise _bad("give exactly one of 'rows' (candidate-table rows) or 'formulas' (list of formulas)", 422)
    if "formulas" in body:
        formulas = body["formulas"]
        if not isinstance(formulas, list) or not all(isinstance(f, str) for f in formulas):
            raise _bad("'formulas' must be a list of strings, e.g. [\"Zn(Im)1.75(bIm)0.25\"]", 422)
        frame = pd.DataFrame({"id": formulas, "formula": formulas})
    else:
        frame = _frame_from_rows(body["rows"])
    limit = request.app.state.limits.max_predict_rows
    if len(frame) > limit:
        raise _bad(f"{len(frame)} rows: at most {limit} per request; use /api/screen for larger tables", 413)
    coverage = body.get("coverage")
    if coverage is not None and (isinstance(coverage, bool) or not isinstance(coverage, (int, float))):
        raise _bad(f"field 'coverage' = {coverage!r}: must be a number between 0 and 1, e.g. 0.8", 422)
    explain = _flag(body.get("explain", False), "explain")
    nearest = _whole(body.get("nearest"), "nearest", 0, _MAX_NEAREST, 0)
    return await run_in_threadpool(predict_rows, request, frame, explain=explain, coverage=coverage,
                                   nearest=nearest)


async def _save_upload(upload: UploadFile, dest: Path, limit: int) -> int:
    """Copy an upload to a server-chosen path; returns its size (the request limit applies)."""
    size = 0
    with open(dest, "wb") as fh:
        while block := await upload.read(_READ_BLOCK):
            size += len(block)
            if size > limit:
                from mlglass.web.app import UploadTooLarge

                raise UploadTooLarge(limit)
            fh.write(block)
    return size


def _display_name(upload: UploadFile, default: str) -> str:
    """The client's file name, for display only (never a path): its last component, printable characters."""
    name = re.split(r"[\\/]", upload.filename or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:120].strip()
    return name or default


async def _form(request: Request, max_files: int):
    try:
        return await request.form(max_files=max_files, max_fields=50)
    except MlglassError:
        raise
    except Exception as err:  # multipart parser errors (bad boundary, too many files, ...)
        from mlglass.web.app import UploadTooLarge

        if isinstance(err, UploadTooLarge):
            raise
        raise _bad(f"could not read the upload: {getattr(err, 'detail', None) or err}", 400) from None


@router.post("/predict-cif")
async def predict_cif(request: Request) -> dict[str, Any]:
    """Multipart ``file`` (one or more CIFs) -> ``{"rows": [...]}``: the record derived from each structure
    (metal, ligands, dimensionality, ...) plus the predictions."""
    limits = request.app.state.limits
    form = await _form(request, limits.max_cif_files)
    uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
    if not uploads:
        raise _bad("no CIF file: send one or more files in the multipart field 'file'", 422)
    explain = _flag(form.get("explain", "true"), "explain")
    nearest = _whole(form.get("nearest"), "nearest", 0, _MAX_NEAREST, 3)
    folder = Path(tempfile.mkdtemp(prefix="mlglass-cif-"))
    try:
        paths, names = [], []
        for k, up in enumerate(uploads):
            dest = folder / f"upload-{k:03d}.cif"
            await _save_upload(up, dest, limits.max_upload_bytes)
            paths.append(dest)
            names.append(_display_name(up, f"structure-{k + 1}"))
        derived = await run_in_threadpool(_records_from_cifs, paths, limits.cif_timeout_s)
    finally:
        await run_in_threadpool(shutil.rmtree, folder, True)
    derived["id"] = names
    derived = derived.drop(columns=["cif"]).rename(columns={"error": "cif_error"})
    answer = await run_in_threadpool(predict_rows, request, derived, explain=explain, coverage=None,
                                     nearest=nearest)
    for row in answer["rows"]:  # a structure that could not be read: say why, not "metal missing"
        if row.get("cif_error"):
            row["error"] = f"{row['id']}: {row['cif_error']}"
    return answer


def _records_from_cifs(paths: list[Path], timeout: float | None) -> pd.DataFrame:
    from mlglass.structure import DEFAULT_TIMEOUT_S, records_from_cifs

    return records_from_cifs(paths, n_jobs=2, progress=False,
                             timeout=DEFAULT_TIMEOUT_S if timeout is None else timeout)


@router.post("/screen", status_code=202)
async def screen(request: Request) -> dict[str, Any]:
    """Multipart ``file`` (CSV or Parquet candidate table) + form fields ``objective``, ``risk``,
    ``tm_max``, ``tg_min``, ``p_melt_min``, ``allow``, ``deny`` (comma-separated elements), ``top``
    -> ``{"id": ..., "status": ...}`` (HTTP 202). Poll ``/api/jobs/{id}``."""
    from mlglass.screen import OBJECTIVES, RISKS

    limits = request.app.state.limits
    jobs = request.app.state.jobs
    form = await _form(request, 1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise _bad("no candidate file: send a CSV or Parquet table in the multipart field 'file'", 422)
    filename = _display_name(upload, "candidates.csv")
    if not filename.lower().endswith((".csv", ".tsv", ".txt", ".parquet", ".pq")):
        raise _bad(f"file '{filename}': must be a .csv or .parquet candidate table", 415)
    objective = str(form.get("objective") or "meltable")
    if objective not in OBJECTIVES:
        raise _bad(f"field 'objective' = {objective!r}: must be one of {', '.join(OBJECTIVES)}", 422)
    risk = str(form.get("risk") or "expected")
    if risk not in RISKS:
        raise _bad(f"field 'risk' = {risk!r}: must be one of {', '.join(RISKS)}", 422)

    def elements(name: str) -> list[str] | None:
        text = str(form.get(name) or "")
        items = [e.strip() for e in re.split(r"[,;\s]+", text) if e.strip()]
        return items or None

    tm_max, tg_min = _number(form.get("tm_max"), "tm_max"), _number(form.get("tg_min"), "tg_min")
    p_melt_min = _number(form.get("p_melt_min"), "p_melt_min")
    allow, deny = elements("allow"), elements("deny")
    options = {"objective": objective, "risk": risk, "tm_max": tm_max, "tg_min": tg_min, "p_melt_min": p_melt_min,
               "allow_elements": allow, "deny_elements": deny, "top_n": EXPLAINED_TOP}
    show = _whole(form.get("top"), "top", 1, 500, 50)
    try:  # options are checked before the upload is stored
        from mlglass.screen import ScoreOptions

        ScoreOptions(objective, risk, tm_max=tm_max, tg_min=tg_min, p_melt_min=p_melt_min, allow_elements=allow,
                     deny_elements=deny)
    except MlglassError as err:
        raise _bad(str(err), 422) from None
    job_id, folder = jobs.new_folder()
    from mlglass.web.jobs import Job

    probe = Job(id=job_id, folder=folder, filename=filename, options=options)
    try:
        await _save_upload(upload, probe.input_path, limits.max_upload_bytes)
        job = jobs.submit(job_id, folder, filename, options, show=show)
    except JobLimitError as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise _bad(str(err), 429) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job.status()


def _job(request: Request, job_id: str):
    job = request.app.state.jobs.get(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        raise _bad(f"no job {job_id!r} (unknown, or expired and deleted)", 404)
    return job


@router.get("/jobs/{job_id}")
def job_status(request: Request, job_id: str) -> dict[str, Any]:
    """State and progress of a screen job; with the top rows and result links when done."""
    return _job(request, job_id).status()


def _finished_file(request: Request, job_id: str, which: str) -> Path:
    job = _job(request, job_id)
    if job.state != "done":
        raise _bad(f"job {job_id} is {job.state}" + (f": {job.error}" if job.error else "; not finished yet"), 409)
    path = job.output_path if which == "csv" else job.plot_path
    if not path.is_file():
        raise _bad(f"job {job_id} has no {which} result", 404)
    return path


@router.get("/jobs/{job_id}/result.csv")
def job_result(request: Request, job_id: str) -> FileResponse:
    """The ranked table (every input row; CSV)."""
    return FileResponse(_finished_file(request, job_id, "csv"), media_type="text/csv",
                        filename="mlglass-screen.csv")


@router.get("/jobs/{job_id}/plot.png")
def job_plot(request: Request, job_id: str) -> FileResponse:
    """The map of the screened space (PNG)."""
    return FileResponse(_finished_file(request, job_id, "png"), media_type="image/png")
