"""A rebuild runs Python's cycle collector less often, and leaves it as it found it."""

import gc

from shared.kernel.collector import YOUNG, collecting_less


def test_a_rebuild_runs_young_collections_less_often_and_restores_the_thresholds():
    before = gc.get_threshold()
    with collecting_less():
        assert gc.get_threshold()[0] == YOUNG
    assert gc.get_threshold() == before


def test_rebuilds_that_overlap_restore_the_thresholds_only_when_the_last_one_ends():
    before = gc.get_threshold()
    first, second = collecting_less(), collecting_less()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == YOUNG  # the second still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


def test_a_rebuild_that_fails_restores_the_thresholds():
    before = gc.get_threshold()
    try:
        with collecting_less():
            raise RuntimeError("the broker went away")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
