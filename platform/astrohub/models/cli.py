"""`astrohub models`, `astrohub train NAME` and `astrohub eval NAME [--table FILE]`."""

from __future__ import annotations

import json
import re
import sys


def _err(cmd: str, e: Exception) -> int:
    print(f"astrohub {cmd}: {e}", file=sys.stderr)
    return 2


# The real-data metrics a headline leads with when the section's targets name none: (key, label, format).
# A kit's own metric names (e.g. "planet_windows_recognised") are shown as written.
REAL_LEADS = (("auc", "AUC", ".3f"), ("accuracy", "acc", ".3f"), ("macro_recall", "macro recall", ".3f"),
              ("sigma_nmad", "sigma_NMAD", ".4f"), ("outlier_fraction", "outliers", ".3f"),
              ("bias", "bias", "+.4f"), ("crps", "CRPS", ".4f"))
_LABELS = {k: (lab, fmt) for k, lab, fmt in REAL_LEADS}
LOWER_IS_BETTER = {"sigma_nmad", "outlier_fraction", "bias", "crps", "ece", "rmse", "mae"}
# human names of the kits (anything else: the card's real.description, or real.kit as written)
KIT_NAMES = {"sdss_photoz": "SDSS DR14 photometry", "galaxyzoo1_jpeg": "Galaxy Zoo 1 SDSS cutouts",
             "ztf_alerts": "ZTF alerts", "kepler_lightcurves": "Kepler/TESS light curves"}
NOT_VALIDATED = "not validated on real data"
_NOT_METRICS = {"n", "n_planets", "seed", "confusion", "recall", "recall_ci95", "per_class", "targets",
                "target_met", "split", "unit", "ood_fraction", "known_real_n", "point_estimate"}
_VALUE_KEYS = ("value", "fraction", "mean", "median")


def _number(v):
    """``v`` as a finite float (numbers, or {"value"|"fraction"|"mean"|"median": x}); None otherwise."""
    if isinstance(v, dict):
        v = next((v[k] for k in _VALUE_KEYS if k in v), None)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if v == v else None  # NaN: not a figure to show


def _ci(m: dict, key: str):
    """The 95% interval of ``m[key]``: ``m[key + "_ci95"]`` (or ``_ci``), or ``m[key]["ci95"]``."""
    ci = m.get(f"{key}_ci95", m.get(f"{key}_ci"))
    if ci is None and isinstance(m.get(key), dict):
        ci = m[key].get("ci95", m[key].get("ci"))
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_number(c) is not None for c in ci):
        return [float(ci[0]), float(ci[1])]
    return None


def _lead(m: dict, key: str, subset: str | None) -> dict | None:
    value = _number(m.get(key))
    if value is None:
        return None
    label, fmt = _LABELS.get(key, (key.replace("_", " "), ".3f"))
    v = m[key]
    count = f"{v['k']}/{v['n']}" if isinstance(v, dict) and {"k", "n"} <= set(v) else None  # k of n recognised
    return {"key": key, "label": label, "value": value, "ci95": _ci(m, key), "fmt": fmt, "subset": subset,
            "count": count}


def _subsets(metrics: dict):
    return [(k, v) for k, v in metrics.items()
            if isinstance(v, dict) and k not in _NOT_METRICS and not set(_VALUE_KEYS) & set(v)]


def find_metric(metrics: dict, key: str, subset: str | None = None) -> dict | None:
    """The figure ``key`` of a metrics dict (a lead as :func:`metric_leads` gives), from the top level,
    else from ``subset``, else from the first subset that has it; None when nowhere."""
    if not isinstance(metrics, dict):
        return None
    got = _lead(metrics, key, None)
    subs = _subsets(metrics)
    if subset is not None:
        subs = sorted(subs, key=lambda kv: kv[0] != subset)
    for sub, m in subs if got is None else []:
        got = got or _lead(m, key, sub)
    return got


def metric_leads(metrics: dict, limit: int = 2, prefer=()) -> list[dict]:
    """Up to ``limit`` headline figures of a metrics dict, each ``{"key", "label", "value", "ci95", "fmt",
    "subset", "count"}``: the keys ``prefer`` (a section's targets) first, then those of :data:`REAL_LEADS`,
    then the subsets' (``{"galaxy": {...}, "qso": {...}}``: the first subset with figures), then any other
    scalar."""
    if not isinstance(metrics, dict):
        return []
    for keys in (list(prefer), [k for k, _, _ in REAL_LEADS]):
        found = [d for d in (_lead(metrics, k, None) for k in keys) if d]
        if found:
            return found[:limit]
        for sub, m in _subsets(metrics):
            found = [d for d in (_lead(m, k, sub) for k in keys) if d]
            if found:
                return found[:limit]
    found = [_lead(metrics, k, None) for k in metrics if k not in _NOT_METRICS and not k.endswith(("_ci95", "_ci"))]
    return [d for d in found if d][:limit]


