"""A local web page and JSON API for mlglass (``mlglass serve``).

Everything runs on the user's machine with the bundled models; every asset
(HTML, JS, CSS) is shipped in ``mlglass/web/static`` - nothing is fetched from
outside.

Limits (defaults of :class:`WebLimits`)
---------------------------------------
* uploads: 50 MB per request (HTTP 413 above that), 20 CIF files per request,
  10,000 rows per ``/api/predict`` request (larger tables: ``/api/screen``);
* screen jobs: 2 at a time (HTTP 429 for a third), each in a private temporary
  folder (mode 0700) that is deleted 1 hour after the job ends (and when the
  server stops);
* CIF parsing: the structure module's per-file timeout
  (:data:`mlglass.structure.DEFAULT_TIMEOUT_S`).

>>> from mlglass.web import create_app     # doctest: +SKIP
>>> app = create_app()                     # a FastAPI app; run it with uvicorn  # doctest: +SKIP
"""

from __future__ import annotations

from mlglass.web.app import create_app, serve
from mlglass.web.limits import WebLimits

__all__ = ["create_app", "serve", "WebLimits"]
