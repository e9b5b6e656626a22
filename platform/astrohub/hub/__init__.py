"""JupyterHub configuration for astrohub: embedded (one machine) and reusable by Helm."""

from .config import AstrohubHub

__all__ = ["AstrohubHub"]