def _show(leads: list[dict], ci: bool = True) -> str:
    parts = []
    for d in leads:
        interval = f" [{d['ci95'][0]:{d['fmt']}}, {d['ci95'][1]:{d['fmt']}}]" if ci and d["ci95"] else ""
        parts.append(f"{d['label']} {d['count'] or format(d['value'], d['fmt'])}{interval}")
    prefix = f"{leads[0]['subset']}: " if leads and leads[0]["subset"] else ""
    return prefix + ", ".join(parts)


def _short_name(text: str) -> str:
    """A baseline's name from its description: "random forest (300 trees) on ..." -> "random forest"."""
    return re.split(r" \(|,|;| on | trained ", str(text), maxsplit=1)[0].strip() or "baseline"


def baseline_of(real: dict) -> tuple[str, dict]:
    """(short name, metrics) of a ``real`` section's classical baseline (``{"name"|"method", "metrics"}``,
    a flat metrics dict, or ``{"<name>": metrics, ...}``: the first); ("", {}) when there is none."""
    b = real.get("baseline") or {}
    if not isinstance(b, dict):
        return "", {}
    if isinstance(b.get("metrics"), dict):
        return _short_name(b.get("name") or b.get("method") or "baseline"), b["metrics"]
    if any(_number(v) is not None for v in b.values()):
        return _short_name(b.get("name", "baseline")), b
    subs = [(k, v) for k, v in b.items() if isinstance(v, dict)]
    return (str(subs[0][0]).replace("_", " "), subs[0][1]) if subs else ("", {})


def real_leads(real: dict, limit: int = 2) -> list[dict]:
    """The lead figures of a ``real`` section: its targets' metrics first (see :func:`metric_leads`)."""
    targets = real.get("targets") or {}
    return metric_leads(real.get("metrics") or {}, limit, prefer=[k for k in targets if isinstance(k, str)])


def real_headline(real: dict, with_baseline: bool = True) -> str:
    """One line of a card's ``real`` section: its lead metrics with their 95% intervals and, beside
    them, the classical baseline's on the same split, e.g. ``AUC 0.961 [0.942, 0.978]; baseline rb AUC 0.890``."""
    leads = real_leads(real)
    if not leads:
        return "no real-data metrics"
    text = _show(leads)
    name, bm = baseline_of(real)
    if with_baseline and bm:
        bl = find_metric(bm, leads[0]["key"], leads[0]["subset"])
        if bl:
            text += f"; baseline {name} {_show([dict(bl, subset=None)], ci=False)}"
    return text


def real_summary(card: dict) -> str:
    """What a panel shows next to a prediction: ``"real ZTF alerts (held-out split): AUC 0.961 [...]; ..."``
    (the section's own ``headline`` sentence when its kit writes one) for a model validated on real data;
    real figures marked "not a clean real-data validation" when the kit also guided design choices
    (``real.selection_on_kit``); else ``"not validated on real data"``."""
    real = card.get("real") or {}
    if real.get("metrics") and real.get("selection_on_kit"):
        return (f"not a clean real-data validation (the kit also guided design choices): "
                f"{(real.get('headline') or '').strip() or real_headline(real)}")
    if not card.get("validated_on_real") or not real.get("metrics"):
        return NOT_VALIDATED
    if isinstance(real.get("headline"), str) and real["headline"].strip():
        return real["headline"].strip()
    kit = real.get("kit", "")
    what = real.get("description") or KIT_NAMES.get(kit) or kit.replace("_", " ") or "data"
    return f"real {what} (held-out split): {real_headline(real)}"


def card_headline(card: dict) -> str:
    """`astrohub models`' headline: the real held-out metric first when the card has one
    (``real: AUC 0.961 [...] | sim: acc ...``), else the simulation metrics marked ``(sim only)``."""
    from .kinds import kind_of

    if card.get("training", {}).get("simulator") is None and card.get("real", {}).get("metrics"):
        return f"real: {real_headline(card['real'])} | sim: none (trained on the real kit only)"
    try:
        sim = kind_of(card).headline(card["metrics"])
    except (KeyError, TypeError, ValueError):  # e.g. a model trained on a real kit only
        sim = _show(metric_leads(card.get("metrics") or {})) or "no simulation metrics"
    if card.get("real", {}).get("metrics"):
        return f"real: {real_headline(card['real'])} | sim: {sim}"
    return f"{sim} (sim only)"


def cmd_models(args) -> int:
    from .cards import CardError
    from .registry import get_card, model_names

    names = model_names()
    if args.json:
        print(json.dumps({n: get_card(n) for n in names}, indent=2))
        return 0
    cards: dict[str, dict | CardError] = {}
    for n in names:
        try:
            cards[n] = get_card(n)
        except CardError as e:
            cards[n] = e
    kw = max([10] + [len(c["kind"]) for c in cards.values() if isinstance(c, dict)])
    print(f"{'name':22} {'kind':{kw}} {'version':8} {'inputs':14} "
          "headline (held-out test: real data first, else simulations)")
    for n, c in cards.items():
        if isinstance(c, CardError):
            print(f"{n:22} (broken card: {c})")
            continue
        shape = "x".join(map(str, c["inputs"]["shape"]))
        print(f"{n:22} {c['kind']:{kw}} {c['version']:8} {shape:14} {card_headline(c)}")
    return 0


