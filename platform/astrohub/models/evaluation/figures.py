"""Figures of an evaluation on a user's labelled table (`astrohub eval NAME --table FILE --plot PNG`): what a person
would rather look at than read. Matplotlib's object API only (no pyplot: no global state, no GUI backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def confusion_png(path: str | Path, confusion, class_names, title: str) -> Path:
    """The confusion matrix (rows: the table's labels, columns: the model's classes) as counts, shaded by the
    fraction of each true class, with each class's recall on its row label."""
    from matplotlib.figure import Figure

    cm = np.asarray(confusion, dtype=float)
    frac = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    k = len(class_names)
    fig = Figure(figsize=(max(5.0, 1.6 + 1.1 * k), 1.4 + 0.9 * k), dpi=100)
    ax = fig.add_subplot()
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=9,
                    color="white" if frac[i, j] > 0.6 else "black")
    recall = [f"{c}\n({frac[i, i]:.0%})" if cm[i].sum() else f"{c}\n(none)" for i, c in enumerate(class_names)]
    ax.set_xticks(range(k), class_names, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(k), recall, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("label (recall)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def photoz_png(path: str | Path, z_true, z_phot, pit, title: str) -> Path:
    """Photometric against spectroscopic redshift with the |dz|/(1+z) = 0.15 outlier limits, and the PIT
    histogram (flat when the PDFs are calibrated)."""
    from matplotlib.figure import Figure

    z_true, z_phot = np.asarray(z_true, float), np.asarray(z_phot, float)
    fig = Figure(figsize=(8.0, 3.6), dpi=100)
    ax, hx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    top = float(max(np.nanmax(z_true), np.nanmax(z_phot), 0.1)) * 1.05
    grid = np.linspace(0, top, 50)
    ax.plot(grid, grid, color="black", linewidth=0.8)
    for s in (1, -1):
        ax.plot(grid, grid + s * 0.15 * (1 + grid), color="#d62728", linewidth=0.8, linestyle="--")
    ax.scatter(z_true, z_phot, s=4, alpha=0.6)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("z (table)")
    ax.set_ylabel("z_phot (PDF mode)")
    ax.set_title(title, fontsize=9)
    hx.hist(np.asarray(pit, float), bins=20, range=(0, 1), color="#1f77b4")
    hx.axhline(len(pit) / 20, color="black", linewidth=0.8)
    hx.set_xlabel("PIT")
    hx.set_ylabel("objects")
    hx.set_title("PIT (flat: calibrated PDFs)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)
