"""Large results are classified on the Dask cluster: the panel shows the same predictions."""

from __future__ import annotations

import numpy as np
import pytest

from astrohub.compute import cluster
from astrohub.widgets import ClassifyPanel, actions

pytestmark = pytest.mark.archive


@pytest.fixture(scope="module")
def client():
    c = cluster(n_workers=2, threads_per_worker=1, memory_limit="3GiB")
    yield c
    c.close()
    c.cluster.close()


@pytest.mark.parametrize("template,model", [("morphology cutouts", "galaxy_morphology"),
                                            ("light curves", "transit_vetter")])
def test_panel_on_the_cluster_equals_the_kernel(arc, client, template, model):
    rows = arc.query(actions.TEMPLATES[template].replace("TOP 100", "TOP 24"))
    local = actions.classify(rows, model, arc, mc_samples=0)
    c = ClassifyPanel(rows, archive=arc, client=client)
    c.model.value, c.mc.value = model, 0
    c.run_button.click()
    assert "on the Dask cluster" in c.status.value and c.result.sharded
    assert list(c.result.table["pred_class"]) == list(local.table["pred_class"])
    np.testing.assert_allclose(c.result.table["pred_prob"], local.table["pred_prob"], rtol=1e-5)
    assert len(c.gallery.children) == 12  # the gallery's rows are fetched in the kernel
