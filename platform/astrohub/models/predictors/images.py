"""Image predictors: classifiers (calibrated probabilities, MC-dropout uncertainty, saliency, an
optional PSF-aware head) and generators (denoising, 2x super-resolution).

Both take, as surveys serve them: arrays; FITS cutouts with a WCS (paths, HDUs, HDULists: resampled to
the model's pixel scale and cut to its input, see :mod:`astrohub.models.inputs.fits`); the archive's
products (an ``astrohub.vo`` ImageSet: cut to the model's input, with the PSF the headers record); or
whatever the card's survey adapter reads (``inputs.adapter``, :mod:`astrohub.models.inputs.adapters`).
Every classification carries out-of-distribution flags (``ood``, ``ood_reason``) against the ranges on
the card (``inputs.ranges``); generators report them with :meth:`Generator.check`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...defaults import header_band
from ..inputs import GEN_SCALE, InputError, as_batch, as_psf_fwhm, is_product_set, noise_sigma, normalise
from ..inputs.adapters import adapt, features
from ..inputs.fits import header_pixel_scales, is_fits_input, read_fits_cutouts
from ..inputs.images import fill_masked, image_ood
from ..inputs.ood import OODFlags
from ..kinds import single_band
from ..nets import tta_mean
from ..nets.forest import Forest
from .base import Prediction, Predictor


@dataclass
class Prepared:
    """A model's validated input batch and what is known about each row."""

    batch: np.ndarray  # float32 [N, C, H, W], masked pixels filled
    flags: OODFlags  # out-of-distribution reasons per row
    header_psf: np.ndarray | None = None  # [N] PSF FWHM (arcsec) the FITS headers record, NaN where absent


def prepare_images(x, inputs: dict, bands=None, name: str = "model", fill_nan: bool = False,
                   shape=None, scale=None) -> Prepared:
    """THE entry of every image predictor: the card's survey adapter (``inputs.adapter``) when it names
    one; else FITS cutouts (resampled, cut), archive products (ImageSet: centre-cropped) or arrays;
    validated (:func:`as_batch`), NaN (masked) pixels filled with sky noise (FITS and archive
    products always; arrays only with ``fill_nan``), and flagged against the card's ``inputs.ranges``.
    ``shape`` / ``scale``: the input size and pixel scale when they differ from the card's (2x SR input)."""
    spec = inputs if shape is None else dict(inputs, shape=list(shape),
                                             pixel_scale_arcsec=scale or inputs["pixel_scale_arcsec"])
    got = adapt(x, spec, name)
    if got is not None:
        xb, flags = got
        return Prepared(as_batch(xb, spec, bands, name), flags)
    info: dict = {}
    allow_nan = fill_nan
    if is_fits_input(x):
        x, info = read_fits_cutouts(x, spec, name)
        allow_nan = True
    elif is_product_set(x):
        from ..inputs.products import fit_cutouts

        headers = [x.headers[i] for i in np.argsort(x.rows, kind="stable")]
        info = {"pixel_scale": header_pixel_scales(headers), "band": [header_band(h) for h in headers]}
        key = (spec.get("psf_fwhm") or {}).get("fits_keyword", "PSF_FWHM")
        info["psf_fwhm"] = x.header_values(key)
        x = fit_cutouts(x.in_row_order(), spec)
        allow_nan = True
    xb = as_batch(x, spec, bands, name, allow_nan=allow_nan)
    xb, nan_fraction = fill_masked(xb, name)
    sat = info.get("saturated")
    flags = image_ood(xb, spec, nan_fraction=nan_fraction, pixel_scale=info.get("pixel_scale"),
                      psf_fwhm=info.get("psf_fwhm"), saturated=None)
    if sat is not None:
        for i in np.flatnonzero(np.asarray(sat) > 0):
            flags.reasons[i].append(f"saturated: {int(sat[i])} pixel(s) at or above the header's SATURATE level")
    if trained := single_band(spec):  # a single-band model: a header naming another band
        for i, b in enumerate(info.get("band") or []):
            if b is not None and b != trained:
                flags.reasons[i].append(f"band {b} (its header's filter): the model was trained on "
                                        f"{trained}-band images")
    return Prepared(xb, flags, info.get("psf_fwhm"))


STACK_PREFIX = "stack.forest."


