"""Size, time and concurrency limits of the web server (documented in ``mlglass.web``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WebLimits"]


@dataclass(frozen=True)
class WebLimits:
    """Limits of one web app.

    Attributes
    ----------
    max_upload_bytes : int, default=50 MB
        Largest request body (a CIF or candidate-file upload, or a JSON request); larger gets HTTP 413.
    max_cif_files : int, default=20
        CIF files per ``/api/predict-cif`` request.
    max_predict_rows : int, default=10_000
        Rows per ``/api/predict`` request (use ``/api/screen`` for more).
    max_jobs : int, default=2
        Screen jobs queued or running at once; one more gets HTTP 429.
    job_ttl_s : float, default=3600
        Seconds a finished job (its folder, ranked CSV and map) is kept before deletion.
    sweep_interval_s : float, default=60
        How often expired job folders are looked for.
    cif_timeout_s : float or None, default=None
        Seconds per CIF file (``None``: the structure module's default timeout).
    """

    max_upload_bytes: int = 50 * 1024 * 1024
    max_cif_files: int = 20
    max_predict_rows: int = 10_000
    max_jobs: int = 2
    job_ttl_s: float = 3600.0
    sweep_interval_s: float = 60.0
    cif_timeout_s: float | None = None
