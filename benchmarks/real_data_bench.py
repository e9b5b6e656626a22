"""Simulation vs real data, per zoo model with a real data kit.

For every model of ``astrohub.models.evaluation.kits.KITS`` one run measures side by side, on one
metric both share (the real section's target metric where the simulations have it too):

- the simulation metric: the card's held-out simulated test set (``card["metrics"]``; for a card leading with
  its real figures, its simulator pretraining's simulated val set, ``card["training"]["pretrain"]``, if any);
- the real metric, re-measured now from the shipped weights on the kit's held-out test split
  (``kits.measure(name)``), with its 95% interval;
- the classical baseline on the same real split (trained on the kit's train split; from the same
  ``measure``), and any other reference the kit scores the same way (e.g. ZTF's own ``rb``).

A model whose card has no ``real`` section yet is measured all the same when its kit module exists;
a model not in the zoo, or whose kit module or kit folder is missing, is reported "not measured" with
the reason. Writes results/real_data_bench.json and results/real_data_bench.png (bars with 95% error
bars, one panel per model). Usage: python benchmarks/real_data_bench.py [--models a,b] [--data DIR]
[--threads N]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write  # noqa: E402

from astrohub.models import cli  # noqa: E402
from astrohub.models.evaluation import kits  # noqa: E402

COMMON = ("auc", "accuracy", "sigma_nmad", "outlier_fraction", "macro_recall")  # tried after the targets'


def _figure(lead: dict | None) -> dict | None:
    if lead is None:
        return None
    return {"key": lead["key"], "subset": lead["subset"], "value": lead["value"], "ci95": lead["ci95"],
            "count": lead["count"]}


def compare(card: dict, section: dict) -> dict:
    """The shared metric of a card's simulations and a measured real section, with the three figures."""
    real_m, sim_m = section.get("metrics") or {}, card.get("metrics") or {}
    sim_split = "test"
    if str(sim_m.get("source", "")).startswith("real"):  # a card leading with its real figures (galaxy_zoo): the
        pre = (card.get("training") or {}).get("pretrain")  # simulation figure is its pretraining's, if any
        sim_m = {"accuracy": pre["sim_val_accuracy"], "n": pre["n_val"]} if pre else {}
        sim_split = "val (the pretraining's simulated val set)" if pre else None
    leads = cli.real_leads(section, limit=3)
    keys = [(d["key"], d["subset"]) for d in leads] + [(k, None) for k in COMMON]
    key, subset = next(((k, s) for k, s in keys if cli.find_metric(real_m, k, s) and cli.find_metric(sim_m, k, s)),
                       keys[0] if keys else (None, None))
    real = cli.find_metric(real_m, key, subset) if key else None
    name, base_m = cli.baseline_of(section)
    others = {k: v["metrics"] for k, v in section.items()
              if isinstance(v, dict) and isinstance(v.get("metrics"), dict) and k != "baseline"}
    label = real["label"] if real else (key or "")
    return {
        "metric": key, "label": label, "subset": real["subset"] if real else subset,
        "lower_is_better": key in cli.LOWER_IS_BETTER,
        "simulation": _figure(cli.find_metric(sim_m, key, subset) if key else None), "simulation_split": sim_split,
        "real": _figure(real),
        "baseline": {"name": name, **(_figure(cli.find_metric(base_m, key, subset)) or {})} if key and name else None,
        "other_references": {k.replace("_", " "): _figure(cli.find_metric(m, key, subset)) for k, m in others.items()},
        "real_headline": cli.real_headline(section),
        "ood_fraction": real_m.get("ood_fraction"),
        "targets": section.get("targets"), "target_met": section.get("target_met"),
        "split": {k: v for k, v in (section.get("split") or {}).items() if isinstance(v, (int, str))},
    }


def bench_one(name: str, data: str | None) -> dict:
    from astrohub.models.registry import UnknownModelError, get_card

    kit, ref = kits.KITS[name]
    module = f"{kits.__name__}.{ref.split(':')[0]}"
    try:
        card = get_card(name)
    except UnknownModelError:
        return {"kit": kit, "status": "not measured", "reason": f"{name} is not in the zoo yet"}
    out = {"kit": kit, "validated_on_real": card["validated_on_real"],
           "card_real_headline": cli.real_headline(card["real"]) if card.get("real") else None}
    if importlib.util.find_spec(module) is None:
        return {**out, "status": "not measured", "reason": f"no kit module yet ({module})"}
    t = time.perf_counter()
    try:
        section = kits.measure(name, root=data)
    except kits.KitError as e:
        return {**out, "status": "not measured", "reason": str(e)}
    except Exception as e:  # noqa: BLE001 - one model's failure is reported, the others still measured
        traceback.print_exc()
        return {**out, "status": "error", "reason": f"{type(e).__name__}: {e}"}
    return {**out, "status": "measured", "seconds": round(time.perf_counter() - t, 1), **compare(card, section)}


def plot(models: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(models)
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        r = models[name]
        ax.set_title(name, fontsize=10)
        if r["status"] != "measured" or r.get("real") is None:
            ax.text(0.5, 0.5, f"{r['status']}\n{_wrap(r.get('reason', 'no shared metric'))}", ha="center",
                    va="center", fontsize=7, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        sim = "simulation" if r.get("simulation_split") in (None, "test") else "simulation\n(val)"
        bars = [(sim, r["simulation"], "#7f7f7f"), ("real\n(test split)", r["real"], "#1b7f3b"),
                (f"baseline\n{_wrap(r['baseline']['name'], 14)}" if r["baseline"] else "baseline", r["baseline"],
                 "#f0a500")]
        bars += [(_wrap(k, 14), v, "#1f77b4") for k, v in r["other_references"].items()]
        for x, (_label, fig_, colour) in enumerate(bars):
            if not fig_ or fig_.get("value") is None:
                ax.text(x, 0, "none" if x == 0 else "n/a", ha="center", va="bottom", fontsize=7)
                continue
            v, ci = fig_["value"], fig_.get("ci95")
            yerr = [[max(v - ci[0], 0)], [max(ci[1] - v, 0)]] if ci else None
            ax.bar(x, v, color=colour, yerr=yerr, capsize=4)
            ax.text(x, ci[1] if ci else v, f"{fig_['count'] or format(v, '.3g')}", ha="center", va="bottom",
                    fontsize=7)
        ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=7)
        sub = f"{r['subset']}: " if r["subset"] else ""
        ax.set_ylabel(f"{sub}{r['label']}{' (lower is better)' if r['lower_is_better'] else ''}", fontsize=8)
    fig.suptitle("simulation vs real held-out split vs classical baseline on real (95% intervals)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _wrap(text: str, width: int = 28) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)[:6])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(kits.KITS),
                    help="comma-separated zoo models (default: all with a kit)")
    ap.add_argument("--data", default=None, help="the folder holding the kits (default: $ASTROHUB_REAL_DATA)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    a = ap.parse_args(argv)
    names = [n.strip() for n in a.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in kits.KITS]
    if unknown:
        ap.error(f"no real data kit for {', '.join(unknown)}; models with one: {', '.join(kits.KITS)}")
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    from tqdm import tqdm

    models = {}
    for name in (bar := tqdm(names, desc="real-data bench", unit="model")):
        bar.set_postfix_str(name)
        models[name] = bench_one(name, a.data)
    RESULTS.mkdir(exist_ok=True)
    plot(models, RESULTS / "real_data_bench.png")
    write("real_data_bench", {"models": models})
    return 1 if any(r["status"] == "error" for r in models.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
