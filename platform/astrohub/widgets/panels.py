"""ipywidgets panels: QueryPanel (archive -> table + plots), ClassifyPanel (table -> predictions),
and Explorer (both, linked). Every button calls a function of :mod:`astrohub.pipeline`."""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as w
import numpy as np
from astropy.table import Table

from astrohub import pipeline

from . import plots
from .gallery import series_thumbnail, thumbnail
from .sky import SkyPanel
from .state import PanelState

LOCAL = "local demo archive"
FILES_TAB = 2  # the query panel's "your files" tab
FILE_KINDS = tuple(pipeline.files.KIND_WORDS.items())
CUSTOM = "other TAP URL…"


OOD_MARK = "⚠"
REAL_BADGE = ("<span class='astrohub-badge astrohub-real' style='background:#1b7f3b;color:#fff;border-radius:4px;"
              "padding:2px 8px;font-weight:600'>✔ validated on real data: {}</span>")
SIM_BADGE = ("<span class='astrohub-badge astrohub-sim-only' style='background:#f0a500;color:#222;border-radius:4px;"
             "padding:2px 8px;font-weight:600'>⚠ not validated on real data (simulations only)</span>")
# real figures that are not a clean held-out validation (the kit also guided design choices): amber, with them
PARTIAL_BADGE = ("<span class='astrohub-badge astrohub-real-partial' style='background:#f0a500;color:#222;"
                 "border-radius:4px;padding:2px 8px;font-weight:600'>⚠ {}</span>")


def table_html(table: Table, max_rows: int = 50, highlight: set[int] | None = None) -> str:
    """A compact HTML table (first ``max_rows`` rows), selected rows highlighted; rows flagged out of
    distribution (an ``ood`` column) carry a marker whose tooltip is their ``ood_reason``. Every name and
    value is escaped (they come from a TAP service); numbers are formatted per column (:func:`formatter`)."""
    cols = [c for c in table.colnames if table[c].ndim == 1][:14]
    head = "".join(f"<th>{html.escape(_header(table[c]))}</th>" for c in cols)
    fmts = {c: formatter(table[c]) for c in cols}
    body = []
    for i, r in enumerate(table[:max_rows]):
        cells = "".join(_ood_cell(r) if c == "ood" else f"<td>{html.escape(fmts[c](r[c]))}</td>" for c in cols)
        style = " style='background:#ffe9a8'" if highlight and i in highlight else ""
        flagged = " astrohub-ood-row" if "ood" in cols and bool(r["ood"]) else ""
        body.append(f"<tr class='astrohub-row{flagged}'{style}>{cells}</tr>")
    more = f"<p>{len(table) - max_rows} more rows not shown</p>" if len(table) > max_rows else ""
    return (f"<div style='max-height:320px;overflow:auto'><table class='astrohub-table'><tr>{head}</tr>"
            f"{''.join(body)}</table></div>{more}")


PROBABILITIES = {"pred_prob", "planet_score", "rb_score", "real_score", "lens_score"}
# decimals shown per unit (degrees to 8 places: 0.04 mas, below any survey's astrometry)
DECIMALS = {"deg": 8, "hourangle": 9, "h": 9, "arcsec": 4, "arcmin": 6, "mas": 3, "mag": 3, "d": 6, "s": 3,
            "K": 1, "Angstrom": 2, "nm": 3}


def _header(col) -> str:
    unit = getattr(col, "unit", None)
    return f"{col.name} [{unit}]" if unit is not None and str(unit) else col.name


def _is_probability(name: str) -> bool:
    return name in PROBABILITIES or name.startswith("p_")


def formatter(col):
    """How the cells of ``col`` print: probabilities to 3 decimals ("<0.001" / ">0.999" at the ends),
    quantities with a known unit (RA/Dec in degrees, magnitudes, days ...) to a fixed number of decimals
    (the shortest form that keeps the value to that precision), other numbers to 4 significant digits."""
    name = col.name
    unit = str(col.unit) if getattr(col, "unit", None) is not None else ("deg" if name in ("ra", "dec") else "")

    def fmt(v) -> str:
        if v is np.ma.masked:
            return ""
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (float, np.floating)):
            return str(v)
        if not np.isfinite(v):
            return str(float(v))
        if _is_probability(name):
            return "<0.001" if v < 0.001 else ">0.999" if v > 0.999 else f"{v:.3f}"
        if unit in DECIMALS:
            return np.format_float_positional(v, precision=DECIMALS[unit], unique=True, trim="-")
        return f"{v:.4g}"

    return fmt