class TreeStack:
    """A classifier's tree component (its card's ``stack``): a regression forest (:mod:`astrohub.models.nets.forest`,
    tensors ``stack.forest.*`` in the weights) on summary features of the raw input (``stack.features`` names the
    function in :data:`astrohub.models.inputs.adapters.FEATURES`), whose prediction p (clipped to
    [``clip``, 1 - ``clip``]) adds ``weight`` x logit(p) to the logit of class ``stack.class``, before the
    temperature."""

    def __init__(self, spec: dict, state: dict[str, torch.Tensor], classes: list[str]):
        self.spec, self.column = spec, classes.index(spec["class"])
        self.forest = Forest(state, STACK_PREFIX, len(spec["feature_names"]))

    def logits(self, x, inputs: dict, name: str, n_classes: int) -> torch.Tensor:
        """[N, K] to add to the network's logits for raw input ``x``."""
        f, names = features(self.spec["features"], name)(x, inputs, name)
        if names != list(self.spec["feature_names"]):
            raise InputError(f"{name}: its feature set {self.spec['features']!r} now gives other columns than the "
                             "forest was trained on; retrain the model")
        eps = float(self.spec["clip"])
        p = np.clip(self.forest.predict(f), eps, 1 - eps)
        out = torch.zeros(len(f), n_classes)
        out[:, self.column] = torch.from_numpy(float(self.spec["weight"]) * np.log(p / (1 - p))).float()
        return out


