"""The photo-z predictor: Gaussian-mixture redshift PDFs from ugriz magnitudes and errors.

>>> models.load("photoz_mdn").predict(mags, errs).z_mode     # SDSS ugriz AB magnitudes [N, 5] + 1-sigma errors
>>> models.load("photoz_mdn").predict(objects_table).z_mode  # mag_u..mag_z + err_u..err_z (or SDSS names)

All preprocessing (colours, error features, the card's normalisation) happens here; rows outside the
magnitude / colour / error ranges the model was trained on are flagged in ``ood`` / ``ood_reason``.

A card whose ``arch`` has a ``knn`` entry adds a classical component to every PDF (:class:`NeighbourKDE`): the
Gaussian KDE of the redshifts of the k nearest training objects (r + 4 colours, or the colours alone), weighted
by q from the fraction of spectroscopic QSOs among the nearest objects (the fraction itself, or 1 where QSOs
are the majority), the network's mixture by 1 - q. Where the neighbours are galaxies or stars (q = 0) the PDF
is the network's alone; in QSO colour space, where the network's mode is often on the wrong branch of a
colour-redshift degeneracy, the neighbours' redshifts take over. Its training rows ship in the weights file
(``knn.*`` tensors). ``PhotoZPrediction.point(card["outputs"]["point_estimate"])`` is the card's point estimate
(``z_mode`` or ``z_median``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..inputs import photometry as PH
from ..nets import series as series_nets
from .base import device_of
from .series import SeriesPredictor


@dataclass
class PhotoZPrediction:
    """Gaussian-mixture redshift PDFs: ``weights``/``means``/``sigmas`` [N, K]."""

    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
    z_mode: np.ndarray  # [N] PDF peak
    z_mean: np.ndarray
    z_std: np.ndarray
    ood: np.ndarray | None = None  # [N] bool: outside what the model was trained on (see ood_reason)
    ood_reason: list[str] | None = None

    def select(self, rows) -> "PhotoZPrediction":
        """The predictions of ``rows`` (indices, a mask or a slice)."""
        idx = np.arange(len(self.z_mode))[rows]
        return PhotoZPrediction(*(getattr(self, f)[idx] for f in ("weights", "means", "sigmas", "z_mode",
                                                                 "z_mean", "z_std")),
                                ood=None if self.ood is None else self.ood[idx],
                                ood_reason=None if self.ood_reason is None else [self.ood_reason[i] for i in idx])

    def placed(self, keep, reasons) -> "PhotoZPrediction":
        """These predictions at the rows ``keep`` (a mask) of a longer table whose other rows could not be estimated:
        those get NaN redshifts and PDFs, ``ood`` True and ``reasons`` (one per row of the longer table)."""
        keep = np.asarray(keep, bool)
        if int(keep.sum()) != len(self.z_mode) or len(reasons) != len(keep):
            raise ValueError(f"{len(self.z_mode)} predictions for {int(keep.sum())} kept rows of {len(keep)}, with "
                             f"{len(reasons)} reasons")

        def spread(a):
            out = np.full((len(keep),) + a.shape[1:], np.nan)
            out[keep] = a
            return out
        ood = np.ones(len(keep), bool)
        ood[keep] = False if self.ood is None else self.ood
        why = [str(r) for r in reasons]
        for j, i in enumerate(np.flatnonzero(keep)):
            why[i] = "" if self.ood_reason is None else self.ood_reason[j]
        return PhotoZPrediction(*(spread(getattr(self, f)) for f in ("weights", "means", "sigmas", "z_mode", "z_mean",
                                                                     "z_std")), ood=ood, ood_reason=why)

    @property
    def z_median(self) -> np.ndarray:
        """PDF medians [N] (:func:`pdf_medians`)."""
        return pdf_medians(self)

    def point(self, estimate: str = "mode") -> np.ndarray:
        """The point estimates [N] a card names (``outputs.point_estimate``): "z_mode ..." / "mode" or
        "z_median ..." / "median"."""
        name = estimate.split()[0].removeprefix("z_")
        if name not in ("mode", "median"):
            raise ValueError(f"unknown point estimate {estimate!r}: mode or median")
        return self.z_mode if name == "mode" else self.z_median

    def pdf(self, grid) -> np.ndarray:
        """PDFs [N, G] on redshift ``grid`` (summed one component at a time: no [N, G, K] temporary)."""
        g = np.asarray(grid, float)[None]
        out = np.zeros((len(self.weights), g.shape[1]))
        amp = self.weights / (self.sigmas * 2.5066282746)
        for j in range(self.weights.shape[1]):
            u = (g - self.means[:, j:j + 1]) / self.sigmas[:, j:j + 1]
            out += amp[:, j:j + 1] * np.exp(-0.5 * u * u)
        return out

    def cdf(self, grid) -> np.ndarray:
        """CDFs [N, G] on redshift ``grid``."""
        from scipy.special import ndtr

        g = np.asarray(grid, float)[None]
        out = np.zeros((len(self.weights), g.shape[1]))
        for j in range(self.weights.shape[1]):
            out += self.weights[:, j:j + 1] * ndtr((g - self.means[:, j:j + 1]) / self.sigmas[:, j:j + 1])
        return out


class MixtureEnsemble(nn.Module):
    """``members`` mixture density networks of one ``arch``, averaged in the mixture: their components are
    concatenated, each member's weights divided by the number of members."""

    def __init__(self, arch: dict, members: int):
        super().__init__()
        self.members = nn.ModuleList([series_nets.build(arch) for _ in range(int(members))])

    def forward(self, x):
        outs = [m(x) for m in self.members]
        logw = torch.cat([o[0] for o in outs], 1) - math.log(len(outs))
        return logw, torch.cat([o[1] for o in outs], 1), torch.cat([o[2] for o in outs], 1)


