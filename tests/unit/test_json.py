"""The events' JSON: orjson on the hot paths, the hash chain's canonical form as first written.

A stored hash commits to the bytes of `canonical()`: they must never change. The envelope's
value and the store's payload may change bytes (they are read as JSON, never hashed as bytes),
but must read back as the same document.
"""

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.kernel.envelope import Envelope
from shared.kernel.hashchain import GENESIS, canonical, link


def canonical_as_first_written(document: Any) -> bytes:
    """hashchain.canonical as every stored hash was computed with: keep this copy as it is."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# Characters JSON escapes, or that encoders disagree on: controls, quotes, backslash, DEL, the
# line and paragraph separators (escaped by JavaScript-safe encoders), the BOM, non-BMP.
TRICKY = '\x00\x01\x08\t\n\x0c\r\x1f"\\/\x7f\x80\xa0\u2028\u2029\ufeff\uffff\U0001f600é’«»'
texts = st.text(
    st.one_of(st.sampled_from(TRICKY), st.characters(exclude_categories=("Cs",))), max_size=20
)
amounts = st.decimals(min_value=-(10**12), max_value=10**12, places=2).map(lambda d: f"{d:.2f}")
INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson writes and reads


def documents(integers: st.SearchStrategy[int], floats: st.SearchStrategy[float]) -> Any:
    scalars = st.one_of(st.none(), st.booleans(), integers, floats, texts, amounts)
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)
        ),
        max_leaves=30,
    )


# Anything the standard library writes: integers of any size, NaN and the infinities too.
anything = documents(st.integers(), st.floats())
# What the store writes and reads back exactly (eventstore._encoded refuses wider integers;
# pydantic's JSON mode writes NaN and the infinities as null).
publishable = documents(INT64, st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(texts, anything, max_size=8))
def test_the_canonical_form_is_byte_for_byte_the_one_every_stored_hash_covers(document):
    assert canonical(document) == canonical_as_first_written(document)


def test_the_canonical_form_of_a_known_document_is_unchanged():
    # Where orjson would differ: small floats (1e-05), NaN (null), integers beyond 64 bits.
    document = {"b": ["\u2028\x00é", 1e-05, float("nan"), 2**70], "a": {"z": None, "y": True}}
    assert canonical(document) == (
        b'{"a":{"y":true,"z":null},"b":["\xe2\x80\xa8\\u0000\xc3\xa9",1e-05,NaN,'
        b"1180591620717411303424]}"
    )


def test_a_link_of_known_content_is_the_hash_it_always_was():
    content = {
        "stream_id": "6f1c2d3e-0000-4000-8000-000000000001",
        "version": 1,
        "event_id": "6f1c2d3e-0000-4000-8000-000000000002",
        "event_type": "fr.gouv.mildeca.aap.ApplicationSubmitted.v1",
        "occurred_at": "2024-04-01T10:30:00+02:00",
        "data": {"nom": "Commune d’Alès\u2028«test»", "requested_eur": "160000.00", "n": [1, None]},
    }
    # the hash main's hashchain gave this content before orjson came in
    assert link(GENESIS, **content) == (
        "c7517affe97c0c42e48c0af2e150d72aa721f51532f4809765bfb6dd4bb3cd99"
    )


def envelope_of(data: dict[str, Any]) -> Envelope:
    return Envelope(uuid4(), "/aap/tests", "t", "x", datetime.now(UTC), "", data)


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(texts, publishable, max_size=8))
def test_a_published_value_reads_back_as_the_document_the_standard_library_wrote(document):
    as_before = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(envelope_of(document).value()) == json.loads(as_before) == document


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(texts, publishable, max_size=8))
def test_what_the_standard_library_wrote_reads_the_same_through_orjson(document):
    # the values already in Kafka and the payloads already in PostgreSQL, whichever form
    for written in (json.dumps(document), json.dumps(document, ensure_ascii=False)):
        assert orjson.loads(written) == json.loads(written)
