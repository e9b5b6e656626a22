"""Model-zoo inference throughput: images/s and achieved GFLOP/s per model and variant, next to
the machine's fp32 matmul peak measured in the same run (CPU, and CUDA when present).

The peak is measured right before and right after each model's timings (interleaved), and each
model's fraction of peak divides by the higher of those two, so a peak measured while the machine
happened to be busy (e.g. once at the start) cannot make a model look faster than the hardware.

Variants: NCHW eager, channels_last eager (the predictor's default), batch 16/32/128,
bf16 autocast, torch.compile (skip with ``--no-compile``), and the full ``predict`` path (validation,
normalisation, 20 MC-dropout samples). Writes results/models_bench.json and a PNG.
Usage: python benchmarks/models_bench.py [--threads N] [--no-compile] [--repeats R] [--n N]
                                        [--models a,b] [--name models_bench]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write  # noqa: E402

from astrohub import models  # noqa: E402
from astrohub.models.nets import flops_per_image  # noqa: E402
from astrohub.sims.images import simulate_images  # noqa: E402


def best_time(fn, repeats):
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def matmul_peak(device, repeats, n=2048):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)

    def run():
        for _ in range(4):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()

    return 4 * 2 * n**3 / best_time(run, repeats) / 1e9


def net_throughput(net, x, bs, device, channels_last=True, bf16=False, repeats=3):
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    else:
        net = net.to(memory_format=torch.contiguous_format)
        x = x.contiguous()

    def run():
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            for i in range(0, len(x), bs):
                net(x[i:i + bs])
        if device.type == "cuda":
            torch.cuda.synchronize()

    return len(x) / best_time(run, repeats)


def bench_device(device, args):
    peaks = [matmul_peak(device, args.repeats)]  # before the first model; then after each model
    res = {"device": str(device), "threads": torch.get_num_threads(), "matmul_gflops": peaks[0], "models": {}}
    res["cpu_bf16_native"] = _cpu_has_bf16()  # without it, bf16 autocast is emulated (measured anyway)
    bf16_ok = True
    for name in args.models or models.list():
        m = models.load(name, device=device)
        if len(m.card["inputs"]["shape"]) != 3:  # 1-D models (light curves, spectra, photometry): not images
            res.setdefault("skipped", []).append(name)
            continue
        c, h, w = m.card["inputs"]["shape"]
        gen = m.card["kind"] == "generator"
        vae = m.card["arch"].get("net") == "vae"  # VAE rows time encode + decode (reconstruct)
        in_ch = 2 if gen and not vae else c
        n = args.n
        b = simulate_images(m.card["task"], n, seed=2024, size=h)
        x = torch.randn(n, in_ch, h, w, device=device)
        net = m.net.eval()
        fl = flops_per_image(net.cpu(), (in_ch, h, w))
        net.to(device)
        peak_before = peaks[-1]  # measured just before this model's timings (after the previous model's)
        rows = {}
        for label, kw in [("nchw_fp32_bs32", dict(bs=32, channels_last=False)),
                          ("cl_fp32_bs16", dict(bs=16)), ("cl_fp32_bs32", dict(bs=32)),
                          ("cl_fp32_bs128", dict(bs=128))] + ([("cl_bf16_bs32", dict(bs=32, bf16=True))]
                                                              if bf16_ok else []):
            rows[label] = net_throughput(net, x, device=device, repeats=args.repeats, **kw)
        if args.compile:
            try:
                cnet = torch.compile(net)
                rows["cl_fp32_bs32_compiled"] = net_throughput(cnet, x, 32, device, repeats=args.repeats)
            except Exception as e:  # no C compiler, unsupported backend...
                res.setdefault("compile_errors", {})[name] = f"{type(e).__name__}: {e}"[:300]
        # the predict API includes test-time augmentation when the card asks for it (8 passes per image)
        views = 8 if m.card["outputs"].get("tta") == "dihedral8" else 1
        flops = {}
        if vae:
            dec = flops_per_image(_Decoder(net).cpu(), (net.latent,))
            net.to(device)
            rows["predict_api_bs32"] = n / best_time(lambda m=m, b=b: m.reconstruct(b.images), args.repeats)
            rows["generate_api"] = n / best_time(lambda m=m, n=n: m.generate(n, seed=0), args.repeats)
            flops["generate_api"] = dec
        else:
            api = (lambda m=m, b=b: m.denoise(b.images)) if gen else (lambda m=m, b=b: m.predict(b.images))
            rows["predict_api_bs32"] = n / best_time(api, args.repeats)
            flops["predict_api_bs32"] = fl * views
        peaks.append(matmul_peak(device, args.repeats))  # right after this model's timings
        peak = max(peak_before, peaks[-1])  # the machine's rate next to this model (a busy moment only lowers it)
        fl_of = lambda k, flops=flops, fl=fl: flops.get(k, fl)  # noqa: E731
        res["models"][name] = {
            "mflop_per_image": fl / 1e6,
            "tta_views": views,
            "images_per_s": {k: round(v, 1) for k, v in rows.items()},
            "gflops": {k: round(v * fl_of(k) / 1e9, 2) for k, v in rows.items()},
            "matmul_gflops_before_after": [round(peak_before, 1), round(peaks[-1], 1)],
            "fraction_of_matmul_peak": {k: round(v * fl_of(k) / 1e9 / peak, 3) for k, v in rows.items()},
        }
        print(name, res["models"][name]["images_per_s"], f"peak {peak:.0f} GFLOP/s", flush=True)
    res["matmul_gflops"] = max(peaks)  # the best rate seen in the run (each model uses its own, above)
    res["matmul_gflops_all"] = [round(p, 1) for p in peaks]
    return res


class _Decoder(torch.nn.Module):
    """The VAE's decoder alone (unconditional code), for FLOP counting of ``generate``."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, z):
        return self.vae.decode(z, torch.full((len(z),), self.vae.n_classes, dtype=torch.long, device=z.device))


