"""BokehJS comes with each JupyterLab page (the @astrohub/bokehjs lab extension), never in outputs (#20
items 1 and 2): the extension as JupyterLab discovers it, and the outputs of the panels and of
output_notebook(PAGE)."""

from __future__ import annotations

import json

import bokeh
from bokeh.util.paths import bokehjs_path
from jupyterlab_server.config import get_federated_extensions

from astrohub.widgets import bokehjs


def test_install_writes_an_extension_jupyterlab_loads(tmp_path):
    dest = bokehjs.install(tmp_path)
    found = get_federated_extensions([str(tmp_path / "share" / "jupyter" / "labextensions")])
    ext = found[bokehjs.NAME]
    assert ext["jupyterlab"]["_build"]["extension"] == "./extension"
    entry = dest / ext["jupyterlab"]["_build"]["load"]
    js = entry.read_text()
    # the files it loads are this bokeh's, in dependency order (core first), shipped next to it
    files = json.loads(js.split("var FILES = ", 1)[1].split(";", 1)[0])
    assert files[0] == f"bokeh-{bokeh.__version__}.min.js" and len(files) == len(bokehjs.COMPONENTS)
    for comp, name in zip(bokehjs.COMPONENTS, files):
        assert (dest / "static" / name).read_bytes() == (bokehjs_path() / "js" / f"{comp}.min.js").read_bytes()
    assert f"var NAME = {json.dumps(bokehjs.NAME)};" in js
    assert "(_JUPYTERLAB = _JUPYTERLAB === undefined ? {} : _JUPYTERLAB)[NAME] = container;" in js
    # a second install replaces the first whole (nothing stale, no leftovers next to it)
    (dest / "static" / "stale.js").write_text("old")
    bokehjs.install(tmp_path)
    assert not (dest / "static" / "stale.js").exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["bokehjs"]


def test_the_running_lab_has_the_extension():
    """scripts/install.sh installs it into this environment, where the single-user servers find it."""
    import sys

    found = get_federated_extensions([str(bokehjs.labextensions_dir(sys.prefix).parent.parent)])
    assert found[bokehjs.NAME]["version"] == bokeh.__version__


def test_page_resources_carry_no_library():
    from bokeh.resources import INLINE

    core = (bokehjs_path() / "js" / "bokeh.min.js").read_text()
    assert core[5000:5100] in INLINE.render_js()  # what output_notebook(INLINE) put in every notebook
    assert bokehjs.PAGE.js_files == [] and all(len(js) < 200 for js in bokehjs.PAGE.js_raw)  # a log level
    assert core[5000:5100] not in bokehjs.PAGE.render_js() and len(bokehjs.PAGE.render_js()) < 10_000


def test_a_plain_output_notebook_adds_no_library():
    from bokeh.io import output_notebook
    from bokeh.io.notebook import install_notebook_hook, load_notebook, show_app, show_doc
    from bokeh.io.state import curstate
    from bokeh.resources import INLINE
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    started = not InteractiveShell.initialized()
    InteractiveShell.instance()  # output_notebook publishes through the running IPython's display
    core = (bokehjs_path() / "js" / "bokeh.min.js").read_text()[5000:5100]
    try:
        bokehjs.use_page_resources()
        with capture_output() as plain:
            output_notebook(hide_banner=True)
        with capture_output() as inline:
            output_notebook(INLINE, hide_banner=True)  # resources given explicitly are kept
    finally:
        install_notebook_hook("jupyter", load_notebook, show_doc, show_app, overwrite=True)
        curstate().reset()
        if started:  # later tests must not believe they run in a notebook
            InteractiveShell.clear_instance()
    sent = {name: "".join(str(v) for o in c.outputs for v in o.data.values()) for name, c in
            (("plain", plain), ("inline", inline))}
    assert sent["plain"] and core not in sent["plain"] and len(sent["plain"]) < 50_000
    assert "cdn.bokeh.org" not in sent["plain"]
    assert core in sent["inline"] and len(sent["inline"]) > 1_000_000
