"""Which data a zoo model reads (its modality), from its card.

Modalities: ``cutout`` (images), ``lightcurve`` (TIME/FLUX tables), ``spectrum`` (WAVE/FLUX
tables) and ``photometry`` (catalogue magnitudes in the rows themselves).
"""

from __future__ import annotations

MODALITIES = ("cutout", "lightcurve", "spectrum", "photometry")
_BY_KIND = {"classifier": "cutout", "generator": "cutout", "lightcurve-classifier": "lightcurve",
            "spectrum-classifier": "spectrum", "spectrum-regressor": "spectrum", "photoz-mdn": "photometry"}
# kinds that predict something per row (the panels and compute.predict run these)
PREDICTIVE = ("classifier", "lightcurve-classifier", "spectrum-classifier", "spectrum-regressor", "photoz-mdn")


def modality(card: dict) -> str:
    """The modality of the model described by ``card`` (``card['modality']`` wins when given)."""
    return card.get("modality") or _BY_KIND.get(card["kind"], "cutout")


def predicts_rows(card: dict) -> bool:
    """True for models that give one prediction per input row (classifiers and regressors)."""
    return card["kind"] in PREDICTIVE


def is_classifier(card: dict) -> bool:
    """True when the model outputs classes with probabilities (else values, e.g. redshift PDFs)."""
    return "classes" in card.get("outputs", {})
