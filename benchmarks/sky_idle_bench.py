"""The Explorer's sky view left idle in a browser without a GPU: CPU with and without its idle throttle.

Aladin Lite draws a frame on every animation frame even when nothing moves; with software WebGL (SwiftShader, as
in a browser without a GPU) that keeps cores busy for as long as the view is on screen. The sky view's
``idleThrottle`` (astrohub/widgets/sky.py) delays the next frame by 250 ms once no event has come for a second.
This page is the view as the widget builds it (the local Aladin Lite bundle, the blank FITS base layer, the
coordinate grid, 100 markers), with and without the throttle taken from the widget's own JavaScript, in rounds
that alternate the two. Each figure: the CPU of Chromium's renderer and GPU processes over ``--seconds`` of an
idle view, in cores, and the frames drawn in 2 s. Writes results/sky_idle.json and sky_idle.png.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import re
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from common import RESULTS, write

from astrohub.widgets.sky import ESM, aladin_bundle_path, blank_fits, frame_counter_js

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PAGE = """<html><body><div id="al" style="width:1200px;height:400px"></div>
<script type="module">
import A from "./aladin.js";
%(throttle)s
A.init.then(() => {
  const survey = A.image("blank.fits", {name: "blank", successCallback: () => {}, errorCallback: () => {}});
  const aladin = A.aladin("#al", {target: "150 2", fov: 0.5, survey: survey, showCooGrid: true, showFrame: true,
    showZoomControl: true, showStatusBar: false, log: false, samp: false});
  %(install)s
  const cat = A.catalog({name: "rows", sourceSize: 10, shape: "circle"});
  aladin.addCatalog(cat);
  for (let i = 0; i < 100; i++) cat.addSources([A.source(150 + 0.4 * Math.sin(i), 2 + 0.2 * Math.cos(3 * i), {})]);
  window.aladin = aladin;
  window.ready = true;
});
</script></body></html>"""


def widget_throttle() -> str:
    """The sky view's own idleThrottle function, from the widget's JavaScript."""
    m = re.search(r"^function idleThrottle\(.*?^}\n", ESM, re.S | re.M)
    if not m:
        raise SystemExit("astrohub.widgets.sky.ESM has no idleThrottle function")
    return m.group(0)


def chromium_cpu() -> float:
    """CPU seconds of the running Chromium renderer and GPU processes."""
    total = 0.0
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "chromium" in cmd and ("--type=renderer" in cmd or "--type=gpu-process" in cmd) and p.info["cpu_times"]:
            total += p.info["cpu_times"].user + p.info["cpu_times"].system
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    site = Path(tempfile.mkdtemp(prefix="sky-idle-"))
    shutil.copy(aladin_bundle_path(), site / "aladin.js")
    (site / "blank.fits").write_bytes(base64.b64decode(blank_fits(150.0, 2.0, 0.5)))
    pages = {"plain": {"throttle": "", "install": ""},
             "throttled": {"throttle": widget_throttle(), "install": "idleThrottle(aladin);"}}
    for name, parts in pages.items():
        (site / f"{name}.html").write_text(PAGE % parts)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    figures = {name: {"cores": [], "frames_in_2s": []} for name in pages}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for r in range(args.rounds):
                for name in pages:  # alternated, so that the host's own speed changes hit both alike
                    page.goto(f"{url}/{name}.html")
                    page.wait_for_function("window.ready === true", timeout=60_000)
                    time.sleep(2.0)  # past the throttle's one idle second, and the first tiles
                    before, t0 = chromium_cpu(), time.monotonic()
                    time.sleep(args.seconds)
                    cores = (chromium_cpu() - before) / (time.monotonic() - t0)
                    figures[name]["cores"].append(round(cores, 3))
                    figures[name]["frames_in_2s"].append(page.evaluate(frame_counter_js("window.aladin")))
                    print(f"round {r + 1}: {name:9s} {cores:.2f} cores, {figures[name]['frames_in_2s'][-1]} frames/2 s",
                          flush=True)
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(site, ignore_errors=True)
    for f in figures.values():
        f["median_cores"] = statistics.median(f["cores"])
    write("sky_idle", {"seconds": args.seconds, "rounds": args.rounds, "viewport": [1400, 900],
                       "view": [1200, 400], "chromium_args": ARGS, **figures})
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    names = list(figures)
    ax.bar(names, [figures[n]["median_cores"] for n in names], color=["#c44", "#4a4"])
    for i, n in enumerate(names):
        ax.plot([i] * len(figures[n]["cores"]), figures[n]["cores"], "k.", ms=4)
    ax.set_ylabel("Chromium CPU (cores), idle view")
    ax.set_title("Aladin Lite sky view, software WebGL")
    fig.tight_layout()
    fig.savefig(RESULTS / "sky_idle.png", dpi=120)


if __name__ == "__main__":
    main()