def _ood_cell(r) -> str:
    if not bool(r["ood"]):
        return "<td class='astrohub-ood-cell'></td>"
    reason = str(r["ood_reason"]) if "ood_reason" in r.colnames else ""
    return (f"<td class='astrohub-ood-cell'><span class='astrohub-ood' style='color:#b35900;font-weight:600' "
            f"title='{html.escape(reason or 'out of distribution')}'>{OOD_MARK} OOD</span></td>")


def validation_badge(result) -> str:
    """The badge next to a prediction: green with the real held-out summary when the model card is
    validated on real data; amber with its real figures when the card has some that are not a clean held-out
    validation (``real.selection_on_kit``); amber "not validated on real data (simulations only)" otherwise."""
    if result.validated_on_real:
        return REAL_BADGE.format(html.escape(result.real_summary))
    if result.real_summary != pipeline.classification.NOT_VALIDATED:
        return PARTIAL_BADGE.format(html.escape(result.real_summary))
    return SIM_BADGE


def ood_note(result) -> str:
    """How many rows the model flagged out of distribution (or that it does not check)."""
    if not result.ood_checked:
        return ("<span class='astrohub-ood-note' style='color:#666'>this model does not flag inputs unlike its "
                "training data</span>")
    n = result.n_ood
    if not n:
        return ("<span class='astrohub-ood-note' style='color:#1b7f3b'>no row outside the model's training "
                "range</span>")
    return (f"<span class='astrohub-ood-note' style='color:#b35900;font-weight:600'>{OOD_MARK} {n} of "
            f"{len(result.table)} row(s) out of distribution (inputs unlike the training data): predictions "
            "there are extrapolations; see the ood / ood_reason columns</span>")


def _error(e: Exception) -> str:
    return (f"<span class='astrohub-error' style='color:#b00020'>{html.escape(type(e).__name__)}: "
            f"{html.escape(str(e))}</span>")


class _Panel(w.VBox):
    """Status line, progress bar and a busy() guard that turns any exception into a message."""

    def _init_status(self):
        self.status = w.HTML()
        self.progress = w.FloatProgress(value=0, min=0, max=1, layout=w.Layout(width="200px", visibility="hidden"))

    def _run(self, what: str, fn):
        self.progress.layout.visibility = "visible"
        self.progress.value, self.progress.bar_style = 0.3, "info"
        self.status.value = f"{html.escape(what)} …"
        try:
            out = fn()
        except Exception as e:  # noqa: BLE001 - any failure becomes a readable message; the kernel lives on
            self.status.value = _error(e)
            self.progress.bar_style, self.progress.value = "danger", 1
            return None
        self.progress.bar_style, self.progress.value = "success", 1
        return out


