"""Training of the photo-z mixture density network (``photoz_mdn``) on the engine.

1. Pretrain one MDN on simulated ugriz photometry (stars, galaxies, QSOs; disjoint simulator seeds for
   train / val / test), as before.
2. Adapt it to the real SDSS kit (``Recipe.real_kit``, settings in ``Recipe.real``): the feature
   normalisation is refitted on the rows trained on (the first layer re-expressed so the pretrained function
   is unchanged), then ``members`` copies are fine-tuned (one-cycle, each with its own seed; QSOs up-weighted)
   and averaged in the mixture (:class:`~astrohub.models.predictors.photoz.MixtureEnsemble`). ``fit`` =
   "train": on the kit's train split, each keeping its lowest val-split NLL epoch; ``fit`` = "train+val": on
   both, on the fixed schedule. A classical component can join (``knn``): each PDF gains the Gaussian KDE of
   its nearest training objects' redshifts, gated by the fraction of them that are QSOs
   (:class:`~astrohub.models.predictors.photoz.NeighbourKDE`). With ``cv`` its settings and the point
   estimate are chosen by K-fold cross-validation inside the rows trained on (:func:`cross_validate`).
3. Score the final weights: the simulated test split (card ``metrics``, secondary, with the classical
   baselines) and the kit's test split (card ``real``, first; :func:`~astrohub.models.evaluation.kits.
   sdss_photoz.measure`). The kit's test split is used for nothing else.
"""

from __future__ import annotations

import numpy as np
import torch

from ..datasets import series_inputs
from ..evaluation import kits
from ..evaluation import series_metrics as SM
from ..evaluation.baselines import baseline_features, forest
from ..evaluation.kits import sdss_photoz as K
from ..evaluation.series_metrics import Z_GRID
from ..inputs import photometry as PH
from ..nets import series as series_nets
from ..recipes import Recipe
from .engine import EpochBatches, Options, Plan, fit
from .series import fit_arrays, inputs_card, mdn_loss, run, series_card

POINTS = {"mode": "z_mode (PDF peak)", "median": "z_median (PDF median)"}
# what Recipe.real may set (the defaults of a run that sets nothing)
ADAPT_DEFAULTS = {"members": 5, "epochs": 300, "lr": 1e-3, "batch": 128, "pct_start": 0.3, "weight_decay": 1e-4,
                  "qso_weight": 4, "noise": 0.0, "refit_normalisation": True, "sim_weight": 0.0, "knn": 0,
                  "point": "mode", "fit": "train", "cv": None}


