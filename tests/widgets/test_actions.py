"""``astrohub.widgets.actions`` (imported by the tutorials) is the UI-free :mod:`astrohub.pipeline`."""

from __future__ import annotations


def test_the_widgets_actions_are_the_pipeline():
    """``from astrohub.widgets import actions`` (the tutorials) gives the pipeline's functions."""
    from astrohub import pipeline
    from astrohub.pipeline import classification
    from astrohub.widgets import actions

    for name in pipeline.__all__:
        assert getattr(actions, name) is getattr(pipeline, name), name
    before = classification.SHARD_ABOVE
    try:  # setting the threshold on actions sets the one classify reads, as before the move
        actions.SHARD_ABOVE = 7
        assert classification.SHARD_ABOVE == 7 == actions.SHARD_ABOVE
    finally:
        actions.SHARD_ABOVE = before
    assert classification.SHARD_ABOVE == before
