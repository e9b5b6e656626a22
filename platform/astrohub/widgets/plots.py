"""Bokeh views of a result: sky positions and a colour-magnitude diagram, sharing one selection.

Values from the archive reach the plots only as data (legend labels and hover fields, which BokehJS
renders as text): no tooltip template uses ``{safe}`` and no label is HTML."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from bokeh.layouts import row
from bokeh.models import CDSView, ColumnDataSource, HoverTool, IndexFilter
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

TOOLS = "pan,wheel_zoom,box_select,lasso_select,tap,reset"
NO_CLASS = "no class"  # the legend entry of rows without a class name (never an empty label)
__all__ = ["source_for", "result_plots", "pdf_plot", "tooltips", "IndexFilter", "NO_CLASS"]


def source_for(table: Table) -> ColumnDataSource:
    """Columns the plots use: ra, dec, r, g-r (when present), predicted class and colour."""
    data = {"row": np.arange(len(table))}
    if "obj_id" in table.colnames:
        data["obj_id"] = [str(v) for v in table["obj_id"]]
    for c in ("ra", "dec", "mag_r"):
        if c in table.colnames:
            data[c] = np.asarray(table[c], dtype=float)
    if "mag_g" in table.colnames and "mag_r" in table.colnames:
        data["g_r"] = np.asarray(table["mag_g"], dtype=float) - np.asarray(table["mag_r"], dtype=float)
    col = "pred_class" if "pred_class" in table.colnames else "class_name" if "class_name" in table.colnames else None
    if col is None:
        labels = np.full(len(table), NO_CLASS, dtype=object)
    else:
        values = table[col]
        masked = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else np.zeros(len(table), bool)
        labels = np.array([NO_CLASS if m or not str(v).strip() else str(v) for v, m in zip(values, masked)],
                          dtype=object)
    names = sorted(set(labels))
    data["label"] = labels
    data["color"] = [Category10_10[names.index(x) % 10] for x in labels]
    return ColumnDataSource(data)


def tooltips(source: ColumnDataSource) -> list[tuple[str, str]]:
    """Hover fields as (label, @field) pairs: BokehJS escapes field values unless a template says {safe}."""
    tips = [("object", "@obj_id")] if "obj_id" in source.data else [("row", "@row")]
    return tips + [("class", "@label")]


def result_plots(source: ColumnDataSource, shown: IndexFilter | None = None):
    """Sky (ra/dec) and colour-magnitude (g-r vs r) scatter plots on one source (linked selection);
    only the rows in ``shown`` (an IndexFilter the caller updates: the panels' filters) are drawn."""
    view = CDSView(filter=shown) if shown is not None else CDSView()
    figs = []
    if "ra" in source.data:
        sky = figure(width=360, height=300, title="sky", tools=TOOLS, x_axis_label="RA [deg]",
                     y_axis_label="Dec [deg]", name="astrohub-sky")
        sky.x_range.flipped = True
        legend = {"legend_field": "label"} if set(source.data["label"]) != {NO_CLASS} else {}
        sky.scatter("ra", "dec", source=source, view=view, color="color", size=6, alpha=0.8, **legend)
        figs.append(sky)
    if "g_r" in source.data:
        cmd = figure(width=360, height=300, title="colour-magnitude", tools=TOOLS, x_axis_label="g - r",
                     y_axis_label="r [mag]", name="astrohub-cmd")
        cmd.y_range.flipped = True
        cmd.scatter("g_r", "mag_r", source=source, view=view, color="color", size=6, alpha=0.8)
        figs.append(cmd)
    for f in figs:
        f.add_tools(HoverTool(tooltips=tooltips(source)))
        if f.legend:
            f.legend.label_text_font_size = "8pt"
            f.legend.location = "top_left"
    return row(*figs) if figs else None


MAX_PDFS = 5  # curves in one PDF figure: more are not told apart at a glance


def pdf_plot(grid: np.ndarray, pdfs: np.ndarray, labels: list[str], truths: list[float] | None = None,
             max_curves: int = MAX_PDFS):
    """Redshift PDFs, legible at a glance: at most ``max_curves`` (the first), each labelled with its
    photo-z (PDF peak) and, when ``truths`` are known, its true redshift, drawn as a dashed line of the same
    colour; the z axis spans where the PDFs and true values lie, not the model's whole grid."""
    grid = np.asarray(grid, dtype=float)
    pdfs = np.atleast_2d(np.asarray(pdfs, dtype=float))
    n = min(len(pdfs), max_curves)
    more = f" · first {n} of {len(pdfs)} shown" if len(pdfs) > n else ""
    known = truths is not None and any(np.isfinite(truths[k]) for k in range(n))
    peaks = [float(grid[np.argmax(pdfs[k])]) for k in range(n)]
    # x range: where any shown PDF exceeds 1% of its peak, and every true z, with a margin
    lo, hi = [], []
    for k in range(n):
        above = grid[pdfs[k] >= 0.01 * pdfs[k].max()] if pdfs[k].max() > 0 else grid
        lo.append(above.min())
        hi.append(above.max())
        if known and np.isfinite(truths[k]):
            lo.append(truths[k])
            hi.append(truths[k])
    x0, x1 = (min(lo), max(hi)) if lo else (grid.min(), grid.max())
    pad = 0.08 * max(x1 - x0, 0.05)
    x0, x1 = max(grid.min(), x0 - pad), min(grid.max(), x1 + pad)
    ymax = float(pdfs[:n].max()) if n else 1.0
    fig = figure(width=980, height=340, title="photo-z PDFs" + (" · dashed line: true (spectroscopic) z" if known
                                                                 else "") + more,
                 x_axis_label="redshift z", y_axis_label="probability density p(z)", x_range=(x0, x1),
                 y_range=(0, 1.12 * ymax), tools="pan,wheel_zoom,reset,save", name="astrohub-pdfs")
    for k in range(n):
        color = Category10_10[k % 10]
        truth = f", true z {truths[k]:.3f}" if known and np.isfinite(truths[k]) else ""
        fig.line(grid, pdfs[k], color=color, line_width=2.5, legend_label=f"{labels[k]}: z_phot {peaks[k]:.3f}{truth}")
        if known and np.isfinite(truths[k]):
            fig.line([truths[k]] * 2, [0, 1.05 * ymax], color=color, line_dash="dashed", line_width=2)
    fig.title.text_font_size = "13pt"
    for ax in (fig.xaxis, fig.yaxis):
        ax.axis_label_text_font_size = "12pt"
        ax.major_label_text_font_size = "11pt"
    if n:
        fig.legend.label_text_font_size = "11pt"
        fig.legend.click_policy = "hide"
        fig.add_layout(fig.legend[0], "right")  # beside the plot: it never hides a curve
    return fig
