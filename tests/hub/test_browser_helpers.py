"""The browser tests' own helpers, on a static page (no hub): a failed step reports the panel's status lines,
and a click that never reached the kernel is made again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browser import click_until, explorer, said_by

pytestmark = pytest.mark.browser

ROWS = "".join(f"<tr><td>{i}</td><td>150.{i:04d}</td><td>2.{i:04d}</td></tr>" for i in range(50))
PAGE = f"""<div class="astrohub-explorer"><div class="widget-html">an older panel</div></div>
<div class="jp-OutputArea-output"><div class="astrohub-explorer">
  <div class="widget-html">100   rows</div>
  <div class="widget-html"><table>{ROWS}</table></div>
  <div class="widget-html"><span>query failed: archive did not answer in 60 s</span></div>
</div></div>
<div class="jp-OutputArea-output"><pre>a warning printed after the panel</pre></div>"""


def test_a_failed_step_ends_with_what_the_panel_said(browser):
    page = browser.new_page()
    try:
        page.set_content(PAGE)
        panel = explorer(page)  # the last Explorer, not the last output (a warning printed after it)
        expect(panel.locator(".widget-html")).to_have_count(3)
        with said_by(panel, "the galaxy step"):  # a step that passes is left alone
            expect(panel.locator(".widget-html", has_text="100 rows")).to_be_visible(timeout=1_000)
        # the lines come whitespace-collapsed, a whole table cut to 100 characters, and the step's failure last
        with pytest.raises(AssertionError) as failed:
            with said_by(panel, "the galaxy step"):
                expect(panel.locator(".widget-html", has_text="rows classified")).to_be_visible(timeout=1_000)
        what, lines, dialogs, kernel, failure = str(failed.value).split("; ")
        assert what == "the galaxy step failed"
        assert lines.startswith("the panel's status lines: 100 rows | 0 150.0000 2.0000 1 ")
        table = lines.split(" | ")[1]
        assert len(table) == 100 and table.endswith("…")
        assert lines.endswith(" | query failed: archive did not answer in 60 s")
        assert dialogs == "dialogs and notifications: (none)"
        assert kernel == "kernel: (no notebook)"
        assert failure == "the step's failure: Locator expected to be visible"
        # a dialog over the page is named: it would take the clicks
        page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                      "'<div class=\"jp-Dialog\">File Changed: the file has changed on disk</div>')")
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div class=\"jp-NotebookPanel\"><div "
                      "class=\"jp-Notebook-ExecutionIndicator\" data-status=\"busy\"></div></div>')")
        with pytest.raises(AssertionError, match=r"; dialogs and notifications: File Changed: the file has changed "
                                                 r"on disk; kernel: busy; the step's failure: the step's own check$"):
            with said_by(panel, "a step"):
                raise AssertionError("the step's own check\nmore lines")
        with pytest.raises(AssertionError, match=r"the panel's status lines: \(none\); "):
            with said_by(page.locator(".no-such-panel"), "a step"):
                raise AssertionError("the step's own check")
    finally:
        page.close()


CLICKS = """<button id="run">Run model</button><div id="status">3 compatible model(s)</div>
<script>var clicks = 0;  // var: set_content keeps the page's global scope
document.getElementById('run').addEventListener('click', () => {
  clicks += 1;
  if (clicks >= LOST + 1) document.getElementById('status').textContent = 'classifying 100 rows with m …';
});</script>"""


def test_a_lost_click_is_made_again_and_one_never_answered_fails(browser, capsys):
    page = browser.new_page()
    try:
        page.set_content(CLICKS.replace("LOST", "1"))  # the first click is lost
        answer = page.locator("#status", has_text="classifying")
        assert click_until(page.locator("#run"), answer, timeout=500) == 2
        assert "click 1 of 3 on" in capsys.readouterr().out
        assert page.evaluate("clicks") == 2
        page.set_content(CLICKS.replace("LOST", "0"))  # answered at once: one click
        assert click_until(page.locator("#run"), answer, timeout=500) == 1
        assert page.evaluate("clicks") == 1
        page.set_content(CLICKS.replace("LOST", "5"))  # never answered in 3 tries
        with pytest.raises(AssertionError, match=r"^3 clicks on .* got no answer .* in 0.5 s each$"):
            click_until(page.locator("#run"), answer, timeout=500)
        assert page.evaluate("clicks") == 3
    finally:
        page.close()