def cmd_train(args) -> int:
    from .recipes import get_recipe

    try:
        get_recipe(args.name)
    except ValueError as e:
        return _err("train", e)
    from .cards import CardError
    from .training import train

    try:
        card = train(args.name, args.out, device=args.device, epochs=args.epochs, n_train=args.n_train,
                     n_val=args.n_val, n_test=args.n_test, threads=args.threads, max_minutes=args.max_minutes,
                     progress=not args.quiet, resume=args.resume, data=args.data)
    except (ValueError, CardError) as e:
        return _err("train", e)
    print(json.dumps({"name": card["name"], "metrics": _headline(card["metrics"]),
                      "baseline": _headline(card["baseline"].get("metrics", card["baseline"])),
                      "weights": card["weights"]}, indent=2))
    return 0


def _headline(m: dict) -> dict:
    keep = ("n", "accuracy", "accuracy_ci95", "auc", "auc_ci95", "ece", "macro_recall", "ood",
            "denoise_psnr", "denoise_ssim", "sr_psnr",
            "sr_ssim", "gaussian_denoise_psnr", "bicubic_sr_psnr", "reconstruction_psnr", "ks_unconditional",
            "pca_projection_psnr", "ks",
            "vetting", "sigma_nmad", "outlier_fraction", "bias", "crps", "coverage_68", "random_forest", "knn",
            "teff", "logg", "feh")  # the last two rows: 1-D models
    return {k: m[k] for k in keep if k in m}


def cmd_eval(args) -> int:
    from .evaluation.evaluate import evaluate
    from .inputs import InputError
    from .registry import UnknownModelError

    try:
        res = evaluate(args.name, n=args.n, seed=args.seed, table=args.table, plot=args.plot)
    except (UnknownModelError, InputError, FileNotFoundError) as e:
        return _err("eval", e)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{args.name}: card (held-out test)      {json.dumps(_headline(res['card']))}")
    print(f"{args.name}: baseline (same split)     "
          f"{json.dumps(_headline(res['baseline'].get('metrics', res['baseline'])))}")
    if "fresh" in res:
        print(f"{args.name}: fresh set (seed {res['fresh']['seed']})  {json.dumps(_headline(res['fresh']))}")
    if "fresh_without_psf" in res:  # a model with a PSF-aware head: the figures above use each image's PSF
        print(f"{args.name}: without the PSF: card {json.dumps(_headline(res['card_without_psf']))}, "
              f"fresh set {json.dumps(_headline(res['fresh_without_psf']))}")
    if "table" in res:
        print(f"{args.name}: {res['table']['file']}  {json.dumps(_headline(res['table']))}")
    if "plot" in res.get("table", {}):
        print(f"{args.name}: figure written to {res['table']['plot']}")
    return 0


def register(subparsers) -> None:
    """Add the model-zoo subcommands to the ``astrohub`` argparse CLI."""
    p = subparsers.add_parser("models", help="list the model zoo with headline held-out metrics")
    p.add_argument("--json", action="store_true", help="print the full model cards as JSON")
    p.set_defaults(func=cmd_models)

    p = subparsers.add_parser("train", help="retrain a zoo model from its seed on simulated data")
    p.add_argument("name", help="model name (see `astrohub models`)")
    p.add_argument("--out", default=None, help="output directory (default: overwrite the packaged zoo entry)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the recipe's)")
    p.add_argument("--n-train", type=int, default=None, help="training-set size (default: the recipe's)")
    p.add_argument("--n-val", type=int, default=None, help="validation-set size")
    p.add_argument("--n-test", type=int, default=None, help="test-set size")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--max-minutes", type=float, default=None, help="stop training after this many minutes")
    p.add_argument("--resume", default=None, metavar="DIR",
                   help="skip stage 1: run the recipe's later stages from the card + weights stage 1 wrote in DIR")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="the folder holding the real data kits, for recipes that adapt to one "
                        "(default: $ASTROHUB_REAL_DATA or ../shared/real)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("eval", help="a model's card metrics next to a fresh test set (and a labelled table)")
    p.add_argument("name", help="model name (see `astrohub models`)")
    p.add_argument("--table", default=None,
                   help="your labelled data: image models .npz / FITS / ECSV / VOTable (image + label columns); "
                        "galaxy_zoo, transit_vetter and spectral_class a table (CSV, ECSV, FITS, VOTable) of files "
                        "(path + label columns; relative paths from the table's folder); photo-z a catalogue with "
                        "ugriz magnitudes, their errors and a spectroscopic redshift (found by UCD or survey names)")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="with --table: write a figure of it (classifiers: the confusion matrix; photo-z: z_phot "
                        "against z and the PIT histogram)")
    p.add_argument("--n", type=int, default=1000, help="size of the freshly simulated test set (0: skip)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the fresh test set (default: disjoint from training)")
    p.add_argument("--json", action="store_true", help="print all metrics as JSON")
    p.set_defaults(func=cmd_eval)
