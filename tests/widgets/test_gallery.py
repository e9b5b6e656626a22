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