class Classifier(Predictor):
    """Image classifier with calibrated probabilities, MC-dropout uncertainty and saliency maps; with a
    :class:`TreeStack` when its card has a ``stack``."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        super().__init__(card, {k: v for k, v in state.items() if not k.startswith(STACK_PREFIX)}, device)
        self.stack = TreeStack(card["stack"], state, self.class_names) if card.get("stack") else None

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

    def _inputs(self, x, bands, psf_fwhm, fill_nan=False) -> tuple[Prepared, np.ndarray | None]:
        """The prepared batch (:func:`prepare_images`) and the PSF to use: an explicit ``psf_fwhm``, else
        the one every FITS / archive header records when the model takes a PSF and all lie within its
        trained range (else None: the PSF-blind head; out-of-range header PSFs are flagged)."""
        p = prepare_images(x, self.card["inputs"], bands, self.name, fill_nan)
        if psf_fwhm is None and self.takes_psf and p.header_psf is not None:
            try:
                psf_fwhm = as_psf_fwhm(p.header_psf, len(p.batch), self.card["inputs"], self.name)
            except InputError:
                psf_fwhm = None
        return p, psf_fwhm

    def check(self, x, bands=None, fill_nan: bool = False) -> tuple[np.ndarray, list[str]]:
        """Out-of-distribution flags of inputs ``x`` without predicting: (ood [N] bool, reason [N] str)."""
        return prepare_images(x, self.card["inputs"], bands, self.name, fill_nan).flags.result()

    @property
    def takes_psf(self) -> bool:
        """Whether the model has a PSF-aware head (``predict(..., psf_fwhm=...)``)."""
        return "psf_fwhm" in self.card["inputs"]

    def _psf(self, psf_fwhm, n: int) -> torch.Tensor | None:
        if psf_fwhm is None:
            return None
        return torch.from_numpy(as_psf_fwhm(psf_fwhm, n, self.card["inputs"], self.name)).to(self.device)

    def predict(self, x, bands=None, mc_samples: int | None = None, batch_size: int = 32,
                tta: bool | None = None, psf_fwhm=None, fill_nan: bool = False) -> Prediction:
        """Classify images ``x`` (see the card's ``inputs``); returns a :class:`Prediction`.
        ``tta``: average over the 8 rotations/reflections (default: as the card says, see
        ``card['outputs']['tta']``; ``False`` is 8x cheaper, see ``accuracy_single_pass`` on the card).
        ``psf_fwhm`` (arcsec, one per image or one for all; models with ``inputs.psf_fwhm``): use
        the PSF-aware head, whose accuracy is the card's ``metrics`` (else ``metrics_without_psf``).
        ``x`` may be the archive's cutouts (an ImageSet): they are centre-cropped to the model's input
        and, for a model with a PSF-aware head, the PSF each header records is used; or FITS cutouts
        with a WCS (paths, HDUs), resampled to the model's pixel scale. ``fill_nan``: fill NaN pixels of
        arrays with the sky level (FITS and archive cutouts always are) instead of refusing them.
        ``ood`` / ``ood_reason`` flag rows unlike the training data (S/N, masked pixels, saturation,
        resampled pixel scale, header PSF; ranges on the card's ``inputs.ranges``)."""
        prep, psf_fwhm = self._inputs(x, bands, psf_fwhm, fill_nan)
        xb = prep.batch
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
        if self.stack is not None:  # the tree component's logits join the network's (TreeStack)
            extra = self.stack.logits(x, self.card["inputs"], self.name, len(self.class_names)).to(emb.device)
            net_head = head

            def head(e, sample):
                return net_head(e, sample) + extra
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
        ood, reason = prep.flags.result()
        return Prediction(labels, [self.class_names[i] for i in labels], p, unc.cpu().numpy(), ent, self.class_names,
                          ood=ood, ood_reason=reason)

    def predict_proba(self, x, bands=None, batch_size: int = 32, tta: bool | None = None,
                      psf_fwhm=None, fill_nan: bool = False) -> np.ndarray:
        """Calibrated class probabilities [N, K]."""
        return self.predict(x, bands, mc_samples=0, batch_size=batch_size, tta=tta, psf_fwhm=psf_fwhm,
                            fill_nan=fill_nan).probabilities

    def explain(self, x, bands=None, target=None, psf_fwhm=None, fill_nan: bool = False) -> np.ndarray:
        """Saliency maps [N, H, W]: |d logit / d pixel| (max over bands) for the predicted
        class, or for ``target`` (class index or name). Single forward pass (no test-time augmentation).
        ``psf_fwhm`` and archive products: as for :meth:`predict` (the PSF-aware head's logits)."""
        prep, psf_fwhm = self._inputs(x, bands, psf_fwhm, fill_nan)
        xb = prep.batch
        fwhm = self._psf(psf_fwhm, len(xb))
        _, sig = normalise(xb, self.name)
        raw = torch.from_numpy(xb).to(self.device).requires_grad_(True)
        xn = torch.asinh(raw / torch.from_numpy(sig).to(self.device))
        xn = xn.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else xn
        logits = self.net(xn) if fwhm is None else self.net.psf_head(self.net.embed(xn), fwhm)
        return self._saliency(raw, logits, target)

    def _saliency(self, raw: torch.Tensor, logits: torch.Tensor, target) -> np.ndarray:
        """|d logit / d raw| (max over bands) for the predicted class, or ``target`` (class index or name)."""
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
            idx = torch.full((len(logits),), int(target), device=self.device)
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

    def _low_res(self):
        """Shape and pixel scale of the 2x super-resolution input."""
        c, h, w = self.card["inputs"]["shape"]
        return [c, h // 2, w // 2], 2 * float(self.card["inputs"]["pixel_scale_arcsec"])

    def check(self, x, bands=None, fill_nan: bool = False, super_resolution: bool = False):
        """Out-of-distribution flags of inputs ``x`` (for :meth:`denoise`, or with ``super_resolution``
        for :meth:`super_resolve`): (ood [N] bool, reason [N] str) against the card's ``inputs.ranges``."""
        shape, scale = self._low_res() if super_resolution else (None, None)
        return prepare_images(x, self.card["inputs"], bands, self.name, fill_nan, shape, scale).flags.result()

    def denoise(self, x, bands=None, batch_size: int = 16, fill_nan: bool = False) -> np.ndarray:
        """Denoised images [N, H, W] in the input's units (noise rms estimated from the border).
        ``x``: arrays, FITS cutouts with a WCS (resampled to the model's pixel scale: the output is in
        counts per resampled pixel) or archive products; :meth:`check` gives their OOD flags."""
        xb = prepare_images(x, self.card["inputs"], bands, self.name, fill_nan).batch
        sig = checked_sigma(xb, self.name)
        u = np.arcsinh(xb / (GEN_SCALE * sig)).astype(np.float32)
        return (np.sinh(self._run(u, 0.0, batch_size)) * GEN_SCALE * sig)[:, 0]

    def super_resolve(self, x, bands=None, batch_size: int = 16, fill_nan: bool = False) -> np.ndarray:
        """2x super-resolved images [N, 2H, 2W] from noisy low-resolution cutouts [N, H, W] (FITS cutouts:
        resampled to twice the model's pixel scale)."""
        shape, scale = self._low_res()
        xb = prepare_images(x, self.card["inputs"], bands, self.name, fill_nan, shape, scale).batch
        sig = checked_sigma(xb, self.name, border=2)
        up = np.repeat(np.repeat(xb, 2, axis=2), 2, axis=3)
        u = np.arcsinh(up / (GEN_SCALE * sig)).astype(np.float32)
        return (np.sinh(self._run(u, 1.0, batch_size)) * GEN_SCALE * sig)[:, 0]

    def predict(self, x, bands=None, batch_size: int = 16, fill_nan: bool = False) -> np.ndarray:
        """Alias of :meth:`denoise`."""
        return self.denoise(x, bands, batch_size, fill_nan)

    def explain(self, x, bands=None, fill_nan: bool = False) -> np.ndarray:
        """Saliency [N, H, W]: |d (total denoised flux) / d pixel|."""
        xb = prepare_images(x, self.card["inputs"], bands, self.name, fill_nan).batch
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
