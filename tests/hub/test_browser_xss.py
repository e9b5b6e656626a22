"""#18 item 6 in Chromium: the Explorer shows a TAP service's column names, cell values, table names and
error messages that are HTML with a script (``<img src=x onerror=...>``) as text, and no script runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browser import login, new_notebook, run_cell, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.archive]


def bad(n: int) -> str:
    return f"<img src=x onerror=window.__xss={n}>"


def assert_no_script_ran(page) -> None:
    assert page.evaluate("window.__xss") is None, "a script from the archive's data ran in the page"
    assert page.locator(".jp-OutputArea-output img[src='x']").count() == 0  # no element made from the data


def test_explorer_shows_hostile_names_values_and_errors_as_text(browser, platform, creds, output_dir):
    page = login(browser, platform.url, "ahtalice", creds["ahtalice"])
    new_notebook(page, platform.url, "ahtalice")
    # a column named, and a cell valued, like an image whose onerror runs code (DaCHS accepts both as ADQL)
    run_cell(page, "from astrohub.widgets import Explorer\n"
                   "e = Explorer()\n"
                   f"e.query.adql.value = '''SELECT TOP 5 obj_id, ra, dec, mag_g, mag_r, '{bad(1)}' AS class_name, "
                   f"'{bad(2)}' AS \"{bad(3)}\" FROM astrohub.objects ORDER BY obj_id'''\n"
                   "e.query.run()\n"
                   "e")
    panel = page.locator(".jp-OutputArea-output").last
    expect(panel.locator(".widget-html", has_text="5 rows").first).to_be_visible(timeout=120_000)
    expect(panel.locator("table.astrohub-table th", has_text=bad(3)).first).to_be_visible()
    expect(panel.locator("table.astrohub-table td", has_text=bad(2))).to_have_count(5)
    expect(panel.locator("table.astrohub-table td", has_text=bad(1))).to_have_count(5)
    expect(panel.locator(".bk-Canvas").first).to_be_visible(timeout=60_000)  # legend label: drawn text
    assert_no_script_ran(page)
    # a table so named in the service's table list, and an error message that echoes the name
    run_cell(page, f"e.query.tables.options = ['{bad(4)}']\n"
                   f"e.query.tables.value = '{bad(4)}'")
    wait_idle(page)
    expect(panel.locator(".widget-html", has_text=f"columns in {bad(4)}").first).to_be_visible(timeout=60_000)
    assert_no_script_ran(page)
    run_cell(page, f"e.query.adql.value = 'SELECT * FROM \"{bad(5)}\"'\n"
                   "e.query.run()")
    wait_idle(page)
    expect(panel.locator(".astrohub-error", has_text=f"table '{bad(5)}' not found").first).to_be_visible(
        timeout=60_000)
    assert_no_script_ran(page)
    page.screenshot(path=str(output_dir / "browser-xss.png"))
    page.context.close()
