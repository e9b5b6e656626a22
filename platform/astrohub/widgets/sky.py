"""A sky view of the query's rows (Aladin Lite), coloured by their predictions.

:func:`sky_overlays` turns rows (and their classification) into overlays: one per predicted class, or,
for a regression such as photo-z, one per bin of the predicted value on a colour map. :class:`SkyView`
draws them with Aladin Lite in an anywidget; :class:`SkyPanel` follows a :class:`~.state.PanelState`
(a new query or a new classification redraws it).

No network: Aladin Lite's JavaScript is the ``aladin-lite`` npm package's bundle (WebAssembly inlined)
that ``scripts/install.sh`` installs into ``.node/`` (or ``$ASTROHUB_ALADIN_JS``); JupyterLab pages load it
from the ``@astrohub/bokehjs`` lab extension (:mod:`.bokehjs` copies it there), served by the user's own
Jupyter server, never from a CDN. ipyaladin 0.8.1 is not used because its widget imports
Aladin Lite from esm.sh at run time. The survey background (HiPS) is optional: offline its tiles fail
quietly and the markers are still drawn on the coordinate grid.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import anywidget
import ipywidgets as w
import numpy as np
import traitlets
from astropy.table import Table

from astrohub.vo import metadata

from .state import PanelState

ROOT = Path(__file__).resolve().parents[3]
BUNDLE = ROOT / ".node" / "node_modules" / "aladin-lite" / "dist" / "aladin.js"
# tab10: distinguishable class colours; viridis stops for binned regression values
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
VIRIDIS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"]
UNCLASSIFIED = "#00e5ff"


def aladin_bundle_path() -> Path:
    """Aladin Lite's ES module (the npm package's dist/aladin.js) in the local install."""
    path = Path(os.environ.get("ASTROHUB_ALADIN_JS") or BUNDLE)
    if not path.is_file():
        raise FileNotFoundError(f"Aladin Lite's bundle is not at {path}: run scripts/install.sh (it installs the "
                                "aladin-lite npm package into .node/) or point $ASTROHUB_ALADIN_JS at dist/aladin.js")
    return path


def aladin_bundle() -> str:
    return aladin_bundle_path().read_text(encoding="utf-8")


def aladin_static_name() -> str:
    """The bundle's file name in the ``@astrohub/bokehjs`` lab extension (versioned: browsers may cache it)."""
    import json

    pkg = aladin_bundle_path().parent.parent / "package.json"
    version = json.loads(pkg.read_text())["version"] if pkg.is_file() else "local"
    return f"aladin-lite-{version}.js"