class QueryPanel(_Panel):
    """Pick an archive, write ADQL (templates, table/column browser) or a cone, run it.

    BokehJS comes with the page (the ``@astrohub/bokehjs`` lab extension, see :mod:`.bokehjs`), never from
    an output: the plots survive page reloads and render for collaborators."""

    def __init__(self, archive=None, state: PanelState | None = None, **kw):
        from astrohub.vo import KNOWN_SERVICES

        self._archive = archive
        self.state = state if state is not None else PanelState()
        self._listeners = []
        self.source = None
        self.shown_filter = None  # the plots' IndexFilter: only rows passing the filters are drawn
        self.archive_picker = w.Dropdown(options=[LOCAL, *sorted(KNOWN_SERVICES), CUSTOM], value=LOCAL,
                                         description="archive")
        self.custom_url = w.Text(placeholder="https://…/tap", description="TAP URL")
        self.template = w.Dropdown(options=["—", *pipeline.TEMPLATES], value="—", description="template")
        self.adql = w.Textarea(value=pipeline.TEMPLATES["morphology cutouts"],
                               layout=w.Layout(width="100%", height="80px"))
        self.tables = w.Select(options=[], rows=5, description="tables")
        self.columns = w.Select(options=[], rows=5, description="columns")
        self.browse = w.Button(description="Browse tables", icon="table")
        self.ra, self.dec = w.FloatText(description="RA [deg]"), w.FloatText(description="Dec [deg]")
        self.name = w.Text(description="or name", placeholder="obj-42, M 31")
        self.radius = w.BoundedFloatText(value=0.05, min=0, max=180, step=0.01, description="radius [deg]")
        self.maxrec = w.BoundedIntText(value=1000, min=1, max=10_000_000, description="row limit")
        self.mode = w.ToggleButtons(options=["sync", "async"], value="sync")
        self.run_button = w.Button(description="Query", button_style="primary", icon="search")
        # your own files: paths, folders or patterns, and uploads (saved to pipeline.files.UPLOADS)
        self.file_paths = w.Textarea(placeholder="one path, folder or pattern per line, e.g. ~/data/*.fits",
                                     layout=w.Layout(width="100%", height="60px"))
        self.upload = w.FileUpload(multiple=True, description="Upload")
        self.file_kind = w.Dropdown(options=[("any kind", "any"), *((words[1], k) for k, words in FILE_KINDS)],
                                    value="any", description="only")
        self.group = w.Checkbox(value=False, indent=False,
                                description="one row per object (a star's light-curve files stitched, a galaxy's g, r, "
                                            "i images composed)")
        self.recursive = w.Checkbox(value=False, indent=False, description="subfolders too")
        self.match = w.Checkbox(value=False, indent=False,
                                description="a catalogue of targets: find their products in the archive by position")
        self.match_radius = w.BoundedFloatText(value=1.0, min=0.1, max=pipeline.files.MAX_MATCH_RADIUS, step=0.5,
                                               description="within [\u2033]")
        self.tabs = w.Tab(children=[w.VBox([self.template, self.adql,
                                            w.HBox([self.browse, self.tables, self.columns])]),
                                    w.VBox([w.HBox([self.ra, self.dec]), self.name, self.radius]),
                                    w.VBox([self.file_paths, w.HBox([self.upload, self.file_kind, self.recursive]),
                                            self.group, w.HBox([self.match, self.match_radius])])])
        self.tabs.set_title(0, "ADQL")
        self.tabs.set_title(1, "cone")
        self.tabs.set_title(FILES_TAB, "your files")
        self.tabs.observe(lambda _: self._name_button(), "selected_index")
        self._init_status()
        self.table_view = w.HTML()
        self.plot_view = w.Box()
        self.template.observe(self._use_template, "value")
        self.tables.observe(self._show_columns, "value")
        self.browse.on_click(lambda _: self.browse_tables())
        self.run_button.on_click(lambda _: self.run())
        self.state.on("rows", self._draw)
        self.state.on("result", self._draw)
        self.state.on("view", self._update_view)
        super().__init__([w.HBox([self.archive_picker, self.custom_url]), self.tabs,
                          w.HBox([self.maxrec, self.mode, self.run_button, self.progress]), self.status,
                          self.table_view, self.plot_view], **kw)

    @property
    def result(self) -> Table | None:
        """The last query's rows."""
        return self.state.rows

    @property
    def archive(self):
        """The archive picked (the local demo archive by default)."""
        from astrohub.vo import Archive

        pick = self.archive_picker.value
        if pick == LOCAL:
            self._archive = self._archive or Archive.local()
            return self._archive
        if pick == CUSTOM:
            return Archive(self.custom_url.value.strip())
        return Archive.named(pick)

    def on_result(self, fn) -> None:
        """Call ``fn(table)`` after each successful query."""
        self._listeners.append(fn)

    def _use_template(self, change):
        if change["new"] in pipeline.TEMPLATES:
            self.adql.value = pipeline.TEMPLATES[change["new"]]
            self.tabs.selected_index = 0

    def browse_tables(self):
        names = self._run("listing tables", lambda: self.archive.tables())
        if names is not None:
            self.tables.options = names
            self.status.value = f"{len(names)} tables"

    def _show_columns(self, change):
        if change["new"]:
            cols = self._run(f"reading columns of {change['new']}", lambda: self.archive.columns(change["new"]))
            if cols is not None:
                self.columns.options = cols
                self.status.value = f"{len(cols)} columns in {html.escape(str(change['new']))}"

    def _name_button(self) -> None:
        files = self.tabs.selected_index == FILES_TAB
        self.run_button.description, self.run_button.icon = ("List files", "folder-open") if files else ("Query",
                                                                                                          "search")

    def list_files(self) -> pipeline.Files:
        """The files tab: uploads saved (their paths added to the list, the upload cleared), then every path,
        folder and pattern listed, by kind (:class:`astrohub.pipeline.Files`)."""
        unpacked = []
        if self.upload.value:
            saved, unpacked = pipeline.save_uploads(self.upload.value)
            lines = [ln for ln in self.file_paths.value.splitlines() if ln.strip()]
            self.file_paths.value = "\n".join([*lines, *map(str, saved)])
            self.upload.value = ()
        lines = [ln.strip() for ln in self.file_paths.value.splitlines() if ln.strip()]
        if not lines:
            raise ValueError("no files named: write a path, folder or pattern (one per line), or upload files")
        files = pipeline.Files(lines, kind=None if self.match.value else self._only_kind, group=self.group.value,
                               recursive=self.recursive.value)  # a target list: the kind of product looked up
        files.skipped[:0] = unpacked  # an uploaded archive's members not unpacked (links ...), named first
        return files

    @property
    def _only_kind(self) -> str | None:
        """The files tab's *only*: a kind, or None for any."""
        return None if self.file_kind.value == "any" else self.file_kind.value

    def _files_archive(self, files: pipeline.Files):
        """The listed rows and where their products are: the files themselves, or, for a catalogue of targets with
        *find their products in the archive* ticked, the targets with products in the archive picked, at their
        positions, and that archive (:meth:`astrohub.pipeline.Files.in_archive`)."""
        if not self.match.value:
            return files, files
        if not files.is_catalogue:
            raise ValueError("'find their products in the archive' is for a catalogue of targets (a table of "
                             "positions), not for files: untick it to classify the files themselves")
        archive = self.archive
        return files.in_archive(archive, self._only_kind, self.match_radius.value), archive

    def run(self) -> Table | None:
        """Run the ADQL (first tab) or the cone (second tab), or list the files (third tab); keep the last good
        result on error. A new result clears what was derived from the previous rows (predictions, filters,
        selection)."""
        if self.tabs.selected_index == FILES_TAB:
            got = self._run("reading the files", lambda: self._files_archive(self.list_files()))
            if got is None:
                return None
            files, archive = got
            self.status.value = f"<span class='astrohub-ok'>{html.escape(files.summary())}</span>"
            self.state.set_rows(files.table, archive=archive)
            for fn in self._listeners:
                fn(files.table)
            return files.table
        if self.tabs.selected_index == 0:
            call = lambda: pipeline.run_query(self.archive, self.adql.value, maxrec=self.maxrec.value,  # noqa: E731
                                             mode=self.mode.value)
        else:
            call = lambda: pipeline.run_query(self.archive, name=self.name.value.strip() or None,  # noqa: E731
                                             ra=self.ra.value, dec=self.dec.value, radius=self.radius.value,
                                             maxrec=self.maxrec.value)
        table = self._run("querying", call)
        if table is None:
            return None
        self.status.value = f"<span class='astrohub-ok'>{len(table)} rows</span>"
        self.state.set_rows(table, archive=self.archive)
        for fn in self._listeners:
            fn(table)
        return table

    def show(self, table: Table) -> None:
        """Show ``table`` as the rows of this panel (as a query returning it would)."""
        self.state.set_rows(table)

    def _draw(self) -> None:
        """New rows or predictions: table and plots drawn again from the state."""
        table = self.state.table
        self.source = plots.source_for(table)
        self.shown_filter = plots.IndexFilter(indices=[int(i) for i in self.state.shown_indices()])
        layout = plots.result_plots(self.source, self.shown_filter)
        self._update_table()
        if layout is None:
            self.plot_view.children, self.bokeh = [], None
            return
        from jupyter_bokeh.widgets import BokehModel  # a widget: selections sync back to Python

        self.bokeh = BokehModel(layout)
        self.plot_view.children = [self.bokeh]
        self.source.selected.on_change("indices", lambda attr, old, new: self._plot_selected(new))

    def _plot_selected(self, indices) -> None:
        if [int(i) for i in indices] != self.state.selection:
            self.state.select(indices)

    def _update_view(self) -> None:
        """Filters or selection changed: the plots draw only the rows passing the filters and select
        the selection; the table lists the rows passing the filters, the selected ones highlighted."""
        if self.source is None:
            return
        shown = [int(i) for i in self.state.shown_indices()]
        if list(self.shown_filter.indices) != shown:
            self.shown_filter.indices = shown
        if list(self.source.selected.indices) != self.state.selection:
            self.source.selected.indices = list(self.state.selection)
        self._update_table()

    def _update_table(self) -> None:
        shown = self.state.shown_indices()
        selected = set(self.state.selection)
        self.table_view.value = table_html(self.state.table[shown],
                                           highlight={k for k, i in enumerate(shown) if i in selected})


