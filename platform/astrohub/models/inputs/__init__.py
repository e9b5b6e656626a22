"""Inputs of the zoo's models: what users and archives hand over, validated and made into arrays.

- :mod:`.images`: image batches checked against a card (``as_batch``), the PSF argument
  (``as_psf_fwhm``) and the one image normalisation, ``normalise`` (arcsinh(x / sigma), sigma the
  border noise);
- :mod:`.products`: archive cutouts (an ``astrohub.vo`` ImageSet) to a model's inputs: the centre
  crop and the PSF read from the FITS headers (``image_inputs``);
- :mod:`.fits`: FITS cutouts with a WCS resampled to a model's pixel scale and cut to its input
  (``read_fits_cutouts``), or refused naming the mismatch;
- :mod:`.adapters`: survey adapters a card names (``inputs.adapter``, the ``ADAPTERS`` registry, ``adapt``);
- :mod:`.ood`: out-of-distribution flags (``OODFlags``) every predictor puts on its predictions (image
  rows: ``images.image_ood`` against the card's ``inputs.ranges``);
- :mod:`.series`: light curves (BLS + folded views), spectra and photometry of the 1-D models.

Serving code: imports nothing from training.
"""

from .adapters import ADAPTERS, adapt
from .fits import is_fits_input, read_fits_cutouts
from .images import (
           GEN_SCALE,
           InputError,
           as_batch,
           as_psf_fwhm,
           detection_snr,
           fill_masked,
           image_ood,
           noise_sigma,
           normalise,
)
from .ood import OODFlags
from .products import fit_cutouts, image_inputs, is_product_set, psf_argument

__all__ = ["GEN_SCALE", "InputError", "as_batch", "as_psf_fwhm", "noise_sigma", "normalise", "fit_cutouts",
           "image_inputs", "is_product_set", "psf_argument", "OODFlags", "ADAPTERS", "adapt", "is_fits_input",
           "read_fits_cutouts", "detection_snr", "fill_masked", "image_ood"]