def positions(table: Table) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec in degrees (NaN where a row has none), found by UCD pos.eq.ra/pos.eq.dec or common names."""
    cols = metadata.position(table)
    if cols is None:
        raise ValueError("these rows have no sky positions: no column has UCD pos.eq.ra and pos.eq.dec (nor a name "
                         f"such as ra/dec); columns: {', '.join(table.colnames[:20])}")

    def values(c):
        col = table[c]
        data = np.ma.filled(np.ma.asarray(col, dtype=float), np.nan)
        unit = getattr(col, "unit", None)
        if unit is not None and str(unit) not in ("", "deg"):
            data = (data * unit).to_value("deg")
        return np.asarray(data, dtype=float)

    return values(cols[0]), values(cols[1])


def _title(table: Table, i: int) -> str:
    idc = metadata.id_column(table)
    return str(table[idc][i]) if idc else f"row {i}"


def _centre(ra: np.ndarray, dec: np.ndarray) -> tuple[float, float, float]:
    """Mean direction and a field of view (deg) that holds every point (30% margin)."""
    r, d = np.radians(ra), np.radians(dec)
    v = np.array([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)])
    m = v.mean(axis=1)
    norm = np.linalg.norm(m)
    if norm < 1e-9:
        return 0.0, 0.0, 180.0
    m /= norm
    sep = np.degrees(np.arccos(np.clip(m @ v, -1, 1))).max()
    return (float(np.degrees(np.arctan2(m[1], m[0])) % 360), float(np.degrees(np.arcsin(m[2]))),
            float(np.clip(2.6 * sep, 0.05, 180.0)))


def sky_overlays(table: Table, result=None) -> dict:
    """What the sky view draws: ``overlays`` (name, colour, sources ``[ra, dec, title, description]``),
    ``target`` [ra, dec], ``fov`` (deg), ``skipped`` (rows without a position) and ``colour_by``.

    Without ``result``: one overlay of every row. A classification (``pred_class``): one overlay per class, in
    the model's class order. A regression (``result.values``, e.g. photo-z): the predicted value in six bins
    on viridis. ``table`` is ``result.table`` when a result is given (the classified rows)."""
    if result is not None:
        table = result.table
    ra, dec = positions(table)
    ok = np.isfinite(ra) & np.isfinite(dec)
    if not ok.any():
        raise ValueError(f"none of the {len(table)} rows has a sky position (all RA/Dec values are empty)")
    groups: list[tuple[str, str, np.ndarray, list[str]]] = []
    labels = [""] * len(table)
    colour_by = None
    if result is not None and "pred_class" in table.colnames:
        colour_by = "pred_class"
        pred = np.asarray(table["pred_class"]).astype(str)
        names = list(result.class_names) or sorted(set(pred))
        names += sorted(set(pred) - set(names))
        for k, name in enumerate(names):
            groups.append((f"predicted {name}", PALETTE[k % len(PALETTE)], pred == name, []))
        labels = [f"predicted {p}" for p in pred]
    elif result is not None and result.values and result.values[0] in table.colnames:
        colour_by = result.values[0]
        val = np.ma.filled(np.ma.asarray(table[colour_by], dtype=float), np.nan)
        fin = np.isfinite(val)
        lo, hi = (float(np.min(val[fin])), float(np.max(val[fin]))) if fin.any() else (0.0, 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, len(VIRIDIS) + 1)
        idx = np.clip(np.searchsorted(edges, val, side="right") - 1, 0, len(VIRIDIS) - 1)
        for k, colour in enumerate(VIRIDIS):
            groups.append((f"{colour_by} {edges[k]:.3g}–{edges[k + 1]:.3g}", colour, fin & (idx == k), []))
        if (~fin).any():
            groups.append((f"{colour_by} not predicted", "#9e9e9e", ~fin, []))
        labels = [f"{colour_by} = {v:.4g}" for v in val]
    else:
        groups.append(("query rows", UNCLASSIFIED, np.ones(len(table), dtype=bool), []))
    overlays = []
    for name, colour, member, _ in groups:
        rows = np.flatnonzero(member & ok)
        overlays.append({"name": name, "color": colour,
                         "sources": [[float(ra[i]), float(dec[i]), _title(table, i), labels[i]] for i in rows]})
    tra, tdec, fov = _centre(ra[ok], dec[ok])
    return {"overlays": overlays, "target": [tra, tdec], "fov": fov, "skipped": int((~ok).sum()),
            "colour_by": colour_by}


def blank_fits(ra: float, dec: float, fov: float, n: int = 64) -> str:
    """A dark n x n FITS image (TAN WCS) of the field, base64: Aladin Lite needs a base layer and this one
    needs no network."""
    from astropy.io import fits

    data = np.zeros((n, n), dtype=np.float32)
    data[0, 0] = 1.0  # a non-constant image (a constant one has no pixel cut)
    hdr = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": ra, "CRVAL2": dec, "CRPIX1": n / 2 + 0.5,
                       "CRPIX2": n / 2 + 0.5, "CDELT1": -4 * fov / n, "CDELT2": 4 * fov / n, "CUNIT1": "deg",
                       "CUNIT2": "deg"})
    buf = io.BytesIO()
    fits.PrimaryHDU(data, hdr).writeto(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")


ESM = r"""
function libUrl(model) {
  if (model.get("_lib")) {  // inline (outside JupyterLab): the bundle came with the widget
    return URL.createObjectURL(new Blob([model.get("_lib")], {type: "text/javascript"}));
  }
  // JupyterLab: the copy in the @astrohub/bokehjs lab extension, served by this Jupyter server
  const cfg = document.getElementById("jupyter-config-data");
  const ext = cfg ? JSON.parse(cfg.textContent).fullLabextensionsUrl : null;
  if (!ext) throw new Error("not a JupyterLab page: create the view with SkyView(inline=True)");
  return new URL(`${ext}/@astrohub/bokehjs/static/${model.get("lib_file")}`, window.location.href).href;
}
async function loadAladin(model) {
  if (!window.__astrohubAladin) {
    window.__astrohubAladin = import(libUrl(model)).then(async (m) => { await m.default.init; return m.default; });
  }
  return window.__astrohubAladin;
}
// Aladin Lite draws a frame on every animation frame, even when nothing moves: with software WebGL (a browser
// without a GPU, as on many remote desktops) an idle view with its FITS base layer keeps 1.9 cores busy
// (benchmarks/sky_idle_bench.py). Idle (no pointer, wheel or key event for a second, no animation), its next
// frame waits 250 ms instead: 0.3 cores. Every user event, and every redraw from Python, restores full rate.
function idleThrottle(aladin, idleMs = 1000, periodMs = 250) {
  const view = aladin.view;
  if (!view || typeof view.redrawClbk !== "function") return () => {};  // another Aladin Lite: left as is
  const frame = view.redrawClbk;
  const stats = {idleMs, periodMs, full: 0, delayed: 0, wakes: 0};
  let active = performance.now();
  const wake = () => { active = performance.now(); stats.wakes += 1; };
  for (const ev of ["pointerdown", "pointermove", "wheel", "keydown", "touchstart"]) {
    aladin.aladinDiv.addEventListener(ev, wake, {passive: true, capture: true});
  }
  let waiting = false;
  view.redrawClbk = (t) => {
    if (view.moving || view.needRedraw || performance.now() - active < idleMs) {
      stats.full += 1;
      frame(t);
    } else if (!waiting) {  // one delayed frame at a time: Aladin's extra redraw chains (resizes) end here
      waiting = true;
      stats.delayed += 1;
      setTimeout(() => { waiting = false; frame(performance.now()); }, periodMs);
    }
  };
  view.__astrohubIdle = stats;
  return wake;
}
function draw(A, aladin, model) {
  if (aladin.__astrohubWake) aladin.__astrohubWake();
  for (const cat of (aladin.__astrohubCats || [])) aladin.removeOverlay(cat);
  aladin.__astrohubCats = [];
  for (const o of model.get("overlays")) {
    const cat = A.catalog({name: o.name, color: o.color, sourceSize: 10, shape: "circle", onClick: "showPopup"});
    aladin.addCatalog(cat);
    cat.addSources(o.sources.map((s) => A.source(s[0], s[1], {name: s[2], prediction: s[3]})));
    aladin.__astrohubCats.push(cat);
  }
  const t = model.get("target");
  if (t.length === 2) aladin.gotoRaDec(t[0], t[1]);
  // fov is what must fit vertically too: Aladin's is the view's width
  const div = aladin.aladinDiv || null;
  const aspect = div && div.clientHeight ? div.clientWidth / div.clientHeight : 1;
  aladin.setFoV(Math.min(360, model.get("fov") * Math.max(1, aspect)));
}
export default {
  async render({ model, el }) {
    const div = document.createElement("div");
    div.className = "astrohub-aladin";
    div.style.width = "100%";
    div.style.height = model.get("height") + "px";
    el.appendChild(div);
    try {
      const A = await loadAladin(model);
      const t = model.get("target");
      // no survey asked: the base layer is a blank FITS of the field, made in Python and never fetched
      let survey = model.get("survey");
      if (!survey) {
        const bytes = Uint8Array.from(atob(model.get("blank_fits")), (c) => c.charCodeAt(0));
        const url = URL.createObjectURL(new Blob([bytes], {type: "application/fits"}));
        survey = A.image(url, {name: "blank sky (no survey)", successCallback: () => {}, errorCallback: () => {}});
      }
      const aladin = A.aladin(div, {
        target: t.length === 2 ? `${t[0]} ${t[1]}` : "0 0", fov: model.get("fov"), survey: survey,
        showCooGrid: true, showCooGridControl: true, showLayersControl: true, showGotoControl: false,
        showSimbadPointerControl: false, showShareControl: false, showFullscreenControl: true,
        showContextMenu: true, showFrame: true, showProjectionControl: false, showZoomControl: true,
        showSettingsControl: false, showStatusBar: false, log: false, samp: false,
      });
      aladin.__astrohubWake = idleThrottle(aladin);
      div.astrohubAladin = aladin;  // for the browser's console (and the tests)
      draw(A, aladin, model);
      model.on("change:overlays", () => draw(A, aladin, model));
      el.dataset.astrohubSky = "ready";
    } catch (err) {
      div.textContent = "sky view unavailable: " + err;
      el.dataset.astrohubSky = "error";
    }
  },
};
"""


def frame_counter_js(aladin: str, ms: int = 2000) -> str:
    """A page function (for Playwright's ``evaluate``, or a browser's console) that returns how many frames the
    Aladin Lite view ``aladin`` (a JavaScript expression) draws in ``ms`` milliseconds: its WebAssembly
    ``update`` calls, counted from outside the view's own loop."""
    return f"""async () => {{
  const wasm = ({aladin}).view.wasm, update = wasm.update.bind(wasm);
  let n = 0;
  wasm.update = (dt) => {{ n += 1; return update(dt); }};
  await new Promise((r) => setTimeout(r, {int(ms)}));
  wasm.update = update;
  return n;
}}"""


