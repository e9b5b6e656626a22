"""What the 1-D predictors share: the network of the card's ``arch`` and the classifiers' common part.
The predictors themselves: :mod:`.transit` (transit vetting), :mod:`.spectra` (spectral class,
stellar parameters), :mod:`.photoz` (photo-z PDFs).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..inputs import InputError
from ..nets import series as series_nets
from .base import Prediction, device_of


class SeriesPredictor:
    """Common part: the network of the card's ``arch`` with its weights, in eval mode."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        self.card, self.name = card, card["name"]
        self.device = device_of(device)
        self.net = series_nets.build(card["arch"])
        self.net.load_state_dict(state)
        self.net.to(self.device).eval()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} v{self.card['version']} on {self.device}>"

    def _t(self, a) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(self.device)

    def _gradient(self, inputs: tuple, wrt: int, score) -> np.ndarray:
        """Saliency: |d score / d inputs[wrt]| summed over channels, [N, L]; ``score(out)`` -> [N]."""
        xs = [self._t(a).requires_grad_(i == wrt) for i, a in enumerate(inputs)]
        with torch.enable_grad():
            score(self.net(*xs)).sum().backward()
        g = xs[wrt].grad.abs()
        return (g.sum(1) if g.ndim == 3 else g).cpu().numpy().astype(np.float64)


class ClassifierMixin:
    @property
    def class_names(self) -> list[str]:
        return list(self.card["outputs"]["classes"])

    def _classify(self, inputs: tuple, mc_samples, batch_size, cls=Prediction, **extra):
        T = float(self.card.get("calibration", {}).get("temperature", 1.0))
        emb = []
        with torch.inference_mode():
            for i in range(0, len(inputs[0]), batch_size):
                emb.append(self.net.embed(*[self._t(a[i:i + batch_size]) for a in inputs]))
            emb = torch.cat(emb)
            probs = F.softmax(self.net.head(emb) / T, 1)
            top = probs.argmax(1)
            n_mc = int(mc_samples if mc_samples is not None else self.card["outputs"].get("mc_samples", 20))
            unc = torch.zeros(len(emb))
            if n_mc > 1:
                p = self.net.dropout.p
                s = torch.stack([F.softmax(self.net.head_fc(F.dropout(emb, p, training=True)) / T, 1)
                                 for _ in range(n_mc)])
                unc = s.gather(2, top.view(1, -1, 1).expand(n_mc, -1, 1)).squeeze(2).std(0)
        pr = probs.cpu().numpy().astype(np.float64)
        ent = -(pr * np.log(np.clip(pr, 1e-12, 1))).sum(1)
        lab = top.cpu().numpy().astype(np.int64)
        return cls(lab, [self.class_names[i] for i in lab], pr, unc.cpu().numpy(), ent, self.class_names, **extra)

    def _explain(self, inputs: tuple, wrt: int, target) -> np.ndarray:
        if target is not None and target not in self.class_names:
            raise InputError(f"{self.name}: unknown target class {target!r}; classes: {', '.join(self.class_names)}")

        def score(logits):
            idx = logits.argmax(1) if target is None else torch.full((len(logits),), self.class_names.index(target),
                                                                      device=logits.device)
            return logits.gather(1, idx.view(-1, 1)).squeeze(1)
        return self._gradient(inputs, wrt, score)

    def predict_proba(self, x, **kw) -> np.ndarray:
        """Calibrated class probabilities [N, K]."""
        return self.predict(x, mc_samples=0, **kw).probabilities
