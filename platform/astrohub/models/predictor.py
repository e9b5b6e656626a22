"""Predictors: a network plus its card, validating inputs and adding uncertainty and saliency.

A predictor is built from (card, state dict) in milliseconds and holds no open files, so
Dask workers can each call ``astrohub.models.load(name)`` once and reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import nets
from .preprocess import InputError, as_batch, as_psf_fwhm, normalise, noise_sigma

GEN_SCALE = 3.0  # generators work on arcsinh(x / (GEN_SCALE * sigma))


@dataclass
class Prediction:
    """Classifier output for N inputs."""

    labels: np.ndarray  # [N] int64 class index
    names: list[str]  # [N] class name of each label
    probabilities: np.ndarray  # [N, K] temperature-calibrated softmax
    uncertainty: np.ndarray  # [N] MC-dropout std of the predicted class's probability
    entropy: np.ndarray  # [N] predictive entropy (nats) of the calibrated probabilities
    class_names: list[str]


def _device(device):
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Predictor:
    """Common part: builds the network described by the card and loads its weights."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        self.card = card
        self.name = card["name"]
        self.device = _device(device)
        self.net = nets.build(card["arch"])
        self.net.load_state_dict(state)
        self.net.to(self.device).eval()
        if self.device.type == "cpu":
            self.net = self.net.to(memory_format=torch.channels_last)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} v{self.card['version']} on {self.device}>"

    def _tensor(self, arr) -> torch.Tensor:
        t = arr if isinstance(arr, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(arr))
        t = t.to(self.device)
        return t.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else t


