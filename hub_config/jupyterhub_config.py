# JupyterHub configuration of astrohub's embedded deployment.
# `astrohub up` runs `jupyterhub -f hub_config/jupyterhub_config.py`; every
# setting comes from astrohub.hub.AstrohubHub (traitlets), whose defaults read
# the ASTROHUB_* environment variables that `astrohub up` exports.
c = get_config()  # noqa: F821  (provided by JupyterHub)

# Site overrides go here, before apply(), e.g.:
# c.AstrohubHub.enable_collaboration = False

from astrohub.hub import AstrohubHub  # noqa: E402

AstrohubHub(config=c).apply(c)