def build_net(arch: dict) -> nn.Module:
    """The network of a photo-z card's ``arch``: one MDN, or an ensemble of ``arch["members"]`` of them."""
    members = int(arch.get("members", 1))
    if members > 1:
        return MixtureEnsemble({k: v for k, v in arch.items() if k != "members"}, members)
    return series_nets.build(arch)


KNN_PREFIX = "knn."
KNN_SPACES = ("r+colours", "colours")
KNN_GATES = ("qso_fraction", "qso_majority")


def knn_features(mags, space: str = "r+colours") -> np.ndarray:
    """The neighbour search space of magnitudes [N, 5] (u g r i z): r and the four adjacent colours
    (``space="r+colours"``) or the four colours alone (``"colours"``)."""
    if space not in KNN_SPACES:
        raise ValueError(f"unknown neighbour space {space!r}; one of {', '.join(KNN_SPACES)}")
    mags = np.asarray(mags, np.float64)
    colours = mags[:, :-1] - mags[:, 1:]
    return np.concatenate([mags[:, 2:3], colours], 1) if space == "r+colours" else colours


def knn_state(mags, redshift, qso, space: str = "r+colours") -> dict[str, torch.Tensor]:
    """The ``knn.*`` tensors of a :class:`NeighbourKDE` over training rows: their features in ``space``,
    standardisation, spectroscopic redshifts and QSO flags."""
    f = knn_features(mags, space)
    return {KNN_PREFIX + "features": torch.from_numpy(f), KNN_PREFIX + "mean": torch.from_numpy(f.mean(0)),
            KNN_PREFIX + "std": torch.from_numpy(f.std(0)),
            KNN_PREFIX + "redshift": torch.from_numpy(np.asarray(redshift, np.float64)),
            KNN_PREFIX + "qso": torch.from_numpy(np.asarray(qso, np.float64))}


def kde_bandwidth(nz, factor: float = 0.5) -> np.ndarray:
    """Kernel widths [N, 1] of neighbour redshifts ``nz`` [N, k]: max(factor x std x k^-0.2, 0.005)."""
    return np.maximum(factor * nz.std(1, keepdims=True) * nz.shape[1] ** -0.2, 0.005)


