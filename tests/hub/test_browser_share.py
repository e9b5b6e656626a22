"""Sharing in Debian's Chromium (#20 items 1 and 7, #18 item 4): the Share page is a hub page, its link is
absolute and copyable, links are listed and revocable before anyone accepts them, the collaborator lands in the
owner's open tabs, where the owner's Explorer's bokeh views render and are live, and revoking (confirmed, with a
server restart) shuts the collaborator out."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import expect

from .browser import login, login_to, run_cell, save_notebook, wait_idle

pytestmark = pytest.mark.browser

EXPLORER = "share-explorer.ipynb"
EMPTY_NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5,
                  "metadata": {"kernelspec": {"name": "astrohub", "display_name": "astrohub (CPU)",
                                              "language": "python"}},
                  "cells": [{"id": "explorer", "cell_type": "code", "source": "", "metadata": {}, "outputs": [],
                             "execution_count": None}]}

# the largest selection among the data sources of the page's bokeh documents (jupyter_bokeh's views); -1: none
SELECTED = ("Math.max(-1, ...(window.Bokeh?.documents ?? []).flatMap(d => [...d.all_models])"
            ".filter(m => m.selected?.indices).map(m => m.selected.indices.length))")


def open_share_page(page, url: str) -> None:
    page.goto(f"{url}/hub/home")
    page.click("#astrohub-share-link")
    page.wait_for_selector("#share-form")


def menu_services(page) -> list[str]:
    return [t.strip() for t in page.locator("nav .dropdown-menu .dropdown-item").all_inner_texts()]


def test_share_page_is_a_hub_page_with_an_absolute_copyable_revocable_link(browser, platform, hub, creds,
                                                                              output_dir):
    hub.spawn("ahtalice")
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.goto(f"{platform.url}/hub/home")
    assert "dask-gateway" not in menu_services(page)  # no bare 404 in the hub's own menu
    open_share_page(page, platform.url)
    # the hub's navigation bar, styled by the hub's own CSS
    expect(page.locator("#jupyterhub-logo")).to_be_visible()
    expect(page.locator("nav a.nav-link", has_text="Home")).to_have_attribute("href", "/hub/home")
    expect(page.locator("#logout")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
    assert "astrohub-share" in menu_services(page) and "dask-gateway" not in menu_services(page)
    expect(page.locator("#no-share-links")).to_be_visible()

    page.click("#share-link")
    link = page.locator("#share-link-url").input_value()
    assert re.fullmatch(re.escape(platform.url) + r"/hub/accept-share\?code=[^&]+&next=%2Fuser%2Fahtalice%2Flab",
                        link), link
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=platform.url)
    page.click("#copy-link")
    expect(page.locator("#copy-link")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    expect(page.locator(".share-code")).to_have_count(1)
    expect(page.locator(".share-code .exchange-count")).to_have_text("0 times")
    page.screenshot(path=str(output_dir / "browser-share-link.png"), full_page=True)

    # revoked before anyone accepted it: listed no more, and the link is dead
    page.click("button.revoke-link")
    expect(page.locator("#message")).to_have_text("Revoked the share link: nobody can accept it any more.")
    expect(page.locator("#no-share-links")).to_be_visible()
    assert hub.api("GET", "share-codes/ahtalice").json()["items"] == []
    bob = login_to(browser, platform.url, "ahtbob", creds["ahtbob"], urlparse(link).path + "?" + urlparse(link).query)
    expect(bob.locator("body")).to_contain_text("Share not found or expired")
    assert hub.api("GET", "users/ahtbob/shared").json()["items"] == []
    bob.context.close()
    page.context.close()


def wait_ready(hub, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not hub.api("GET", f"users/{name}").json().get("servers", {}).get("", {}).get("ready"):
        assert time.monotonic() < deadline, f"{name}'s server did not come back within {timeout:.0f} s"
        time.sleep(0.3)


def wait_saved_in_workspace(url: str, token: str, name: str, timeout: float = 60) -> None:
    """JupyterLab saves the open tabs in the server's default workspace: wait until ``name`` is there."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(f"{url}/user/ahtalice/lab/api/workspaces/default",
                         headers={"Authorization": f"token {token}"}, timeout=30)
        if r.status_code == 200 and name in r.text:
            return
        assert time.monotonic() < deadline, f"{name} not in alice's default workspace: {r.status_code} {r.text[:300]}"
        time.sleep(0.5)


