"""Input checks and features for the 1-D models: light curves (BLS + folded views), spectra,
multi-band photometry. Accepts ``astrohub.vo`` TableSets, astropy Tables or plain arrays."""

from __future__ import annotations

import numpy as np

from ...defaults import SPECTRAL_AXIS_NAMES, SPECTRAL_AXIS_UCDS
from . import spectrum_files as SF
from .columns import column_values
from .images import InputError
from .lightcurves import table_list

GLOBAL_BINS, LOCAL_BINS = 256, 64
FEATURES_VERSION = 4  # in the cache names of computed light-curve features: bump when the views change (2 and 5
# were unshipped trials': the next is 6)
LOCAL_HALF_WIDTH = 2.5  # local view spans +-2.5 transit durations
BLS_BIN_FRACTION = 0.3  # BLS phase bins: this fraction of a central Sun-like transit's duration at each period
BLS_SEGMENTS = 8  # log-spaced period segments, each with its own phase resolution
BLS_MAX_DURATION = (0.6, 0.12)  # longest BLS box: days, fraction of the period
SEARCH_WINDOW = 2.0  # days: running median removed before the period search (the views: detrend's 2.5 d)
TWO_SIGN_OUTLIERS = 10  # clip_outliers: this many single-cadence brightenings make single-cadence dips junk too
FOLD_BINS = 64  # phase bins of the folded light curve kept whole by the period-aware detrending
BANDS = ("u", "g", "r", "i", "z")


# ----------------------------------------------------------------------------- coercion
FLUX_UCDS = ("phot.flux.density", "phot.flux")


def _ucd(col) -> str:
    return str(getattr(col, "meta", {}).get("ucd", "") or "").lower()


def spectrum_from_table(t, name: str, i: int = 0):
    """(wavelength [A], increasing; flux; error or None) of one spectrum table as archives serve it: the spectral
    axis found by its UCD (``em.wl``, ``em.freq``, ``em.energy``: IVOA's spectral data model) or its name
    (:data:`SPECTRAL_AXIS_NAMES`; SDSS's ``loglam`` is log10 of A), in its own unit (A, nm, um, m, Hz, eV ...; no unit:
    A), the flux by name (FLUX) or UCD (``phot.flux.density``), the error from ERROR / ERR / FLUX_ERR or IVAR. A
    frequency axis is turned round, its flux with it. Returns (wavelength, flux, error or None, masked): ``masked``
    marks the pixels the table itself says are not measured (NaN wavelength or flux, IVAR 0, an error that is not
    finite and positive, as SDSS and SSA services write bad pixels)."""
    import astropy.units as u

    cols = {c.upper(): c for c in t.colnames}
    axis = next((c for c in t.colnames if _ucd(t[c]).split(";")[0] in SPECTRAL_AXIS_UCDS), None)
    axis = axis or next((cols[n] for n in SPECTRAL_AXIS_NAMES if n in cols), None)
    if axis is None:
        raise InputError(f"{name}: spectrum {i} has no spectral axis (a column with UCD em.wl / em.freq, or named "
                         f"{', '.join(SPECTRAL_AXIS_NAMES)}; found {t.colnames})")
    fcol = cols.get("FLUX") or next((c for c in t.colnames if _ucd(t[c]).split(";")[0] in FLUX_UCDS), None)
    if fcol is None:
        raise InputError(f"{name}: spectrum {i} has no FLUX column (or one with UCD phot.flux.density; found "
                         f"{t.colnames})")
    x = column_values(t[axis])
    unit = getattr(t[axis], "unit", None)
    if axis.upper() == "LOGLAM" and unit in (None, u.dimensionless_unscaled):
        x = 10.0 ** x
    elif unit is not None and unit != u.dimensionless_unscaled:
        try:
            x = (x * unit).to_value(u.AA, equivalencies=u.spectral())
        except u.UnitConversionError:
            raise InputError(f"{name}: spectrum {i}'s spectral axis {axis!r} is in {unit}, which is no wavelength, "
                             "frequency or energy") from None
    f = column_values(t[fcol])
    e = None
    for n in ("ERROR", "ERR", "FLUX_ERR", "IVAR"):
        if n in cols:
            e = column_values(t[cols[n]])
            if n == "IVAR":
                with np.errstate(divide="ignore"):
                    e = np.where(e > 0, 1.0 / np.sqrt(np.abs(e)), np.inf)
            break
    bad = ~(np.isfinite(x) & np.isfinite(f))
    if e is not None:
        bad |= ~(np.isfinite(e) & (e > 0))
    if len(x) > 1 and x[0] > x[-1]:  # a frequency or energy axis: increasing wavelength is the other way round
        x, f, e, bad = x[::-1], f[::-1], (None if e is None else e[::-1]), bad[::-1]
    return x, f, e, bad


