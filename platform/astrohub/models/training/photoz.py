"""Training of the photo-z mixture density network (``photoz_mdn``) on the engine."""

from __future__ import annotations

import numpy as np

from ..datasets import series_inputs
from ..evaluation import series_metrics as SM
from ..evaluation.baselines import baseline_features
from ..evaluation.series_metrics import Z_GRID
from ..inputs import series as P
from ..nets import series as series_nets
from ..recipes import Recipe
from .engine import Options
from .series import fit_arrays, forest, inputs_card, mdn_loss, run, series_card


def train_photoz(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """The photo-z mixture density network from its recipe."""
    return run(fit_photoz, spec, opts)


def fit_photoz(spec, data, sizes, kw):
    tr, va, te = data
    f = P.photometry_features(tr["mags"].astype(np.float64), tr["errors"].astype(np.float64))
    norm = {"mean": f.mean(0).tolist(), "std": f.std(0).tolist()}
    xs = [series_inputs("photoz", d, norm) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit_arrays(net, xs[0], tr["redshift"].astype(np.float32), xs[1], va["redshift"].astype(np.float32),
                     mdn_loss, **kw)
    net.load_state_dict(state)
    inputs = inputs_card(spec, {"shape": [5], "bands": ["u", "g", "r", "i", "z"], "columns":
                                 [f"mag_{b}" for b in "ugriz"] + [f"err_{b}" for b in "ugriz"], "units": "AB mag",
                                 "normalisation": {"features": "r, u-g, g-r, r-i, i-z, log10(err_ugriz)", **norm}})
    card = series_card(spec, sizes, inputs, {"pdf": "gaussian mixture", "components": spec.arch["k"], "z_max": 4.0})
    from ..predictors.photoz import PhotoZ

    pz = PhotoZ(card, state, "cpu")
    res = pz.predict(te["mags"], te["errors"])
    z = te["redshift"].astype(np.float64)
    m = {"split": "test", "point_estimate": "PDF mode", **SM.pdf_report(Z_GRID, res.cdf(Z_GRID), res.z_mode, z)}
    cdf = res.cdf(Z_GRID)
    m["by_class"] = {c: SM.pdf_report(Z_GRID, cdf[te["labels"] == i], res.z_mode[te["labels"] == i],
                                      z[te["labels"] == i]) for i, c in enumerate(["star", "galaxy", "qso"])}
    extragal = te["labels"] > 0
    m["galaxies_and_qsos"] = SM.pdf_report(Z_GRID, cdf[extragal], res.z_mode[extragal], z[extragal])
    card["metrics"], card["training"]["log"] = m, log
    card["baseline"] = photoz_baselines(tr, te, spec.seed)
    return card, state


def photoz_baselines(tr, te, seed, k=30) -> dict:
    """Random-forest point estimates and k-NN PDFs (Gaussian KDE of the neighbours' redshifts)."""
    from sklearn.neighbors import KNeighborsRegressor

    ftr, fte = baseline_features("photoz", tr), baseline_features("photoz", te)
    mu, sd = ftr.mean(0), ftr.std(0)
    z, zt = tr["redshift"].astype(np.float64), te["redshift"].astype(np.float64)
    rf = forest(True, seed).fit(ftr, z)
    knn = KNeighborsRegressor(k).fit((ftr - mu) / sd, z)
    idx = knn.kneighbors((fte - mu) / sd, return_distance=False)
    nz = z[idx]
    bw = np.maximum(0.5 * nz.std(1, keepdims=True) * k ** -0.2, 0.005)
    from scipy.special import ndtr

    cdf = np.stack([ndtr((Z_GRID[None] - nz[i][:, None]) / bw[i]).mean(0) for i in range(len(nz))])
    eg = te["labels"] > 0
    zrf = rf.predict(fte)
    return {"method": "random forest (200 trees) and k-NN (k=30, Gaussian KDE PDF) on the same features",
            "random_forest": SM.point_metrics(zt, zrf), "knn": SM.pdf_report(Z_GRID, cdf, np.median(nz, 1), zt),
            "galaxies_and_qsos": {"random_forest": SM.point_metrics(zt[eg], zrf[eg]),
                                  "knn": SM.pdf_report(Z_GRID, cdf[eg], np.median(nz[eg], 1), zt[eg])}}
