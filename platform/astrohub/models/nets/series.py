"""Small 1-D networks: AstroNet-style transit vetter, spectrum CNN, photo-z mixture density MLP."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _tower(in_ch: int, widths: list[int], k: int = 5) -> nn.Sequential:
    layers = []
    for w in widths:
        layers += [nn.Conv1d(in_ch, w, k, padding=k // 2), nn.BatchNorm1d(w), nn.ReLU(inplace=True),
                   nn.Conv1d(w, w, k, padding=k // 2), nn.ReLU(inplace=True), nn.MaxPool1d(2)]
        in_ch = w
    return nn.Sequential(*layers)


class TransitNet(nn.Module):
    """Global + local folded views (separate conv towers) and BLS scalars -> class logits."""

    def __init__(self, in_ch=4, n_scalars=6, n_out=4, widths=(16, 32, 64), hidden=128, dropout=0.3, **_):
        super().__init__()
        self.glob = _tower(in_ch, list(widths))
        self.loc = _tower(in_ch, list(widths[:2]))
        self.fc = nn.Sequential(nn.Linear(widths[-1] * 8 + widths[1] * 4 + n_scalars, hidden), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.head_fc = nn.Linear(hidden, n_out)

    def embed(self, g, loc, s):
        a = F.adaptive_max_pool1d(self.glob(g), 8).flatten(1)
        b = F.adaptive_max_pool1d(self.loc(loc), 4).flatten(1)
        return self.fc(torch.cat([a, b, s], 1))

    def head(self, e):
        return self.head_fc(self.dropout(e))

    def forward(self, g, loc, s):
        return self.head(self.embed(g, loc, s))


class SpectrumNet(nn.Module):
    """1-D CNN over a spectrum [N, 1, n_pix] -> ``n_out`` outputs (logits or mean/log-sigma pairs)."""

    def __init__(self, in_ch=1, n_out=3, widths=(16, 32, 64), hidden=128, dropout=0.2, pool=8, coarse=0, **_):
        super().__init__()
        stem = [nn.Conv1d(in_ch, widths[0], 9, stride=2, padding=4), nn.BatchNorm1d(widths[0]), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*stem, _tower(widths[0], list(widths), k=7))
        self.pool, self.coarse = pool, coarse  # coarse > 0: also feed the spectrum averaged into that many bins
        self.fc = nn.Sequential(nn.Linear(widths[-1] * pool * 2 + coarse * in_ch, hidden), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.head_fc = nn.Linear(hidden, n_out)

    def embed(self, x):
        h = self.body(x)
        h = torch.cat([F.adaptive_max_pool1d(h, self.pool), F.adaptive_avg_pool1d(h, self.pool)], 1).flatten(1)
        if self.coarse:
            h = torch.cat([h, F.adaptive_avg_pool1d(x, self.coarse).flatten(1)], 1)
        return self.fc(h)

    def head(self, e):
        return self.head_fc(self.dropout(e))

    def forward(self, x):
        return self.head(self.embed(x))


class MDN(nn.Module):
    """MLP -> Gaussian mixture (weights, means, sigmas) of a scalar target."""

    def __init__(self, n_in=10, hidden=(128, 128, 128), k=6, dropout=0.0, **_):
        super().__init__()
        layers, d = [], n_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.SiLU()]
            d = h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(d, 3 * k)
        self.k = k

    def forward(self, x):
        o = self.out(self.body(x))
        logit_w, mu, log_s = o.split(self.k, dim=1)
        return F.log_softmax(logit_w, 1), mu, log_s.clamp(-6.0, 3.0)


def mdn_nll(logw, mu, log_s, y):
    """Mean negative log-likelihood of targets ``y`` [N] under the mixtures."""
    z = (y[:, None] - mu) / log_s.exp()
    lp = logw - 0.5 * z ** 2 - log_s - 0.9189385332046727
    return -torch.logsumexp(lp, 1).mean()


NETS = {"transit": TransitNet, "spectrum": SpectrumNet, "mdn": MDN}


def build(arch: dict) -> nn.Module:
    """Network described by a card's ``arch`` (``net`` picks the class)."""
    if arch.get("net") not in NETS:
        raise ValueError(f"unknown 1-D network {arch.get('net')!r}; known: {', '.join(NETS)}")
    return NETS[arch["net"]](**{k: v for k, v in arch.items() if k != "net"})