class SkyView(anywidget.AnyWidget):
    """Aladin Lite with the overlays of :func:`sky_overlays` (markers with a popup: id and prediction)."""

    _esm = ESM
    # JupyterLab pages load the bundle from the @astrohub/bokehjs lab extension (``lib_file``); ``inline=True``
    # sends it with the widget instead (2.4 MB, saved with the notebook's widget state)
    _lib = traitlets.Unicode().tag(sync=True)
    lib_file = traitlets.Unicode().tag(sync=True)
    overlays = traitlets.List().tag(sync=True)
    target = traitlets.List().tag(sync=True)
    fov = traitlets.Float(1.0).tag(sync=True)
    height = traitlets.Int(400).tag(sync=True)
    # a HiPS survey for the background (an ID or URL; "" none: no request leaves the page, the markers are drawn
    # on the coordinate grid); a survey that cannot be reached leaves the markers in place
    survey = traitlets.Unicode("").tag(sync=True)
    blank_fits = traitlets.Unicode().tag(sync=True)  # base64 FITS: the base layer when there is no survey

    def __init__(self, inline: bool = False, **kw):
        super().__init__(_lib=aladin_bundle() if inline else "", lib_file=aladin_static_name(), **kw)

    def show(self, spec: dict) -> None:
        self.target, self.fov = spec["target"], spec["fov"]
        if not self.blank_fits:
            self.blank_fits = blank_fits(*spec["target"], spec["fov"])
        self.overlays = spec["overlays"]


