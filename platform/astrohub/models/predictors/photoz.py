"""The photo-z predictor: Gaussian-mixture redshift PDFs from ugriz magnitudes and errors.

>>> models.load("photoz_mdn").predict(mags, errs).z_mode     # SDSS ugriz AB magnitudes [N, 5] + 1-sigma errors
>>> models.load("photoz_mdn").predict(objects_table).z_mode  # mag_u..mag_z + err_u..err_z (or SDSS names)

All preprocessing (colours, error features, the card's normalisation) happens here; rows outside the
magnitude / colour / error ranges the model was trained on are flagged in ``ood`` / ``ood_reason``.

A card whose ``arch`` has a ``knn`` entry adds a classical component to every PDF (:class:`NeighbourKDE`): the
Gaussian KDE of the redshifts of the k nearest training objects (r + 4 colours), weighted by the fraction q of
those neighbours that are spectroscopic QSOs, the network's mixture by 1 - q. Where the neighbours are galaxies
or stars (q = 0) the PDF is the network's alone; in QSO colour space, where the network's mode is often on the
wrong branch of a colour-redshift degeneracy, the neighbours' redshifts take over. Its training rows ship in
the weights file (``knn.*`` tensors).
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

    def pdf(self, grid) -> np.ndarray:
        """PDFs [N, G] on redshift ``grid``."""
        g = np.asarray(grid, float)[None, :, None]
        z = (g - self.means[:, None]) / self.sigmas[:, None]
        return (self.weights[:, None] * np.exp(-0.5 * z ** 2) / (self.sigmas[:, None] * 2.5066282746)).sum(2)

    def cdf(self, grid) -> np.ndarray:
        """CDFs [N, G] on redshift ``grid``."""
        from scipy.special import ndtr

        g = np.asarray(grid, float)[None, :, None]
        return (self.weights[:, None] * ndtr((g - self.means[:, None]) / self.sigmas[:, None])).sum(2)


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


def knn_features(mags) -> np.ndarray:
    """r and the four adjacent colours of magnitudes [N, 5] (u g r i z): the neighbour search space."""
    mags = np.asarray(mags, np.float64)
    return np.concatenate([mags[:, 2:3], mags[:, :-1] - mags[:, 1:]], 1)


def knn_state(mags, redshift, qso) -> dict[str, torch.Tensor]:
    """The ``knn.*`` tensors of a :class:`NeighbourKDE` over training rows: their r + colours, standardisation,
    spectroscopic redshifts and QSO flags."""
    f = knn_features(mags)
    return {KNN_PREFIX + "features": torch.from_numpy(f), KNN_PREFIX + "mean": torch.from_numpy(f.mean(0)),
            KNN_PREFIX + "std": torch.from_numpy(f.std(0)),
            KNN_PREFIX + "redshift": torch.from_numpy(np.asarray(redshift, np.float64)),
            KNN_PREFIX + "qso": torch.from_numpy(np.asarray(qso, np.float64))}


class NeighbourKDE:
    """The classical component of a photo-z PDF: for each object, its ``k`` nearest training objects in
    standardised r + colours; their redshifts as Gaussian kernels (bandwidth max(0.5 std k^-0.2, 0.005), as the
    kit's k-NN baseline) and the fraction ``q`` of them that are QSOs (the gate)."""

    def __init__(self, tensors: dict[str, torch.Tensor], k: int):
        from scipy.spatial import cKDTree

        t = {name[len(KNN_PREFIX):]: v.double().numpy() for name, v in tensors.items()}
        self.k, self.mean, self.std = int(k), t["mean"], t["std"]
        self.z, self.qso = t["redshift"], t["qso"]
        self.tree = cKDTree((t["features"] - self.mean) / self.std)

    def __call__(self, mags) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(q [N, 1], neighbour redshifts [N, k], bandwidths [N, 1]) of magnitudes [N, 5]."""
        if len(mags) == 0:
            return np.zeros((0, 1)), np.zeros((0, self.k)), np.zeros((0, 1))
        _, idx = self.tree.query((knn_features(mags) - self.mean) / self.std, k=self.k)
        idx = idx.reshape(len(mags), self.k)
        nz = self.z[idx]
        bw = np.maximum(0.5 * nz.std(1, keepdims=True) * self.k ** -0.2, 0.005)
        return self.qso[idx].mean(1, keepdims=True), nz, bw


class PhotoZ(SeriesPredictor):
    """Photometric redshift PDFs (Gaussian mixture) from ugriz magnitudes and their errors."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        self.card, self.name = card, card["name"]
        self.device = device_of(device)
        self.net = build_net(card["arch"])
        knn = {k: v for k, v in state.items() if k.startswith(KNN_PREFIX)}
        self.knn = NeighbourKDE(knn, card["arch"]["knn"]["k"]) if card["arch"].get("knn") else None
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
            q, nz, bw = self.knn(mags)
            w = np.concatenate([w * (1 - q), np.broadcast_to(q / self.knn.k, nz.shape)], 1)
            mu, s = np.concatenate([mu, nz], 1), np.concatenate([s, np.broadcast_to(bw, nz.shape)], 1)
        mean = (w * mu).sum(1)
        std = np.sqrt(np.maximum((w * (s ** 2 + mu ** 2)).sum(1) - mean ** 2, 0))
        ood, why = PH.ood_flags(mags, errs, self.card["inputs"].get("ranges"), self.bands)
        res = PhotoZPrediction(w, mu, s, mean.copy(), mean, std, ood=ood, ood_reason=why)
        res.z_mode[:] = self._modes(res)
        return res

    def _modes(self, res: PhotoZPrediction, chunk: int = 2000) -> np.ndarray:
        """PDF peaks: the best of a 1200-point grid over -0.05..z_max, refined on a 0.1x finer local grid."""
        z_max = float(self.card["outputs"].get("z_max", 4.0))
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


def _mixture_pdf_rows(p: PhotoZPrediction, z) -> np.ndarray:
    """PDF [N, G] of each row's mixture at its own redshifts ``z`` [N, G]."""
    u = (z[:, :, None] - p.means[:, None]) / p.sigmas[:, None]
    return (p.weights[:, None] * np.exp(-0.5 * u ** 2) / (p.sigmas[:, None] * 2.5066282746)).sum(2)
