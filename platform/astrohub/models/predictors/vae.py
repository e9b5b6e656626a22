"""The variational autoencoder's predictor: generate, encode and reconstruct galaxy cutouts."""

from __future__ import annotations

import numpy as np
import torch

from ..inputs import GEN_SCALE, InputError
from .base import Predictor
from .images import checked_sigma, prepare_images


class VAEGenerator(Predictor):
    """Variational autoencoder: ``generate`` new noiseless cutouts (optionally of a given
    morphology class), ``encode`` cutouts to the latent space and ``reconstruct`` them."""

    @property
    def class_names(self) -> list[str]:
        return list(self.card["outputs"]["classes"])

    @property
    def latent_dim(self) -> int:
        return int(self.net.latent)

    def _classes(self, cls, n: int, what: str = "cls") -> torch.Tensor:
        """Class indices [n] from None (unknown / unconditional), a name, an index, or a sequence of n of those."""
        unknown = len(self.class_names)
        if cls is None:
            return torch.full((n,), unknown, dtype=torch.long)
        items = [cls] * n if isinstance(cls, (str, int, np.integer)) and not isinstance(cls, bool) else cls
        if isinstance(items, (bool, float, bytes, dict, set)) or not hasattr(items, "__len__"):
            raise TypeError(f"{self.name}: {what} must be a class name ({', '.join(self.class_names)}), a class "
                            f"index 0..{unknown - 1}, None, or a sequence of those; got {type(cls).__name__}")
        items = list(items)
        if len(items) != n:
            raise InputError(f"{self.name}: {what} has {len(items)} entries for {n} images")
        out = []
        for c in items:
            if isinstance(c, str):
                if c not in self.class_names:
                    import difflib

                    close = difflib.get_close_matches(c, self.class_names, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise InputError(f"{self.name}: unknown class {c!r}{hint}; classes are {self.class_names}")
                out.append(self.class_names.index(c))
            elif isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not 0 <= int(c) < unknown:
                    raise InputError(f"{self.name}: class index {int(c)} out of range 0..{unknown - 1} "
                                     f"({', '.join(self.class_names)})")
                out.append(int(c))
            else:
                raise TypeError(f"{self.name}: {what} entries must be class names or indices, got "
                                f"{type(c).__name__} {c!r}")
        return torch.tensor(out, dtype=torch.long)

    def generate(self, n: int, seed: int | None = None, cls=None, batch_size: int = 256) -> np.ndarray:
        """``n`` new noiseless 64x64 cutouts [n, 1, 64, 64] (float32) in the survey's count units
        (the simulator's sky-noise rms is 1). ``cls``: None (unconditional: the model's mix of
        classes), a class name or index, or a sequence of n of those. The same ``seed`` gives
        the same images."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{self.name}.generate: n must be a positive integer, got {type(n).__name__} {n!r}")
        if n <= 0:
            raise InputError(f"{self.name}.generate: n must be a positive integer, got {n}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"{self.name}.generate: seed must be an integer or None, "
                            f"got {type(seed).__name__} {seed!r}")
        c = self._classes(cls, int(n))
        g = torch.Generator()
        if seed is None:
            g.seed()
        else:
            g.manual_seed(int(seed))
        eps = torch.randn(int(n), self.latent_dim, generator=g)
        out = []
        with torch.inference_mode():
            for i in range(0, int(n), batch_size):
                ci = c[i:i + batch_size].to(self.device)
                z = self.net.sample_z(ci, eps[i:i + batch_size].to(self.device))
                out.append(self.net.decode(z, ci).float().cpu())
        return (np.sinh(torch.cat(out).numpy()) * GEN_SCALE).astype(np.float32)

    def check(self, x, bands=None, fill_nan: bool = False):
        """Out-of-distribution flags of cutouts ``x``: (ood [N] bool, reason [N] str); ranges: ``inputs.ranges``."""
        return prepare_images(x, self.card["inputs"], bands, self.name, fill_nan).flags.result()

    def _inputs(self, x, bands):
        # arrays, FITS cutouts with a WCS (resampled to the model's pixel scale) or archive products
        xb = prepare_images(x, self.card["inputs"], bands, self.name).batch
        sig = checked_sigma(xb, self.name)
        return np.arcsinh(xb / (GEN_SCALE * sig)).astype(np.float32), sig

    def encode(self, x, bands=None, cls=None, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and log-variance [N, latent] of noisy cutouts ``x`` (class unknown unless given)."""
        u, _ = self._inputs(x, bands)
        c = self._classes(cls, len(u))
        mus, lvs = [], []
        with torch.inference_mode():
            for i in range(0, len(u), batch_size):
                mu, lv = self.net.encode(self._tensor(u[i:i + batch_size]), c[i:i + batch_size].to(self.device))
                mus.append(mu.float().cpu())
                lvs.append(lv.float().cpu())
        return torch.cat(mus).numpy(), torch.cat(lvs).numpy()

    def reconstruct(self, x, bands=None, cls=None, batch_size: int = 256) -> np.ndarray:
        """Noiseless reconstructions [N, H, W] of noisy cutouts ``x``, in the input's units."""
        u, sig = self._inputs(x, bands)
        c = self._classes(cls, len(u))
        out = []
        with torch.inference_mode():
            for i in range(0, len(u), batch_size):
                out.append(self.net(self._tensor(u[i:i + batch_size]),
                                    c[i:i + batch_size].to(self.device)).float().cpu())
        return (np.sinh(torch.cat(out).numpy()) * GEN_SCALE * sig)[:, 0]

    def predict(self, x, bands=None, batch_size: int = 256) -> np.ndarray:
        """Alias of :meth:`reconstruct`."""
        return self.reconstruct(x, bands, batch_size=batch_size)