class SkyPanel(w.VBox):
    """The sky view of a :class:`PanelState`: redrawn on a new query and on a new classification.
    Rows without positions give a message instead of a view (the other panels go on working)."""

    def __init__(self, state: PanelState, **kw):
        self.state = state
        self.legend = w.HTML()
        self.view: SkyView | None = None
        self.spec: dict | None = None
        state.on("rows", self.refresh)
        state.on("result", self.refresh)
        super().__init__([self.legend], **kw)
        self.add_class("astrohub-sky")
        if state.rows is not None:
            self.refresh()

    def refresh(self) -> None:
        if self.state.rows is None:
            return
        try:
            self.spec = sky_overlays(self.state.rows, self.state.result)
        except (ValueError, FileNotFoundError) as err:
            self.spec = None
            self.legend.value = f"<span class='astrohub-sky-error'>Sky view: {html.escape(str(err))}</span>"
            self.children = [self.legend]
            return
        try:
            if self.view is None:
                self.view = SkyView()
        except FileNotFoundError as err:
            self.legend.value = f"<span class='astrohub-sky-error'>Sky view: {html.escape(str(err))}</span>"
            return
        self.view.show(self.spec)
        self.legend.value = legend_html(self.spec)
        self.children = [self.legend, self.view]


def legend_html(spec: dict) -> str:
    items = "".join(
        f"<span style='margin-right:12px'><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{o['color']}'></span> {html.escape(o['name'])} ({len(o['sources'])})</span>"
        for o in spec["overlays"])
    skipped = f" · {spec['skipped']} row(s) without a position not shown" if spec["skipped"] else ""
    return f"<div class='astrohub-sky-legend'><b>Sky</b>: {items}{skipped}</div>"
