"""`astrohub models`, `astrohub train NAME` and `astrohub eval NAME [--table FILE]`."""

from __future__ import annotations

import json
import sys


def _err(cmd: str, e: Exception) -> int:
    print(f"astrohub {cmd}: {e}", file=sys.stderr)
    return 2


def cmd_models(args) -> int:
    from .cards import CardError
    from .kinds import kind_of
    from .registry import get_card, model_names

    names = model_names()
    if args.json:
        print(json.dumps({n: get_card(n) for n in names}, indent=2))
        return 0
    print(f"{'name':22} {'kind':10} {'version':8} {'inputs':14} headline (held-out test)")
    for n in names:
        try:
            c = get_card(n)
        except CardError as e:
            print(f"{n:22} (broken card: {e})")
            continue
        head = kind_of(c).headline(c["metrics"])
        print(f"{n:22} {c['kind']:10} {c['version']:8} {'x'.join(map(str, c['inputs']['shape'])):14} {head}")
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
    keep = ("n", "accuracy", "accuracy_ci95", "auc", "auc_ci95", "ece", "denoise_psnr", "denoise_ssim", "sr_psnr",
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
        res = evaluate(args.name, n=args.n, seed=args.seed, table=args.table)
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
    p.add_argument("--table", default=None, help="labelled .npz / FITS / ECSV / VOTable file (image + label columns)")
    p.add_argument("--n", type=int, default=1000, help="size of the freshly simulated test set (0: skip)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the fresh test set (default: disjoint from training)")
    p.add_argument("--json", action="store_true", help="print all metrics as JSON")
    p.set_defaults(func=cmd_eval)
