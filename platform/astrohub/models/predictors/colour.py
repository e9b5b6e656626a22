"""Colour-composite classifier (``colour-classifier`` kind): Galaxy Zoo's SDSS gri JPEGs, by path or as uint8
arrays, or g, r, i FITS cutouts with a WCS, to calibrated class probabilities with MC-dropout uncertainty, saliency
and out-of-distribution flags.

All preprocessing is here (:mod:`astrohub.models.inputs.colour`): each image is read as served, its central
square resampled to the card's ``inputs.frame_px``, the central ``inputs.shape`` px kept and scaled per band with
the card's mean and std. FITS cutouts are made into that frame first (:mod:`astrohub.models.inputs.colour_fits`:
scaled to the galaxy's Petrosian R90 and composed as the simulator composes its stamps); their rows are flagged
out of distribution, since that path has no real-data validation. The network, temperature, MC dropout and
test-time augmentation over the 8 rotations/reflections are those of the image
:class:`~astrohub.models.predictors.images.Classifier`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..inputs import OODFlags
from ..inputs.colour import centre, colour_stats, normalise_colour, prepare
from ..inputs.colour_fits import composites, fits_items, is_fits_colour
from ..inputs.columns import listed
from .base import Prediction
from .images import Classifier

REFRAME_HINT = "predict(..., reframe=True) re-frames it"  # ends the reason of a stamp framed otherwise


class ColourClassifier(Classifier):
    """Classifier of colour composites: ``predict(images)`` with ``images`` JPEG/PNG paths (as Galaxy Zoo serves
    them), uint8 arrays [N, H, W, 3], or FITS galaxies (a g, r, i cube, or ``[g, r, i]`` cutouts per galaxy, each
    with a WCS); returns a :class:`~astrohub.models.predictors.base.Prediction` whose
    ``ood`` / ``ood_reason`` flag images unlike the training stamps (see :meth:`ood_flags`)."""

    @property
    def frame_px(self) -> int:
        return int(self.card["inputs"]["frame_px"])

    @property
    def crop_px(self) -> int:
        return int(self.card["inputs"]["shape"][-1])

    def prepare(self, images, progress: bool = False, notes: list | None = None,
                reframe: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``images`` read and framed: (uint8 frames [N, F, F, 3], each image's central square resampled to
        ``F = inputs.frame_px``; the served [height, width] of each [N, 2], NaN for FITS galaxies, whose frame is
        made from their cutouts). ``notes``: a list that gets one out-of-distribution reason per image ("" for
        JPEG/PNG files and arrays). ``reframe``: JPEG/PNG stamps not framed as Galaxy Zoo frames them (a cutout
        at a fixed pixel scale) are first re-cut so that the galaxy's R90 spans what it spans in Galaxy Zoo's
        (``inputs.r90_target``; :func:`astrohub.models.inputs.colour.reframe`). A list mixing FITS galaxies with
        JPEG/PNG images or arrays (an archive serving some galaxies band by band) is read part by part and
        returned in its own order; messages name each item by its position in that list."""
        target = self.card["inputs"].get("r90_target") if reframe else None
        if reframe and target is None:
            raise ValueError(f"{self.name}: its card has no inputs.r90_target, so reframe=True cannot be used")
        mask = fits_items(images)
        if mask is not None and mask.any() and not mask.all():
            items = list(listed(images))
            parts = [np.flatnonzero(mask), np.flatnonzero(~mask)]
            why = [""] * len(items)
            frames = np.empty((len(items), self.frame_px, self.frame_px, 3), np.uint8)
            hw = np.full((len(items), 2), np.nan)
            fits_frames, fits_why, _ = composites([items[k] for k in parts[0]], self.frame_px, self.crop_px,
                                                  self.name, progress, index=parts[0].tolist())
            frames[parts[0]] = fits_frames
            for k, w in zip(parts[0], fits_why):
                why[k] = w
            frames[parts[1]], hw[parts[1]] = prepare([items[k] for k in parts[1]], self.frame_px, self.name,
                                                     progress, r90_target=target, index=parts[1].tolist())
        elif is_fits_colour(images):
            frames, why, _ = composites(images, self.frame_px, self.crop_px, self.name, progress)
            hw = np.full((len(frames), 2), np.nan)
        else:
            frames, hw = prepare(images, self.frame_px, self.name, progress, r90_target=target)
            why = [""] * len(frames)
        if notes is not None:
            notes.extend(why)
        return frames, hw

    def view(self, images, reframe: bool = False) -> np.ndarray:
        """What the network sees of each image, before scaling: uint8 [N, S, S, 3], the central ``S`` px of its
        frame (the grid of :meth:`explain`'s maps); ``reframe`` as in :meth:`prepare`."""
        return centre(self.prepare(images, reframe=reframe)[0], self.crop_px)

    def _normalised(self, frames: np.ndarray) -> np.ndarray:
        inp = self.card["inputs"]
        return normalise_colour(centre(frames, self.crop_px), inp["channel_mean"], inp["channel_std"])

    def ood_flags(self, frames: np.ndarray, hw: np.ndarray, notes: list | None = None) -> tuple[np.ndarray, list[str]]:
        """(ood [N], reason [N]): images whose size, shape, colour, sky or central light lie outside what the
        model was trained on (``card['inputs']['ranges']``, from the kit's training split), and the ``notes``
        :meth:`prepare` gave (composites made from FITS cutouts; their served size is not checked)."""
        st = colour_stats(hw, frames, self.crop_px)
        rng = self.card["inputs"]["ranges"]
        flags = OODFlags(len(frames))
        made = np.isnan(st["side_px"])
        for note in set(notes or []) - {""}:  # the rows of FITS galaxies share a few notes
            flags.add(np.array(notes) == note, note)
        flags.outside(np.where(made, rng["side_px"][0], st["side_px"]), rng["side_px"], "stamp side (px)", "{:.0f}")
        flags.outside(np.where(made, 1.0, st["aspect"]), rng["aspect"], "height/width", "{:.2f}")
        grey = st["colour_spread"] < rng["colour_spread"][0]
        flags.add(grey, "no colour (the three bands are nearly identical): not a gri colour composite")
        flags.outside(np.where(grey, rng["colour_spread"][0], st["colour_spread"]),
                      [None, rng["colour_spread"][1]], "band difference", "{:.1f}")
        flags.outside(st["sky"], rng["sky"], "sky level (0-255)", "{:.0f}")
        blank = st["centre_peak"] < rng["centre_peak"][0]
        flags.add(blank, f"mostly blank: no source in the centre (peak {rng['centre_peak'][0]:.0f} or more expected)")
        flags.outside(np.where(blank, rng["centre_peak"][0], st["centre_peak"]), [None, rng["centre_peak"][1]],
                      "central peak (0-255)", "{:.0f}")
        red = st["centre_red"]
        flags.outside(np.where(np.isfinite(red), red, rng["centre_red"][0]), rng["centre_red"],
                      "central red-blue colour", "{:.2f}")
        if "r90_frame" in rng:  # the galaxy's size in its frame: Galaxy Zoo scales each stamp to the galaxy
            lo, hi = rng["r90_frame"]
            r90 = st["r90_frame"]
            off = np.isfinite(r90) & ~made & ((r90 < lo) | (r90 > hi))
            for k in np.flatnonzero(off):
                flags.add(np.arange(len(frames)) == k,
                          f"the galaxy's R90 spans {r90[k]:.1%} of the frame, outside {lo:.1%}-{hi:.1%} (Galaxy Zoo "
                          f"scales each stamp to its galaxy): framed otherwise, e.g. a fixed-scale cutout? "
                          f"{REFRAME_HINT}")
        return flags.result()

    def predict(self, images, mc_samples: int | None = None, batch_size: int = 64, tta: bool | None = None,
                progress: bool = False, reframe: bool = False) -> Prediction:
        """Classify colour composites ``images`` (JPEG/PNG paths as served, uint8 arrays [N, H, W, 3], or FITS
        galaxies: see the class's help). ``reframe``: for JPEG/PNG stamps framed otherwise than Galaxy Zoo frames
        them (see :meth:`prepare`; off by default: Galaxy Zoo's own stamps need none).
        ``tta``: average over the 8 rotations/reflections (default: as the card says); ``mc_samples``: MC-dropout
        samples for ``uncertainty`` (default: the card's; 0 skips them)."""
        notes: list[str] = []
        frames, hw = self.prepare(images, progress, notes, reframe)
        xn = self._normalised(frames)
        emb = self._embed(xn, batch_size, tta)
        T = self.temperature

        def head(e, sample):  # dropout sits before the linear head
            return self.net.head(F.dropout(e, self.net.dropout.p, training=sample))

        with torch.inference_mode():
            probs = F.softmax(head(emb, False) / T, dim=1)
        top = probs.argmax(1)
        n_mc = int(mc_samples if mc_samples is not None else self.card["outputs"].get("mc_samples", 20))
        unc = torch.zeros(len(xn))
        if n_mc > 1:
            with torch.inference_mode():
                samples = torch.stack([F.softmax(head(emb, True) / T, 1) for _ in range(n_mc)])
            unc = samples.gather(2, top.view(1, -1, 1).expand(n_mc, -1, 1)).squeeze(2).std(0)
        p = probs.cpu().numpy().astype(np.float64)
        ent = -(p * np.log(np.clip(p, 1e-12, 1))).sum(1)
        labels = top.cpu().numpy().astype(np.int64)
        ood, why = self.ood_flags(frames, hw, notes)
        return Prediction(labels, [self.class_names[i] for i in labels], p, unc.cpu().numpy(), ent,
                          self.class_names, ood, why)

    def predict_proba(self, images, batch_size: int = 64, tta: bool | None = None) -> np.ndarray:
        """Calibrated class probabilities [N, K]."""
        return self.predict(images, mc_samples=0, batch_size=batch_size, tta=tta).probabilities

    def explain(self, images, target=None, reframe: bool = False) -> np.ndarray:
        """Saliency maps [N, S, S] on the model's view of each image (:meth:`view`): |d logit / d pixel|
        (max over bands) for the predicted class, or for ``target`` (class index or name). Single forward pass."""
        frames, _ = self.prepare(images, reframe=reframe)
        raw = torch.from_numpy(np.ascontiguousarray(self._normalised(frames))).to(self.device).requires_grad_(True)
        xn = raw.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else raw
        logits = self.net(xn)
        return self._saliency(raw, logits, target)
