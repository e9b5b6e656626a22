"""Recipes, training and evaluation of the 1-D models (`astrohub train|eval transit_vetter` ...).

Train / validation / test sets come from disjoint simulator seeds (seed*100 + 1/2/3); early
stopping and temperature calibration use validation only; the test split is touched once, at
the end, to fill the card together with a classical baseline fitted on the same training set.
"""

from __future__ import annotations

import copy
import math
import platform as _platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import series_metrics as SM
from . import series_nets
from . import series_prep as P
from .metrics import classification_report
from .registry import ZOO
from .series_data import simulate

VERSION = "1.0.0"
FRESH_SEED_OFFSET = 7
STELLAR_NAMES = ["teff", "logg", "feh"]
Z_GRID = np.linspace(-0.05, 4.0, 810)


@dataclass(frozen=True)
class SeriesSpec:
    """Everything needed to rebuild one 1-D model from its seed."""

    name: str
    task: str
    kind: str
    arch: dict
    n_train: int
    n_val: int
    n_test: int
    seed: int
    epochs: int = 20
    batch: int = 128
    lr: float = 2e-3
    patience: int = 5
    description: str = ""
    targets: dict = field(default_factory=dict)

    def split_seeds(self) -> dict[str, int]:
        return {"train": self.seed * 100 + 1, "val": self.seed * 100 + 2, "test": self.seed * 100 + 3}

    def fresh_seed(self) -> int:
        return self.seed * 100 + FRESH_SEED_OFFSET


SERIES_SPECS = {s.name: s for s in [
    SeriesSpec("transit_vetter", "transit", "lightcurve-classifier",
               {"net": "transit", "in_ch": 4, "n_scalars": 6, "n_out": 4, "widths": [16, 32, 64], "hidden": 128,
                "dropout": 0.3},
               n_train=5000, n_val=800, n_test=2000, seed=1, epochs=30, batch=64,
               description="Exoplanet transit vetting on 27-day light curves: BLS ephemeris, AstroNet-style "
                           "global + local folded views; planet-transit vs eclipsing-binary / variable / noise.",
               targets={"auc": 0.99}),
    SeriesSpec("spectral_class", "spectral_class", "spectrum-classifier",
               {"net": "spectrum", "in_ch": 1, "n_out": 3, "widths": [16, 32, 64], "hidden": 128,
                "dropout": 0.2},
               n_train=6000, n_val=1000, n_test=2000, seed=2, epochs=12,
               description="Star / galaxy / QSO classification of 1-D spectra (3800-9200 A, 1024 log-pixels) "
                           "at any redshift and S/N 5-40.",
               targets={"accuracy": 0.98}),
    SeriesSpec("photoz_mdn", "photoz", "photoz-mdn",
               {"net": "mdn", "n_in": 10, "hidden": [128, 128, 128], "k": 6},
               n_train=20000, n_val=2000, n_test=4000, seed=3, epochs=150, batch=256, lr=1e-3, patience=25,
               description="Photometric redshift PDFs (6-component Gaussian mixture density network) from "
                           "ugriz magnitudes and errors of stars, galaxies and QSOs.",
               targets={}),
    SeriesSpec("stellar_params", "stellar_params", "spectrum-regressor",
               {"net": "spectrum", "in_ch": 1, "n_out": 6, "widths": [16, 32, 64], "hidden": 128,
                "dropout": 0.0, "coarse": 64},
               n_train=20000, n_val=1000, n_test=2000, seed=4, epochs=25, lr=1e-3, patience=8,
               description="Stellar Teff, log g and [Fe/H] from 1-D spectra with per-object Gaussian "
                           "(heteroscedastic) 1-sigma uncertainties.",
               targets={}),
]}