def gate_of(qso_fraction, gate: str = "qso_fraction") -> np.ndarray:
    """The weight q of the neighbour component from the QSO fraction of the gating neighbours: the fraction
    itself (``"qso_fraction"``) or 1 where QSOs are at least half of them, else 0 (``"qso_majority"``)."""
    if gate not in KNN_GATES:
        raise ValueError(f"unknown gate {gate!r}; one of {', '.join(KNN_GATES)}")
    qf = np.asarray(qso_fraction, np.float64)
    return qf if gate == "qso_fraction" else (qf >= 0.5).astype(np.float64)


class NeighbourKDE:
    """The classical component of a photo-z PDF. ``spec`` (the card's ``arch["knn"]``): for each object its
    ``k`` nearest training objects in the standardised ``space`` (default r + 4 colours); their redshifts as
    Gaussian kernels (bandwidth max(``bw`` x std x k^-0.2, 0.005), ``bw`` default 0.5 as the kit's k-NN
    baseline); the weight q from the QSO fraction of its ``gate_k`` nearest (default k) by ``gate``
    (:func:`gate_of`, default the fraction itself)."""

    def __init__(self, tensors: dict[str, torch.Tensor], spec: dict):
        from scipy.spatial import cKDTree

        t = {name[len(KNN_PREFIX):]: v.double().numpy() for name, v in tensors.items()}
        self.k, self.gate_k = int(spec["k"]), int(spec.get("gate_k", spec["k"]))
        self.space, self.gate, self.bw = spec.get("space", "r+colours"), spec.get("gate", "qso_fraction"), \
            float(spec.get("bw", 0.5))
        self.mean, self.std = t["mean"], t["std"]
        self.z, self.qso = t["redshift"], t["qso"]
        self.tree = cKDTree((t["features"] - self.mean) / self.std)

    def __call__(self, mags) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(q [N, 1], neighbour redshifts [N, k], bandwidths [N, 1]) of magnitudes [N, 5]."""
        if len(mags) == 0:
            return np.zeros((0, 1)), np.zeros((0, self.k)), np.zeros((0, 1))
        n = max(self.k, self.gate_k)
        _, idx = self.tree.query((knn_features(mags, self.space) - self.mean) / self.std, k=n)
        idx = idx.reshape(len(mags), n)
        nz = self.z[idx[:, :self.k]]
        q = gate_of(self.qso[idx[:, :self.gate_k]].mean(1, keepdims=True), self.gate)
        return q, nz, kde_bandwidth(nz, self.bw)


class PhotoZ(SeriesPredictor):
    """Photometric redshift PDFs (Gaussian mixture) from ugriz magnitudes and their errors."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        self.card, self.name = card, card["name"]
        self.device = device_of(device)
        self.net = build_net(card["arch"])
        knn = {k: v for k, v in state.items() if k.startswith(KNN_PREFIX)}
        self.knn = NeighbourKDE(knn, card["arch"]["knn"]) if card["arch"].get("knn") else None
        self.net.load_state_dict({k: v for k, v in state.items() if not k.startswith(KNN_PREFIX)})
        self.net.to(self.device).eval()

    @property
    def bands(self) -> tuple[str, ...]:
        return tuple(self.card["inputs"]["bands"])

    def features(self, mags, errs) -> np.ndarray:
        """The network's standardised inputs [N, 10] of checked magnitudes and errors."""
        norm = self.card["inputs"]["normalisation"]
        return ((PH.features(mags, errs) - np.array(norm["mean"])) / np.array(norm["std"])).astype(np.float32)

    def predict(self, x, errors=None, batch_size: int = 4096) -> PhotoZPrediction:
        """Redshift PDFs of SDSS-like ugriz photometry as the survey serves it: AB magnitudes [N, 5] (or one
        object [5]) with 1-sigma ``errors`` [N, 5] (or [5] / a scalar for all rows), or a Table / dict with
        mag_u..mag_z and err_u..err_z columns (SDSS names u..z + err_u..err_z or modelMag_u + modelMagErr_u
        work too). ``ood`` / ``ood_reason`` flag rows outside the ranges on the card (``inputs.ranges``)."""
        mags, errs = PH.read(x, self.name, errors, self.bands)
        f = self.features(mags, errs)
        k = self.net.members[0].k * len(self.net.members) if isinstance(self.net, MixtureEnsemble) else self.net.k
        parts = [[np.zeros((0, k))] * 3]
        with torch.inference_mode():
            for i in range(0, len(f), batch_size):
                parts.append([a.cpu().numpy().astype(np.float64) for a in self.net(self._t(f[i:i + batch_size]))])
        logw, mu, log_s = (np.concatenate(z) for z in zip(*parts))
        w, s = np.exp(logw), np.exp(log_s)
        if self.knn is not None:  # the gated neighbour KDE joins the mixture (module docstring)
            w, mu, s = with_neighbours(w, mu, s, *self.knn(mags))
        mean = (w * mu).sum(1)
        std = np.sqrt(np.maximum((w * (s ** 2 + mu ** 2)).sum(1) - mean ** 2, 0))
        ood, why = PH.ood_flags(mags, errs, self.card["inputs"].get("ranges"), self.bands)
        res = PhotoZPrediction(w, mu, s, mean.copy(), mean, std, ood=ood, ood_reason=why)
        res.z_mode[:] = self._modes(res)
        return res

    def _modes(self, res: PhotoZPrediction) -> np.ndarray:
        return pdf_modes(res, float(self.card["outputs"].get("z_max", 4.0)))


