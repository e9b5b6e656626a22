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


def _said(text: str, width: int = 100) -> str:
    """One status line as the report shows it: whitespace collapsed, a long one (a whole table) cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1] + "…"


@contextmanager
def said_by(panel, what: str):
    """On a failed step, report the panel's status lines (tables cut short), the page's dialogs and
    notifications, the kernel's state, and the step's own failure last: a CI log may keep only its tail, and
    the page's accessibility snapshot that Playwright prints would fill it. The same failure, explained."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        yield
    except (AssertionError, PlaywrightError) as e:
        page = panel.page
        try:
            lines = [_said(t) for t in panel.locator(".widget-html").all_inner_texts() if t.strip()]
            dialogs = [_said(t) for t in page.locator(".jp-Dialog, .Toastify__toast").all_inner_texts() if t.strip()]
            kernel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
            kernel = kernel.first.get_attribute("data-status") if kernel.count() else "(no notebook)"
        except PlaywrightError as read_error:
            lines, dialogs, kernel = [f"(could not read them: {str(read_error).splitlines()[0]})"], [], "?"
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise AssertionError(f"{what} failed; the panel's status lines: {' | '.join(lines) or '(none)'}; "
                             f"dialogs and notifications: {' | '.join(dialogs) or '(none)'}; kernel: {kernel}; "
                             f"the step's failure: {first}") from e


def click_until(button, answered, tries: int = 3, timeout: int = 30_000) -> int:
    """Click ``button`` until ``answered`` (what the panel shows once the click reached the kernel) is visible,
    at most ``tries`` times; returns the clicks it took. A click made while the notebook scrolls or a panel
    above re-renders can land beside the button and never reach the kernel; a retry says so on stdout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for n in range(1, tries + 1):
        button.click()
        try:
            answered.first.wait_for(state="visible", timeout=timeout)
            return n
        except PlaywrightTimeout:
            print(f"click {n} of {tries} on {button} got no answer in {timeout / 1000:g} s", flush=True)
    raise AssertionError(f"{tries} clicks on {button} got no answer ({answered}) in {timeout / 1000:g} s each")
