"""End to end in Debian's Chromium: log in, JupyterLab, astrohub kernel, widget + bokeh; share page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from .browser import click_until, explorer, login, new_notebook, run_cell, said_by, save_notebook, wait_idle

pytestmark = pytest.mark.browser


def test_login_lab_notebook_widget_and_bokeh(browser, platform, creds, output_dir):
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    new_notebook(page, platform.url, "ahtalice")
    run_cell(page, "import os, pwd\nprint('kernel runs as', pwd.getpwuid(os.getuid()).pw_name)")
    expect(page.locator(".jp-OutputArea-output", has_text="kernel runs as ahtalice")).to_be_visible(timeout=60_000)
    run_cell(page, "import ipywidgets as w\nw.IntSlider(value=21, min=10, max=30, description='mag limit')")
    expect(page.locator(".widget-slider").first).to_be_visible(timeout=60_000)
    expect(page.locator(".widget-readout", has_text="21").first).to_be_visible()
    # BokehJS came with the page (the @astrohub/bokehjs lab extension): output_notebook adds no library
    assert page.evaluate("window.Bokeh && window.Bokeh.version")
    run_cell(page, "from bokeh.plotting import figure, show, output_notebook\n"
                   "from astrohub.widgets.bokehjs import PAGE\noutput_notebook(PAGE)\n"
                   "p = figure(width=300, height=200, title='demo')\np.scatter([1, 2, 3], [3, 1, 2])\nshow(p)")
    expect(page.locator(".jp-OutputArea-output", has_text="successfully loaded")).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-OutputArea-output .bk-Figure, .jp-OutputArea-output canvas").first).to_be_visible(
        timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(output_dir / "browser-notebook.png"))
    page.context.close()


@pytest.mark.archive
def test_explorer_plots_survive_a_page_reload(browser, platform, creds, output_dir):
    """#20 item 1: the Explorer's bokeh views render again after the page is reloaded (a new page on the
    same kernel, as a new tab or a collaborator gets), with no 'Failed to create view'."""
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    new_notebook(page, platform.url, "ahtalice")
    run_cell(page, "from astrohub.widgets import Explorer\ne = Explorer()\ne.query.run()\ne")
    panel = explorer(page)
    expect(panel.locator(".widget-html", has_text="100 rows").first).to_be_visible(timeout=120_000)
    expect(panel.locator(".bk-Canvas")).to_have_count(2, timeout=60_000)  # bokeh's sky and CMD (Aladin's are plain)
    wait_idle(page)
    save_notebook(page)
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    panel = page.locator(".jp-OutputArea-output", has=page.locator(".astrohub-ok")).first  # the Explorer
    try:
        expect(panel.locator(".widget-html", has_text="100 rows").first).to_be_visible(timeout=90_000)
        expect(panel.locator(".bk-Canvas")).to_have_count(2, timeout=60_000)
        expect(panel.locator(".bk-Canvas").first).to_be_visible()
    finally:
        page.screenshot(path=str(output_dir / "browser-explorer-reloaded.png"))
    expect(page.locator(".jp-OutputArea-output", has_text="Failed to create view")).to_have_count(0)
    expect(page.locator(".jp-OutputArea-output", has_text="Error displaying widget")).to_have_count(0)
    # the reloaded views are live: a selection made in Python reaches the page's widgets
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content").last.click()  # the empty cell
    run_cell(page, "e.select([0, 1, 2]); print('selected', len(e.selected))")
    expect(page.locator(".jp-OutputArea-output", has_text="selected 3")).to_be_visible(timeout=60_000)
    expect(panel.locator(".astrohub-selection", has_text="3 row(s) selected")).to_be_visible(timeout=30_000)
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
    page.click("#confirm-revoke-button")  # her server runs: revoking restarts it, after she confirms
    expect(page.locator("#message")).to_have_text(
        "Revoked user ahtbob's access and restarted your server: their open sessions are closed.", timeout=180_000)
    expect(page.locator("#no-shares")).to_be_visible()
    assert hub.api("GET", "users/ahtbob/shared").json()["items"] == []
    page.context.close()


@pytest.mark.archive
def test_tutorial_01_query_then_classify_in_the_browser(browser, platform, hub, creds, output_dir):
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.goto(f"{platform.url}/user/ahtalice/lab/tree/astrohub-tutorials/01-query-then-classify-galaxies.ipynb?reset")
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first).to_have_text("astrohub (CPU)",
                                                                                      timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='busy']")).to_have_count(1, timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=240_000)
    panel = explorer(page)  # the notebook's last cell: the Explorer
    query = panel.locator("button.widget-button", has_text="Query")
    run = panel.locator("button.widget-button", has_text="Run model")

    def answered(model):  # the status line once a click on Run model reached the kernel
        return panel.locator(".widget-html",
                             has_text=re.compile(f"classifying \\d+ rows with {model}|classified with {model}"))
    try:
        expect(query).to_be_visible(timeout=60_000)
    finally:
        page.screenshot(path=str(output_dir / "browser-tutorial-01.png"))
    with said_by(panel, "tutorial 01's Explorer on galaxies"):
        click_until(query, panel.locator(".widget-html", has_text=re.compile(r"100 rows; \d+ compatible model")),
                    tries=2, timeout=120_000)
        expect(panel.locator(".bk-Canvas")).to_have_count(2, timeout=60_000)  # the query's plots: the layout settled
        click_until(run, answered("galaxy_morphology"), timeout=60_000)
        expect(panel.locator(".widget-html", has_text="rows classified with galaxy_morphology").last).to_be_visible(
            timeout=180_000)
        expect(panel.locator("table.astrohub-table th", has_text="pred_class").first).to_be_visible()
        expect(panel.locator("table.astrohub-table tr.astrohub-row").nth(49)).to_be_attached()  # 50 rows or more
        expect(panel.locator(".bk-Canvas").first).to_be_visible(timeout=60_000)  # the bokeh sky/CMD plots
        expect(panel.locator(".astrohub-tile-cutout").first).to_be_visible()  # the cutout + saliency gallery
    for _ in range(3):  # the plots are re-rendered once predictions colour them: retry a detached element
        try:
            panel.locator(".bk-Canvas").first.scroll_into_view_if_needed(timeout=10_000)
            break
        except PlaywrightError:
            page.wait_for_timeout(1000)
    page.screenshot(path=str(output_dir / "browser-explorer.png"))
    # the same explorer on light curves: the vetter, and a gallery of folded curves with saliency
    with said_by(panel, "tutorial 01's Explorer on light curves"):
        panel.locator("select").nth(1).select_option("light curves")  # the template picker
        click_until(query, panel.locator(".widget-html", has_text="100 rows; 1 compatible model(s)"), tries=2,
                    timeout=120_000)
        click_until(run, answered("transit_vetter"), timeout=60_000)
        expect(panel.locator(".widget-html", has_text="rows classified with transit_vetter")).to_be_visible(
            timeout=180_000)
        expect(panel.locator("table.astrohub-table th", has_text="planet_score").first).to_be_visible()
        tiles = panel.locator(".astrohub-tile-lightcurve")  # folded light curves with saliency replaced the cutouts
        expect(tiles).to_have_count(12, timeout=30_000)
        expect(panel.locator(".astrohub-tile-cutout")).to_have_count(0)
    tiles.first.scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "browser-explorer-lightcurves.png"))
    page.context.close()


def test_your_files_tab_uploads_lists_and_classifies_in_the_browser(browser, platform, creds, output_dir):
    """The query panel's *your files* tab in Chromium: two real Galaxy Zoo JPEGs uploaded through its Upload button
    (one under a hostile name), listed, then classified with galaxy_zoo; the uploads land in the user's own folder,
    owned by the user, 0600, the name made safe."""
    import pwd
    import stat
    from pathlib import Path

    from astrohub.models.evaluation import kits
    from astrohub.models.evaluation.kits import galaxyzoo1

    jpegs = [Path(p) for p in galaxyzoo1.load(kits.kit_dir(galaxyzoo1.KIT))["paths"][:2]]
    hostile = output_dir / "<img src=x onerror=alert(1)>.jpeg"
    hostile.write_bytes(jpegs[1].read_bytes())
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    new_notebook(page, platform.url, "ahtalice")
    run_cell(page, "from astrohub.widgets import Explorer\ne = Explorer()\ne")
    panel = explorer(page)
    with said_by(panel, "the your-files tab"):
        panel.locator(".lm-TabBar-tab", has_text="your files").first.click()
        listing = panel.locator("button.widget-button", has_text="List files")
        expect(listing).to_be_visible(timeout=60_000)
        with page.expect_file_chooser(timeout=30_000) as chooser:  # the Upload button opens the browser's picker
            panel.locator(".widget-upload").first.click()
        chooser.value.set_files([str(jpegs[0]), str(hostile)])
        expect(panel.locator(".widget-upload", has_text="(2)")).to_be_visible(timeout=30_000)  # both sent
        click_until(listing, panel.locator(".widget-html", has_text="2 files: 2 colour images"), timeout=60_000)
        expect(panel.locator(".widget-html", has_text="2 rows; 1 compatible model(s)")).to_be_visible(timeout=60_000)
        run = panel.locator("button.widget-button", has_text="Run model")
        click_until(run, panel.locator(".widget-html", has_text="2 rows classified with galaxy_zoo"), timeout=120_000)
        expect(panel.locator(".astrohub-tile-colour")).to_have_count(2, timeout=30_000)
    page.screenshot(path=str(output_dir / "browser-your-files.png"))
    expect(page.locator("img[src='x']")).to_have_count(0)  # the hostile name is text, never an element
    user = pwd.getpwnam("ahtalice")
    folder = Path(user.pw_dir) / "astrohub-uploads"
    saved = {p.name: p.lstat() for p in folder.iterdir()}
    assert jpegs[0].name in saved and "_img_src_x_onerror_alert_1_.jpeg" in saved, sorted(saved)
    for st in saved.values():
        assert st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(folder.lstat().st_mode) == 0o700 and folder.lstat().st_uid == user.pw_uid
    page.context.close()
