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


def pdf_plot(grid: np.ndarray, pdfs: np.ndarray, labels: list[str], truths: list[float] | None = None):
    """Redshift PDFs (one line per object), with dashed markers at known redshifts ``truths``."""
    fig = figure(width=720, height=260, title="photo-z PDFs" + (" (dashed: catalogue z)" if truths else ""),
                 x_axis_label="z", y_axis_label="p(z)", tools="pan,wheel_zoom,reset", name="astrohub-pdfs")
    for k, (pdf, label) in enumerate(zip(pdfs, labels)):
        color = Category10_10[k % 10]
        fig.line(grid, pdf, color=color, legend_label=label, line_width=1.5)
        if truths is not None and np.isfinite(truths[k]):
            fig.line([truths[k]] * 2, [0, float(pdf.max())], color=color, line_dash="dashed")
    fig.legend.label_text_font_size = "8pt"
    fig.legend.click_policy = "hide"
    return fig