def with_neighbours(w, mu, s, q, nz, bw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mixture (``w``, ``mu``, ``s`` [N, K]) x (1 - ``q``) joined by the neighbour kernels (redshifts
    ``nz`` [N, k], widths ``bw`` [N, 1]) x ``q`` / k: [N, K + k] each."""
    return (np.concatenate([w * (1 - q), np.broadcast_to(q / nz.shape[1], nz.shape)], 1),
            np.concatenate([mu, nz], 1), np.concatenate([s, np.broadcast_to(bw, nz.shape)], 1))


def pdf_modes(res: PhotoZPrediction, z_max: float = 4.0, chunk: int = 2000) -> np.ndarray:
    """PDF peaks: the best of a 1200-point grid over -0.05..z_max, refined on a 0.1x finer local grid."""
    grid = np.linspace(-0.05, z_max, 1200)
    step = grid[1] - grid[0]
    out = np.empty(len(res.z_mean))
    for i in range(0, len(out), chunk):
        part = res.select(slice(i, i + chunk))
        coarse = grid[np.argmax(part.pdf(grid), 1)]
        fine = coarse[:, None] + np.linspace(-step, step, 21)[None]
        dens = _mixture_pdf_rows(part, fine)
        out[i:i + chunk] = fine[np.arange(len(fine)), np.argmax(dens, 1)]
    return out


def pdf_medians(res: PhotoZPrediction, z_max: float = 4.0, chunk: int = 2000) -> np.ndarray:
    """PDF medians: the CDF on a 1200-point grid over -0.05..z_max, interpolated linearly at 0.5 (to within a
    grid step, 0.0034, where a PDF is narrower than that)."""
    grid = np.linspace(-0.05, z_max, 1200)
    out = np.empty(len(res.z_mean))
    for i in range(0, len(out), chunk):
        cdf = res.select(slice(i, i + chunk)).cdf(grid)
        j = np.clip((cdf < 0.5).sum(1), 1, len(grid) - 1)
        rows = np.arange(len(cdf))
        c0, c1 = cdf[rows, j - 1], cdf[rows, j]
        out[i:i + chunk] = grid[j - 1] + (0.5 - c0) / np.maximum(c1 - c0, 1e-12) * (grid[j] - grid[j - 1])
    return out


def _mixture_pdf_rows(p: PhotoZPrediction, z) -> np.ndarray:
    """PDF [N, G] of each row's mixture at its own redshifts ``z`` [N, G]."""
    u = (z[:, :, None] - p.means[:, None]) / p.sigmas[:, None]
    return (p.weights[:, None] * np.exp(-0.5 * u ** 2) / (p.sigmas[:, None] * 2.5066282746)).sum(2)
