"""Gallery thumbnails of stamps as the archive serves them: masked (NaN) pixels are shown, not fatal."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from astrohub.widgets.gallery import thumbnail


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_masked_pixels_are_black_and_the_rest_stretched():
    img = np.random.default_rng(0).normal(100, 5, (16, 16))
    img[4:8, 4:8] = np.nan
    sal = np.ones((16, 16))
    sal[0, 0] = np.nan
    out = pixels(thumbnail(img, sal, scale=1))
    assert out.shape == (16, 16, 3)
    plain = pixels(thumbnail(img, scale=1))
    assert (plain[4:8, 4:8] == 0).all() and plain[10:, 10:].max() > 100  # masked black, the rest visible
    assert pixels(thumbnail(np.full((8, 8), np.nan), scale=1)).max() == 0  # a fully masked stamp: black


def test_colour_composites_are_shown_in_colour_under_the_saliency():
    """A colour model's view (uint8 RGB [h, w, 3]) keeps its colours; saliency reddens only where it is high."""
    img = np.zeros((8, 8, 3), np.uint8)
    img[..., 2] = 200  # blue everywhere
    sal = np.zeros((8, 8))
    sal[0, 0] = 1.0
    out = pixels(thumbnail(img, sal, scale=1))
    assert out.shape == (8, 8, 3)
    assert tuple(out[5, 5]) == (0, 0, 200)  # no saliency: the image's own colour, not a grey stretch
    assert out[0, 0, 0] > 200 and out[0, 0, 2] < 100  # the salient pixel reddened
