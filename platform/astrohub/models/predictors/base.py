"""What every predictor shares: a network built from its card, its weights, and a device.

A predictor is built from (card, state dict) in milliseconds and holds no open files, so
Dask workers can each call ``astrohub.models.load(name)`` once and reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import nets


class ClassProbabilities(np.ndarray):
    """[N, K] class probabilities, an ndarray whose columns can also be taken by class name: ``p["real"]`` is
    ``p[:, class_names.index("real")]``."""

    def __new__(cls, values, class_names):
        obj = np.asarray(values).view(cls)
        obj.class_names = list(class_names) if class_names is not None else None
        return obj

    def __array_finalize__(self, obj):
        self.class_names = getattr(obj, "class_names", None)

    def __getitem__(self, key):
        if isinstance(key, str):
            names = self.class_names or []
            if key not in names:
                raise KeyError(f"no class {key!r}; the classes are {', '.join(map(repr, names))}")
            return np.asarray(self)[..., names.index(key)]
        return super().__getitem__(key)

    def __reduce__(self):  # pickled with its class names (Dask sends predictions between processes)
        fn, args, state = super().__reduce__()
        return fn, args, (state, self.class_names)

    def __setstate__(self, state):
        base, self.class_names = state
        super().__setstate__(base)


@dataclass
class Prediction:
    """Classifier output for N inputs."""

    labels: np.ndarray  # [N] int64 class index
    names: list[str]  # [N] class name of each label
    probabilities: np.ndarray  # [N, K] temperature-calibrated softmax (a ClassProbabilities: p["real"] works too)
    uncertainty: np.ndarray  # [N] MC-dropout std of the predicted class's probability
    entropy: np.ndarray  # [N] predictive entropy (nats) of the calibrated probabilities
    class_names: list[str]
    ood: np.ndarray | None = None  # [N] bool: the input lies outside what the model was trained on
    ood_reason: list[str] | None = None  # [N] why ("" when in range); see astrohub.models.inputs.OODFlags

    def __post_init__(self):
        self.probabilities = self.probabilities  # now with the class names

    def __setattr__(self, key, value):
        if key == "probabilities" and value is not None:
            value = ClassProbabilities(value, self.__dict__.get("class_names"))
        super().__setattr__(key, value)


def device_of(device) -> torch.device:
    """``device`` as a torch device (default: CUDA when available, else the CPU)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Predictor:
    """Common part: builds the network described by the card and loads its weights."""

    def __init__(self, card: dict, state: dict[str, torch.Tensor], device=None):
        self.card = card
        self.name = card["name"]
        self.device = device_of(device)
        self.net = nets.on_device(card["arch"], self.device, state).eval()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} v{self.card['version']} on {self.device}>"

    def _tensor(self, arr) -> torch.Tensor:
        t = arr if isinstance(arr, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(arr))
        t = t.to(self.device)
        return t.contiguous(memory_format=torch.channels_last) if self.device.type == "cpu" else t