@pytest.mark.archive
def test_collaborator_lands_in_the_owners_open_tabs_and_revoke_shuts_them_out(browser, platform, hub, creds,
                                                                                output_dir):
    """... and (#20 item 1) the owner's Explorer's bokeh views render for the collaborator (a new page of
    another user on her kernel), with no 'Failed to create view', and are live there."""
    url = platform.url
    hub.spawn("ahtalice")
    token = hub.user_token("ahtalice", scopes=["access:servers!server=ahtalice/"])
    auth = {"Authorization": f"token {token}"}
    r = requests.put(f"{url}/user/ahtalice/api/contents/{EXPLORER}", headers=auth,
                     json={"type": "notebook", "format": "json", "content": EMPTY_NOTEBOOK}, timeout=30)
    assert r.status_code in (200, 201), r.text
    # alice's open tab: a notebook in which her Explorer ran (sky and colour-magnitude plots), saved
    alice = login(browser, url, "ahtalice", creds["ahtalice"])
    alice.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    alice.goto(f"{url}/user/ahtalice/lab/tree/{EXPLORER}?reset")
    expect(alice.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first).to_have_text("astrohub (CPU)",
                                                                                      timeout=90_000)
    wait_idle(alice)
    run_cell(alice, "from astrohub.widgets import Explorer\ne = Explorer()\ne.query.run()\ne")
    panel = alice.locator(".jp-OutputArea-output").last
    expect(panel.locator(".widget-html", has_text="100 rows").first).to_be_visible(timeout=120_000)
    expect(panel.locator(".bk-Canvas")).to_have_count(2, timeout=60_000)  # the sky and colour-magnitude plots
    wait_idle(alice)
    save_notebook(alice)
    wait_saved_in_workspace(url, token, EXPLORER)

    open_share_page(alice, url)
    alice.click("#share-link")
    link = alice.locator("#share-link-url").input_value()
    try:
        # bob follows the link: accepts, authorizes alice's server to know who he is, and sees her tabs
        bob = login_to(browser, url, "ahtbob", creds["ahtbob"], urlparse(link).path + "?" + urlparse(link).query)
        bob.click("button[type=submit]", timeout=60_000)  # "Accept invitation"
        bob.wait_for_url(re.compile(r".*/hub/api/oauth2/authorize.*"), timeout=60_000)
        bob.click("button[type=submit]")  # "Authorize"
        bob.wait_for_url(f"{url}/user/ahtalice/lab**", timeout=120_000)
        expect(bob.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=EXPLORER)).to_be_visible(timeout=60_000)
        # alice's Explorer renders for bob: its widgets and its bokeh views, no view errors
        panel = bob.locator(".jp-OutputArea-output", has=bob.locator(".astrohub-ok")).first
        try:
            expect(panel.locator(".widget-html", has_text="100 rows").first).to_be_visible(timeout=90_000)
            # bokeh's own canvases (the sky view, Aladin Lite, draws on plain canvases): sky and colour-magnitude
            expect(panel.locator(".bk-Canvas")).to_have_count(2, timeout=60_000)
            expect(panel.locator(".bk-Canvas").first).to_be_visible()
            panel.locator(".bk-Canvas").first.scroll_into_view_if_needed()
        finally:
            bob.screenshot(path=str(output_dir / "browser-share-collaborator.png"))
        expect(bob.locator(".jp-OutputArea-output", has_text="Failed to create view")).to_have_count(0)
        expect(bob.locator(".jp-OutputArea-output", has_text="Error displaying widget")).to_have_count(0)
        assert bob.evaluate(SELECTED) == 0  # his page's bokeh documents hold the plots' data, nothing selected
        # and they are live: a selection bob makes in Python (on alice's kernel) reaches his page's widgets and
        # the bokeh views' data sources
        bob.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content").last.click()  # the empty cell
        run_cell(bob, "e.select([0, 1, 2]); print('selected', len(e.selected))")
        expect(bob.locator(".jp-OutputArea-output", has_text="selected 3")).to_be_visible(timeout=60_000)
        expect(panel.locator(".astrohub-selection", has_text="3 row(s) selected")).to_be_visible(timeout=30_000)
        bob.wait_for_function(f"{SELECTED} === 3", timeout=30_000)
        alice.goto(f"{url}/services/astrohub-share/")  # (not reload: that would post "make a link" again)
        expect(alice.locator(".share-code .exchange-count")).to_contain_text("1 time")
        expect(alice.locator(".share-name")).to_have_text(["ahtbob"])

        # alice revokes: the page asks first, then restarts her server
        alice.click("button.revoke")
        expect(alice.locator("#confirm-revoke")).to_contain_text("restarts your server")
        alice.click("#confirm-revoke-button", timeout=180_000)
        expect(alice.locator("#message")).to_have_text(
            "Revoked user ahtbob's access and restarted your server: their open sessions are closed.", timeout=180_000)
        expect(alice.locator("#no-shares")).to_be_visible()
        wait_ready(hub, "ahtalice")  # the restarted server is back
        answer = bob.goto(f"{url}/user/ahtalice/lab")
        assert answer.status == 403, (answer.status, bob.url)
        bob.context.close()
        # later tests' lab pages start from a fresh workspace, not on this notebook (and a kernel for it)
        r = requests.delete(f"{url}/user/ahtalice/lab/api/workspaces/default", headers=auth, timeout=30)
        assert r.status_code == 204, r.text
    finally:
        hub.api("DELETE", "shares/ahtalice/")
    alice.context.close()