def _dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k``-th (0..7) rotation/reflection of images [N, C, H, W] (same order as training)."""
    x = torch.rot90(x, k % 4, dims=(2, 3))
    return torch.flip(x, dims=(3,)) if k >= 4 else x


class Classifier(Predictor):
    """Image classifier with calibrated probabilities, MC-dropout uncertainty and saliency maps."""

    @property
    def class_names(self) -> list[str]:
        return list(self.card["outputs"]["classes"])

    @property
    def temperature(self) -> float:
        return float(self.card.get("calibration", {}).get("temperature", 1.0))

    @property
    def tta(self) -> bool:
        """Whether the card asks for test-time augmentation over the 8 rotations/reflections."""
        return self.card["outputs"].get("tta") == "dihedral8"

    def _embed(self, xn: np.ndarray, batch_size: int, tta: bool | None = None) -> torch.Tensor:
        # with TTA the embedding is averaged over the 8 dihedral views (for the linear head its
        # logits are the mean of the 8 views' logits; MC dropout samples around that mean)
        emb = []
        with torch.inference_mode():
            for i in range(0, len(xn), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(xn[i:i + batch_size])).to(self.device)
                views = [_dihedral(x, k) for k in range(8)] if (self.tta if tta is None else tta) else [x]
                emb.append(torch.stack([self.net.embed(self._tensor(v)) for v in views]).mean(0))
        return torch.cat(emb)

    @property
    def takes_psf(self) -> bool:
        """Whether the model has a PSF-aware head (``predict(..., psf_fwhm=...)``)."""
        return "psf_fwhm" in self.card["inputs"]

    def _psf(self, psf_fwhm, n: int) -> torch.Tensor | None:
        if psf_fwhm is None:
            return None
        return torch.from_numpy(as_psf_fwhm(psf_fwhm, n, self.card["inputs"], self.name)).to(self.device)

    def predict(self, x, bands=None, mc_samples: int | None = None, batch_size: int = 32,
                tta: bool | None = None, psf_fwhm=None) -> Prediction:
        """Classify images ``x`` (see the card's ``inputs``); returns a :class:`Prediction`.
        ``tta``: average over the 8 rotations/reflections (default: as the card says, see
        ``card['outputs']['tta']``; ``False`` is 8x cheaper, see ``accuracy_single_pass`` on the card).
        ``psf_fwhm`` (arcsec, one per image or one for all; models with ``inputs.psf_fwhm``): use
        the PSF-aware head, whose accuracy is the card's ``metrics`` (else ``metrics_without_psf``)."""
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        fwhm = self._psf(psf_fwhm, len(xb))
        xn, _ = normalise(xb, self.name)
        emb = self._embed(xn, batch_size, tta)
        if fwhm is None:
            T = self.temperature

            def head(e, sample):  # dropout sits before the linear head
                return self.net.head(F.dropout(e, self.net.dropout.p, training=sample))
        else:
            T = float(self.card["calibration"]["temperature_psf"])

            def head(e, sample):
                return self.net.psf_head(e, fwhm, sample)
        with torch.inference_mode():
            probs = F.softmax(head(emb, False) / T, dim=1)
        top = probs.argmax(1)
        n_mc = int(mc_samples if mc_samples is not None else self.card["outputs"].get("mc_samples", 20))
        unc = torch.zeros(len(xb))
        if n_mc > 1:  # dropout sits in the head only, so sampling reuses the embedding
            with torch.inference_mode():
                samples = torch.stack([F.softmax(head(emb, True) / T, 1) for _ in range(n_mc)])
            unc = samples.gather(2, top.view(1, -1, 1).expand(n_mc, -1, 1)).squeeze(2).std(0)
        p = probs.cpu().numpy().astype(np.float64)
        ent = -(p * np.log(np.clip(p, 1e-12, 1))).sum(1)
        labels = top.cpu().numpy().astype(np.int64)
        return Prediction(labels, [self.class_names[i] for i in labels], p, unc.cpu().numpy(), ent, self.class_names)

    def predict_proba(self, x, bands=None, batch_size: int = 32, tta: bool | None = None,
                      psf_fwhm=None) -> np.ndarray:
        """Calibrated class probabilities [N, K]."""
        return self.predict(x, bands, mc_samples=0, batch_size=batch_size, tta=tta, psf_fwhm=psf_fwhm).probabilities

    def explain(self, x, bands=None, target=None, psf_fwhm=None) -> np.ndarray:
        """Saliency maps [N, H, W]: |d logit / d pixel| (max over bands) for the predicted
        class, or for ``target`` (class index or name). Single forward pass (no test-time augmentation).
        ``psf_fwhm``: as for :meth:`predict` (the PSF-aware head's logits)."""
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        fwhm = self._psf(psf_fwhm, len(xb))
        _, sig = normalise(xb, self.name)
        raw = torch.from_numpy(xb).to(self.device).requires_grad_(True)
        xn = torch.asinh(raw / torch.from_numpy(sig).to(self.device))
        xn = xn.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else xn
        logits = self.net(xn) if fwhm is None else self.net.psf_head(self.net.embed(xn), fwhm)
        if target is None:
            idx = logits.argmax(1)
        else:
            if isinstance(target, str):
                if target not in self.class_names:
                    raise InputError(f"{self.name}: unknown class {target!r}; classes are {self.class_names}")
                target = self.class_names.index(target)
            if not 0 <= int(target) < len(self.class_names):
                raise InputError(f"{self.name}: target class index {target} out of range 0..{len(self.class_names) - 1}")
            idx = torch.full((len(xb),), int(target), device=self.device)
        logits.gather(1, idx.view(-1, 1)).sum().backward()
        return raw.grad.abs().amax(1).cpu().numpy()


class Generator(Predictor):
    """Denoising and 2x super-resolution of cutouts; outputs keep the input's flux units."""

    def _run(self, u: np.ndarray, flag: float, batch_size: int) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for i in range(0, len(u), batch_size):
                t = self._tensor(u[i:i + batch_size])
                t = torch.cat([t, torch.full_like(t, flag)], 1)
                out.append(self.net(t.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else t))
        return torch.cat(out).cpu().numpy()

    def denoise(self, x, bands=None, batch_size: int = 16) -> np.ndarray:
        """Denoised images [N, H, W] in the input's units (noise rms estimated from the border)."""
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        sig = _checked_sigma(xb, self.name)
        u = np.arcsinh(xb / (GEN_SCALE * sig)).astype(np.float32)
        return (np.sinh(self._run(u, 0.0, batch_size)) * GEN_SCALE * sig)[:, 0]

    def super_resolve(self, x, bands=None, batch_size: int = 16) -> np.ndarray:
        """2x super-resolved images [N, 2H, 2W] from noisy low-resolution cutouts [N, H, W]."""
        c, h, w = self.card["inputs"]["shape"]
        low = dict(self.card["inputs"], shape=[c, h // 2, w // 2])
        xb = as_batch(x, low, bands, self.name)
        sig = _checked_sigma(xb, self.name, border=2)
        up = np.repeat(np.repeat(xb, 2, axis=2), 2, axis=3)
        u = np.arcsinh(up / (GEN_SCALE * sig)).astype(np.float32)
        return (np.sinh(self._run(u, 1.0, batch_size)) * GEN_SCALE * sig)[:, 0]

    def predict(self, x, bands=None, batch_size: int = 16) -> np.ndarray:
        """Alias of :meth:`denoise`."""
        return self.denoise(x, bands, batch_size)

    def explain(self, x, bands=None) -> np.ndarray:
        """Saliency [N, H, W]: |d (total denoised flux) / d pixel|."""
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        sig = torch.from_numpy(_checked_sigma(xb, self.name))
        raw = torch.from_numpy(xb).requires_grad_(True)
        u = torch.asinh(raw / (GEN_SCALE * sig))
        out = self.net.cpu()(torch.cat([u, torch.zeros_like(u)], 1))
        (torch.sinh(out) * GEN_SCALE * sig).sum().backward()
        self.net.to(self.device)
        return raw.grad.abs()[:, 0].numpy()


class VAEGenerator(Predictor):
    """Variational autoencoder: ``generate`` new noiseless cutouts (optionally of a given
    morphology class), ``encode`` cutouts to the latent space and ``reconstruct`` them."""

    @property
    def class_names(self) -> list[str]:
        return list(self.card["outputs"]["classes"])

    @property
    def latent_dim(self) -> int:
        return int(self.net.latent)

    def _classes(self, cls, n: int, what: str = "cls") -> torch.Tensor:
        """Class indices [n] from None (unknown / unconditional), a name, an index, or a sequence of n of those."""
        unknown = len(self.class_names)
        if cls is None:
            return torch.full((n,), unknown, dtype=torch.long)
        items = [cls] * n if isinstance(cls, (str, int, np.integer)) and not isinstance(cls, bool) else cls
        if isinstance(items, (bool, float, bytes, dict, set)) or not hasattr(items, "__len__"):
            raise TypeError(f"{self.name}: {what} must be a class name ({', '.join(self.class_names)}), a class "
                            f"index 0..{unknown - 1}, None, or a sequence of those; got {type(cls).__name__}")
        items = list(items)
        if len(items) != n:
            raise InputError(f"{self.name}: {what} has {len(items)} entries for {n} images")
        out = []
        for c in items:
            if isinstance(c, str):
                if c not in self.class_names:
                    import difflib

                    close = difflib.get_close_matches(c, self.class_names, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise InputError(f"{self.name}: unknown class {c!r}{hint}; classes are {self.class_names}")
                out.append(self.class_names.index(c))
            elif isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not 0 <= int(c) < unknown:
                    raise InputError(f"{self.name}: class index {int(c)} out of range 0..{unknown - 1} "
                                     f"({', '.join(self.class_names)})")
                out.append(int(c))
            else:
                raise TypeError(f"{self.name}: {what} entries must be class names or indices, got "
                                f"{type(c).__name__} {c!r}")
        return torch.tensor(out, dtype=torch.long)

    def generate(self, n: int, seed: int | None = None, cls=None, batch_size: int = 256) -> np.ndarray:
        """``n`` new noiseless 64x64 cutouts [n, 1, 64, 64] (float32) in the survey's count units
        (the simulator's sky-noise rms is 1). ``cls``: None (unconditional: the model's mix of
        classes), a class name or index, or a sequence of n of those. The same ``seed`` gives
        the same images."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{self.name}.generate: n must be a positive integer, got {type(n).__name__} {n!r}")
        if n <= 0:
            raise InputError(f"{self.name}.generate: n must be a positive integer, got {n}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"{self.name}.generate: seed must be an integer or None, got {type(seed).__name__} {seed!r}")
        c = self._classes(cls, int(n))
        g = torch.Generator()
        if seed is None:
            g.seed()
        else:
            g.manual_seed(int(seed))
        eps = torch.randn(int(n), self.latent_dim, generator=g)
        out = []
        with torch.inference_mode():
            for i in range(0, int(n), batch_size):
                ci = c[i:i + batch_size].to(self.device)
                z = self.net.sample_z(ci, eps[i:i + batch_size].to(self.device))
                out.append(self.net.decode(z, ci).float().cpu())
        return (np.sinh(torch.cat(out).numpy()) * GEN_SCALE).astype(np.float32)

    def _inputs(self, x, bands):
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        sig = _checked_sigma(xb, self.name)
        return np.arcsinh(xb / (GEN_SCALE * sig)).astype(np.float32), sig

    def encode(self, x, bands=None, cls=None, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and log-variance [N, latent] of noisy cutouts ``x`` (class unknown unless given)."""
        u, _ = self._inputs(x, bands)
        c = self._classes(cls, len(u))
        mus, lvs = [], []
        with torch.inference_mode():
            for i in range(0, len(u), batch_size):
                mu, lv = self.net.encode(self._tensor(u[i:i + batch_size]), c[i:i + batch_size].to(self.device))
                mus.append(mu.float().cpu())
                lvs.append(lv.float().cpu())
        return torch.cat(mus).numpy(), torch.cat(lvs).numpy()

    def reconstruct(self, x, bands=None, cls=None, batch_size: int = 256) -> np.ndarray:
        """Noiseless reconstructions [N, H, W] of noisy cutouts ``x``, in the input's units."""
        u, sig = self._inputs(x, bands)
        c = self._classes(cls, len(u))
        out = []
        with torch.inference_mode():
            for i in range(0, len(u), batch_size):
                out.append(self.net(self._tensor(u[i:i + batch_size]), c[i:i + batch_size].to(self.device)).float().cpu())
        return (np.sinh(torch.cat(out).numpy()) * GEN_SCALE * sig)[:, 0]

    def predict(self, x, bands=None, batch_size: int = 256) -> np.ndarray:
        """Alias of :meth:`reconstruct`."""
        return self.reconstruct(x, bands, batch_size=batch_size)


def _checked_sigma(xb, name, border=4):
    sig = noise_sigma(xb, border)
    if (sig <= 0).any():
        idx = np.unique(np.nonzero(sig <= 0)[0])
        raise InputError(f"{name}: image(s) {idx[:10].tolist()} have no measurable sky noise (constant border); "
                         "pass sky-subtracted cutouts that include their noise")
    return sig


def make_predictor(card: dict, state: dict, device=None) -> Predictor:
    """Classifier or Generator for ``card['kind']``."""
    from . import series  # 1-D models: light curves, spectra, photometry

    if card["kind"] in series.KINDS:
        return series.make(card, state, device)
    cls = {"classifier": Classifier, "generator": Generator}.get(card["kind"])
    if card["kind"] == "generator" and card["arch"].get("net") == "vae":
        cls = VAEGenerator
    if cls is None:
        raise ValueError(f"model card {card['name']!r} has unknown kind {card['kind']!r}")
    return cls(card, state, device)