def get_series_spec(name: str) -> SeriesSpec:
    if name not in SERIES_SPECS:
        import difflib

        close = difflib.get_close_matches(name, SERIES_SPECS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown 1-D model {name!r}{hint}; known: {', '.join(SERIES_SPECS)}")
    return SERIES_SPECS[name]


# ----------------------------------------------------------------------------- inputs
def inputs_of(task: str, d: dict, norm: dict | None = None) -> tuple:
    """Network input arrays of a simulated set ``d``."""
    if task == "transit":
        return d["global"], d["local"], d["scalars"]
    if task == "photoz":
        f = P.photometry_features(d["mags"].astype(np.float64), d["errors"].astype(np.float64))
        return ((f - np.array(norm["mean"])) / np.array(norm["std"])).astype(np.float32),
    return P.spectrum_input(d["flux"].astype(np.float64)),


def stellar_targets(d: dict) -> np.ndarray:
    return np.stack([d[k] for k in STELLAR_NAMES], 1).astype(np.float64)


# ----------------------------------------------------------------------------- loop
def fit(net, train_x, train_y, val_x, val_y, loss_fn, *, epochs, lr, batch, patience, max_minutes=None,
        augment=None, seed=0, progress=False):
    """AdamW + cosine schedule with early stopping on validation loss; returns (best state, log)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    n = len(train_y)
    steps = epochs * math.ceil(n / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.15)
    tx = [torch.from_numpy(np.ascontiguousarray(a)) for a in train_x]
    ty = torch.from_numpy(np.ascontiguousarray(train_y))
    vx = [torch.from_numpy(np.ascontiguousarray(a)) for a in val_x]
    vy = torch.from_numpy(np.ascontiguousarray(val_y))
    best, best_state, bad, log, t0 = float("inf"), None, 0, [], time.time()
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = [a[idx] for a in tx]
            if augment is not None:
                xb = augment(xb, g)
            loss = loss_fn(net, xb, ty[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        net.eval()
        with torch.no_grad():
            vl = sum(float(loss_fn(net, [a[i:i + 1024] for a in vx], vy[i:i + 1024])) * len(vy[i:i + 1024])
                     for i in range(0, len(vy), 1024)) / len(vy)
        log.append({"epoch": ep + 1, "train_loss": round(tot / n, 5), "val_loss": round(vl, 5)})
        if progress:
            print(f"epoch {ep + 1}: train {tot / n:.4f} val {vl:.4f} ({time.time() - t0:.0f}s)", flush=True)
        if vl < best - 1e-4:
            best, best_state, bad = vl, copy.deepcopy(net.state_dict()), 0
        else:
            bad += 1
            if bad >= patience:
                break
        if max_minutes and time.time() - t0 > 60 * max_minutes:
            break
    return best_state or net.state_dict(), log


def _ce(net, xb, yb):
    return F.cross_entropy(net(*xb), yb)


def _gauss_nll(net, xb, yb, beta=0.5):
    """Gaussian NLL weighted by sigma^(2 beta) (beta-NLL, Seitzer et al. 2022): keeps hard
    objects from being given up on through large sigmas early in training."""
    o = net(*xb)
    k = yb.shape[1]
    mu, log_s = o[:, :k], o[:, k:].clamp(-6, 3)
    nll = 0.5 * ((yb - mu) / log_s.exp()) ** 2 + log_s
    return (nll * (2 * beta * log_s).exp().detach()).sum(1).mean()


def _mdn_loss(net, xb, yb):
    return series_nets.mdn_nll(*net(*xb), yb)


def _flip(xb, g):
    """Time reversal of the light-curve views (a physical symmetry of the classes)."""
    if torch.rand(1, generator=g) < 0.5:
        return [xb[0].flip(-1), xb[1].flip(-1), xb[2]]
    return xb


def fit_temperature(logits: torch.Tensor, y: np.ndarray) -> float:
    """Temperature minimising the validation NLL (grid search)."""
    yt = torch.from_numpy(np.asarray(y))
    grid = np.exp(np.linspace(np.log(0.3), np.log(5), 60))
    nll = [float(F.cross_entropy(logits / T, yt)) for T in grid]
    return float(grid[int(np.argmin(nll))])


def _logits(net, xs, bs=1024):
    net.eval()
    with torch.no_grad():
        return torch.cat([net(*[torch.from_numpy(np.ascontiguousarray(a[i:i + bs])) for a in xs])
                          for i in range(0, len(xs[0]), bs)])


# ----------------------------------------------------------------------------- baselines
def baseline_features(task: str, d: dict) -> np.ndarray:
    """Features of the classical baselines: light curves -> binned views + BLS scalars; spectra ->
    the normalised spectrum averaged into 128 bins; photometry -> colours, r and errors."""
    if task == "transit":
        g = d["global"][:, :, :].reshape(len(d["global"]), 4, 32, 8).mean(3).reshape(len(d["global"]), -1)
        loc = d["local"].reshape(len(d["local"]), 4, 16, 4).mean(3).reshape(len(d["local"]), -1)
        return np.concatenate([g, loc, d["scalars"]], 1)
    if task == "photoz":
        return P.photometry_features(d["mags"].astype(np.float64), d["errors"].astype(np.float64))
    x = P.spectrum_input(d["flux"].astype(np.float64))[:, 0]
    return x.reshape(len(x), 128, -1).mean(2)


def _forest(reg: bool, seed: int):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestRegressor if reg else RandomForestClassifier
    return cls(n_estimators=200, min_samples_leaf=2, n_jobs=2, random_state=seed)


# ----------------------------------------------------------------------------- per-kind training
def _card(spec: SeriesSpec, sizes, inputs: dict, outputs: dict) -> dict:
    return {"name": spec.name, "version": VERSION, "kind": spec.kind, "task": spec.task,
            "description": spec.description, "inputs": inputs, "outputs": outputs, "arch": dict(spec.arch),
            "training": {"simulator": f"astrohub.sims ({spec.task})", "seed": spec.seed,
                         "split_seeds": spec.split_seeds(), "n_train": sizes[0], "n_val": sizes[1],
                         "n_test": sizes[2]},
            "targets": dict(spec.targets), "metrics": {}, "baseline": {}, "weights": {}}


def _inputs_card(spec: SeriesSpec, extra: dict) -> dict:
    base = {"pixel_scale_arcsec": None, "bands": [], "units": "", "normalisation": ""}
    base.update(extra)
    return base


def _classifier(spec, data, sizes, kw):
    tr, va, te = data
    xs = [inputs_of(spec.task, d) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit(net, xs[0], tr["labels"], xs[1], va["labels"], _ce, augment=_flip if spec.task == "transit"
                     else None, **kw)
    net.load_state_dict(state)
    T = fit_temperature(_logits(net, xs[1]), va["labels"])
    p = F.softmax(_logits(net, xs[2]) / T, 1).numpy().astype(np.float64)
    from ..sims.lightcurves import CLASS_NAMES as LC
    from ..sims.spectra import CLASS_NAMES as SP

    classes = LC if spec.task == "transit" else SP
    m = {"split": "test", **classification_report(te["labels"], p, classes)}
    rf = _forest(False, spec.seed).fit(baseline_features(spec.task, tr), tr["labels"])
    pb = rf.predict_proba(baseline_features(spec.task, te))
    b = {"method": "random forest (200 trees) on " + ("binned folded views + BLS scalars" if spec.task == "transit"
                                                      else "the normalised spectrum in 128 bins"),
         "metrics": classification_report(te["labels"], pb, classes)}
    if spec.task == "transit":
        m["vetting"] = SM.vetting_report(te["labels"] == 0, p[:, 0])
        b["metrics"]["vetting"] = SM.vetting_report(te["labels"] == 0, pb[:, 0])
        inputs = _inputs_card(spec, {"shape": [1000], "columns": ["TIME", "FLUX"], "units": "TIME in days, FLUX "
                                     "relative or any linear unit", "min_points": 100, "normalisation":
                                     "flux / median - 1, 2.5-d running median removed, BLS fold; views in noise "
                                     "units and relative flux (arcsinh)", "global_bins": P.GLOBAL_BINS,
                                     "local_bins": P.LOCAL_BINS})
    else:
        w = tr["wave"]
        inputs = _inputs_card(spec, {"shape": [1, int(len(w))], "columns": ["WAVE", "FLUX"], "wave_min": float(w[0]),
                                     "wave_max": float(w[-1]), "units": "WAVE in Angstrom (log-linear grid), FLUX "
                                     "any linear f_lambda unit", "normalisation": "arcsinh(flux / median |flux|)"})
    card = _card(spec, sizes, inputs, {"classes": list(classes), "mc_samples": 20})
    card["calibration"] = {"temperature": T, "fit_on": "validation"}
    card["metrics"], card["baseline"], card["training"]["log"] = m, b, log
    return card, state


def _photoz(spec, data, sizes, kw):
    tr, va, te = data
    f = P.photometry_features(tr["mags"].astype(np.float64), tr["errors"].astype(np.float64))
    norm = {"mean": f.mean(0).tolist(), "std": f.std(0).tolist()}
    xs = [inputs_of("photoz", d, norm) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit(net, xs[0], tr["redshift"].astype(np.float32), xs[1], va["redshift"].astype(np.float32),
                     _mdn_loss, **kw)
    net.load_state_dict(state)
    inputs = _inputs_card(spec, {"shape": [5], "bands": ["u", "g", "r", "i", "z"], "columns":
                                 [f"mag_{b}" for b in "ugriz"] + [f"err_{b}" for b in "ugriz"], "units": "AB mag",
                                 "normalisation": {"features": "r, u-g, g-r, r-i, i-z, log10(err_ugriz)", **norm}})
    card = _card(spec, sizes, inputs, {"pdf": "gaussian mixture", "components": spec.arch["k"], "z_max": 4.0})
    from .series import PhotoZ

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
    rf = _forest(True, seed).fit(ftr, z)
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


def _stellar(spec, data, sizes, kw):
    tr, va, te = data
    y = [stellar_targets(d) for d in data]
    mu, sd = y[0].mean(0), y[0].std(0)
    ys = [((a - mu) / sd).astype(np.float32) for a in y]
    xs = [inputs_of(spec.task, d) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit(net, xs[0], ys[0], xs[1], ys[1], _gauss_nll, **kw)
    w = tr["wave"]
    inputs = _inputs_card(spec, {"shape": [1, int(len(w))], "columns": ["WAVE", "FLUX"], "wave_min": float(w[0]),
                                 "wave_max": float(w[-1]), "units": "WAVE in Angstrom, FLUX any linear unit",
                                 "normalisation": "arcsinh(flux / median |flux|)"})
    card = _card(spec, sizes, inputs, {"parameters": STELLAR_NAMES, "units": ["K", "dex (cgs)", "dex"],
                                       "mean": mu.tolist(), "std": sd.tolist(), "uncertainty": "Gaussian 1-sigma"})
    from .series import StellarParams

    res = StellarParams(card, state, "cpu").predict(te["flux"])
    m = {"split": "test", **SM.regression_report(y[2], res.values, res.sigmas, STELLAR_NAMES)}
    rf = _forest(True, spec.seed).fit(baseline_features(spec.task, tr), y[0])
    b = {"method": "random forest (200 trees) on the normalised spectrum in 128 bins",
         "metrics": SM.regression_report(y[2], rf.predict(baseline_features(spec.task, te)), None, STELLAR_NAMES)}
    card["metrics"], card["baseline"], card["training"]["log"] = m, b, log
    return card, state


# ----------------------------------------------------------------------------- entry points
def train_series(name: str, out_dir: str | Path | None = None, *, epochs: int | None = None,
                 n_train: int | None = None, n_val: int | None = None, n_test: int | None = None,
                 threads: int | None = None, max_minutes: float | None = None, progress: bool = True,
                 workers: int = 1, **_) -> dict:
    """Train 1-D model ``name`` from its recipe; write weights + card to ``out_dir`` (default: the
    packaged zoo) and return the card. Smaller ``n_*``/``epochs`` give quick smoke runs."""
    spec = get_series_spec(name)
    if threads:
        torch.set_num_threads(int(threads))
    sizes = (n_train or spec.n_train, n_val or spec.n_val, n_test or spec.n_test)
    t0 = time.time()
    s = spec.split_seeds()
    data = [simulate(spec.task, n, s[k], workers=workers) for k, n in zip(("train", "val", "test"), sizes)]
    torch.manual_seed(spec.seed)
    kw = {"epochs": epochs or spec.epochs, "lr": spec.lr, "batch": spec.batch, "patience": spec.patience,
          "max_minutes": max_minutes, "seed": spec.seed, "progress": progress}
    fn = {"lightcurve-classifier": _classifier, "spectrum-classifier": _classifier, "photoz-mdn": _photoz,
          "spectrum-regressor": _stellar}[spec.kind]
    card, state = fn(spec, data, list(sizes), kw)
    card["training"].update({"epochs_run": len(card["training"]["log"]), "wall_time_s": round(time.time() - t0, 1),
                             "device": "cpu", "torch": torch.__version__, "threads": torch.get_num_threads(),
                             "machine": _platform.processor() or _platform.machine()})
    from .train import write_model

    return write_model(card, state, Path(out_dir) if out_dir else ZOO / name)


def headline(card: dict) -> str:
    """One-line summary of a 1-D card's held-out metrics (for `astrohub models`)."""
    m = card["metrics"]
    if card["kind"] == "lightcurve-classifier":
        return f"planet AUC {m['vetting']['auc']:.4f}, 4-class acc {m['accuracy']:.4f}"
    if card["kind"] == "spectrum-classifier":
        return f"acc {m['accuracy']:.4f} AUC {m['auc']:.4f} ECE {m['ece']:.4f}"
    if card["kind"] == "photoz-mdn":
        return f"sigma_NMAD {m['sigma_nmad']:.4f}, outliers {m['outlier_fraction']:.3f}, CRPS {m['crps']:.4f}"
    return ", ".join(f"{k} RMSE {m[k]['rmse']:.3g}" for k in STELLAR_NAMES)


def evaluate_series(name: str, n: int = 1000, seed: int | None = None, model=None) -> dict:
    """Card metrics next to the metrics of the shipped weights on a fresh simulated set (seed
    disjoint from train/val/test unless given)."""
    from .registry import load

    spec = get_series_spec(name)
    model = model or load(name, device="cpu")
    seed = spec.fresh_seed() if seed is None else int(seed)
    res = {"name": name, "card": model.card["metrics"], "baseline": model.card["baseline"]}
    if n:
        d = simulate(spec.task, n, seed, cache=False)
        res["fresh"] = {"seed": seed, **metrics_on(model, spec.task, d)}
    return res


def metrics_on(model, task: str, d: dict) -> dict:
    """Metrics of a loaded 1-D ``model`` on simulated arrays ``d`` of its task."""
    if task == "transit":
        pr = model.predict_features(d["global"], d["local"], d["scalars"], mc_samples=0)
        return {**classification_report(d["labels"], pr.probabilities, model.class_names),
                "vetting": SM.vetting_report(d["labels"] == 0, pr.planet_score)}
    if task == "spectral_class":
        return classification_report(d["labels"], model.predict_proba(d["flux"]), model.class_names)
    if task == "photoz":
        res = model.predict(d["mags"], d["errors"])
        return {"point_estimate": "PDF mode", **SM.pdf_report(Z_GRID, res.cdf(Z_GRID), res.z_mode,
                                                              d["redshift"].astype(np.float64))}
    res = model.predict(d["flux"])
    return SM.regression_report(stellar_targets(d), res.values, res.sigmas, STELLAR_NAMES)