def train_photoz(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """The photo-z mixture density network from its recipe (pretrain on simulations, adapt on the kit)."""
    return run(fit_photoz, spec, opts)


def fit_photoz(spec, data, sizes, kw, opts: Options | None = None):
    tr, va, te = data
    norm = _normalisation(tr)
    xs = [series_inputs("photoz", d, norm) for d in data]
    net = series_nets.build(spec.arch)
    state, log = fit_arrays(net, xs[0], tr["redshift"].astype(np.float32), xs[1], va["redshift"].astype(np.float32),
                            mdn_loss, **kw)
    arch, adapted = dict(spec.arch), None
    if spec.real_kit and spec.real:
        kit = kits.kit_dir(spec.real_kit, opts.data if opts is not None else None)
        state, norm, adapted = adapt(spec, state, norm, kit, kw, sim=(tr, va))
        arch["members"] = adapted["members"]
        if adapted.get("knn"):
            arch["knn"] = adapted["knn"]
    inputs = inputs_card(spec, {"shape": [5], "bands": list(PH.BANDS), "columns":
                                [f"mag_{b}" for b in "ugriz"] + [f"err_{b}" for b in "ugriz"], "units": "AB mag",
                                "normalisation": {"features": "r, u-g, g-r, r-i, i-z, log10(err_ugriz)", **norm}})
    if adapted is not None:
        inputs["ranges"] = adapted.pop("ranges")
        inputs["errors"] = ("1-sigma magnitude errors; the real adaptation used the kit's error model "
                            + K.ERROR_MODEL)
    point = adapted["point"] if adapted is not None else "mode"
    card = series_card(spec, sizes, inputs, {"pdf": "gaussian mixture", "components": spec.arch["k"] * arch.get(
        "members", 1) + arch.get("knn", {}).get("k", 0), "z_max": 4.0, "point_estimate": POINTS[point]})
    if arch.get("knn"):
        kn = arch["knn"]
        card["outputs"]["pdf"] = (
            f"gaussian mixture: (1 - q) x the networks' mixture + q x the Gaussian KDE of the redshifts of the "
            f"{kn['k']} nearest of the {kn['n_rows']} real SDSS rows trained on (standardised {kn['space']}; "
            f"kernel width max({kn['bw']} x std x k^-0.2, 0.005)), q from the fraction of spectroscopic QSOs "
            f"among the {kn['gate_k']} nearest ("
            + ("q = that fraction" if kn["gate"] == "qso_fraction" else "q = 1 where it is at least 0.5, else 0")
            + ")")
    card["arch"] = arch
    from ..predictors.photoz import PhotoZ

    pz = PhotoZ(card, state, "cpu")
    res = pz.predict(te["mags"], te["errors"])
    z = te["redshift"].astype(np.float64)
    zp = res.point(point)
    m = {"split": "test", "point_estimate": f"PDF {point}", **SM.pdf_report(Z_GRID, res.cdf(Z_GRID), zp, z)}
    cdf = res.cdf(Z_GRID)
    m["by_class"] = {c: SM.pdf_report(Z_GRID, cdf[te["labels"] == i], zp[te["labels"] == i],
                                      z[te["labels"] == i]) for i, c in enumerate(["star", "galaxy", "qso"])}
    extragal = te["labels"] > 0
    m["galaxies_and_qsos"] = SM.pdf_report(Z_GRID, cdf[extragal], zp[extragal], z[extragal])
    card["metrics"], card["training"]["log"] = m, log
    card["baseline"] = photoz_baselines(tr, te, spec.seed)
    if adapted is not None:
        card["training"]["real"] = adapted
        card["real"] = K.measure(pz, kit)  # the kit's test split: first touched here, after every choice
        card["metrics"]["note"] = ("simulated test split (secondary): these weights were adapted to real SDSS "
                                   "photometry; card 'real' holds the real held-out metrics")
    return card, state


def renormalised(state: dict, old: dict, new: dict) -> dict:
    """``state`` with its first layer re-expressed for inputs standardised with ``new`` instead of ``old``
    (mean / std): the network computes exactly the same function of the raw features."""
    st = {k: v.clone() for k, v in state.items()}
    m0, s0 = np.asarray(old["mean"], np.float64), np.asarray(old["std"], np.float64)
    m1, s1 = np.asarray(new["mean"], np.float64), np.asarray(new["std"], np.float64)
    w, b = st["body.0.weight"].double(), st["body.0.bias"].double()
    st["body.0.weight"] = (w * torch.from_numpy(s1 / s0)[None]).float()
    st["body.0.bias"] = (b + w @ torch.from_numpy((m1 - m0) / s0)).float()
    return st


def adapt(spec: Recipe, state: dict, norm: dict, kit, kw: dict, sim=None) -> tuple[dict, dict, dict]:
    """Fine-tune the pretrained ``state`` on the kit (never its test split): returns (ensemble state, with the
    neighbour component's ``knn.*`` tensors if any; normalisation; what the card records under training.real).

    ``fit`` = "train": the members train on the kit's train split, each keeping its lowest val-split NLL epoch.
    ``fit`` = "train+val": they train on train + val on the fixed schedule (last epoch); with ``cv`` the
    neighbour component and the point estimate are first chosen by K-fold cross-validation inside those rows
    (:func:`cross_validate`), else taken from ``knn`` / ``point``.

    With ``sim_weight`` > 0 and ``sim`` = (simulated train split, simulated val split) every step also draws
    a fresh batch of simulated rows (same size, random from the simulated train split) and adds
    ``sim_weight`` x its NLL to the loss, so the adapted model keeps the simulator's skill."""
    cfg = {**ADAPT_DEFAULTS, **spec.real}
    if kw.get("epochs") is not None and kw["epochs"] < spec.epochs:  # a smoke run (--epochs): short here too
        cfg["epochs"] = min(cfg["epochs"], kw["epochs"])
    real = K.load(kit)
    parts = K.split(real)
    if cfg["fit"] not in ("train", "train+val"):
        raise ValueError(f"{spec.name}: real['fit'] must be 'train' or 'train+val', got {cfg['fit']!r}")
    fit_idx = K.fit_rows(parts) if cfg["fit"] == "train+val" else parts["train"]
    val = K.subset(real, parts["val"]) if cfg["fit"] == "train" else None
    rows = K.subset(real, fit_idx)
    cv = cross_validate(spec, state, norm, rows, cfg, kw) if cfg.get("cv") else None
    knn, point = (cv["chosen"]["knn"], cv["chosen"]["point"]) if cv else (_knn_spec(cfg["knn"]), cfg["point"])
    new = _normalisation(rows) if cfg["refit_normalisation"] else norm
    start = renormalised(state, norm, new)
    members, logs = fit_members(spec, start, cfg, rows, np.array(new["mean"]), np.array(new["std"]), val=val,
                                sim=sim, kw=kw)
    if knn:  # the classical component: the rows trained on, gated by their QSO fraction
        from ..predictors.photoz import knn_state

        members.update(knn_state(rows["mags"], rows["redshift"], rows["labels"] == 2, knn["space"]))
    sim_w = float(cfg["sim_weight"]) if sim is not None else 0.0
    record = {"kit": spec.real_kit, "file": K.FILE, "split": K.split_info(real, parts),
              "fit_on": cfg["fit"],
              "rows_used": {k: {"n": int(len(parts[k])), "sha256": _digest(parts[k]),
                                "rows": ",".join(map(str, parts[k].tolist()))} for k in ("train", "val")},
              "test_rows": "the kit's test split (rows not listed above): card real section only",
              "errors": K.ERROR_MODEL, "recipe": cfg, "members": int(cfg["members"]), "point": point,
              "method": _method(cfg, sim_w, knn, point, cv, len(fit_idx)),
              "members_log": logs, "ranges": _union(PH.ranges(rows["mags"], rows["errors"]),
                                                    PH.ranges(sim[0]["mags"], sim[0]["errors"]))
              if sim_w > 0 else PH.ranges(rows["mags"], rows["errors"])}
    record["rows_used_for"] = {"train": "fine-tuning and the neighbour component",
                               "val": ("fine-tuning and the neighbour component" if cfg["fit"] == "train+val"
                                       else "early stopping (lowest val NLL epoch per member)")}
    if knn:
        record["knn"] = {**knn, "n_rows": int(len(fit_idx))}
    if cv is not None:
        record["cv"] = cv
    if sim_w > 0:
        record["ranges_from"] = "union of the kit's rows trained on and the simulated train split (both trained on)"
    return members, new, record


def _knn_spec(v) -> dict | None:
    """The neighbour component's settings from ``Recipe.real["knn"]``: 0 / None (none), k, or a dict."""
    if not v:
        return None
    spec = {"k": int(v)} if isinstance(v, (int, np.integer)) else dict(v)
    return {"space": "r+colours", "k": int(spec["k"]), "bw": 0.5, "gate": "qso_fraction", "gate_k": int(spec["k"]),
            **spec}


def _method(cfg, sim_w, knn, point, cv, n_rows) -> str:
    on = ("the kit's train + val splits ({n} rows), {e} epochs on a fixed schedule, each keeping its last epoch"
          if cfg["fit"] == "train+val" else
          "the kit's train split ({n} rows), each keeping its lowest val-split NLL epoch of {e}").format(
              n=n_rows, e=cfg["epochs"])
    text = (f"pretrained on simulations; normalisation refitted on the rows trained on; {cfg['members']} members "
            f"fine-tuned on {on} (one-cycle, lr {cfg['lr']}, QSO weight {cfg['qso_weight']}"
            + (f"; every step adds {sim_w} x the NLL of an equal-size batch of simulated rows drawn from the "
               "simulated train split" if sim_w > 0 else "") + "); averaged in the mixture")
    if knn:
        text += (f"; plus the Gaussian KDE of the redshifts of the {knn['k']} nearest rows trained on (standardised "
                 f"{knn['space']}, kernel width max({knn['bw']} x std x k^-0.2, 0.005)) with weight q from the QSO "
                 f"fraction of the {knn['gate_k']} nearest ({knn['gate']})")
    text += f"; point estimate = PDF {point}"
    if cv is not None:
        text += (f". The neighbour component and the point estimate were chosen by {cv['folds']}-fold "
                 "cross-validation inside the rows trained on (folds stratified by class; each fold's networks "
                 "fine-tuned on the other folds the same way, its neighbours drawn from the other folds): "
                 + cv["rule"] + ". The kit's test split played no part")
    if cfg.get("selection_note"):
        text += ". " + cfg["selection_note"]
    return text


def cross_validate(spec: Recipe, state: dict, norm: dict, rows: dict, cfg: dict, kw: dict) -> dict:
    """Choose the neighbour component and the point estimate by K-fold cross-validation inside ``rows`` (the
    rows the model trains on; folds :func:`~astrohub.models.evaluation.kits.sdss_photoz.cv_folds`).

    Each fold's network ensemble is fine-tuned from ``state`` on the other folds exactly as the final one is
    (normalisation refitted, ``cfg``'s fixed schedule), and each row's neighbours are drawn from the other
    folds; every option of ``cfg["cv"]`` (plus the networks alone) is scored on the pooled out-of-fold
    predictions, next to the kit's k-NN baseline fitted the same way. Rule: among the options whose galaxies
    meet the kit's galaxy targets and beat the k-NN's sigma_NMAD, the fewest QSO outliers (ties: lower QSO
    CRPS, then the earlier option; if none qualifies, as in a smoke run, among all)."""
    from scipy.spatial import cKDTree

    from ..predictors.photoz import MixtureEnsemble, PhotoZPrediction, knn_features

    grid = {"space": ["r+colours"], "k": [30], "bw": [0.5], "gate": ["qso_fraction"], "gate_k": [30],
            "point": ["mode"], "folds": K.CV_FOLDS, **cfg["cv"]}
    if kw.get("epochs") is not None and kw["epochs"] < spec.epochs:  # a smoke run: the first of each setting
        grid = {k: v[:1] if isinstance(v, list) else v for k, v in grid.items()}
    fold = K.cv_folds(rows["labels"], int(grid["folds"]))
    n, width = len(fold), spec.arch["k"] * int(cfg["members"])
    logw, mu, log_s = np.zeros((n, width)), np.zeros((n, width)), np.zeros((n, width))
    k_max = max(max(grid["k"]), max(grid["gate_k"]))
    nb = {sp: np.zeros((n, k_max), int) for sp in grid["space"]}
    base_cdf, base_point = np.zeros((n, len(Z_GRID))), np.zeros(n)
    for f in range(int(grid["folds"])):
        a, b = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        tr, te = K.subset(rows, a), K.subset(rows, b)
        new = _normalisation(tr) if cfg["refit_normalisation"] else norm
        m0, s0 = np.array(new["mean"]), np.array(new["std"])
        mem, _ = fit_members(spec, renormalised(state, norm, new), cfg, tr, m0, s0, kw=kw,
                             tag=f" cv fold {f + 1}/{grid['folds']}")
        net = MixtureEnsemble(spec.arch, int(cfg["members"]))
        net.load_state_dict(mem)
        x = _normalised(te, m0, s0)
        with torch.no_grad():
            logw[b], mu[b], log_s[b] = (t.double().numpy() for t in net(x))
        for sp in grid["space"]:
            ftr_k = knn_features(tr["mags"], sp)
            km, ks = ftr_k.mean(0), ftr_k.std(0)
            _, ii = cKDTree((ftr_k - km) / ks).query((knn_features(te["mags"], sp) - km) / ks, k=k_max)
            nb[sp][b] = a[ii.reshape(len(b), k_max)]
        base_cdf[b], base_point[b] = K.knn_predict(tr, te)
    z, labels = rows["redshift"], rows["labels"]
    w, s = np.exp(logw), np.exp(log_s)
    nets = PhotoZPrediction(w, mu, s, np.zeros(n), (w * mu).sum(1), np.zeros(n))
    nets_points = {}
    options = [{"knn": None, "point": p} for p in grid["point"]] + [
        {"knn": {"space": sp, "k": int(k), "bw": float(bw), "gate": g, "gate_k": int(gk)}, "point": p}
        for sp in grid["space"] for k in grid["k"] for bw in grid["bw"] for g in grid["gate"]
        for gk in grid["gate_k"] for p in grid["point"]]
    table = []
    for opt in options:
        pred, point = _cv_option(opt, nets, nets_points, nb, z, labels == 2)
        table.append({**opt, **_cv_scores(pred, point, z, labels, fold)})
    base = _cv_scores(None, base_point, z, labels, fold, cdf=base_cdf)
    eligible = [i for i, r in enumerate(table)
                if r["galaxy"]["sigma_nmad"] <= K.TARGETS["galaxy"]["sigma_nmad_max"]
                and r["galaxy"]["sigma_nmad"] < base["galaxy"]["sigma_nmad"]
                and r["galaxy"]["outlier_fraction"] <= K.TARGETS["galaxy"]["outlier_fraction_max"]
                and abs(r["galaxy"]["bias"]) <= K.TARGETS["galaxy"]["abs_bias_max"]]
    note = None
    if not eligible:  # e.g. a smoke run's few epochs: say so and choose among all options
        eligible, note = list(range(len(table))), "no option met the galaxy conditions: chosen among all"
    best = min(eligible, key=lambda i: (table[i]["qso"]["n_outliers"], table[i]["qso"]["crps"], i))
    return {"folds": int(grid["folds"]), "fold_rule": f"kits.sdss_photoz.cv_folds(class, {grid['folds']}, "
                                                      f"seed={K.SPLIT_SEED}) over the rows trained on",
            "n": {c: int(np.sum(labels == i)) for i, c in enumerate(K.CLASSES)},
            "rule": "among the options whose pooled out-of-fold galaxies meet the galaxy targets and beat the "
                    "k-NN's sigma_NMAD, the fewest pooled QSO outliers (ties: lower QSO CRPS, then the earlier "
                    "option)",
            "grid": {k: v for k, v in grid.items() if k != "folds"},
            "knn_baseline": base, "options": table, "chosen_index": int(best),
            "chosen": {"knn": table[best]["knn"], "point": table[best]["point"]},
            **({"note": note} if note else {})}


def _cv_option(opt, nets, nets_points, nb, z, qso):
    """Out-of-fold predictions of one option: (prediction, point estimates)."""
    from ..predictors import photoz as P

    point_fn = P.pdf_modes if opt["point"] == "mode" else P.pdf_medians
    if opt["point"] not in nets_points:
        nets_points[opt["point"]] = point_fn(nets)
    if opt["knn"] is None:
        return nets, nets_points[opt["point"]]
    kn = opt["knn"]
    idx = nb[kn["space"]]
    q = P.gate_of(qso[idx[:, :kn["gate_k"]]].mean(1, keepdims=True), kn["gate"])
    nz = z[idx[:, :kn["k"]]]
    w, mu, s = P.with_neighbours(nets.weights, nets.means, nets.sigmas, q, nz, P.kde_bandwidth(nz, kn["bw"]))
    pred = P.PhotoZPrediction(w, mu, s, np.zeros(len(z)), (w * mu).sum(1), np.zeros(len(z)))
    point = nets_points[opt["point"]].copy()
    moved = q[:, 0] > 0  # where q = 0 the PDF is the networks' alone
    point[moved] = point_fn(pred.select(moved))
    return pred, point


def _cv_scores(pred, point, z, labels, fold, cdf=None) -> dict:
    """Pooled out-of-fold point metrics per class, QSO outliers (count, per fold) and QSO CRPS."""
    out = {}
    for i, c in enumerate(K.CLASSES):
        m = labels == i
        out[c] = {k: round(v, 5) for k, v in SM.point_metrics(z[m], point[m]).items()}
    q = labels == 2
    bad = np.abs(point - z) / (1 + z) > K.OUTLIER
    out["qso"]["n_outliers"] = int(np.sum(bad & q))
    out["qso"]["outliers_per_fold"] = [int(np.sum(bad & q & (fold == f))) for f in range(int(fold.max()) + 1)]
    qcdf = cdf[q] if cdf is not None else pred.select(q).cdf(Z_GRID)
    out["qso"]["crps"] = round(float(SM.crps_from_cdf(Z_GRID, qcdf, z[q]).mean()), 5)
    return out


def _normalisation(rows: dict) -> dict:
    """The feature normalisation (per-feature mean and std) of rows ``rows`` (mags, errors)."""
    f = PH.features(np.asarray(rows["mags"], np.float64), np.asarray(rows["errors"], np.float64))
    return {"mean": f.mean(0).tolist(), "std": f.std(0).tolist()}


def _normalised(rows: dict, mu, sd) -> torch.Tensor:
    """The network inputs of rows ``rows``: their features standardised with ``mu``, ``sd``, as float32."""
    f = PH.features(np.asarray(rows["mags"], np.float64), np.asarray(rows["errors"], np.float64))
    return torch.from_numpy(((f - mu) / sd).astype(np.float32))


def _union(a: dict, b: dict) -> dict:
    """Elementwise union of two :func:`~astrohub.models.inputs.photometry.ranges` dicts."""
    return {g: {k: [min(a[g][k][0], b[g][k][0]), max(a[g][k][1], b[g][k][1])] for k in a[g]} for g in a}


def _digest(idx) -> str:
    import hashlib

    return hashlib.sha256(",".join(map(str, np.asarray(idx).tolist())).encode()).hexdigest()


def _weighted_nll(net, x, y, w):
    logw, mu, log_s = net(x)
    z = (y[:, None] - mu) / log_s.exp()
    lp = torch.logsumexp(logw - 0.5 * z ** 2 - log_s - 0.9189385332046727, 1)
    return -(lp * w).sum() / w.sum()


def _jitter(x, err, scale, mu, sd, g):
    """Standardised features of magnitudes perturbed by ``scale`` x their errors (r and colours move)."""
    mu_t, sd_t = torch.as_tensor(mu, dtype=torch.float32), torch.as_tensor(sd, dtype=torch.float32)
    raw = x * sd_t + mu_t
    dm = torch.randn(err.shape, generator=g) * err * scale
    raw = raw.clone()
    raw[:, 0] += dm[:, 2]
    raw[:, 1:5] += dm[:, :-1] - dm[:, 1:]
    return (raw - mu_t) / sd_t


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


def fit_members(spec: Recipe, start: dict, cfg: dict, rows: dict, mu, sd, *, val: dict | None = None, sim=None,
                kw: dict | None = None, tag: str = "") -> tuple[dict, list]:
    """``cfg["members"]`` copies of the network ``start`` fine-tuned on the kit rows ``rows`` (one-cycle, each
    with its own seed; QSOs weighted ``cfg["qso_weight"]``): with ``val`` each keeps its lowest val-NLL epoch,
    without it the last epoch (a fixed schedule). Returns (``members.{j}.*`` state, per-member logs)."""
    kw = kw or {}

    def arrays(d, qso_weight):  # network inputs, redshifts and per-row weights (QSOs: qso_weight) of rows d
        return (_normalised(d, mu, sd), torch.from_numpy(d["redshift"].astype(np.float32)),
                torch.from_numpy(np.where(d["labels"] == 2, float(qso_weight), 1.0).astype(np.float32)))

    x, y, w = arrays(rows, cfg["qso_weight"])
    err = torch.from_numpy(rows["errors"].astype(np.float32))
    if val is not None:
        xva, yva, wva = arrays(val, cfg["qso_weight"])
    sim_w = float(cfg["sim_weight"]) if sim is not None else 0.0
    if sim_w > 0:  # simulated rows weigh 1 whatever their class
        (xs_tr, ys_tr, ones_tr), (xs_va, ys_va, ones_va) = (arrays(d, 1.0) for d in sim)
    members, logs = {}, []
    for j in range(int(cfg["members"])):
        seed = spec.seed * 1000 + j
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        net = series_nets.build(spec.arch)
        net.load_state_dict(start)
        steps = -(-len(y) // cfg["batch"])

        def batches(epoch, g=g):
            perm = torch.randperm(len(y), generator=g)
            for i in range(0, len(y), cfg["batch"]):
                idx = perm[i:i + cfg["batch"]]
                xb = x[idx]
                if cfg["noise"]:
                    xb = _jitter(xb, err[idx], cfg["noise"], mu, sd, g)
                if sim_w > 0:
                    sidx = torch.randint(len(ys_tr), (len(idx),), generator=g)
                    yield lambda m, xb=xb, yb=y[idx], wb=w[idx], sidx=sidx: (
                        _weighted_nll(m, xb, yb, wb)
                        + sim_w * _weighted_nll(m, xs_tr[sidx], ys_tr[sidx], ones_tr[sidx]))
                else:
                    yield lambda m, xb=xb, yb=y[idx], wb=w[idx]: _weighted_nll(m, xb, yb, wb)

        def validate(m):
            with torch.no_grad():
                extra = {"sim_val_loss": float(_weighted_nll(m, xs_va, ys_va, ones_va))} if sim_w > 0 else {}
                return float(_weighted_nll(m, xva, yva, wva)), extra

        plan = Plan(epochs=int(cfg["epochs"]), lr=float(cfg["lr"]), pct_start=float(cfg["pct_start"]),
                    weight_decay=float(cfg["weight_decay"]), clip_grad=5.0, max_minutes=kw.get("max_minutes"))
        r = fit(net, EpochBatches(batches, steps), validate if val is not None else None, plan,
                progress=kw.get("progress", False), desc=f"adapt {spec.name}{tag} member {j + 1}/{cfg['members']}")
        members.update({f"members.{j}.{k}": v.detach().clone() for k, v in net.state_dict().items()})
        entry = {"member": j, "seed": seed, "epochs_run": len(r.history)}
        if val is not None:
            entry.update({"best_epoch": r.best_epoch, "best_val_nll": round(min(h["val_loss"] for h in r.history), 5)})
        entry["log"] = [{k: round(v, 5) if isinstance(v, float) else v for k, v in h.items()
                         if k in ("epoch", "train_loss", "val_loss", "sim_val_loss")} for h in r.history[::10]]
        logs.append(entry)
    return members, logs