class ClassifyPanel(_Panel):
    """Run a compatible zoo model on a table of archive rows (cutouts, light curves, spectra or
    catalogue photometry); predictions, gallery with saliency, photo-z PDFs, filters, export.

    Everything it shows comes from its :class:`~.state.PanelState` (shared with the query panel in an
    :class:`Explorer`): new rows clear the predictions and their views; the filters and the plots'
    selection decide the table, the gallery, the PDFs and what export writes."""

    def __init__(self, table: Table | None = None, archive=None, client=None, state: PanelState | None = None,
                 **kw):
        self.archive_ = archive
        self.client = client
        self.state = state if state is not None else PanelState()
        self._listeners = []
        self._tiles: dict[int, w.VBox] = {}  # gallery tiles of the result, by row
        self.model = w.Dropdown(options=[], description="model")
        self.mc = w.IntSlider(value=20, min=0, max=50, description="MC samples")
        # colour models only: re-frame stamps framed otherwise than Galaxy Zoo frames them (pipeline.classify)
        # (a Dropdown shows no label for a value of None: "auto" stands for classify's reframe=None)
        self.reframe = w.Dropdown(options=[("auto (when most stamps are framed otherwise)", "auto"),
                                           ("always (a fixed-scale cutout service)", True), ("never", False)],
                                  value="auto", description="re-frame", layout=w.Layout(display="none"))
        self.run_button = w.Button(description="Run model", button_style="success", icon="play")
        self.cls = w.Dropdown(options=["any"], value="any", description="class")
        self.min_prob = w.FloatSlider(value=0.0, min=0, max=1, step=0.05, description="p ≥")
        self.value_col = w.Dropdown(options=[], description="value")
        self.value_range = w.FloatRangeSlider(value=(0, 1), min=0, max=1, step=0.01, description="range",
                                              readout_format=".3g", layout=w.Layout(width="420px"))
        self.class_filters = w.HBox([self.cls, self.min_prob], layout=w.Layout(display="none"))
        self.value_filters = w.HBox([self.value_col, self.value_range], layout=w.Layout(display="none"))
        self.fmt = w.Dropdown(options=list(pipeline.FORMATS), value="votable", description="format")
        self.filename = w.Text(value="astrohub-result", description="file")
        self.export_button = w.Button(description="Export", icon="download")
        self.samp_button = w.Button(description="Send via SAMP", icon="share")
        self.hide_ood = w.Checkbox(value=False, description="hide out-of-distribution rows", indent=False,
                                   layout=w.Layout(display="none"))
        self.badge = w.HTML()  # validated on real data, or simulations only: next to the predictions
        self.ood_view = w.HTML()
        self._init_status()
        self.table_view = w.HTML()
        self.gallery_note = w.HTML()
        self.gallery = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.pdf_view = w.Box()
        self.pdf_rows: list[int] = []  # rows whose PDFs pdf_view shows
        self._quiet = False  # True while run() sets the filters up: one "view" update at the end
        self.run_button.on_click(lambda _: self.run())
        self.model.observe(lambda _: self._show_model_options(), "value")
        for f in (self.cls, self.min_prob, self.value_range, self.hide_ood):
            f.observe(lambda _: self._apply_filters(), "value")
        self.value_col.observe(self._value_bounds, "value")
        self.export_button.on_click(lambda _: self.export())
        self.samp_button.on_click(lambda _: self.send_samp())
        self.state.on("rows", self._new_rows)
        self.state.on("result", self._draw)
        self.state.on("view", self._update_view)
        super().__init__([w.HBox([self.model, self.mc, self.run_button, self.progress]), self.reframe, self.status,
                          self.badge, w.HBox([self.ood_view, self.hide_ood]),
                          self.class_filters, self.value_filters, self.table_view, self.pdf_view,
                          self.gallery_note, self.gallery,
                          w.HBox([self.fmt, self.filename, self.export_button, self.samp_button])], **kw)
        if table is not None:
            self.set_table(table)

    @property
    def table(self) -> Table | None:
        """The rows to classify (the state's query rows)."""
        return self.state.rows

    def _colour_model(self) -> bool:
        return bool(self.model.value) and pipeline.modality_of(self.model.value) == "colour"

    def _show_model_options(self) -> None:
        """The re-frame choice is shown for the colour models only."""
        self.reframe.layout.display = None if self._colour_model() else "none"

    @property
    def result(self) -> pipeline.Classification | None:
        return self.state.result

    @property
    def archive(self):
        """The archive the rows came from (their products are fetched there), else the one given."""
        from astrohub.vo import Archive

        if self.state.archive is not None:
            return self.state.archive
        self.archive_ = self.archive_ or Archive.local()
        return self.archive_

    def on_result(self, fn) -> None:
        """Call ``fn(classification)`` after each successful classification."""
        self._listeners.append(fn)

    def set_table(self, table: Table) -> None:
        """Rows to classify (as a new query): the previous predictions and their views are cleared."""
        self.state.set_rows(table, archive=self.archive_)

    def _new_rows(self) -> None:
        """New rows: clear every view derived from the previous ones, list the compatible models."""
        table = self.state.rows
        self._clear_views()
        names = self._run("finding models for these rows", lambda: pipeline.compatible_models(table, self.archive))
        if names is None:  # e.g. the archive did not answer: the message is in the status line
            self.model.options = []
            return
        self.model.options = names
        self.model.value = names[0] if names else None
        self._show_model_options()
        if names:
            self.status.value = f"{len(table)} rows; {len(names)} compatible model(s)"
            return
        why = self._run("finding what these rows lack", lambda: pipeline.why_none(table, self.archive))
        if why is not None:  # else the status line already says why the archive did not answer
            self.status.value = _error(ValueError(f"no model applies to these rows: {pipeline.NO_MODEL_HINT} ({why})"))

    def _clear_views(self) -> None:
        self._tiles = {}
        self.badge.value = self.ood_view.value = self.table_view.value = self.gallery_note.value = ""
        self.gallery.children = []
        self.pdf_view.children, self.pdf_rows = [], []
        self.hide_ood.layout.display = self.class_filters.layout.display = self.value_filters.layout.display = "none"

    def run(self) -> pipeline.Classification | None:
        if self.table is None:
            self.status.value = _error(ValueError("no rows yet: run a query first"))
            return None
        model = self.model.value
        if not model:
            self.status.value = _error(ValueError("no compatible model for these rows"))
            return None
        rows = self.table
        reframe = None if self.reframe.value == "auto" else self.reframe.value
        extra = {"reframe": reframe} if self._colour_model() else {}
        result = self._run(f"classifying {len(rows)} rows with {model}",
                           lambda: pipeline.classify(rows, model, self.archive, client=self.client,
                                                    mc_samples=self.mc.value, **extra))
        if result is None:
            return None
        self.state.set_result(result)
        notes = "".join(f"<br><span class='astrohub-note' style='color:#555'>{html.escape(n)}</span>"
                        for n in result.notes)  # what the run did beyond the model's answer (e.g. re-framed stamps)
        self.status.value = (f"<span class='astrohub-ok'>{len(result.table)} rows "
                             f"{'classified' if result.class_names else 'measured'}"
                             f" with {html.escape(model)}{' on the Dask cluster' if result.sharded else ''}</span>"
                             f"{notes}")
        for fn in self._listeners:
            fn(result)
        return result

    def _draw(self) -> None:
        """A new classification: badge, OOD note, filters reset to show everything, gallery tiles."""
        result = self.state.result
        self._clear_views()
        self.badge.value = validation_badge(result)
        self.ood_view.value = ood_note(result)
        self.hide_ood.layout.display = None if result.n_ood else "none"
        classes = bool(result.class_names)
        (self.class_filters.layout.display,
         self.value_filters.layout.display) = (None, "none") if classes else ("none", None)
        self._quiet = True
        try:
            self.cls.options = ["any", *result.class_names]
            self.cls.value, self.min_prob.value, self.hide_ood.value = "any", 0.0, False
            if result.values:
                self.value_col.options = result.values
                self.value_col.value = result.values[0]
                self._value_bounds()
        finally:
            self._quiet = False
        self._make_tiles()
        self._apply_filters()

    def _value_bounds(self, _=None):
        if self.result is None or self.value_col.value not in self.result.table.colnames:
            return
        v = np.asarray(self.result.table[self.value_col.value], dtype=float)
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
        with self.value_range.hold_trait_notifications():  # validates min <= value <= max once, at the end
            self.value_range.min, self.value_range.max = lo, hi
            self.value_range.step = max((hi - lo) / 200, 1e-6)
            self.value_range.value = (lo, hi)

    def _keep(self) -> np.ndarray:
        """One bool per row: passes the class and probability, or value range, filters (and is not
        flagged out of distribution when ``hide_ood`` is ticked)."""
        r = self.result
        t = r.table.copy(copy_data=False)
        t["_row"] = np.arange(len(t))
        if r.class_names:
            out = pipeline.filter_rows(t, None if self.cls.value == "any" else self.cls.value, self.min_prob.value)
        else:
            lo, hi = self.value_range.value
            at_ends = (lo <= self.value_range.min, hi >= self.value_range.max)  # the full range keeps every row,
            out = t if all(at_ends) else pipeline.filter_range(t, self.value_col.value, None if at_ends[0] else lo,
                                                               None if at_ends[1] else hi)  # those without one too
        if self.hide_ood.value and "ood" in out.colnames:
            out = out[~np.asarray(out["ood"], bool)]
        keep = np.zeros(len(t), bool)
        keep[np.asarray(out["_row"], dtype=np.int64)] = True
        return keep

    def _apply_filters(self) -> None:
        if self._quiet or self.result is None:
            return
        self.state.set_keep(self._keep())

    def filtered(self) -> Table:
        """The predictions passing the filters: class and probability, or a value range (regressors);
        without the rows flagged out of distribution when ``hide_ood`` is ticked."""
        return self.state.shown()

    def chosen(self) -> Table:
        """What export and SAMP send: the rows selected in the plots, else every row passing the filters."""
        return self.state.chosen()

    def _columns(self) -> list[str]:
        t, r = self.result.table, self.result
        cols = ["obj_id", "name", "target", "band", "n_files", "ra", "dec", "ood", "pred_class", "pred_prob",
                "pred_uncertainty", "planet_score", "bls_period"]
        cols += [c for v in r.values for c in (v, f"{v}_err")] + ["z_lo68", "z_hi68"]
        cols += [c for c in t.colnames if c.startswith("p_")] + ["ood_reason"]
        return [c for c in dict.fromkeys(cols) if c in t.colnames]

    def refresh(self) -> None:
        """Draw the table, gallery and PDFs again from the state."""
        self._update_view()

    def _update_view(self) -> None:
        if self.result is None:
            return
        shown = self.state.shown_indices()
        selected = set(self.state.selection)
        self.table_view.value = table_html(self.result.table[shown][self._columns()],
                                           highlight={k for k, i in enumerate(shown) if i in selected})
        chosen = [int(i) for i in self.state.chosen_indices()]
        tiles = [self._tiles[i] for i in chosen if i in self._tiles]
        self.gallery.children = tiles
        if self._tiles and not tiles:
            self.gallery_note.value = (f"<span class='astrohub-gallery-note' style='color:#666'>none of the "
                                       f"{len(self._tiles)} rows in the gallery passes the filters or is "
                                       "selected</span>")
        else:
            self.gallery_note.value = ""
        if self.result.has_pdfs and chosen[:8] != self.pdf_rows:
            self.show_pdfs(chosen[:8])

    def _caption(self, i: int) -> str:
        t = self.result.table
        if self.result.class_names:
            return f"{t['pred_class'][i]} p={t['pred_prob'][i]:.2f}"
        v = self.result.values[0]
        err = f"±{t[f'{v}_err'][i]:.3g}" if f"{v}_err" in t.colnames else ""
        return f"{v}={t[v][i]:.4g}{err}"

    def _tile(self, i: int, png: bytes, caption: str | None) -> w.VBox:
        """Thumbnail ``png`` of row ``i`` over its caption; an out-of-distribution row gets a marker
        (tooltip: the reason) and the ``astrohub-ood`` class."""
        t = self.result.table
        flagged = "ood" in t.colnames and bool(t["ood"][i])
        text = html.escape(caption) if caption else ""
        if flagged:
            reason = str(t["ood_reason"][i]) or "out of distribution"
            text += (f" <span class='astrohub-ood' style='color:#b35900;font-weight:600' "
                     f"title='{html.escape(reason)}'>{OOD_MARK} OOD</span>")
        tile = w.VBox([w.Image(value=png, format="png"), w.HTML(f"<span class='astrohub-caption'>{text}</span>")])
        tile.add_class(f"astrohub-tile-{self.result.modality}")
        if flagged:
            tile.add_class("astrohub-ood")
            tile.layout.border = "2px solid #f0a500"
        return tile

    def _make_tiles(self) -> None:
        r = self.result
        self._tiles = {}
        if r.images is not None:
            for i in range(len(r.images)):
                png = thumbnail(r.images[i], r.saliency[i] if r.saliency is not None else None)
                self._tiles[i] = self._tile(i, png, self._caption(i))
        for i, (x, y) in enumerate(r.series or []):
            sal = r.series_saliency[i] if r.series_saliency is not None else None
            png = series_thumbnail(x, y, sal, *r.series_axes, title=self._caption(i))
            self._tiles[i] = self._tile(i, png, None)

    def show_pdfs(self, rows) -> None:
        """Plot the redshift PDFs of ``rows`` (indices into the result) when the model gives PDFs."""
        r = self.result
        rows = [int(i) for i in rows]
        if r is None or not r.has_pdfs or not rows:
            self.pdf_view.children, self.pdf_rows = [], []
            return
        self.pdf_rows = rows
        t = r.table
        rows = [i for i in rows if np.isfinite(t[r.values[0]][i])]  # rows that were not estimated have no PDF
        if not rows:
            self.pdf_view.children = []
            return
        grid, pdfs = r.pdfs(rows)
        labels = [f"obj {t['obj_id'][i]}" if "obj_id" in t.colnames else str(t["name"][i]) if "name" in t.colnames
                  else f"row {i}" for i in rows]
        truths = [float(t["redshift"][i]) for i in rows] if "redshift" in t.colnames else None
        from jupyter_bokeh.widgets import BokehModel

        self.pdf_view.children = [BokehModel(plots.pdf_plot(grid, pdfs, labels, truths))]

    def export(self) -> Path | None:
        """Write the rows selected in the plots, else every row passing the filters."""
        if self.result is None:
            self.status.value = _error(ValueError("nothing to export yet: classify first"))
            return None
        path = Path(self.filename.value).with_suffix(pipeline.FORMATS[self.fmt.value])
        rows = self.chosen()
        out = self._run(f"writing {path}", lambda: pipeline.export(rows, path, self.fmt.value))
        if out is not None:
            self.status.value = f"<span class='astrohub-ok'>wrote {len(rows)} rows to {html.escape(str(out))}</span>"
        return out

    def send_samp(self) -> None:
        if self.result is None:
            self.status.value = _error(ValueError("nothing to send yet: classify first"))
            return
        url = self._run("sending over SAMP", lambda: pipeline.send_samp(self.chosen()))
        if url is not None:
            self.status.value = f"<span class='astrohub-ok'>sent {html.escape(url)}</span>"


