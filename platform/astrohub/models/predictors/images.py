"""Image predictors: classifiers (calibrated probabilities, MC-dropout uncertainty, saliency, an
optional PSF-aware head) and generators (denoising, 2x super-resolution). Both take arrays or the
archive's products (an ``astrohub.vo`` ImageSet: cut to the model's input, with the PSF the headers record)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..inputs import GEN_SCALE, InputError, as_batch, as_psf_fwhm, image_inputs, is_product_set, noise_sigma, normalise
from ..nets import tta_mean
from .base import Prediction, Predictor


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
        return tta_mean(self.net.embed, xn, self.device, batch_size, self.tta if tta is None else tta, to_cpu=False)

    def _inputs(self, x, psf_fwhm):
        """Archive products (an ImageSet) become cropped arrays + the PSF their headers record (an
        explicit ``psf_fwhm`` wins); arrays pass through."""
        if is_product_set(x):
            x, psf = image_inputs(x, self.card["inputs"])
            psf_fwhm = psf.get("psf_fwhm") if psf_fwhm is None else psf_fwhm
        return x, psf_fwhm

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
        the PSF-aware head, whose accuracy is the card's ``metrics`` (else ``metrics_without_psf``).
        ``x`` may be the archive's cutouts (an ImageSet): they are centre-cropped to the model's input
        and, for a model with a PSF-aware head, the PSF each header records is used."""
        x, psf_fwhm = self._inputs(x, psf_fwhm)
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
        ``psf_fwhm`` and archive products: as for :meth:`predict` (the PSF-aware head's logits)."""
        x, psf_fwhm = self._inputs(x, psf_fwhm)
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
                raise InputError(f"{self.name}: target class index {target} out of range "
                                 f"0..{len(self.class_names) - 1}")
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
                out.append(self.net(t.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu"
                                    else t))
        return torch.cat(out).cpu().numpy()

    def denoise(self, x, bands=None, batch_size: int = 16) -> np.ndarray:
        """Denoised images [N, H, W] in the input's units (noise rms estimated from the border)."""
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        sig = checked_sigma(xb, self.name)
        u = np.arcsinh(xb / (GEN_SCALE * sig)).astype(np.float32)
        return (np.sinh(self._run(u, 0.0, batch_size)) * GEN_SCALE * sig)[:, 0]

    def super_resolve(self, x, bands=None, batch_size: int = 16) -> np.ndarray:
        """2x super-resolved images [N, 2H, 2W] from noisy low-resolution cutouts [N, H, W]."""
        c, h, w = self.card["inputs"]["shape"]
        low = dict(self.card["inputs"], shape=[c, h // 2, w // 2])
        xb = as_batch(x, low, bands, self.name)
        sig = checked_sigma(xb, self.name, border=2)
        up = np.repeat(np.repeat(xb, 2, axis=2), 2, axis=3)
        u = np.arcsinh(up / (GEN_SCALE * sig)).astype(np.float32)
        return (np.sinh(self._run(u, 1.0, batch_size)) * GEN_SCALE * sig)[:, 0]

    def predict(self, x, bands=None, batch_size: int = 16) -> np.ndarray:
        """Alias of :meth:`denoise`."""
        return self.denoise(x, bands, batch_size)

    def explain(self, x, bands=None) -> np.ndarray:
        """Saliency [N, H, W]: |d (total denoised flux) / d pixel|."""
        xb = as_batch(x, self.card["inputs"], bands, self.name)
        sig = torch.from_numpy(checked_sigma(xb, self.name))
        raw = torch.from_numpy(xb).requires_grad_(True)
        u = torch.asinh(raw / (GEN_SCALE * sig))
        out = self.net.cpu()(torch.cat([u, torch.zeros_like(u)], 1))
        (torch.sinh(out) * GEN_SCALE * sig).sum().backward()
        self.net.to(self.device)
        return raw.grad.abs()[:, 0].numpy()


def checked_sigma(xb, name, border=4):
    sig = noise_sigma(xb, border)
    if (sig <= 0).any():
        idx = np.unique(np.nonzero(sig <= 0)[0])
        raise InputError(f"{name}: image(s) {idx[:10].tolist()} have no measurable sky noise (constant border); "
                         "pass sky-subtracted cutouts that include their noise")
    return sig
