"""The page in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

Screenshots go to ``test-artifacts/web/`` in the repository (gitignored). Outside CI a missing
browser or Playwright skips the test; with ``CI=true`` it fails it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CIFS = Path(os.environ.get("MLGLASS_SHARED_DIR", REPO.parent / "shared" / "cifs"))
ARTIFACTS = REPO / "test-artifacts" / "web"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _chromium() -> str | None:
    for candidate in (os.environ.get("MLGLASS_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _need(condition: bool, why: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{why} (CI=true: the browser test must run; .ci/run installs chromium)")
        pytest.skip(why)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served by uvicorn on 127.0.0.1 and a free port, in a thread; yields the base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    from mlglass.web import create_app

    os.environ.setdefault("MLGLASS_CACHE_DIR", str(tmp_path_factory.mktemp("cif-cache")))
    app = create_app(jobs_root=tmp_path_factory.mktemp("jobs"))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # generous cap; we wait for uvicorn's own "started" flag
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(60)


def test_page_predicts_like_the_library_and_reads_a_cif(server):
    browser_path = _chromium()
    _need(browser_path is not None, "no chromium executable (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    _need(sync_playwright is not None, "playwright is not installed (pip install playwright)")
    url, app = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    formula = "Zn(Im)1.75(bIm)0.25"
    expected = app.state.predictor.predict([formula])

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            external = []
            page.on("request", lambda req: external.append(req.url) if not req.url.startswith(url) else None)
            page.goto(url + "/")
            page.screenshot(path=str(ARTIFACTS / "01-start.png"), full_page=True)

            page.fill("#formula", formula)
            page.click("#predict-button")
            tm = page.wait_for_selector("[data-testid=result] [data-testid=tm]", timeout=120_000)
            shown = float(tm.get_attribute("data-value"))
            assert shown == pytest.approx(float(expected["tm_c"].iloc[0]), rel=1e-9)
            assert tm.inner_text() == f"{round(float(expected['tm_c'].iloc[0]))} °C"
            tg = float(page.get_attribute("[data-testid=tg]", "data-value"))
            assert tg == pytest.approx(float(expected["tg_c"].iloc[0]), rel=1e-9)
            assert page.query_selector("[data-testid=axis]") is not None
            assert page.locator("[data-testid=nearest] tr").count() == 4  # header + 3 compounds
            # optional columns (Td, applicability domain) are drawn when the library returns them, omitted if not
            assert (page.query_selector("[data-testid=td]") is None) == ("td_c" not in expected.columns)
            assert (page.query_selector("[data-testid=domain]") is None) == ("domain" not in expected.columns)
            page.screenshot(path=str(ARTIFACTS / "02-formula.png"), full_page=True)
            page.evaluate("""() => renderAnswer({coverage: 0.8, nearest: [[]], rows: [{id: 'with-td', tm_c: 400,
                tm_lo_c: 320, tm_hi_c: 480, tg_c: 310, tg_lo_c: 250, tg_hi_c: 370, td_c: 520, td_lo_c: 480,
                td_hi_c: 560, window_c: 120, p_melt: 0.7, error: '', domain: 'near', tm_domain: 'in',
                tg_domain: 'near'}]}, 'formula')""")
            assert page.get_attribute("[data-testid=td]", "data-value") == "520"
            assert "120" in page.inner_text("[data-testid=window]")
            assert "near" in page.inner_text("[data-testid=domain]")
            assert "liquid window" in page.text_content("[data-testid=axis]")

            page.fill("#formula", "Xx(Im)2")
            page.click("#predict-button")
            err = page.wait_for_selector("[data-testid=row-error]", timeout=120_000)
            assert "Xx" in err.inner_text()

            cif = CIFS / "Co-DOBDC.cif"
            _need(cif.exists(), f"shared CIFs not available in {CIFS}")
            page.set_input_files("#cif-input", str(cif))
            record = page.wait_for_selector("[data-testid=derived-record]", timeout=300_000)
            assert "metal: Co" in record.inner_text() and "dimensionality: 3" in record.inner_text()
            assert page.get_attribute("[data-testid=tm]", "data-value")
            page.screenshot(path=str(ARTIFACTS / "03-cif.png"), full_page=True)

            small = pd.read_csv(REPO / "datasets" / "candidates" / "example.csv", dtype=str, keep_default_na=False)
            table = ARTIFACTS / "candidates.csv"
            small.head(60).to_csv(table, index=False)
            page.set_input_files("#screen-file", str(table))
            page.click("#screen-button")
            page.wait_for_selector("[data-testid=ranked] tbody tr", timeout=300_000)
            page.wait_for_function("document.querySelector('[data-testid=map]') && "
                                   "document.querySelector('[data-testid=map]').complete", timeout=60_000)
            assert "60 rows screened" in page.inner_text("[data-testid=screen-status]")
            page.click("[data-testid=ranked] th[data-key=tm_c]")
            texts = page.evaluate("""() => {
                const t = document.querySelector('[data-testid=ranked]');
                const k = [...t.querySelectorAll('th')].findIndex((th) => th.dataset.key === 'tm_c');
                return [...t.querySelectorAll('tbody tr')].map((tr) => tr.children[k].textContent); }""")
            values = [float(t.replace(",", "")) for t in texts if t not in ("–", "")]
            assert values == sorted(values, reverse=True)
            page.screenshot(path=str(ARTIFACTS / "04-screen.png"), full_page=True)
            assert external == []  # nothing fetched from outside
        finally:
            browser.close()


def test_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch):
    import sys

    mod = sys.modules[__name__]  # this module, to switch its CI flag
    monkeypatch.setattr(mod, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        mod._need(False, "no chromium")
    monkeypatch.setattr(mod, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        mod._need(False, "no chromium")
    mod._need(True, "present")  # no effect when the requirement is met
