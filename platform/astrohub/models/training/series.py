"""Training of the 1-D models (light curves, spectra, photometry) from their recipes, on the engine.

Train / validation / test sets come from disjoint simulator seeds (seed*100 + 1/2/3); early
stopping and temperature calibration use validation only; the test split is touched once, at
the end, to fill the card together with a classical baseline fitted on the same training set.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..datasets import STELLAR_NAMES, series_inputs, simulate_series, stellar_targets
from ..evaluation import series_metrics as SM
from ..evaluation.baselines import baseline_features, forest
from ..evaluation.metrics import classification_report
from ..inputs import series as P
from ..nets import series as series_nets
from ..recipes import Recipe
from .engine import VERSION, EpochBatches, Options, Plan, fit, fit_temperature


# ----------------------------------------------------------------------------- loop
def fit_arrays(net, train_x, train_y, val_x, val_y, loss_fn, *, epochs, lr, batch, patience, max_minutes=None,
               augment=None, seed=0, progress=False):
    """The engine on in-memory arrays (``train_x``/``val_x``: tuples of network inputs): AdamW +
    one-cycle, gradient norm clipped at 5, early stopping on the validation loss; the best weights
    are left in ``net``. Returns (best state, epoch log)."""
    g = torch.Generator().manual_seed(seed)
    n = len(train_y)
    tx = [torch.from_numpy(np.ascontiguousarray(a)) for a in train_x]
    ty = torch.from_numpy(np.ascontiguousarray(train_y))
    vx = [torch.from_numpy(np.ascontiguousarray(a)) for a in val_x]
    vy = torch.from_numpy(np.ascontiguousarray(val_y))

    def batches(epoch):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = [a[idx] for a in tx]
            if augment is not None:
                xb = augment(xb, g)
            yield lambda m, xb=xb, yb=ty[idx]: loss_fn(m, xb, yb)

    def validate(m):
        with torch.no_grad():
            return sum(float(loss_fn(m, [a[i:i + 1024] for a in vx], vy[i:i + 1024])) * len(vy[i:i + 1024])
                       for i in range(0, len(vy), 1024)) / len(vy), {}

    plan = Plan(epochs=epochs, lr=lr, patience=patience, min_delta=1e-4, max_minutes=max_minutes, clip_grad=5.0)
    run = fit(net, EpochBatches(batches, -(-n // batch)), validate, plan, progress=progress,
              desc=net.__class__.__name__)
    log = [{"epoch": h["epoch"], "train_loss": round(h["train_loss"], 5), "val_loss": round(h["val_loss"], 5)}
           for h in run.history]
    return net.state_dict(), log


def cross_entropy(net, xb, yb):
    return F.cross_entropy(net(*xb), yb)


def gaussian_nll(net, xb, yb, beta=0.5):
    """Gaussian NLL weighted by sigma^(2 beta) (beta-NLL, Seitzer et al. 2022): keeps hard
    objects from being given up on through large sigmas early in training."""
    o = net(*xb)
    k = yb.shape[1]
    mu, log_s = o[:, :k], o[:, k:].clamp(-6, 3)
    nll = 0.5 * ((yb - mu) / log_s.exp()) ** 2 + log_s
    return (nll * (2 * beta * log_s).exp().detach()).sum(1).mean()


def mdn_loss(net, xb, yb):
    return series_nets.mdn_nll(*net(*xb), yb)


def _flip(xb, g):
    """Time reversal of the light-curve views (a physical symmetry of the classes)."""
    if torch.rand(1, generator=g) < 0.5:
        return [xb[0].flip(-1), xb[1].flip(-1), xb[2]]
    return xb


def logits(net, xs, bs=1024):
    net.eval()
    with torch.no_grad():
        return torch.cat([net(*[torch.from_numpy(np.ascontiguousarray(a[i:i + bs])) for a in xs])
                          for i in range(0, len(xs[0]), bs)])


# ----------------------------------------------------------------------------- per-kind training
def series_card(spec: Recipe, sizes, inputs: dict, outputs: dict) -> dict:
    return {"name": spec.name, "version": VERSION, "kind": spec.kind, "task": spec.task,
            "description": spec.description, "inputs": inputs, "outputs": outputs, "arch": dict(spec.arch),
            "training": {"simulator": f"astrohub.sims ({spec.task})", "seed": spec.seed,
                         "split_seeds": spec.split_seeds(), "n_train": sizes[0], "n_val": sizes[1],
                         "n_test": sizes[2]},
            "targets": dict(spec.targets), "metrics": {}, "baseline": {}, "weights": {}}


def inputs_card(spec: Recipe, extra: dict) -> dict:
    base = {"pixel_scale_arcsec": None, "bands": [], "units": "", "normalisation": ""}
    base.update(extra)
    return base


def _classifier(spec, data, sizes, kw, opts):
    tr, va, te = data
    xs = [series_inputs(spec.task, d) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit_arrays(net, xs[0], tr["labels"], xs[1], va["labels"], cross_entropy,
                            augment=_flip if spec.task == "transit" else None, **kw)
    net.load_state_dict(state)
    T = fit_temperature(logits(net, xs[1]), va["labels"])
    p = F.softmax(logits(net, xs[2]) / T, 1).numpy().astype(np.float64)
    from astrohub.sims.lightcurves import CLASS_NAMES as LC
    from astrohub.sims.spectra import CLASS_NAMES as SP

    classes = LC if spec.task == "transit" else SP
    m = {"split": "test", **classification_report(te["labels"], p, classes)}
    rf = forest(False, spec.seed).fit(baseline_features(spec.task, tr), tr["labels"])
    pb = rf.predict_proba(baseline_features(spec.task, te))
    b = {"method": "random forest (200 trees) on " + ("binned folded views + BLS scalars" if spec.task == "transit"
                                                      else "the normalised spectrum in 128 bins"),
         "metrics": classification_report(te["labels"], pb, classes)}
    if spec.task == "transit":
        m["vetting"] = SM.vetting_report(te["labels"] == 0, p[:, 0])
        b["metrics"]["vetting"] = SM.vetting_report(te["labels"] == 0, pb[:, 0])
        inputs = inputs_card(spec, {"shape": [1000], "columns": ["TIME", "FLUX"], "units": "TIME in days, FLUX "
                                     "relative or any linear unit", "min_points": 100, "normalisation":
                                     "flux / median - 1, 2.5-d running median removed, BLS fold; views in noise "
                                     "units and relative flux (arcsinh)", "global_bins": P.GLOBAL_BINS,
                                     "local_bins": P.LOCAL_BINS})
    else:
        w = tr["wave"]
        inputs = inputs_card(spec, {"shape": [1, int(len(w))], "columns": ["WAVE", "FLUX"],
                                    "wave_min": float(w[0]), "wave_max": float(w[-1]),
                                    "units": "WAVE in Angstrom (log-linear grid), FLUX any linear f_lambda unit",
                                    "normalisation": "arcsinh(flux / median |flux|)"})
    card = series_card(spec, sizes, inputs, {"classes": list(classes), "mc_samples": 20})
    card["calibration"] = {"temperature": T, "fit_on": "validation"}
    card["metrics"], card["baseline"], card["training"]["log"] = m, b, log
    if spec.real_kit:
        card["real"] = _smoke(spec, card, state, rf, opts)
    return card, state


def _smoke(spec, card, state, rf, opts) -> dict:
    """The real smoke test of a spectrum classifier (:mod:`astrohub.models.evaluation.kits.sdss_spectra_lowz`),
    with the card's forest beside it; 'not measured' without the kit."""
    from ..evaluation.kits import KitError, kit_dir
    from ..evaluation.kits.sdss_spectra_lowz import measure
    from ..predictors.spectra import SpectrumClassifier

    try:
        kd = kit_dir(spec.real_kit, opts.data)
    except KitError as e:
        return {"kit": spec.real_kit, "metrics": {}, "note": f"not measured: {e}"}
    return measure(SpectrumClassifier(card, state, "cpu"), kd, baseline=rf)