# ----------------------------------------------------------------------------- light curves
def lightcurves(x, name, time=None, flux_err=None, min_points=100, quality="hardest"):
    """List of (time, flux) float64 arrays, validated (:func:`astrohub.models.inputs.lightcurves.as_curves`):
    file paths (Kepler/K2/TESS FITS, text tables; ``quality``: which flagged cadences of a FITS file are dropped),
    Tables / TableSets or arrays; NaN fluxes are kept (gaps)."""
    from .lightcurves import as_curves

    return as_curves(x, name, time, min_points=min_points, quality=quality)


def _robust_sigma(f):
    d = np.diff(f)
    return max(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2), 1e-6)


def detrend(t, f, window=2.5, period=None, t0=0.0):
    """Relative flux minus a running median of ``window`` days (removes drifts, ramps and red noise); time
    stamps may have gaps (the median runs over the points within +-window/2 days, on the sampling grid).
    With ``period``, the signal periodic at that period is kept whole: the running median runs over the flux
    minus its mean folded light curve (:data:`FOLD_BINS` phase bins), so a variation as long as the window (an
    ellipsoidal binary's, a rotating star's) is not half eaten by the median and a transit does not pull it."""
    med = np.median(f)
    if med == 0:
        med = 1.0
    r = f / med - 1.0
    if period is None:
        return r - _running_median(t, r, window)
    ph = _phase(t, period, t0)
    nb = int(np.clip(len(t) // 20, 8, FOLD_BINS))
    centres = (np.arange(nb) + 0.5) / nb - 0.5
    shape = _binned(ph, r, -0.5, 0.5, nb)
    shape -= np.median(shape)  # only the periodic shape: the level (a trend's mean) stays with the median
    model = np.interp(ph, centres, shape, period=1.0)
    return r - _running_median(t, r - model, window)


def _running_median(t, r, window):
    """Running median of ``r`` over ``window`` days (see :func:`detrend`)."""
    import pandas as pd

    dt = float(np.median(np.diff(t)))
    idx = np.round((t - t[0]) / dt).astype(np.int64)
    k = max(int(window / dt) | 1, 3)
    if idx[-1] > 20 * len(t):  # very irregular sampling: fall back to the index-based median
        from scipy.ndimage import median_filter

        return median_filter(r, size=k, mode="reflect")
    full = np.full(idx[-1] + 1, np.nan)
    full[idx] = r
    trend = pd.Series(full).rolling(k, center=True, min_periods=max(k // 5, 3)).median().to_numpy()[idx]
    return np.where(np.isfinite(trend), trend, np.nanmedian(r))


def clip_outliers(r, sig, n_sigma=6.0):
    """Mask (True = keep) without isolated single-cadence brightenings (cosmic rays, flagged spikes): points
    more than ``n_sigma`` above the mean of two neighbours that agree with each other. Single-cadence dips are
    kept: a transit shorter than the 29.4-min grid's cadence is one (a grazing or short-period planet's), unless
    the curve's outliers come in both signs (at least :data:`TWO_SIGN_OUTLIERS` brightenings, and at least a
    third as many as the dips: junk such as K2's thruster firings left unflagged), when such dips go too."""
    keep = np.ones(len(r), bool)
    if len(r) < 5:
        return keep
    nb = 0.5 * (r[:-2] + r[2:])
    agree = np.abs(r[:-2] - r[2:]) < 3 * 1.41 * sig
    up = (r[1:-1] - nb > n_sigma * 1.22 * sig) & agree
    down = (nb - r[1:-1] > n_sigma * 1.22 * sig) & agree
    n_up = int(up.sum())
    keep[1:-1] = ~(up | down) if n_up >= TWO_SIGN_OUTLIERS and 3 * n_up >= down.sum() else ~up
    return keep


def _sun_duration(period):
    """Duration (days) of a central transit across a Sun-like star at ``period`` days."""
    return 13.0 / 24.0 * (np.asarray(period) / 365.25) ** (1.0 / 3.0)


def bls(t, r, pmin=0.5, pmax=None, bin_fraction=BLS_BIN_FRACTION, segments=BLS_SEGMENTS):
    """Box least squares on zero-mean flux ``r``: (period, t0, duration, depth, snr) of the strongest dip.

    The period range is cut into ``segments`` log-spaced segments, each searched with its own phase resolution:
    bins of ``bin_fraction`` times a central Sun-like transit's duration at that period (never finer than the
    cadence), on a frequency grid fine enough for those bins, with boxes of 1 bin up to
    :data:`BLS_MAX_DURATION` (days, fraction of the period). A fixed number of phase bins at every period would
    make the boxes of long periods hours wider than their transits and bury short ones."""
    span = t[-1] - t[0]
    pmax = pmax or span / 2.0
    cad = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    r = r - r.mean()
    tt = (t - t[0]).astype(np.float32)
    n = len(r)
    best, found = -1.0, None
    edges = np.geomspace(pmin, max(pmax, pmin * 1.01), segments + 1)
    chunk = 1024
    weights = np.tile(r, chunk)  # the flux once per frequency of a chunk (np.bincount's weights), made once
    rows = np.arange(chunk, dtype=np.int32)[:, None]
    for plo, phi in zip(edges[:-1], edges[1:]):
        pm = float(np.sqrt(plo * phi))
        nbins = int(np.clip(round(phi / max(cad, bin_fraction * float(_sun_duration(pm)))), 24, 512))
        freqs = np.arange(1.0 / phi, 1.0 / plo, 1.0 / (nbins * span))
        wmax = max(1, int(min(BLS_MAX_DURATION[0], BLS_MAX_DURATION[1] * pm) / (pm / nbins)))
        widths = np.unique(np.round(np.geomspace(1, wmax, 8)).astype(int))
        for s in range(0, len(freqs), chunk):
            fr = freqs[s:s + chunk]
            m = len(fr)
            # each point's phase bin at each frequency, offset by the frequency's row (in place: ~1e6 elements)
            ph = np.outer(fr.astype(np.float32), tt)
            ph -= np.floor(ph)
            ph *= nbins
            np.minimum(ph, nbins - 1, out=ph)
            idx = ph.astype(np.int32)
            idx += nbins * rows[:m]
            idx = idx.astype(np.intp).ravel()  # np.bincount's index type: cast once here, not in each call
            S = np.bincount(idx, weights[:m * n], minlength=m * nbins).reshape(m, nbins)
            C = np.bincount(idx, minlength=m * nbins).reshape(m, nbins).astype(np.float64)
            zero = np.zeros((m, 1))
            Se = np.concatenate([zero, S, S[:, :wmax]], 1).cumsum(1)  # Se[:, i]: bins 0..i-1 (wrapped)
            Ce = np.concatenate([zero, C, C[:, :wmax]], 1).cumsum(1)
            Sw, Cw, den = (np.empty((m, nbins)) for _ in range(3))
            few = np.empty((m, nbins), bool)
            for w in widths:
                np.subtract(Se[:, w:w + nbins], Se[:, :nbins], out=Sw)  # box of bins j..j+w-1
                np.subtract(Ce[:, w:w + nbins], Ce[:, :nbins], out=Cw)
                # power = Sw^2 / (Cw (1 - Cw/n)) for boxes of >= 3 points below the mean, else 0 (in place:
                # a box above the mean has its sum clipped to 0, one of < 3 points its power set to 0)
                np.divide(Cw, n, out=den)
                np.subtract(1, den, out=den)
                den *= Cw
                np.maximum(den, 1e-9, out=den)
                np.minimum(Sw, 0.0, out=Sw)
                power = np.square(Sw)
                power /= den
                np.less(Cw, 3, out=few)
                np.copyto(power, 0.0, where=few)
                k = int(np.argmax(power))
                if power.flat[k] > best:
                    best, found = power.flat[k], (1.0 / fr[k // nbins], k % nbins, int(w), nbins)
    if found is None:  # no dip anywhere (a flat curve): the longest period, a one-bin box
        found = (pmax, 0, 1, 24)
    period, b0, w, nbins = found
    t0 = t[0] + (b0 + w / 2.0) / nbins * period
    duration = w / nbins * period
    t0, duration = _refine(t, r, period, t0, duration, period / nbins)
    ph = _phase(t, period, t0)
    inside = np.abs(ph) < 0.5 * duration / period
    depth = -float(r[inside].mean()) if inside.any() else 0.0
    snr = depth / _robust_sigma(r) * np.sqrt(max(inside.sum(), 1))
    return float(period), float(t0), float(duration), depth, float(snr)


def _refine(t, r, period, t0, duration, step):
    """Epoch and duration of the box on a finer grid than the BLS phase bins (+-1 bin in steps of a
    twentieth, durations 0.4-2x): the box with the largest depth * sqrt(points inside)."""
    cad = float(np.median(np.diff(t))) if len(t) > 1 else duration
    offs = np.linspace(-step, step, 21)
    durs = np.unique(np.clip(duration * np.array([0.4, 0.55, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0]), 1.5 * cad,
                             0.25 * period))
    best, out = -np.inf, (t0, duration)
    for d in durs:
        ph = ((t[None] - (t0 + offs[:, None])) / period + 0.5) % 1.0 - 0.5
        inside = np.abs(ph) < 0.5 * d / period
        n = inside.sum(1)
        dep = -(inside * r[None]).sum(1) / np.maximum(n, 1)
        score = np.where(n >= 3, dep * np.sqrt(np.maximum(n, 1)), -np.inf)
        k = int(np.argmax(score))
        if score[k] > best:
            best, out = score[k], (float(t0 + offs[k]), float(d))
    return out


def period_search(t, f, window=SEARCH_WINDOW, bin_fraction=BLS_BIN_FRACTION):
    """The vetter's period search on a curve already on the model's grid: the flux detrended blindly over
    ``window`` days, single-cadence brightenings clipped (:func:`clip_outliers`), then :func:`bls`. Returns the
    kept (time, flux) and BLS's (period, t0, duration, depth, snr)."""
    r = detrend(t, f, window=window)
    keep = clip_outliers(r, _robust_sigma(r))
    return t[keep], f[keep], bls(t[keep], r[keep], bin_fraction=bin_fraction)


def _phase(t, period, t0):
    return ((t - t0) / period + 0.5) % 1.0 - 0.5


def _binned(x, y, lo, hi, nbins):
    """Mean of ``y`` in ``nbins`` bins of ``x`` over [lo, hi); empty bins linearly interpolated."""
    idx = np.floor((x - lo) / (hi - lo) * nbins).astype(np.int64)
    m = (idx >= 0) & (idx < nbins)
    s = np.bincount(idx[m], y[m], minlength=nbins)
    c = np.bincount(idx[m], minlength=nbins)
    out = np.full(nbins, np.nan)
    out[c > 0] = s[c > 0] / c[c > 0]
    good = np.isfinite(out)
    if not good.any():
        return np.zeros(nbins)
    centres = np.arange(nbins)
    return np.interp(centres, centres[good], out[good])


def lightcurve_features(t, f, info=False):
    """AstroNet-style inputs of one light curve: global view [4, 256], local view [4, 64] and
    scalars [6]. View channels: detrended flux in noise units and in relative flux
    (arcsinh-compressed), the raw (undetrended) flux vs time, and the view at half phase.
    The curve is first put on the model's grid (:func:`astrohub.models.inputs.lightcurves.prepare`: NaNs
    dropped, divided by the median, finer cadences binned to 29.4 min). BLS runs on the flux detrended blindly
    over :data:`SEARCH_WINDOW` (2 d: shorter than the views' 2.5 d, so less of a star's own variability is left
    to outbid a transit, still over three times the longest box), single-cadence brightenings clipped
    (:func:`period_search`); the views on the flux detrended keeping the signal at the BLS period
    (:func:`detrend`). With ``info``, also a dict of the BLS ephemeris (period, t0 in the input's time system,
    duration, depth, snr) and the OOD statistics."""
    from .lightcurves import curve_stats, prepare

    t_in, f_in = t, f
    grid = prepare(t, f)
    t, f, (period, t0, dur, depth, snr) = period_search(*grid)
    r = detrend(t, f, period=period, t0=t0)  # the views: the signal at the BLS period kept whole
    sig = _robust_sigma(r)
    ph = _phase(t, period, t0)
    ph2 = _phase(t, period, t0 + period / 2)  # secondary eclipse at the centre
    raw = f / (np.median(f) or 1.0) - 1.0
    g = [_binned(ph, r, -0.5, 0.5, GLOBAL_BINS), _binned(ph2, r, -0.5, 0.5, GLOBAL_BINS),
         _binned(t, raw, t[0], t[-1] + 1e-9, GLOBAL_BINS)]
    hw = LOCAL_HALF_WIDTH * dur / period
    loc = [_binned(ph, r, -hw, hw, LOCAL_BINS), _binned(ph2, r, -hw, hw, LOCAL_BINS)]
    gv = np.stack([np.arcsinh(v / sig) for v in g] + [np.arcsinh(g[0] * 30.0)])
    lv = np.stack([np.arcsinh(v / sig) for v in loc] + [np.arcsinh(loc[0] * 30.0)] +
                  [np.arcsinh(loc[0] / max(depth, sig) if depth > 0 else loc[0] / sig)])
    odd_even = _odd_even(t, r, period, t0, dur, sig)
    scal = np.array([np.log(period), np.log(dur / period), np.arcsinh(depth * 30.0), np.arcsinh(snr / 10.0),
                     np.log10(sig), odd_even])
    out = gv.astype(np.float32), lv.astype(np.float32), scal.astype(np.float32)
    if not info:
        return out
    return out + ({"period": period, "t0": t0, "duration": dur, "depth": depth, "snr": snr,
                   **curve_stats(t_in, f_in, grid)},)


def _odd_even(t, r, period, t0, dur, sig):
    """Depth difference of odd and even transits in noise units (eclipsing binaries at 2x period)."""
    n = np.floor((t - t0) / period + 0.5).astype(np.int64)
    inside = np.abs(_phase(t, period, t0)) < 0.5 * dur / period
    odd, even = inside & (n % 2 == 1), inside & (n % 2 == 0)
    if odd.sum() < 2 or even.sum() < 2:
        return 0.0
    diff = abs(r[odd].mean() - r[even].mean())
    return float(np.arcsinh(diff / (sig * np.sqrt(1 / odd.sum() + 1 / even.sum())) / 3.0))


def lightcurve_batch(curves, progress=False, info=False):
    """Stacked features (global [N,4,256], local [N,4,64], scalars [N,6]) of (time, flux) pairs; with
    ``info`` also a dict of [N] float64 arrays (the BLS ephemeris and OOD statistics of each curve)."""
    it = curves
    if progress:
        from tqdm import tqdm

        it = tqdm(curves, desc="BLS + folding", leave=False)
    feats = [lightcurve_features(t, f, info=info) for t, f in it]
    out = tuple(np.stack(z) for z in list(zip(*feats))[:3])
    if not info:
        return out
    keys = feats[0][3].keys() if feats else ()
    return out + ({k: np.array([ft[3][k] for ft in feats], np.float64) for k in keys},)


# ----------------------------------------------------------------------------- spectra
SPECTRUM_EDGE = 0.02  # share of a model's log-wavelength grid a spectrum may miss at either end (filled, flagged)
SPECTRUM_MASKED = 0.05  # share of a spectrum's pixels on the model's grid masked (interpolated across) before a flag
SPECTRUM_MASKED_MAX = 0.5  # ... and beyond which it is refused


def spectra(x, name, wave_model, wave=None, error=None, notes: list | None = None):
    """(flux [N, n_pix], error [N, n_pix] or None) on the model grid ``wave_model``; inputs on
    another grid covering it are linearly resampled. Files (paths, or a list of them) are read by their contents
    (:func:`astrohub.models.inputs.spectrum_files.read`: FITS, VOTable, text), tables by :func:`spectrum_from_table`
    (units, UCDs, SDSS's loglam); ``wave`` may be an astropy Quantity in any spectral unit (else A). A table's masked
    pixels (NaN, IVAR 0) are left out and the flux interpolated across them: flagged past :data:`SPECTRUM_MASKED`
    of the pixels on the grid, refused past :data:`SPECTRUM_MASKED_MAX`. A spectrum that misses at
    most :data:`SPECTRUM_EDGE` of the grid at either end (SDSS's start at 3800-3830 A, where a model's grid starts
    at 3800 A) is taken with the missing pixels set to its nearest measured flux; ``notes`` (a list) gets one
    reason per spectrum saying so ("" when nothing was filled or masked)."""
    if hasattr(wave, "to_value"):  # an astropy Quantity: in its own unit (nm, um, Hz ...)
        import astropy.units as u

        try:
            wave = wave.to_value(u.AA, equivalencies=u.spectral())
        except u.UnitConversionError:
            raise InputError(f"{name}: wave is in {wave.unit}, which is no wavelength, frequency or energy") from None
        if len(wave) > 1 and wave[0] > wave[-1]:  # a frequency or energy grid: the flux turned round with it
            wave, x = wave[::-1], np.asarray(x)[..., ::-1]
            error = None if error is None else np.asarray(error)[..., ::-1]
    if SF.is_path(x):
        x = [x]
    if isinstance(x, (list, tuple)) and any(SF.is_path(v) for v in x):  # files: read by their contents
        x = [SF.read(v, name) if SF.is_path(v) else v for v in x]
    tabs = table_list(x)
    if tabs is not None:
        rows = [spectrum_from_table(t, name, i) for i, t in enumerate(tabs)]
    else:
        f = np.asarray(x, dtype=np.float64)
        if f.ndim == 1:
            f = f[None]
        if f.ndim != 2:
            raise InputError(f"{name}: flux must be [n_spectra, n_pix] (or one spectrum), got shape {f.shape}")
        e = None if error is None else np.asarray(error, dtype=np.float64).reshape(f.shape)
        if wave is None:
            if f.shape[1] != len(wave_model):
                raise InputError(f"{name}: spectra have {f.shape[1]} pixels but the model expects {len(wave_model)} "
                                 f"on its {wave_model[0]:.0f}-{wave_model[-1]:.0f} A grid; pass wave=... to resample")
            if notes is not None:
                notes.extend([""] * len(f))
            return _checked_flux(f, name), e
        rows = [(np.asarray(wave, np.float64), fi, None if e is None else e[i], None) for i, fi in enumerate(f)]
    flux, errs = [], []
    edge = max(int(SPECTRUM_EDGE * len(wave_model)), 1)
    for i, (w, f, e, bad) in enumerate(rows):
        if len(w) != len(f):
            raise InputError(f"{name}: spectrum {i}: {len(w)} wavelengths but {len(f)} fluxes")
        masked = ""
        if bad is not None and bad.any():  # the table's own bad pixels: left out, the flux interpolated across
            good = w[~bad]  # masked ends are the coverage check's (below); here the gaps between measured pixels
            lo, hi = max(wave_model[0], good.min(initial=np.inf)), min(wave_model[-1], good.max(initial=-np.inf))
            with np.errstate(invalid="ignore"):  # NaN wavelengths (padding) are not on the grid
                inside = (w >= lo) & (w <= hi)
            share = float(bad[inside].mean()) if inside.any() else 1.0
            if share > SPECTRUM_MASKED_MAX:
                raise InputError(f"{name}: spectrum {i} has {share:.0%} of its pixels in the model's "
                                 f"{wave_model[0]:.0f}-{wave_model[-1]:.0f} A masked (NaN, IVAR 0 or no positive "
                                 f"error); at most {SPECTRUM_MASKED_MAX:.0%} can be interpolated across")
            if share > SPECTRUM_MASKED:
                masked = f"{share:.0%} of the pixels masked (interpolated across)"
            w, f, e = w[~bad], f[~bad], (None if e is None else e[~bad])
        if not np.all(np.isfinite(w)) or np.any(np.diff(w) <= 0):
            raise InputError(f"{name}: spectrum {i}: wavelengths must be finite and strictly increasing")
        if w[0] > wave_model[edge] or w[-1] < wave_model[-1 - edge]:
            raise InputError(f"{name}: spectrum {i} covers {w[0]:.0f}-{w[-1]:.0f} A; the model needs "
                             f"{wave_model[0]:.0f}-{wave_model[-1]:.0f} A (at least {wave_model[edge]:.0f}-"
                             f"{wave_model[-1 - edge]:.0f} A, the rest filled with the edge's flux)")
        missed = [f"{wave_model[0]:.0f}-{w[0]:.0f} A" if w[0] > wave_model[0] * 1.001 else "",
                  f"{w[-1]:.0f}-{wave_model[-1]:.0f} A" if w[-1] < wave_model[-1] * 0.999 else ""]
        if notes is not None:
            edges = (f"covers {w[0]:.0f}-{w[-1]:.0f} A: {' and '.join(m for m in missed if m)} filled with the "
                     "edge's flux" if any(missed) else "")
            notes.append("; ".join(n for n in (edges, masked) if n))
        same = len(w) == len(wave_model) and np.allclose(w, wave_model, rtol=1e-5)
        flux.append(f if same else np.interp(wave_model, w, f))
        errs.append(None if e is None else (e if same else np.interp(wave_model, w, e)))
    err = None if any(e is None for e in errs) else np.stack(errs)
    return _checked_flux(np.stack(flux), name), err


def _checked_flux(f, name):
    bad = ~np.isfinite(f).all(1)
    if bad.any():
        raise InputError(f"{name}: spectra {np.nonzero(bad)[0][:10].tolist()} contain NaN/inf fluxes; "
                         "mask or interpolate them first")
    return f


def spectrum_input(flux):
    """Network input [N, 1, n_pix]: flux over its median |flux|, arcsinh-compressed."""
    scale = np.median(np.abs(flux), axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    return np.arcsinh(flux / scale)[:, None].astype(np.float32)


# ----------------------------------------------------------------------------- photometry
def photometry_features(mags, errs):
    """[N, 10]: r magnitude, 4 adjacent colours and log10 of the 5 errors."""
    col = mags[:, :-1] - mags[:, 1:]
    return np.concatenate([mags[:, 2:3], col, np.log10(errs)], 1).astype(np.float32)
