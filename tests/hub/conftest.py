"""The browser suite's Chromium (/usr/bin/chromium through Playwright), one per test module."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from .browser import launch


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
