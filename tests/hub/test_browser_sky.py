"""The Explorer's sky view in Debian's Chromium (#19 item 4): Aladin Lite renders from the local bundle with
every request off this machine aborted (no CDN, no survey, no logger), with no page error, and a new
classification recolours its markers."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright

from astrohub.widgets.sky import frame_counter_js

from .browser import ARGS, CHROMIUM, login, new_notebook, run_cell, wait_idle

pytestmark = pytest.mark.browser
LOCAL = {"127.0.0.1", "localhost", "::1", ""}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        # Aladin Lite draws with WebGL2: software GL (SwiftShader) in place of --disable-gpu
        args = [a for a in ARGS if a != "--disable-gpu"] + ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield b
        b.close()


def test_explorer_sky_view_renders_offline_and_follows_the_classification(browser, platform, creds, output_dir):
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    aborted, errors = [], []

    def offline(route):
        url = route.request.url
        if url.startswith(("blob:", "data:")) or urlparse(url).hostname in LOCAL:
            route.continue_()
        else:
            aborted.append(url)
            route.abort()

    page.context.route("**/*", offline)
    page.on("pageerror", lambda e: errors.append(str(e)))
    new_notebook(page, platform.url, "ahtalice")
    run_cell(page, "from astrohub.widgets import Explorer\ne = Explorer()\ne.query.run()\ne")
    sky = page.locator(".jp-OutputArea-output .astrohub-sky").first  # the Explorer's (later cells print below)
    try:
        expect(sky.locator(".astrohub-sky-legend", has_text="query rows (100)")).to_be_visible(timeout=120_000)
        expect(sky.locator("[data-astrohub-sky='ready']")).to_have_count(1, timeout=90_000)
        expect(sky.locator(".astrohub-aladin canvas").first).to_be_visible(timeout=30_000)
        wait_idle(page)
        # idle (a second after its last event), the view draws 4 frames a second, not one per animation frame
        # (benchmarks/sky_idle_bench.py: 1.9 cores of software WebGL otherwise); a wheel zooms it at once
        view = "document.querySelector('.jp-OutputArea-output .astrohub-aladin').astrohubAladin"
        page.wait_for_function(f"{view}.view.__astrohubIdle.delayed > 0", timeout=30_000)
        assert page.evaluate(frame_counter_js(view, 2000)) <= 12  # 250 ms apart (unthrottled: 25-60 here)
        fov = f"{view}.getFov()[0]"
        before = page.evaluate(fov)
        sky.locator(".astrohub-aladin").first.hover()
        page.mouse.wheel(0, -400)
        page.wait_for_function(f"{fov} < {before} * 0.9", timeout=10_000)
        # a classification recolours the markers: one overlay per predicted class, drawn in the same view
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content").last.click()
        run_cell(page, "e.classify.model.value = 'galaxy_morphology'\ne.classify.mc.value = 0\n"
                       "e.classify.run_button.click()\nprint('classes', len(e.sky.spec['overlays']))")
        expect(page.locator(".jp-OutputArea-output", has_text="classes ")).to_be_visible(timeout=180_000)
        expect(sky.locator(".astrohub-sky-legend", has_text="predicted")).to_be_visible(timeout=60_000)
        expect(sky.locator("[data-astrohub-sky='ready']")).to_have_count(1)
    finally:
        page.screenshot(path=str(output_dir / "browser-explorer-sky.png"))
    assert not sky.locator(".astrohub-sky-error").count()
    assert errors == [], errors
    # nothing the view needs came from outside: whatever tried to leave was aborted and the view still rendered
    assert not [u for u in aborted if "aladin" in u or "esm.sh" in u], aborted
    page.context.close()
