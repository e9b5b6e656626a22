"""End to end in Debian's Chromium: log in, JupyterLab, astrohub kernel, widget + bokeh; share page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from .browser import launch, login, run_cell

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def test_login_lab_notebook_widget_and_bokeh(browser, platform, creds, output_dir):
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.goto(f"{platform.url}/user/ahtalice/lab?reset")
    card = page.locator(".jp-LauncherCard[data-category='Notebook']", has_text="astrohub (CPU)")
    card.click()
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first).to_have_text("astrohub (CPU)", timeout=60_000)
    page.wait_for_selector(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=90_000)
    run_cell(page, "import os, pwd\nprint('kernel runs as', pwd.getpwuid(os.getuid()).pw_name)")
    expect(page.locator(".jp-OutputArea-output", has_text="kernel runs as ahtalice")).to_be_visible(timeout=60_000)
    run_cell(page, "import ipywidgets as w\nw.IntSlider(value=21, min=10, max=30, description='mag limit')")
    expect(page.locator(".widget-slider").first).to_be_visible(timeout=60_000)
    expect(page.locator(".widget-readout", has_text="21").first).to_be_visible()
    run_cell(page, "from bokeh.plotting import figure, show, output_notebook\noutput_notebook()\n"
                   "p = figure(width=300, height=200, title='demo')\np.scatter([1, 2, 3], [3, 1, 2])\nshow(p)")
    expect(page.locator(".jp-OutputArea-output", has_text="successfully loaded")).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-OutputArea-output .bk-Figure, .jp-OutputArea-output canvas").first).to_be_visible(
        timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(output_dir / "browser-notebook.png"))
    page.context.close()


def test_share_page_shares_reports_errors_and_revokes(browser, platform, hub, creds, output_dir):
    hub.spawn("ahtalice")
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.goto(f"{platform.url}/hub/home")
    page.click("#astrohub-share-link")
    page.wait_for_selector("#share-form")
    # bad input: an unknown user gives the hub's message and no share
    page.fill("#share-name", "nosuchuser")
    page.click("#share-submit")
    expect(page.locator("#message")).to_have_text("Could not share: No such user: nosuchuser")
    expect(page.locator("#no-shares")).to_be_visible()
    # share with bob
    page.fill("#share-name", "ahtbob")
    page.click("#share-submit")
    expect(page.locator("#message")).to_have_text("Shared your server with user ahtbob.")
    expect(page.locator(".share-name")).to_have_text(["ahtbob"])
    assert [s["server"]["user"]["name"] for s in hub.api("GET", "users/ahtbob/shared").json()["items"]] == ["ahtalice"]
    page.screenshot(path=str(output_dir / "browser-share.png"))
    # revoke
    page.click("button.revoke")
    expect(page.locator("#message")).to_have_text("Revoked user ahtbob's access.")
    expect(page.locator("#no-shares")).to_be_visible()
    assert hub.api("GET", "users/ahtbob/shared").json()["items"] == []
    page.context.close()
