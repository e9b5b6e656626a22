"""The one table of model kinds: what data a kind reads, which predictor serves it, which recipe
trains it, how it is scored and how its card is summed up in one line.

A new model of an existing kind is a recipe (:mod:`astrohub.models.recipes`) and a zoo entry; a new
kind is one row here plus one file (its predictor, trainer and scoring), and nothing else branches
on the kind. Predictor, trainer and scorer are named ``"module:attribute"`` under
``astrohub.models`` and imported on first use, so reading the table never imports torch.

Modalities: ``cutout`` (single-band or triplet images), ``colour`` (RGB colour composites such as the
JPEGs Galaxy Zoo serves), ``lightcurve`` (TIME/FLUX tables), ``spectrum`` (WAVE/FLUX
tables) and ``photometry`` (catalogue magnitudes in the rows themselves).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

MODALITIES = ("cutout", "colour", "lightcurve", "spectrum", "photometry")


def _classifier_headline(m: dict) -> str:
    return f"acc {m['accuracy']:.4f} AUC {m['auc']:.4f} ECE {m['ece']:.4f}"


def _generator_headline(m: dict) -> str:
    return f"denoise PSNR {m['denoise_psnr']['mean']:.2f} dB, 2x SR PSNR {m['sr_psnr']['mean']:.2f} dB"


def _vae_headline(m: dict) -> str:
    return (f"recon PSNR {m['reconstruction_psnr']['mean']:.2f} dB, KS {m['ks_unconditional']['mean']:.3f}, "
            f"class acc {m['conditional_class_accuracy']['accuracy']:.3f}")


def _transit_headline(m: dict) -> str:
    return f"planet AUC {m['vetting']['auc']:.4f}, 4-class acc {m['accuracy']:.4f}"


def _photoz_headline(m: dict) -> str:
    return f"sigma_NMAD {m['sigma_nmad']:.4f}, outliers {m['outlier_fraction']:.3f}, CRPS {m['crps']:.4f}"


def _stellar_headline(m: dict) -> str:
    return ", ".join(f"{k} RMSE {m[k]['rmse']:.3g}" for k in ("teff", "logg", "feh"))


@dataclass(frozen=True)
class Kind:
    """One row of the table: a kind of model and everything that differs between kinds."""

    name: str  # the card's "kind" (a "kind/net" row refines a kind for one network type)
    modality: str  # the data it reads (MODALITIES)
    predictor: str  # "module:Class" under astrohub.models.predictors
    trainer: str  # "module:function" under astrohub.models.training: (recipe, data, options) -> (card, state)
    scorer: str  # "module:function" under astrohub.models.evaluation: (model, simulated set) -> metrics
    headline: Callable[[dict], str]  # one line of a card's held-out metrics (`astrohub models`)
    predicts_rows: bool = True  # one prediction per input row (the panels and compute.predict run these)
    classifier: bool = False  # outputs classes with calibrated probabilities
    image: bool = False  # 2-D inputs: simulated with astrohub.sims.images, recipes have size/channels

    def load_predictor(self):
        return _attr("predictors", self.predictor)

    def load_trainer(self):
        return _attr("training", self.trainer)

    def load_scorer(self):
        return _attr("evaluation", self.scorer)


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("classifier", "cutout", "images:Classifier", "images:train_classifier", "evaluate:image_metrics",
         _classifier_headline, classifier=True, image=True),
    Kind("generator", "cutout", "images:Generator", "images:train_generator", "evaluate:image_metrics",
         _generator_headline, predicts_rows=False, image=True),
    Kind("generator/vae", "cutout", "vae:VAEGenerator", "vae:train_vae", "evaluate:image_metrics",
         _vae_headline, predicts_rows=False, image=True),
    Kind("colour-classifier", "colour", "colour:ColourClassifier", "colour:train_colour", "evaluate:no_simulation",
         _classifier_headline, classifier=True),
    Kind("lightcurve-classifier", "lightcurve", "transit:TransitVetter", "transit:train_transit",
         "evaluate:series_metrics", _transit_headline, classifier=True),
    Kind("spectrum-classifier", "spectrum", "spectra:SpectrumClassifier", "series:train_classifier",
         "evaluate:series_metrics", _classifier_headline, classifier=True),
    Kind("spectrum-regressor", "spectrum", "spectra:StellarParams", "series:train_stellar",
         "evaluate:series_metrics", _stellar_headline),
    Kind("photoz-mdn", "photometry", "photoz:PhotoZ", "photoz:train_photoz", "evaluate:series_metrics",
         _photoz_headline),
]}


def _attr(package: str, ref: str):
    module, name = ref.split(":")
    return getattr(importlib.import_module(f"astrohub.models.{package}.{module}"), name)


def kind_of(card, net: str | None = None) -> Kind:
    """The row of a card (a dict) or of a :class:`~astrohub.models.recipes.Recipe`; ValueError for an
    unknown kind. A ``"kind/net"`` row wins over the plain kind for that network type."""
    kind = card["kind"] if isinstance(card, dict) else card.kind
    net = net or (card.get("arch", {}) if isinstance(card, dict) else card.arch).get("net")
    row = KINDS.get(f"{kind}/{net}") or KINDS.get(kind)
    if row is None:
        name = card.get("name", "?") if isinstance(card, dict) else card.name
        raise ValueError(f"model {name!r} has unknown kind {kind!r}; known kinds: "
                         f"{', '.join(sorted({k.split('/')[0] for k in KINDS}))}")
    return row


def modality(card: dict) -> str:
    """The modality of the model described by ``card`` (``card['modality']`` wins when given)."""
    return card.get("modality") or kind_of(card).modality


def single_band(inputs: dict) -> str | None:
    """The band letter of a model trained on one optical band (its card's ``inputs.bands``, e.g. ['r']), else
    None."""
    from ..defaults import BAND_LETTERS

    bands = list(inputs.get("bands") or [])
    return bands[0] if len(bands) == 1 and bands[0] in BAND_LETTERS else None


def predicts_rows(card: dict) -> bool:
    """True for models that give one prediction per input row (classifiers and regressors)."""
    return kind_of(card).predicts_rows
