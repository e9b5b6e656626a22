"""The browser tests' own helpers, on a static page (no hub): a failed step reports the panel's status lines."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browser import explorer, said_by

pytestmark = pytest.mark.browser

PAGE = """<div class="astrohub-explorer"><div class="widget-html">an older panel</div></div>
<div class="jp-OutputArea-output"><div class="astrohub-explorer">
  <div class="widget-html">100 rows</div>
  <div class="widget-html"><span>query failed: archive did not answer in 60 s</span></div>
</div></div>
<div class="jp-OutputArea-output"><pre>a warning printed after the panel</pre></div>"""


def test_a_failed_step_ends_with_what_the_panel_said(browser):
    page = browser.new_page()
    try:
        page.set_content(PAGE)
        panel = explorer(page)  # the last Explorer, not the last output (a warning printed after it)
        expect(panel.locator(".widget-html")).to_have_count(2)
        with said_by(panel, "the galaxy step"):  # a step that passes is left alone
            expect(panel.locator(".widget-html", has_text="100 rows")).to_be_visible(timeout=1_000)
        with pytest.raises(AssertionError, match=r"the galaxy step failed \(.*\); the panel's status lines: "
                                                 r"100 rows \| query failed: archive did not answer in 60 s$"):
            with said_by(panel, "the galaxy step"):
                expect(panel.locator(".widget-html", has_text="rows classified")).to_be_visible(timeout=1_000)
        with pytest.raises(AssertionError, match=r"the panel's status lines: \(none\)$"):
            with said_by(page.locator(".no-such-panel"), "a step"):
                raise AssertionError("the step's own check")
    finally:
        page.close()
