"""The recipes of all nine shipped models: what `astrohub train NAME` reproduces.

One :class:`Recipe` per model: its data (simulator task and split sizes), network (``arch``),
optimisation and targets. Image recipes also give the cutout ``size`` and ``channels`` and may add
stages, a wall-clock budget, test-time augmentation or a PSF head. What a kind does with its
recipe is in :mod:`astrohub.models.kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FRESH_SEED_OFFSET = 7  # seed*100 + 7: a fresh evaluation set, never used by train (1), val (2) or test (3)


@dataclass(frozen=True)
class Recipe:
    """Everything needed to rebuild one model from its seed."""

    name: str
    task: str  # simulator task (astrohub.models.datasets)
    kind: str  # a kind of astrohub.models.kinds
    arch: dict
    n_train: int
    n_val: int
    n_test: int
    size: int = 0  # image models: cutout size (px)
    channels: list[str] = field(default_factory=list)  # image models: bands / planes
    seed: int = 1
    epochs: int = 12
    batch: int = 32
    lr: float = 2e-3
    patience: int = 4
    stages: tuple = ()  # extra (epochs, lr[, n_train]) one-cycle stages run after the first, from its best
    # weights; n_train > the recipe's n_train adds fresh simulations (same seed, so a prefix is stage 1's set)
    description: str = ""
    targets: dict = field(default_factory=dict)
    budget_minutes: float | None = None  # classifiers: one-cycle over this wall-clock budget (epochs = cap)
    tta: bool = False  # classifiers: average logits over the 8 dihedral transforms (in the predictor too)
    snapshot_ensemble: bool = False  # classifiers with stages: ship the average of every stage's best weights
    psf_train: dict = field(default_factory=dict)  # arch["psf_head"]'s training: n_train (fresh objects after
    # the network's), epochs, lr, batch (astrohub.models.training.psf)
    real_kit: str | None = None  # the real data kit (a folder of $ASTROHUB_REAL_DATA) it adapts to, is measured on
    real: dict = field(default_factory=dict)  # how it adapts to the kit (the trainer's settings)

    def split_seeds(self) -> dict[str, int]:
        """Disjoint simulation seeds for the train / validation / test splits."""
        return {"train": self.seed * 100 + 1, "val": self.seed * 100 + 2, "test": self.seed * 100 + 3}

    def final_fit(self) -> str:
        """What the shipped weights of a real-data recipe are fitted on: ``real["final_fit"]``, ``"train"`` (the
        kit's train split; the default) or ``"train+val"`` (stage 1 on train, calibrated on val, then the same
        members refitted on train + val)."""
        final = self.real.get("final_fit", "train")
        if final not in ("train", "train+val"):
            raise ValueError(f"{self.name}: real['final_fit'] must be 'train' or 'train+val', got {final!r}")
        return final

    def fresh_seed(self) -> int:
        """A simulation seed disjoint from the three splits (``astrohub eval``)."""
        return self.seed * 100 + FRESH_SEED_OFFSET


RECIPES: dict[str, Recipe] = {
    s.name: s
    for s in [
        Recipe(
            name="galaxy_morphology",
            task="morphology",
            kind="classifier",
            size=64,
            channels=["r"],
            arch={"net": "resnet", "in_ch": 1, "n_out": 5, "widths": [32, 64, 128, 192], "blocks": [1, 1, 1, 1],
                  "stem": 24, "dropout": 0.3,
                  "psf_head": {"hidden": 256, "dropout": 0.2, "fwhm_range": [0.6, 1.0]}},
            n_train=72000, n_val=3000, n_test=3000, epochs=30, batch=128, lr=3e-3, patience=30, tta=True,
            budget_minutes=56.0, psf_train={"n_train": 60000, "epochs": 40, "lr": 2e-3, "batch": 256},
            description="Galaxy morphology (elliptical / spiral-disk / edge-on / irregular-merger / star) "
                        "from single-band 64x64 cutouts at 0.2\"/px, optionally with each cutout's PSF FWHM.",
            targets={"accuracy": 0.95},
        ),
        Recipe(
            name="lens_finder",
            task="lens",
            kind="classifier",
            size=64,
            channels=["r"],
            arch={"net": "cnn", "in_ch": 1, "n_out": 2, "widths": [24, 32, 64, 96], "dropout": 0.3},
            n_train=24000, n_val=3000, n_test=3000, epochs=8, stages=((4, 5e-4),),
            description="Galaxy-galaxy strong-lens finder (SIE + shear) on single-band 64x64 cutouts.",
            targets={"auc": 0.98},
        ),
        Recipe(
            name="transient_realbogus",
            task="transient",
            kind="classifier",
            size=48,
            channels=["science", "reference", "difference"],
            arch={"net": "cnn", "in_ch": 3, "n_out": 2, "widths": [24, 32, 64, 96], "dropout": 0.3},
            n_train=4000, n_val=2000, n_test=3000, epochs=8, real_kit="ztf_alerts",
            # with the kit: no simulation pretraining; 3 networks from scratch distil ZTF's drb on the kit's train
            # split with simulated half-batches, 30 epochs, the central 48x48 of the stamp, TTA; chosen by 5-fold CV
            # on train+val (the card's training.selection); then retrained on train+val (final_fit); without the
            # kit: a simulation-only classifier
            real={"trainer": "realbogus:train", "pretrain": False, "stamp": 63, "epochs": 30, "lr": 2e-3, "batch": 32,
                  "sim_weight": 0.5, "seed": 17, "seeds": [17, 18, 19], "final_fit": "train+val",
                  "stack": {"features": "ztf", "weight": 0.5, "clip": 1e-3,
                            "forest": {"trees": 500, "min_samples_leaf": 2, "max_features": 0.33, "seed": 17}},
                  "selection": "chosen by 5-fold cross-validation on the kit's train+val alerts (801, folds stratified "
                               "on the label; AUC against drb >= 0.5 of the out-of-fold, TTA-averaged scores of one "
                               "network per fold, 30 epochs, lr 2e-3; the test split never looked at; "
                               "benchmarks/realbogus_cv.py). Central 32x32 crop: hard labels (drb >= 0.5) 0.887, "
                               "soft drb target 0.901, soft + simulated half-batches (weight 0.5) 0.900, hard + "
                               "simulations 0.889, soft + simulations + mixup of the real alerts (Beta(0.2, 0.2)) "
                               "0.902. Larger input, soft + simulations: central 48x48 0.934, kept (2.25x the "
                               "compute of 32x32; measured again after the retrain with other folds and seeds, "
                               "--seed 1: 0.938); whole 63x63 stamp with simulations 0.931 (finished after the "
                               "retrain; 4x the compute of 32x32), without simulations 0.918 (an earlier run). A "
                               "braai-like VGG net (Duev "
                               "et al. 2019: conv16-conv16-pool-conv32-conv32-pool-dense256, dropout) on the whole "
                               "63x63 stamp, no simulations: 0.890 with this adapter's scaling, 0.571 with braai's "
                               "per-plane L2 normalisation. ZTF's rb on the same alerts 0.876. Not re-compared: "
                               "simulation pretraining (the earlier pretrained + fine-tuned net reached val AUC "
                               "0.907); the 3-seed average (fixed; a 2-seed average at 32x32 gave 0.906, its seeds "
                               "0.899 and 0.907). Later, at 48x48 (seed 0): 60 epochs 0.938, simulation weight 1.0 "
                               "0.933, 3 networks averaged per fold 0.936 (none taken); 10 folds, so that each "
                               "network trains on 720 alerts instead of 640, 0.941: more real alerts help, so the "
                               "shipped members are retrained on train + val (801) after stage 1 (final_fit; the "
                               "epochs and stage 1's temperature kept). After that retrain, at 48x48 (seed 0, none "
                               "taken): a ResNet (widths 24-48-96-160, one block each) 0.921, the CNN without its "
                               "strided stem (4x the compute) 0.922, one dihedral transform per alert instead of "
                               "per half-batch 0.926, the same plus rolls of up to 2 px 0.935; a 48x48 and a 63x63 "
                               "network averaged per fold (the same folds; --combine) 0.936, no better than two "
                               "48x48 networks (--members 2: 0.936); each network's moving average of weights "
                               "(--ema: the same folds, seeds and training) 0.935 at a decay of 0.99 per step, 0.922 "
                               "at 0.995; satellite trails (steady or glinting streaks, seen among the kit's "
                               "bogus) added to the simulator's artefacts (commit fcc98a6, reverted): 0.935 vs 0.934 "
                               "(seed 0) and 0.945 vs 0.938 (seed 1), a mean gain of 0.004, under the +0.005 rule "
                               "fixed before the runs. Later (seed 0, the recipe re-run beside them: 0.934; rule "
                               "fixed before: an option gaining +0.003 goes on to seed 1, shipped only with a mean "
                               "gain of +0.005 over both): sharpness-aware minimisation (radius 0.05) 0.927, weight "
                               "decay 1e-3 0.933, dropout 0.5 0.934, learning rate 1e-3 0.928; none went on"
                               "; then (the same rule) the alert packet's measurements as auxiliary targets (--aux: "
                               "one more network output each, standardised on each fold's training alerts, their mean"
                               " squared error at weight 0.3 added to the real half-batch's loss; the predictor still"
                               " reads stamps only): the measurements a stamp shows (magpsf, sigmapsf, classtar, "
                               "fwhm, elong, scorr, isdiffpos, distnr, magnr, fid, nbad) 0.930, the whole packet "
                               "(also rb, ndethist, sgscore1, distpsnr1, a solar-system match) 0.929; neither went on"
                               ". Then a tree component beside the networks (stack; benchmarks/realbogus_cv.py "
                               "--stack): a forest on 46 summary features of the whole raw stamp (central sums, "
                               "peaks, sharpness, moments, plane correlations, sky and noise levels in counts, which "
                               "the networks' noise-scaled input does not carry), its logit added to the network's "
                               "margin. Explored on seed 0 (three feature sets x random forest, gradient boosting "
                               "or a forest regressing drb x weights 0.25-1, rank or logit averaging; the forests "
                               "alone 0.84-0.91): the summary features with a forest regressing drb (500 trees, "
                               "leaves of >= 2, a third of the features per split) at weight 0.5 on the logit, "
                               "0.939 vs 0.934 (+0.005); then seed 1 +0.005 (0.944 vs 0.938) and, with a rule fixed "
                               "before (+0.003), seed 2 +0.0045 (0.942 vs 0.937): mean +0.005 over three sets of "
                               "folds, taken. Shipped (astrohub train transient_realbogus): stage 1's val AUC 0.951 "
                               "(the networks alone 0.935); the test split, measured once after, AUC 0.951 [0.914, "
                               "0.979] (0.940 before). Two 1-epoch smoke runs (not shipped) printed their own test "
                               "figures; after them only the forest's storage (the same decisions), the simulation "
                               "metrics (now of the whole predictor) and card text changed"
                               ". Later (2026-12-01, the same rule, fixed before each run; the recipe re-run beside "
                               "them on seed 0: the networks 0.937, with the forest 0.940): a pairwise ranking term "
                               "on the real half-batches (--rank 0.5: the mean softplus(-(real margin - bogus "
                               "margin)) over each batch's real/bogus pairs, a smooth AUC) 0.929, with the forest "
                               "0.934; 60 epochs instead of 30 (rechecked with the forest) 0.936, with the forest "
                               "0.940; neither went on"},
            description="Real/bogus classifier for ZTF alert triplets (science, reference, difference; raw 63x63 "
                        "stamps at 1.01\"/px as ZTF serves them, NaN masks allowed; the central 48x48 is classified): "
                        "an ensemble of 3 CNNs trained on real ZTF alerts to reproduce ZTF's own deep real/bogus "
                        "score (drb), with ZTF-like simulations in every batch; 8-fold dihedral test-time averaging; "
                        "a random forest regressing drb on summary statistics of the whole raw stamp (sky, noise, "
                        "sharpness, plane correlations) adds its logit to the networks'.",
            targets={"accuracy": 0.995},
        ),
        Recipe(
            name="cutout_denoiser",
            task="denoise",
            kind="generator",
            size=64,
            channels=["r"],
            arch={"net": "denoiser", "width": 16},
            n_train=8000, n_val=1000, n_test=1000,
            epochs=6, batch=16, lr=1e-3,
            description="Denoising and 2x super-resolution of single-band galaxy cutouts (residual CNN).",
            targets={},
        ),
        Recipe(
            name="galaxy_vae",
            task="morphology_truth",
            kind="generator",
            size=64,
            channels=["r"],
            arch={"net": "vae", "in_ch": 1, "latent": 32, "n_classes": 5, "width": 32},
            n_train=20000, n_val=2000, n_test=2000,
            epochs=60, batch=64, lr=2e-3, patience=60, budget_minutes=15.0,
            description="Class-conditional VAE of single-band 64x64 galaxy cutouts (elliptical / spiral-disk / "
                        "edge-on / irregular-merger / star): generate new noiseless cutouts, encode, reconstruct.",
            targets={},
        ),
        Recipe(
            name="galaxy_zoo",
            task="galaxyzoo1",
            kind="colour-classifier",
            size=64,
            channels=["g", "r", "i"],
            arch={"net": "resnet", "in_ch": 3, "n_out": 4, "widths": [24, 48, 96, 160], "blocks": [1, 1, 1, 1],
                  "stem": 24, "dropout": 0.3},
            n_train=1235, n_val=412, n_test=411, seed=5, epochs=100, batch=32, lr=2e-3, patience=15, tta=True,
            real_kit="galaxyzoo1_jpeg",
            real={"frame": 160, "balance": 0.5, "rotate": 180.0, "zoom": 0.15, "shift": 4.0, "gain": 0.06,
                  "bright": 0.2, "label_smoothing": 0.05, "weight_decay": 5e-4, "monitor": "val_loss", "members": 2,
                  "final_fit": "train+val", "early_stop": False, "pretrain": {"n": 16000, "epochs": 10, "seed": 0},
                  "chirality": 0.3,
                  "selection_note": "Training never used the kit's test split (stage 1: train split, early stopping "
                                    "and calibration on val; stage 2: the same members refitted on train + val), but "
                                    "an earlier session also compared the single network's settings (augmentation, "
                                    "epochs, seed) on the test split while tuning; averaging seeds 5 and 6 was chosen "
                                    "on the val split only (val accuracy 0.828 vs 0.811 for seed 5 alone; 3 seeds x 40"
                                    " epochs: 0.806; re-measured now with test-time augmentation: 0.835 vs 0.830), and"
                                    " the train + val refit (as many epochs as stage 1; stage 1's val temperature) was"
                                    " decided beforehand, without looking at the test split (a 1-epoch smoke run, not "
                                    "shipped, printed its own test figures; nothing was changed after it). Later, on "
                                    "the val split only (benchmarks/galaxy_zoo_val.py, seeds 5+6, rule fixed before "
                                    "the runs: ship if above 0.835 with macro recall >= 0.70): frame 130 px 0.830, "
                                    "frame 200 px 0.828, frame 200 with an 80 px crop 0.830, class balance 0.25 0.835 "
                                    "(macro recall 0.681), 100 epochs instead of 60 0.847 (macro recall 0.729; best "
                                    "epochs 91 and 91): 100 epochs shipped, the test split measured once after. "
                                    "Then (same seeds, rule fixed before: ship if +0.005 over the 8 views with macro "
                                    "recall >= 0.70) zoom test-time augmentation, the 8 views also of the image framed "
                                    "at 144 and 176 px: 0.840 vs 0.847, not taken. Then (rule fixed before: ship four "
                                    "members if they gain +0.005 over seeds 5+6 with macro recall >= 0.70) seeds 7 "
                                    "and 8 at 100 epochs: alone 0.818 and 0.808 (seeds 5 and 6: 0.835 and 0.847), the "
                                    "four averaged 0.842 (paired gain -0.005 [-0.022, 0.012]), not taken; single seeds"
                                    " spread over 0.81-0.85, so the shipped pair's val figure is on the lucky side. "
                                    "Then (the same rule) seeds 5+6 validated and kept as moving averages of their "
                                    "weights (ema 0.998 per step, the same training): 0.850 vs 0.847 (one image), "
                                    "not taken. Then (rule fixed before: ship if seeds 5+6 reach 0.852 with macro "
                                    "recall >= 0.70) 150 epochs instead of 100: the slower one-cycle decay let val "
                                    "loss stall early (best epochs 29 and 30, early stopping ~15 later), 0.813, not "
                                    "taken. Then (rule fixed before: ship if seeds 5+6 reach 0.852 with macro recall "
                                    ">= 0.70) sharpness-aware minimisation (SAM, radius 0.05, the engine's Plan.sam; "
                                    "twice the compute per step): seeds 5 and 6 alone 0.818 and 0.847 (best epochs 53 "
                                    "and 90), together 0.833 (macro recall 0.700), not taken. Then (the same rule) two "
                                    "residual blocks per stage instead of one (2.1x the compute): 0.850 (macro recall "
                                    "0.713; seed 6 stopped early, best epoch 24), not taken. Early stopping in stage 1 "
                                    "can end a run while the one-cycle rate is still high, which the shipped stage 2 "
                                    "never does, so (rule fixed before: +0.005 over the recipe measured the same way) "
                                    "both were also trained for all 100 epochs, last weights kept, as stage 2 trains: "
                                    "the recipe 0.845 (macro recall 0.746), two blocks per stage 0.842, not taken. "
                                    "Then pretraining on a simulator of Galaxy Zoo 1 colour stamps "
                                    "(benchmarks/galaxy_zoo_simpretrain.py: the recipe's network trained on simulated "
                                    "gri asinh JPEG stamps, then fine-tuned on the kit by galaxy_zoo_val.py --init), "
                                    "both seeds trained for all 100 epochs as stage 2 trains: a first simulator "
                                    "(8,000 stamps, 10 epochs; rule fixed before: +0.005 over the recipe's 0.845) "
                                    "0.8495 (350 of 412: +0.0049, one image short; macro recall 0.750; seeds alone "
                                    "0.847 and 0.852), not taken; a second (lenticulars among the ellipticals, "
                                    "thicker edge-ons, stronger arms; 16,000 stamps; rule fixed before: 0.852 with "
                                    "macro recall >= 0.70) 0.854 (macro recall 0.735; paired gain over the recipe "
                                    "+0.010 [-0.010, 0.029]), passed; the same on seeds 7+8 (a check, after): 0.845 "
                                    "from scratch, 0.854 pretrained; per seed +0.017, +0.010, +0.019, -0.005. "
                                    "Shipped (the recipe's pretrain and early_stop settings): astrohub train "
                                    "galaxy_zoo pretrained on 16,000 simulated stamps (simulated val accuracy 0.988), "
                                    "stage 1 reached val 0.852 (macro recall 0.734; the benchmark's 0.854, one image "
                                    "apart), and the test split, measured once after, gave accuracy 0.842 [0.808, "
                                    "0.873] (0.832 before) and macro recall 0.776 (0.809 before: mergers 6 of 11 "
                                    "instead of 8). Then (val split only, rule fixed before: at least 355 of 412) "
                                    "the pretraining's simulated stamps also mixed into every fine-tuning batch (8 "
                                    "per 32 kit images; commit 451515c, reverted): 0.8325 (343; paired gain -0.022 "
                                    "[-0.039, -0.005]), not taken. Then (the same rule) fine-tuning from the "
                                    "pretrained network at half the peak rate (1e-3 instead of 2e-3; "
                                    "galaxy_zoo_val.py --lr): 0.842 (347; paired gain -0.012 [-0.024, 0.000]), not "
                                    "taken. Then (the same rule) one more output learning the spirals' winding "
                                    "(Galaxy Zoo 1's clockwise or anticlockwise class, which the four classes merge; "
                                    "a mirrored view winds the other way; binary cross-entropy at weight 0.3, spirals"
                                    " only; the output is cut from the shipped head; galaxy_zoo_val.py --set "
                                    "chirality=0.3): 0.871 (359 of 412; macro recall 0.749; seeds alone 0.867 and "
                                    "0.867, against 0.852 and 0.850), passed; the same on seeds 7+8 (a check, after):"
                                    " 0.857 vs 0.854 (seeds alone 0.857 and 0.854, against 0.850 and 0.842). Shipped "
                                    "(the recipe's chirality setting): stage 1 reached val 0.862 (macro recall "
                                    "0.742), and the test split, measured once after, gave accuracy 0.849 [0.811, "
                                    "0.881] (349 of 411; 0.842 before) and macro recall 0.781 (0.776 before). The "
                                    "test figures may still be somewhat optimistic; the independent held-out set "
                                    "decides. Then (val split only, rule fixed before: at least 362 of 412 with macro "
                                    "recall >= 0.70) the simulator's spirals winding either way and the pretraining "
                                    "learning that winding too (galaxy_zoo_simpretrain.py --chirality 0.3; simulated "
                                    "val accuracy 0.986): 0.857 (353 of 412; seeds alone 0.852 and 0.869, against "
                                    "0.867 and 0.867), not taken. Then (the same rule, each fixed before its run) "
                                    "every stamp turned so that its galaxy's major axis (second moments of the "
                                    "central light) lies along the rows, trained with quarter turns and +-15 deg "
                                    "(commit de1c77f, reverted): 0.857 (353; seeds alone 351 and 350), not taken; "
                                    "AdamW weight decay 0.05 instead of 5e-4: 0.862 (355; seeds alone 358 and 358), "
                                    "not taken; a 96 px crop of the same 160 px frame (the network sees 60% of the "
                                    "stamp instead of 40%, at the same resolution; galaxy_zoo_val.py --size 96): "
                                    "0.857 (353; seeds alone 354 and 354), not taken; each image seen in two views "
                                    "per step, their class probabilities pulled together (symmetric KL, weight 1; "
                                    "commit a9ddb3f, reverted): 0.867 (357; seeds alone 357 and 354), not taken; "
                                    "pretraining on 32,000 simulated stamps instead of 16,000 (simulated val "
                                    "accuracy 0.991; galaxy_zoo_simpretrain.py --n 32000): 0.854 (352; seeds alone "
                                    "355 and 353), not taken. Then (the same rule, each fixed before its run) mixup "
                                    "of the views (Beta(0.2, 0.2), both targets weighted alike; commit 814ac84, "
                                    "reverted): 0.862 (355; seeds alone 356 and 355), not taken; knowledge "
                                    "distillation, each network also fitted (weight 0.5) to the mean probabilities "
                                    "of the pair above on its train images (the same commit): 0.862 (355; seeds "
                                    "alone 358 and 354), not taken; the pair's 8 views also turned by 45 deg (16 "
                                    "views, no retraining): 0.864 (356), not taken; a wider network (stages "
                                    "32-64-128-224 instead of 24-48-96-160, stem 32; 1.8x the compute; pretrained "
                                    "the same way, simulated val accuracy 0.988): 0.850 (350; seeds alone 350 and "
                                    "351), not taken. Averaging the pair with any other pair above (four networks) "
                                    "scores 352-358. The 53 val images the pair misses are mostly ones "
                                    "whose class is arguable by eye (lenticular-looking ellipticals, inclined spirals "
                                    "called edge-on and back), and seeds 5-8 averaged score 355: the recipe sits near "
                                    "0.86 on val whatever is changed."
                                    " Then (val split only, each rule fixed before its run) the pair's logits"
                                    " shifted by 0.5 log(n_class), undoing the class-balanced sampling (weights ~"
                                    " n^-0.5; no free parameter): 359 of 412, unchanged (one edge-on no longer"
                                    " called a merger, one spiral-disk now called elliptical), not taken; 1.5x the"
                                    " resolution (frame 240 px, crop 96: the same field), screened from scratch"
                                    " without the winding output before any pretraining (go on only at >= 353): 342"
                                    " against 348 at frame 160, not pursued."
                                    " Then (2026-12-01; val split only, rules fixed before; the shipped protocol "
                                    "re-run beside them, its pretraining redone: 354 of 412, where earlier runs "
                                    "gave 359, so a pair moves by about 5 images between runs of the same recipe): "
                                    "random erasing of the views (half of them lose a rectangle of 2-25% of the "
                                    "crop; commit 9ae5fb6, reverted): 351; the winding output at weight 0.6: 352, "
                                    "at 1.0: 356 (rule: at least 362 and 3 over the re-run); four more seeds "
                                    "(7-10) of the shipped recipe to see whether more members help once the luck "
                                    "of particular seeds is averaged out: single seeds 353-356, the 15 pairs "
                                    "351-357 (mean 354.3), the first 3, 4, 5 and 6 seeds averaged 356, 355, 353, "
                                    "353 (rule: 4 members only if they gain 3 images over the mean pair); "
                                    "confident learning against the votes' label noise (out-of-fold probabilities"
                                    " on the train split from 4 folds trained the same way; the 75 train images "
                                    "whose own label got under 0.15, 9 of the 35 mergers among them, dropped; "
                                    "rule: 362): 357 (seeds alone 357 and 349): none taken. Then (the same day, the "
                                    "same pretraining as the re-run; rules fixed before: at least 362): SGD with "
                                    "Nesterov momentum 0.9 instead of AdamW (one-cycle peak rate 0.05, L2 weight decay "
                                    "5e-4): 356 (seeds alone 353 and 357); label smoothing 0.15 instead of 0.05: 356 "
                                    "(seeds alone 356 and 354): neither taken. Then (rule fixed before: 362) the "
                                    "simulator's mergers drawn like the kit's train-split mergers (mostly red pairs, "
                                    "two nuclei in a shared envelope, faint tails, where the simulator drew blue "
                                    "spirals with bright tails; commit 773a05c, reverted) and the pretraining redone: "
                                    "358 (seeds alone 358 and 356; mergers still 4 of 12), not taken; under a second "
                                    "rule, written after seeing 358 (fresh seeds 7-10: each new pair at least 2 over "
                                    "the old recipe's pair on the same seeds, and a mean gain of 3 over the three "
                                    "pairs): 359 vs 355 (seeds 7+8), 355 vs 354 (9+10), gains +4, +4 and +1: not "
                                    "taken. Then (rule fixed before: 362) cyclic pooling over the four quarter turns "
                                    "(Dieleman et al. 2015: the embedding averaged over the image turned 0, 90, 180 "
                                    "and 270 deg, invariant by construction; 4x the compute; the same pretraining; "
                                    "commit a11569e, reverted): 354 (seeds alone 354 and 353), not taken. The recipe "
                                    "sits at 0.86 on val."},
            description="Galaxy morphology (elliptical / spiral-disk / edge-on / irregular-merger) from SDSS gri "
                        "colour JPEGs as Galaxy Zoo serves them (423x423, by path or as uint8 arrays); pretrained on "
                        "simulated Galaxy Zoo 1 colour stamps, then trained on the galaxyzoo1_jpeg kit's real images "
                        "(with one more output, cut before shipping, learning the spirals' winding).",
            targets={"accuracy": 0.85, "macro_recall": 0.70},
        ),
        # 1-D models: light curves, spectra, photometry
        Recipe("transit_vetter", "transit", "lightcurve-classifier",
               {"net": "transit", "in_ch": 4, "n_scalars": 6, "n_out": 4, "widths": [16, 32, 64], "hidden": 128,
                "dropout": 0.3},
               n_train=8000, n_val=1200, n_test=2000, seed=1, epochs=25, batch=64, patience=5,
               real_kit="kepler_lightcurves", real={"varied_fraction": 0.7, "held_out": "whole kit"},
               description="Exoplanet transit vetting on real and simulated Kepler/K2/TESS light curves (27-day "
                           "windows, gaps, NaNs, 2-min or 30-min cadence; FITS files read directly): BLS ephemeris "
                           "(period, t0, duration), AstroNet-style global + local folded views; planet-transit vs "
                           "eclipsing-binary / variable / noise.",
               targets={"auc": 0.99}),
        Recipe("spectral_class", "spectral_class", "spectrum-classifier",
               {"net": "spectrum", "in_ch": 1, "n_out": 3, "widths": [16, 32, 64], "hidden": 128,
                "dropout": 0.2},
               n_train=6000, n_val=1000, n_test=2000, seed=2, epochs=12, batch=128, patience=5,
               real_kit="sdss_spectra_lowz",
               description="Star / galaxy / QSO classification of 1-D spectra (3800-9200 A, 1024 log-pixels) "
                           "at any redshift and S/N 5-40; trained on simulations only, smoke-tested on 98 real "
                           "SDSS spectra.",
               targets={"accuracy": 0.98}),
        Recipe("photoz_mdn", "photoz", "photoz-mdn",
               {"net": "mdn", "n_in": 10, "hidden": [128, 128, 128], "k": 6},
               n_train=20000, n_val=2000, n_test=4000, seed=3, epochs=150, batch=256, lr=1e-3, patience=25,
               real_kit="sdss_photoz",
               real={"members": 5, "epochs": 200, "lr": 1e-3, "batch": 128, "pct_start": 0.3, "qso_weight": 4,
                     "noise": 0.0, "refit_normalisation": True, "fit": "train+val",
                     "cv": {"folds": 5, "space": ["r+colours", "colours"], "k": [5, 10, 20, 30],
                            "bw": [0.25, 0.5, 1.0], "gate": ["qso_fraction", "qso_majority"], "gate_k": [10, 30],
                            "point": ["mode", "median"]},
                     "selection_note": "Fixed before the cross-validation, not chosen by it: 5 members, lr 1e-3, QSO "
                                       "weight 4 (earlier settings, chosen on the val split) and 200 epochs keeping "
                                       "the last (the earlier members' lowest val-NLL epochs were 143-165 of 200; at "
                                       "epoch 191 each was within 0.03 of its lowest). The option grid was set after a"
                                       " first 5-fold cross-validation over the same folds (networks fine-tuned from "
                                       "photoz_sim's weights; k 10/20/30/50, gates over 10/30/50): k = 5 added, the "
                                       "50s dropped. A 2-epoch smoke run (not shipped) printed its own test headline; "
                                       "nothing was changed after it. The previous design (k = 30, gate over 30, "
                                       "trained on train only) tied the k-NN on the test split (0.212, 18 of 85): that"
                                       " was known when this protocol was set"},
               description="Photometric redshift PDFs (an ensemble of 6-component Gaussian mixture density "
                           "networks) from ugriz magnitudes and errors of stars, galaxies and QSOs: pretrained on "
                           "simulations, adapted to real SDSS DR14 photometry; in QSO colour space the PDF leans on "
                           "a classical component (the k-NN KDE of the nearest real SDSS training objects, gated "
                           "by their QSO fraction; settings chosen by cross-validation on the training rows).",
               targets={}),
        Recipe("photoz_sim", "photoz", "photoz-mdn",
               {"net": "mdn", "n_in": 10, "hidden": [128, 128, 128], "k": 6},
               n_train=20000, n_val=2000, n_test=4000, seed=3, epochs=150, batch=256, lr=1e-3, patience=25,
               description="Photometric redshift PDFs (6-component Gaussian mixture density network) from "
                           "ugriz magnitudes and errors, trained on the simulator only: the model of the demo "
                           "archive's simulated catalogue (photoz_mdn's stage 1, not adapted to real data).",
               targets={}),
        Recipe("stellar_params", "stellar_params", "spectrum-regressor",
               {"net": "spectrum", "in_ch": 1, "n_out": 6, "widths": [16, 32, 64], "hidden": 128,
                "dropout": 0.0, "coarse": 64},
               n_train=20000, n_val=1000, n_test=2000, seed=4, epochs=25, batch=128, lr=1e-3, patience=8,
               description="Stellar Teff, log g and [Fe/H] from 1-D spectra with per-object Gaussian "
                           "(heteroscedastic) 1-sigma uncertainties.",
               targets={}),
    ]
}


def get_recipe(name: str) -> Recipe:
    """The recipe of model ``name``; ValueError listing the known names otherwise."""
    if name not in RECIPES:
        import difflib

        close = difflib.get_close_matches(name, RECIPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; known models: {', '.join(RECIPES)}")
    return RECIPES[name]
