"""Training and held-out evaluation of the zoo's VAE (``astrohub train galaxy_vae``).

Data: ``simulate_images('morphology_truth')`` -- the morphology classifier's distribution
(classes, sizes, SNR, PSF, noise) with the noiseless truth. The encoder sees the noisy
cutout, the decoder is trained against the truth, both in arcsinh(x / 3 sigma) units.
The card's metrics are measured once, on the test split (its own seed):

* reconstruction PSNR against the truth (class unknown), vs a PCA-projection baseline;
* two-sample KS distances of flux, half-light radius and ellipticity between generated
  images and the held-out truths, vs a Gaussian-in-PCA-space baseline and vs the floor
  given by two independent simulated sets of the same size;
* class accuracy of conditional samples: the fraction that the shipped galaxy_morphology
  classifier (after adding the survey's sky noise) assigns to the requested class,
  vs the same classifier on held-out simulations and vs the baseline's samples.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import nets
from ..evaluation import metrics as M
from ..evaluation.generative import PCAGaussian, class_accuracy, ks_critical, ks_report
from ..inputs import GEN_SCALE, noise_sigma
from ..nets import dihedral
from ..recipes import Recipe
from .engine import EpochBatches, Options, fit
from .images import base_card, budget, image_data, plan

P_UNKNOWN = 0.3  # fraction of training images whose class code is "unknown" (in encoder and decoder)
DECODER_SIGMA = 0.1  # rms of the Gaussian decoder, arcsinh units
KL_WARMUP_STEPS = 800
GEN_SEED_OFFSET = 11  # seeds of the card's generated samples: seed*100 + 11, +12, ...
CLASSIFIER = "galaxy_morphology"


def _arrays(batch):
    x = batch.images[:, None]
    sig = noise_sigma(x)
    u = np.arcsinh(x / (GEN_SCALE * sig)).astype(np.float32)
    t = np.arcsinh(batch.meta["truth"][:, None] / (GEN_SCALE * sig)).astype(np.float32)
    return u, t


def train_vae(spec: Recipe, opts: Options) -> tuple[dict, dict]:
    """The VAE from its recipe (one-cycle over the recipe's wall-clock budget unless epochs are fixed)."""
    data = image_data(spec, opts)
    timed, minutes = budget(spec, opts)
    card = _train_vae(spec, data, opts.device, opts.epochs or spec.epochs, minutes, opts.progress, timed)
    return card, card.pop("_state")


def _train_vae(spec, data, dev, epochs, max_minutes, progress, timed=False):
    tr, va = data["train"], data["val"]
    u, t = _arrays(tr)
    vu, vt = _arrays(va)
    y, vy = torch.from_numpy(tr.labels), torch.from_numpy(va.labels)
    net = nets.on_device(spec.arch, dev)
    unknown = net.n_classes
    g = torch.Generator().manual_seed(spec.seed)
    bs, n = spec.batch, len(u)
    nb = n // bs
    U, T = torch.from_numpy(u), torch.from_numpy(t)
    step = [0]

    def batches(epoch=0):
        perm = torch.randperm(n, generator=g)

        def make(idx):
            k = int(torch.randint(8, (1,), generator=g))
            x, tt = dihedral(U[idx], k), dihedral(T[idx], k)
            c = torch.where(torch.rand(len(idx), generator=g) < P_UNKNOWN, torch.full_like(y[idx], unknown), y[idx])

            def loss(m):
                _, nll, kl = m.loss(x.to(dev).contiguous(memory_format=torch.channels_last), tt.to(dev), c.to(dev),
                                    DECODER_SIGMA, g)
                step[0] += 1
                return nll + min(1.0, step[0] / KL_WARMUP_STEPS) * kl

            return loss

        return (make(perm[i * bs:(i + 1) * bs]) for i in range(nb))

    vg = torch.Generator().manual_seed(spec.seed + 1000)

    def val(m):
        tot, nlls, kls = [], [], []
        vg.manual_seed(spec.seed + 1000)
        with torch.inference_mode():
            for i in range(0, len(vu), 256):
                c = vy[i:i + 256].clone()
                c[::3] = unknown  # a third with the class unknown
                lo, nll, kl = m.loss(torch.from_numpy(vu[i:i + 256]).to(dev), torch.from_numpy(vt[i:i + 256]).to(dev),
                                     c.to(dev), DECODER_SIGMA, vg)
                tot.append(float(lo) * len(c))
                nlls.append(float(nll) * len(c))
                kls.append(float(kl) * len(c))
        return sum(tot) / len(vu), {"val_nll": sum(nlls) / len(vu), "val_kl": sum(kls) / len(vu)}

    hist = fit(net, EpochBatches(batches, nb), val, plan(spec, epochs, spec.lr, max_minutes, timed), progress=progress,
               desc=spec.name).history
    prior = fit_prior(net, u, tr.labels, dev)
    card = base_card(spec, net, (1, spec.size, spec.size), list(tr.class_names))
    card["inputs"]["normalisation"] = ("applied by the predictor: arcsinh(x / 3 sigma), sigma = 1.4826*MAD of the "
                                       "4-pixel border; outputs are inverted back to the input's units")
    card["outputs"] = {
        "classes": list(tr.class_names),
        "generate": f"generate(n, seed=None, cls=None) -> [n, 1, {spec.size}, {spec.size}] float32 noiseless cutouts "
                    "in the survey's count units (sky-noise rms = 1); cls: None (unconditional), a class name or "
                    "index, or a sequence of n of those; same seed, same images",
        "encode": "encode(x, cls=None) -> (mean, log-variance) [N, latent] of the Gaussian posterior",
        "reconstruct": f"reconstruct(x, cls=None) -> [N, {spec.size}, {spec.size}] noiseless reconstructions, "
                       "input units",
        "latent_dim": int(spec.arch["latent"]),
    }
    card["training"] = {
        "simulator": f"astrohub.sims.images.simulate_images(task={spec.task!r}, size={spec.size})",
        "seed": spec.seed, "split_seeds": spec.split_seeds(), "n_train": n, "n_val": len(vu),
        "n_test": len(data["test"]) if "test" in data else 0, "epochs_run": len(hist),
        "best_epoch": int(np.argmin([h["val_loss"] for h in hist]) + 1), "batch": bs, "lr": spec.lr,
        "optimizer": f"AdamW + one-cycle, early stopping on val loss (patience {spec.patience})"
                     + (f"; the one-cycle spans a {max_minutes:g}-minute wall-clock budget (time-based schedule)"
                        if timed else ""),
        "steps_run": int(sum(h.get("steps", 0) for h in hist)),
        "loss": f"negative ELBO: Gaussian decoder (rms {DECODER_SIGMA} in arcsinh(x / 3 sigma) units) against the "
                f"noiseless truth + KL to N(0, I), KL weight warmed up over {KL_WARMUP_STEPS} steps",
        "conditioning": f"class code in encoder and decoder; {P_UNKNOWN:.0%} of training images use the "
                        "'unknown' code in both (one network, conditional and unconditional)",
        "augmentation": "one of the 8 rotations/reflections per batch, the same for input and truth",
        "history": hist,
        "latent_prior": prior,
    }
    finish_card(card, spec, net, data, dev)
    return card


def finish_card(card, spec, net, data, dev):
    """Fill the card's metrics, baseline, verdicts and state (the test split is used here only)."""
    card["metrics"], card["baseline"] = {}, {}
    card["_state"] = net.state_dict()
    if "test" in data:
        card["metrics"], card["baseline"] = evaluate_vae(spec, net, data, dev)
        b, m = card["baseline"], card["metrics"]
        card["target_met"] = {
            "reconstruction_psnr": m["reconstruction_psnr"]["mean"] > b["pca_projection_psnr"]["mean"],
            "ks_mean": m["ks_unconditional"]["mean"] < b["ks"]["mean"],
            "class_accuracy": m["conditional_class_accuracy"]["accuracy"] > b["conditional_class_accuracy"]["accuracy"],
        }


def fit_prior(net, u: np.ndarray, labels: np.ndarray, dev, bs: int = 256) -> dict:
    """Replace the N(0, I) latent prior by one Gaussian per class code, moment-matched to the
    aggregate posterior of the training images (covariance of the posterior means plus the mean
    posterior variance): class codes use the images of that class encoded with their class,
    the unknown code all images encoded as unknown."""
    unknown = net.n_classes
    net.eval()
    mus, vars_ = {}, {}
    with torch.inference_mode():
        for code in ("known", "unknown"):
            ms, vs = [], []
            for i in range(0, len(u), bs):
                c = torch.from_numpy(labels[i:i + bs]) if code == "known" else torch.full((len(u[i:i + bs]),), unknown)
                x = torch.from_numpy(u[i:i + bs]).to(dev)
                mu, lv = net.encode(x.contiguous(memory_format=torch.channels_last) if dev.type == "cpu" else x,
                                    c.to(dev))
                ms.append(mu.double().cpu())
                vs.append(lv.double().exp().cpu())
            mus[code], vars_[code] = torch.cat(ms), torch.cat(vs)
    mean = torch.zeros_like(net.prior_mean, dtype=torch.float64)
    chol = torch.zeros_like(net.prior_chol, dtype=torch.float64)
    for k in range(net.n_codes):
        sel = slice(None) if k == unknown else torch.from_numpy(labels == k)
        code = "unknown" if k == unknown else "known"
        m, v = mus[code][sel], vars_[code][sel]
        cov = torch.cov(m.T) + torch.diag(v.mean(0))
        mean[k], chol[k] = m.mean(0), torch.linalg.cholesky(cov)
    net.prior_mean.copy_(mean.float())
    net.prior_chol.copy_(chol.float())
    return {"method": "ex-post density estimation (Ghosh et al. 2020): per class code, a Gaussian with the mean and "
                      "covariance of the training set's posterior means plus their mean posterior variance; "
                      "class codes from images encoded with their class, the unknown code from all images "
                      "encoded as unknown", "n_images": int(len(u))}


def evaluate_vae(spec, net, data, dev, n_gen: int | None = None) -> tuple[dict, dict]:
    """The card's metrics and baseline, on the test split (see the module docstring)."""
    from ..predictors.vae import VAEGenerator
    from ..registry import load

    te, tr = data["test"], data["train"]
    n_gen = n_gen or len(te)
    card = {"name": spec.name, "version": "", "arch": spec.arch, "outputs": {"classes": list(te.class_names)},
            "inputs": {"shape": [1, spec.size, spec.size], "bands": spec.channels, "pixel_scale_arcsec": 0.2}}
    vae = VAEGenerator(card, {k: v.detach().cpu() for k, v in net.state_dict().items()}, dev)
    truth = te.meta["truth"]
    k = len(te.class_names)
    s0 = spec.seed * 100 + GEN_SEED_OFFSET
    rec = vae.reconstruct(te.images)
    rec_cls = vae.reconstruct(te.images, cls=te.labels.tolist())
    pca = PCAGaussian(tr.meta["truth"][:8000], tr.labels[:8000], k=int(spec.arch["latent"]))
    stat = lambda est: dict(zip(("mean", "ci95"), M.mean_ci(M.psnr(truth, est))))  # noqa: E731

    def ks_block(gen):
        r = ks_report(gen, truth)
        return {**r, "mean": float(np.mean(list(r.values())))}

    gen_unc = vae.generate(n_gen, seed=s0)
    cls_uniform = np.arange(n_gen) % k
    gen_cond = vae.generate(n_gen, seed=s0 + 1, cls=cls_uniform.tolist())
    floor = ks_block(data["val"].meta["truth"][:len(truth)])
    clf = load(CLASSIFIER, device=dev)
    sims_acc = class_accuracy(clf, truth, te.labels, seed=s0 + 3)  # held-out truth + fresh sky noise
    metrics = {
        "split": "test", "n": int(len(truth)), "n_generated": int(n_gen), "generation_seed": s0,
        "reconstruction_psnr": stat(rec),
        "reconstruction_psnr_class_given": stat(rec_cls),
        "noisy_input_psnr": stat(te.images),
        "ks_unconditional": ks_block(gen_unc),
        "ks_conditional_uniform_classes": ks_block(gen_cond),
        "ks_floor_two_simulated_sets": floor,
        "ks_critical_5pct": ks_critical(n_gen, len(truth)),
        "ks_stats": "flux (sum), half-light radius (arcsec) and |e| from second moments of pixels above 0.1 "
                    "(noiseless images; generated vs held-out simulator truth)",
        "conditional_class_accuracy": {**class_accuracy(clf, gen_cond, cls_uniform, seed=s0 + 2),
                                       "classifier": f"{CLASSIFIER} v{clf.card['version']} "
                                                     f"(weights sha256 {clf.card['weights']['sha256'][:12]})",
                                       "how": "generated image + unit-rms sky noise, classified; fraction "
                                              "assigned to the requested class"},
        "unconditional_predicted_histogram": class_accuracy(clf, gen_unc, cls_uniform,
                                                            seed=s0 + 4)["predicted_histogram"],
        "classifier_on_heldout_sims": sims_acc,
    }
    pca_unc = pca.sample(n_gen, s0 + 5)
    pca_cond = np.concatenate([pca.sample(int((cls_uniform == c).sum()), s0 + 6 + c, cls=c) for c in range(k)])
    pca_labels = np.concatenate([np.full(int((cls_uniform == c).sum()), c) for c in range(k)])
    baseline = {
        "method": f"Gaussian in the space of the first {spec.arch['latent']} PCA components of arcsinh(truth / 3) "
                  "(8000 training truths; pooled for unconditional samples, per class for conditional ones); "
                  "reconstruction = PCA projection of the noisy input",
        "pca_projection_psnr": stat(pca.project(te.images)),
        "ks": ks_block(pca_unc),
        "conditional_class_accuracy": class_accuracy(clf, pca_cond, pca_labels, seed=s0 + 2),
    }
    return metrics, baseline
