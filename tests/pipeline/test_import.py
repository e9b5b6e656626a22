"""astrohub.pipeline is UI-free: a batch job imports neither ipywidgets nor bokeh (nor the widgets)."""

from __future__ import annotations

import subprocess
import sys

CHECK = ("import astrohub.pipeline, sys; "
         "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'bokeh', 'jupyter_bokeh') "
         "or m.startswith('astrohub.widgets')); "
         "assert not ui, ui; "
         "from astrohub.pipeline import run_query, compatible_models, classify, filter_rows, export, send_samp; "
         "assert not any(m.split('.')[0] in ('ipywidgets', 'bokeh') for m in sys.modules)")


def test_importing_the_pipeline_imports_no_ui():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr

