"""The transit vetter's predictor: BLS ephemeris + folded views -> planet-transit / eclipsing-binary /
variable / noise, with the planet score and the transit epoch.

>>> vet = models.load("transit_vetter")
>>> pr = vet.predict(flux, time=time)                      # arrays (NaN fluxes and gaps allowed), any cadence
>>> pr = vet.predict(["kplr...llc.fits", "tess...lc.fits"])  # Kepler / K2 / TESS FITS (flagged cadences dropped)
>>> pr.names, pr.planet_score, pr.period, pr.t0, pr.duration, pr.ood, pr.ood_reason

What a "window" is: the vetter decides on windows of about 27.4 d (one TESS sector; the spans it was trained on).
A curve spanning up to 1.5 windows (41 d) is one window; a longer one is cut into ``round(span / 27.4)`` equal
windows (:func:`astrohub.models.inputs.lightcurves.windows`). :meth:`TransitVetter.predict` gives one row per input
curve (its windows' mean probabilities; the ephemeris of its window with the strongest BLS signal);
:meth:`TransitVetter.predict_windows` one row per window. Finer cadences (TESS 2-min) are binned to 29.4 min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inputs import lightcurves as L
from ..inputs import series as P
from ..inputs.ood import OODFlags
from .base import Prediction
from .series import ClassifierMixin, SeriesPredictor

EPHEMERIS = ("period", "t0", "duration", "depth", "snr")
DIP_CONFIDENCE = 0.8  # combine(): a window this sure of a transit or an eclipse speaks for its whole curve


class TransitFeatures(tuple):
    """(global [W,4,256], local [W,4,64], scalars [W,6]) network inputs of W windows, unpacking like a tuple, with
    ``info`` (dict of [W] arrays: BLS period, t0 (input time system), duration, depth, snr and the OOD statistics),
    ``curve`` [W] (the input curve of each window) and ``span`` [W, 2] (each window's start and stop)."""

    info: dict
    curve: np.ndarray
    span: np.ndarray

    def __new__(cls, g, loc, s, info=None, curve=None, span=None):
        obj = super().__new__(cls, (g, loc, s))
        obj.info = info or {}
        obj.curve = np.arange(len(g)) if curve is None else np.asarray(curve)
        obj.span = np.full((len(g), 2), np.nan) if span is None else np.asarray(span, np.float64)
        return obj


@dataclass
class TransitPrediction(Prediction):
    """Class prediction plus the planet score and the BLS ephemeris used to fold each curve: a transit (or the
    deepest dip) at ``t0 + k * period`` lasting ``duration`` days; folding on (period, t0) puts it at phase 0."""

    planet_score: np.ndarray = None  # [N] calibrated P(planet-transit)
    period: np.ndarray = None  # [N] days
    t0: np.ndarray = None  # [N] epoch of mid-transit, in the input's time system (NaN when unknown)
    duration: np.ndarray = None  # [N] days
    depth: np.ndarray = None  # [N] relative flux
    snr: np.ndarray = None  # [N] BLS signal-to-noise
    curve: np.ndarray = None  # [N] index of the input curve of each row (predict_windows)
    window: np.ndarray = None  # [N, 2] start and stop time of each row's window
    n_windows: np.ndarray = None  # [N] windows behind each row (predict)


class TransitVetter(ClassifierMixin, SeriesPredictor):
    """Planet transit vs eclipsing binary / variable / systematics on light curves: BLS finds the
    strongest dip; AstroNet-style global + local folded views feed a two-tower 1-D CNN."""

    @property
    def min_points(self) -> int:
        return int(self.card["inputs"].get("min_points", 100))

    @property
    def window_days(self) -> float:
        return float(self.card["inputs"].get("window_days", L.WINDOW_DAYS))

    def curves(self, x, time=None, quality="hardest") -> list[tuple[np.ndarray, np.ndarray]]:
        """The validated (time, flux) pairs of the input (file paths, Tables, arrays); ``quality``: see
        :meth:`predict`."""
        return P.lightcurves(x, self.name, time, min_points=self.min_points, quality=quality)

    def features(self, x, time=None, progress: bool = False, quality="hardest") -> TransitFeatures:
        """Network inputs of every window of every curve (a :class:`TransitFeatures`: unpacks as (global, local,
        scalars); scalars[:, 0] is log(BLS period / d))."""
        pieces, curve, span = [], [], []
        for i, (t, f) in enumerate(self.curves(x, time, quality)):
            good = np.isfinite(f)
            tg = t[good]
            wins = []
            for a, b in L.windows(tg, self.window_days):
                m = (t >= a) & (t < b)
                ok = m & good
                if ok.sum() >= self.min_points and np.ptp(t[ok]) >= L.MIN_SPAN_DAYS:
                    wins.append((m, a, b))
            if not wins:  # windows too sparse: the whole curve (it passed the checks) is the window
                wins = [(np.ones(len(t), bool), float(tg[0]), float(tg[-1]))]
            for m, a, b in wins:
                pieces.append((t[m], f[m]))
                curve.append(i)
                span.append((a, b))
        g, loc, s, info = P.lightcurve_batch(pieces, progress=progress, info=True)
        return TransitFeatures(g, loc, s, info, np.array(curve), np.array(span))

    def predict(self, x, time=None, mc_samples: int | None = None, batch_size: int = 256, quality="hardest"
                ) -> TransitPrediction:
        """Vet light curves, one row per curve: file paths (Kepler/K2/TESS FITS, text tables; an inner list of
        one star's files, e.g. its Kepler quarters, is stitched into one curve, each file divided by its own
        median), a TableSet / Tables (TIME, FLUX; a lightkurve LightCurve or LightCurveCollection, an astropy
        TimeSeries, pandas DataFrames, dicts of columns, record arrays) or flux [N, T] with ``time`` [T] (or
        [N, T]) in days. Curves longer than 1.5 windows are vetted window by window and combined
        (:meth:`combine`). ``quality``: which flagged cadences of a FITS file are dropped, named as lightkurve's
        ``quality_bitmask`` (:func:`astrohub.models.inputs.lightcurves.read`): "hardest" (any flag the mission
        defines; the reading the vetter was validated on), "default" (lightkurve's: only cadences flagged useless),
        "hard", "none" or an int bitmask; file paths only."""
        feats = self.features(x, time, quality=quality)
        pw = self.predict_features(feats, mc_samples=mc_samples, batch_size=batch_size)
        return self.combine(pw)

    def predict_windows(self, x, time=None, mc_samples: int | None = None, batch_size: int = 256,
                        quality="hardest") -> TransitPrediction:
        """Vet light curves, one row per window (``.curve`` says which input curve, ``.window`` when)."""
        return self.predict_features(self.features(x, time, quality=quality), mc_samples=mc_samples,
                                     batch_size=batch_size)

    def predict_features(self, g, loc=None, s=None, mc_samples=None, batch_size=256, info=None) -> TransitPrediction:
        """Vet precomputed :meth:`features` (a :class:`TransitFeatures`, or the three arrays with ``info``),
        one row per window."""
        curve = span = None
        if isinstance(g, TransitFeatures):
            info = g.info if info is None else info
            curve, span = g.curve, g.span
            g, loc, s = g
        pr = self._classify((g, loc, s), mc_samples, batch_size, cls=TransitPrediction)
        pr.planet_score = pr.probabilities[:, self.class_names.index("planet-transit")]
        pr.period = np.exp(s[:, 0].astype(np.float64))
        pr.duration = pr.period * np.exp(s[:, 1].astype(np.float64))
        nan = np.full(len(s), np.nan)
        info = info or {}
        if "period" in info:  # full precision (the scalars are float32)
            pr.period, pr.duration = np.asarray(info["period"], np.float64), np.asarray(info["duration"], np.float64)
        pr.t0 = np.asarray(info.get("t0", nan), np.float64)
        pr.depth = np.asarray(info.get("depth", nan), np.float64)
        pr.snr = np.asarray(info.get("snr", nan), np.float64)
        pr.curve = np.arange(len(s)) if curve is None else curve
        pr.window = np.full((len(s), 2), np.nan) if span is None else span
        pr.n_windows = np.ones(len(s), np.int64)
        pr.ood, pr.ood_reason = self.ood(info, len(s))
        return pr

    def ood(self, info: dict, n: int) -> tuple[np.ndarray, list[str]]:
        """Rows whose cadence, span, NaN fraction or noise lie outside the ranges on the card
        (``inputs.ranges``: what the training curves covered)."""
        flags = OODFlags(n)
        ranges = self.card["inputs"].get("ranges", {})
        what = {"cadence_min": "cadence (min)", "span_days": "window span (d)", "nan_fraction": "NaN fraction",
                "noise_ppm": "noise (ppm per 29.4 min)"}
        for key, label in what.items():
            if key in ranges and key in info:
                flags.outside(info[key], ranges[key], label)
        return flags.result()

    def combine(self, pw: TransitPrediction) -> TransitPrediction:
        """Per-window rows -> one row per input curve, from the window with the highest BLS S/N: its ephemeris,
        and its probabilities when it is confidently a dip (planet-transit or eclipsing-binary at
        :data:`DIP_CONFIDENCE` or more: one window's transit or eclipse is the star's, whatever the windows
        without one say, as for a long-period planet that transits once), else the windows' mean probabilities;
        the union of the windows' OOD reasons."""
        curves = np.unique(pw.curve)
        if len(curves) == len(pw.curve):
            return pw
        rows = [np.flatnonzero(pw.curve == c) for c in curves]
        best = np.array([r[np.nanargmax(np.nan_to_num(pw.snr[r], nan=-1.0))] for r in rows])
        dips = [self.class_names.index(c) for c in ("planet-transit", "eclipsing-binary")]
        sure = pw.probabilities[best][:, dips].max(1) >= DIP_CONFIDENCE
        voters = [np.array([b]) if ok else r for r, b, ok in zip(rows, best, sure)]  # the windows that speak
        prob = np.stack([pw.probabilities[v].mean(0) for v in voters])
        lab = prob.argmax(1)
        ent = -(prob * np.log(np.clip(prob, 1e-12, 1))).sum(1)
        unc = np.array([pw.uncertainty[v].mean() for v in voters])
        out = TransitPrediction(lab.astype(np.int64), [self.class_names[i] for i in lab], prob, unc, ent,
                                self.class_names)
        out.planet_score = prob[:, self.class_names.index("planet-transit")]
        for k in EPHEMERIS:
            setattr(out, k, getattr(pw, k)[best])
        out.curve = curves
        out.window = np.array([[pw.window[r, 0].min(), pw.window[r, 1].max()] for r in rows])
        out.n_windows = np.array([len(r) for r in rows])
        out.ood = np.array([bool(pw.ood[r].any()) for r in rows])
        out.ood_reason = ["; ".join(dict.fromkeys(x for i in r for x in pw.ood_reason[i].split("; ") if x))
                          for r in rows]
        return out

    def fold(self, x, time=None, bins: int = P.GLOBAL_BINS, quality="hardest"):
        """(phase [bins], folded detrended flux [N, bins]) of each curve on its predicted (period, t0): the
        transit sits at phase 0 (the centre)."""
        cs = self.curves(x, time, quality)  # the files read once: predict takes the curves as (time, flux) pairs
        pr = self.predict([f for _, f in cs], time=[t for t, _ in cs], mc_samples=0)
        out = []
        for i, (t, f) in enumerate(cs):
            tg, fg = L.prepare(t, f)
            r = P.detrend(tg, fg, period=pr.period[i], t0=pr.t0[i])
            ph = P._phase(tg, pr.period[i], pr.t0[i])
            out.append(P._binned(ph, r, -0.5, 0.5, bins))
        return (np.arange(bins) + 0.5) / bins - 0.5, np.stack(out)

    def explain(self, x, time=None, target: str | None = None, quality="hardest") -> np.ndarray:
        """Saliency [W, 256] over the phase-folded global view of each window (the BLS transit at the centre,
        bin 128) for class ``target`` (default: each window's predicted class); see :meth:`explain_features`."""
        return self.explain_features(*self.features(x, time, quality=quality), target=target)

    def explain_features(self, g, loc, s, target: str | None = None) -> np.ndarray:
        """:meth:`explain` on precomputed :meth:`features`: |input x d logit / d input| (gradient x input, Shrikumar
        et al. 2017: where the folded light curve carries what the decision rests on) summed over the global
        view's channels folded on the primary phase axis (0: noise units, 3: relative flux), the axis of
        ``g[:, 0]``; the half-phase channel (1) and the flux-versus-time channel (2) lie on other axes."""
        import torch

        if target is not None and target not in self.class_names:
            return self._explain((g, loc, s), 0, target)  # its message names the unknown class
        xs = [self._t(a).requires_grad_(i == 0) for i, a in enumerate((g, loc, s))]
        with torch.enable_grad():
            logits = self.net(*xs)
            idx = logits.argmax(1) if target is None else torch.full((len(logits),), self.class_names.index(target),
                                                                     device=logits.device)
            logits.gather(1, idx.view(-1, 1)).sum().backward()
        attr = (xs[0].grad * xs[0].detach()).abs()
        return (attr[:, 0] + attr[:, 3]).cpu().numpy().astype(np.float64)