class Explorer(w.VBox):
    """QueryPanel and ClassifyPanel on one :class:`~.state.PanelState`: query rows feed the classifier,
    predictions colour the plots, the class filters apply to the plots, and points selected in the plots
    are the rows in ``explorer.selected`` (and what the gallery shows and export writes)."""

    def __init__(self, archive=None, client=None, **kw):
        self.state = PanelState()
        self.query = QueryPanel(archive, state=self.state)
        self.classify = ClassifyPanel(archive=archive, client=client, state=self.state)
        self.selection = w.HTML()
        self.sky = SkyPanel(self.state)  # Aladin Lite view of the rows, coloured by prediction
        self.state.on("rows", self._show_selection)
        self.state.on("result", self._show_selection)
        self.state.on("view", self._show_selection)
        super().__init__([self.query, self.classify, self.sky, self.selection], **kw)
        self.add_class("astrohub-explorer")  # one handle on the page for the whole panel (styles, scripts, tests)

    @property
    def selected(self) -> Table | None:
        """The rows selected in the plots (None before any selection)."""
        return self.state.table[self.state.selection] if self.state.selection else None

    def _show_selection(self) -> None:
        n = len(self.state.selection)
        self.selection.value = f"<span class='astrohub-selection'>{n} row(s) selected</span>" if n else ""

    def select(self, indices) -> Table:
        """Select rows (as the plots' selection does); returns them."""
        self.state.select(indices)
        return self.state.table[self.state.selection]
