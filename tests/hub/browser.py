"""Playwright helpers: Debian's Chromium (no browser download), logged-in pages."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)


def login(browser, url: str, user: str, password: str, login_path: str = "/hub/login"):
    """A new context (own cookies) logged in as ``user``; returns its page."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{url}{login_path}")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    return page


def run_cell(page, code: str) -> None:
    """Type ``code`` into the active cell and run it (Shift+Enter)."""
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active .cm-content")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")


def new_notebook(page, url: str, user: str, kernel: str = "astrohub (CPU)") -> None:
    """Open a fresh JupyterLab workspace and a new notebook on ``kernel``; returns once the kernel is idle."""
    from playwright.sync_api import expect

    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.goto(f"{url}/user/{user}/lab?reset")
    page.locator(".jp-LauncherCard[data-category='Notebook']", has_text=kernel).click()
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first).to_have_text(kernel, timeout=60_000)
    wait_idle(page)


def wait_idle(page, timeout: int = 90_000) -> None:
    """Wait until the notebook's kernel is idle (its execution indicator)."""
    page.wait_for_selector(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=timeout)


def save_notebook(page) -> None:
    """Save the active notebook (Ctrl+S) and wait until its tab is no longer marked unsaved."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    page.keyboard.press("Control+s")
    rename = page.locator(".jp-Dialog", has_text="Rename file")  # JupyterLab asks on an untitled file's first save
    try:
        rename.wait_for(timeout=3_000)
        rename.locator(".jp-mod-accept").click()
    except PlaywrightTimeout:
        pass
    expect(page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=30_000)


def login_to(browser, url: str, user: str, password: str, next_path: str):
    """Like :func:`login`, but the hub sends ``user`` on to ``next_path`` (no server spawn on the way)."""
    from urllib.parse import quote

    return login(browser, url, user, password, f"/hub/login?next={quote(next_path, safe='')}")


def explorer(page):
    """The last Explorer panel on the page (its root carries the class ``astrohub-explorer``), whatever other
    outputs appear after it."""
    return page.locator(".astrohub-explorer").last


@contextmanager
def said_by(panel, what: str):
    """On a failed step, end the report with the panel's status lines (a CI log may keep only its tail, and
    the page's accessibility snapshot that Playwright prints fills it): the same failure, explained."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        yield
    except (AssertionError, PlaywrightError) as e:
        try:
            lines = [t.strip() for t in panel.locator(".widget-html").all_inner_texts() if t.strip()]
        except PlaywrightError as read_error:
            lines = [f"(could not read them: {str(read_error).splitlines()[0]})"]
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise AssertionError(f"{what} failed ({first}); the panel's status lines: {' | '.join(lines) or '(none)'}"
                             ) from e
