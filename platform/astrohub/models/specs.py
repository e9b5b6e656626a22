"""Training recipes of the shipped models: what `astrohub train NAME` reproduces."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Spec:
    """Everything needed to rebuild one model from its seed."""

    name: str
    task: str  # simulate_images task
    kind: str  # "classifier" | "generator"
    size: int
    channels: list[str]
    arch: dict
    n_train: int
    n_val: int
    n_test: int
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
    # the network's), epochs, lr, batch (astrohub.models.train_psf)

    def split_seeds(self) -> dict[str, int]:
        """Disjoint simulation seeds for the train / validation / test splits."""
        return {"train": self.seed * 100 + 1, "val": self.seed * 100 + 2, "test": self.seed * 100 + 3}


SPECS = {
    s.name: s
    for s in [
        Spec(
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
        Spec(
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
        Spec(
            name="transient_realbogus",
            task="transient",
            kind="classifier",
            size=32,
            channels=["science", "reference", "difference"],
            arch={"net": "cnn", "in_ch": 3, "n_out": 2, "widths": [24, 32, 64, 96], "dropout": 0.3},
            n_train=20000, n_val=3000, n_test=4000,
            description="Real/bogus classifier for difference-imaging candidates "
                        "(science, reference, difference triplets, 32x32).",
            targets={"accuracy": 0.995},
        ),
        Spec(
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
        Spec(
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
    ]
}


def get_spec(name: str) -> Spec:
    """The recipe of model ``name``; ValueError listing the known names otherwise."""
    if name not in SPECS:
        import difflib

        close = difflib.get_close_matches(name, SPECS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; known models: {', '.join(SPECS)}")
    return SPECS[name]