def _cpu_has_bf16():
    try:
        flags = Path("/proc/cpuinfo").read_text()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        return False


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(7 * len(runs), 4), squeeze=False)
    for ax, r in zip(axes[0], runs):
        names = list(r["models"])
        variants = list(r["models"][names[0]]["images_per_s"])
        for j, v in enumerate(variants):
            ax.bar(np.arange(len(names)) + j * 0.8 / len(variants),
                   [r["models"][n]["images_per_s"].get(v, 0) for n in names], 0.8 / len(variants), label=v)
        ax.set_xticks(np.arange(len(names)) + 0.4 - 0.4 / len(variants), names, rotation=15)
        ax.set_ylabel("images / s")
        ax.set_yscale("log")
        ax.set_title(f"{r['device']}, {r['threads']} threads; matmul {r['matmul_gflops']:.0f} GFLOP/s")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-compile", dest="compile", action="store_false",
                    help="skip the torch.compile rows (compiling costs 10-30 s per model)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=256, help="images per timing")
    ap.add_argument("--models", type=lambda s: [m for m in s.split(",") if m], default=None,
                    help="comma-separated zoo models (default: all)")
    ap.add_argument("--name", default="models_bench", help="results/<name>.json and .png")
    ap.add_argument("--no-cuda", dest="cuda", action="store_false", help="CPU only, even when CUDA is present")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = [bench_device(torch.device("cpu"), args)]
    if args.cuda and torch.cuda.is_available():
        runs.append(bench_device(torch.device("cuda"), args))
    out = {"torch": torch.__version__, "runs": runs,
           "notes": "images/s are best-of-repeats; GFLOP/s = conv+linear FLOPs x images/s; fraction = GFLOP/s over "
                    "the fp32 matmul (2048^2) rate measured next to that model: the higher of the rates measured "
                    "just before and just after its timings (matmul_gflops_before_after; matmul_gflops is the "
                    "run's best, matmul_gflops_all every measurement in order). bf16 rows use autocast. "
                    "predict_api rows include test-time augmentation where the card asks for it (tta_views "
                    "forward passes per image, counted in GFLOP/s); for the VAE, the net rows and predict_api "
                    "time reconstruct (encoder + decoder) and generate_api the decoder alone."}
    write(args.name, out)
    try:
        figure(out, RESULTS / f"{args.name}.png")
    except Exception as e:  # the figure is optional
        print(f"figure skipped: {e}")


if __name__ == "__main__":
    main()
