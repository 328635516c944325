"""The FastAPI app: page, JSON API, upload-size limit and error handling.

Errors always reach the client as ``{"detail": "message"}`` (never a traceback):
4xx for bad requests, 413 for oversize bodies, 429 when the job limit is reached,
500 with the exception's message for anything unexpected (its traceback goes to
the server log).
"""

from __future__ import annotations

import contextlib
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from mlglass.web.limits import WebLimits

__all__ = ["create_app", "serve", "UploadTooLarge"]

log = logging.getLogger("mlglass.web")


class UploadTooLarge(Exception):
    """The request body is larger than the upload limit."""

    def __init__(self, limit: int):
        super().__init__(f"upload too large: the limit is {limit / 1024 / 1024:.0f} MB per request")
        self.limit = limit


class _BodyLimit:
    """ASGI middleware: 413 for a declared Content-Length above the limit; a streamed body that
    grows past it raises :class:`UploadTooLarge` while the endpoint reads it."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    resp = JSONResponse({"detail": str(UploadTooLarge(self.limit))}, status_code=413)
                    return await resp(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise UploadTooLarge(self.limit)
            return message

        return await self.app(scope, limited_receive, send)


def _static_dir() -> Path:
    return Path(str(resources.files("mlglass.web") / "static"))


def create_app(*, model_dir: str | Path | None = None, limits: WebLimits | None = None,
               predictor: Any = None, jobs_root: str | Path | None = None) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    model_dir : path, optional
        Model folder (default: the bundled models, ``MLGLASS_MODEL_DIR`` overrides).
    limits : WebLimits, optional
        Upload, row, job and time limits (see :mod:`mlglass.web`).
    predictor : GlassPredictor, optional
        Use this predictor for ``/api/predict`` (default: loaded from ``model_dir``).
    jobs_root : path, optional
        Where the private job folders are created (default: the system temp folder).

    Returns
    -------
    fastapi.FastAPI
    """
    from mlglass.models.predictor import GlassPredictor
    from mlglass.web.api import router
    from mlglass.web.jobs import JobManager
    from mlglass.web.neighbours import NearestCompounds

    limits = limits or WebLimits()
    model_dir = Path(model_dir) if model_dir is not None else None
    if predictor is None:
        predictor = GlassPredictor.load(model_dir) if model_dir is not None else GlassPredictor.default()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.jobs.close()

    app = FastAPI(title="mlglass", summary="Predict Tm, Tg and melting of coordination polymers and MOFs",
                  lifespan=lifespan, docs_url=None, redoc_url=None)  # the docs pages load a CDN
    app.state.limits = limits
    app.state.model_dir = model_dir
    app.state.predictor = predictor
    app.state.nearest = NearestCompounds(predictor)
    app.state.jobs = JobManager(limits, model_dir=model_dir, root=Path(jobs_root) if jobs_root else None)

    @app.exception_handler(UploadTooLarge)
    async def too_large(request: Request, exc: UploadTooLarge):
        return JSONResponse({"detail": str(exc)}, status_code=413)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}): {exc}"}, status_code=500)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "models": str(model_dir) if model_dir is not None else "bundled"}

    static = _static_dir()

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return FileResponse(static / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(router)
    app.add_middleware(_BodyLimit, limit=int(limits.max_upload_bytes))
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, *, model_dir: str | Path | None = None,
          limits: WebLimits | None = None) -> None:
    """Run the page with uvicorn until interrupted (binds to 127.0.0.1 unless told otherwise)."""
    import uvicorn

    uvicorn.run(create_app(model_dir=model_dir, limits=limits), host=host, port=port, log_level="info")