def _stellar(spec, data, sizes, kw, opts):
    tr, va, te = data
    y = [stellar_targets(d) for d in data]
    mu, sd = y[0].mean(0), y[0].std(0)
    ys = [((a - mu) / sd).astype(np.float32) for a in y]
    xs = [series_inputs(spec.task, d) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit_arrays(net, xs[0], ys[0], xs[1], ys[1], gaussian_nll, **kw)
    w = tr["wave"]
    inputs = inputs_card(spec, {"shape": [1, int(len(w))], "columns": ["WAVE", "FLUX"], "wave_min": float(w[0]),
                                 "wave_max": float(w[-1]), "units": "WAVE in Angstrom, FLUX any linear unit",
                                 "normalisation": "arcsinh(flux / median |flux|)"})
    card = series_card(spec, sizes, inputs, {"parameters": STELLAR_NAMES, "units": ["K", "dex (cgs)", "dex"],
                                       "mean": mu.tolist(), "std": sd.tolist(), "uncertainty": "Gaussian 1-sigma"})
    from ..predictors.spectra import StellarParams

    res = StellarParams(card, state, "cpu").predict(te["flux"])
    m = {"split": "test", **SM.regression_report(y[2], res.values, res.sigmas, STELLAR_NAMES)}
    rf = forest(True, spec.seed).fit(baseline_features(spec.task, tr), y[0])
    b = {"method": "random forest (200 trees) on the normalised spectrum in 128 bins",
         "metrics": SM.regression_report(y[2], rf.predict(baseline_features(spec.task, te)), None, STELLAR_NAMES)}
    card["metrics"], card["baseline"], card["training"]["log"] = m, b, log
    return card, state


# ----------------------------------------------------------------------------- entry points (kinds table)
def run(fn, spec: Recipe, opts: Options) -> tuple[dict, dict]:
    sizes = (opts.n_train or spec.n_train, opts.n_val or spec.n_val, opts.n_test or spec.n_test)
    s = spec.split_seeds()
    data = [simulate_series(spec.task, n, s[k], workers=opts.workers) for k, n in zip(("train", "val", "test"), sizes)]
    torch.manual_seed(spec.seed)
    kw = {"epochs": opts.epochs or spec.epochs, "lr": spec.lr, "batch": spec.batch, "patience": spec.patience,
          "max_minutes": opts.max_minutes, "seed": spec.seed, "progress": opts.progress}
    card, state = fn(spec, data, list(sizes), kw, opts)
    card["training"].update({"epochs_run": len(card["training"]["log"]), "device": "cpu"})
    return card, state


def train_classifier(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """A light-curve or spectrum classifier from its recipe."""
    return run(_classifier, spec, opts)


def train_stellar(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """The stellar-parameter regressor from its recipe."""
    return run(_stellar, spec, opts)
