"""A query result the VOTable writer cannot store (DaCHS polygons served as empty arrays) is returned, not cached."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from astrohub.vo.cache import CacheWriteWarning, QueryCache


def test_an_unstorable_result_warns_and_leaves_no_file(tmp_path):
    t = Table({"a": [1, 2]})
    t["coverage"] = np.array([np.ma.masked_array(np.zeros(0)), np.ma.masked_array(np.zeros(0))], dtype=object)
    t["coverage"].meta["xtype"] = "polygon"
    cache = QueryCache(tmp_path)
    with pytest.warns(CacheWriteWarning, match="does not cache this query result: the VOTable writer cannot store"):
        assert cache.put("k", t) is False
    assert cache.get("k") is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert cache.put("k2", Table({"a": [1, 2]})) is True and list(cache.get("k2")["a"]) == [1, 2]
