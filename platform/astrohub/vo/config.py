"""Client defaults as traitlets configuration (``c.VOConfig.retries = 5`` in a config file)."""

from __future__ import annotations

from traitlets import Float, Int, Unicode
from traitlets.config import Configurable


class VOConfig(Configurable):
    """Defaults for :class:`astrohub.vo.Archive`; explicit constructor arguments win."""

    retries = Int(3, help="Retries after a transient network fault "
                          "(connection refused/reset, 5xx, 429)").tag(config=True)
    backoff = Float(0.5, help="First retry delay in seconds; doubles on every further retry").tag(config=True)
    timeout = Float(60.0, help="Seconds to wait for one HTTP answer").tag(config=True)
    cache_ttl = Float(86400.0, help="Seconds a cached query result or product stays valid "
                                    "(0 disables reuse)").tag(config=True)
    cache_dir = Unicode("", help="Query/product cache folder "
                                 "(default: $ASTROHUB_CACHE/vo or ~/.cache/astrohub/vo)").tag(config=True)
