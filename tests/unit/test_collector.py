"""A rebuild pauses Python's cycle collector, collects by itself, and leaves it as it found it."""

import gc
import weakref

import pytest

from shared.kernel.collector import collecting_less


@pytest.fixture(autouse=True)
def _enabled():
    gc.enable()
    yield
    gc.enable()


def test_a_rebuild_pauses_the_automatic_collection_and_restores_it():
    with collecting_less():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_rebuild_collects_cycles_by_itself_every_so_many_events():
    class Node:
        itself: "Node"

    with collecting_less(every=10) as collection:
        node = Node()
        node.itself = node
        cycle = weakref.ref(node)
        del node
        collection.read(9)
        assert cycle() is not None  # no collection yet: a cycle outlives its last name
        collection.read(1)
        assert cycle() is None
        assert not gc.isenabled()


def test_rebuilds_that_overlap_restore_the_collector_only_when_the_last_one_ends():
    first, second = collecting_less(), collecting_less()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_rebuild_that_fails_restores_the_collector():
    try:
        with collecting_less():
            raise RuntimeError("the broker went away")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collecting_less():
        pass
    assert not gc.isenabled()
