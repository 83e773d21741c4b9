import base64

import pytest

from restloom.graphql.errors import GatewayError
from restloom.graphql.relay import (
    Anchor,
    CursorCodec,
    Slice,
    from_global_id,
    parse_slice,
    to_global_id,
)

codec = CursorCodec(b"test-secret")


def slice_of(**kwargs):
    args = {"first": None, "after": None, "last": None, "before": None} | kwargs
    return parse_slice(**args, scope="contacts", cursors=codec, max_size=250, default_size=25)


def test_global_id_round_trip():
    gid = to_global_id("Contact", "cnt_abc123")
    assert from_global_id(gid) == ("Contact", "cnt_abc123")
    assert from_global_id("cnt_abc123") is None


def test_cursor_round_trip_and_tampering():
    cursor = codec.encode("contacts", 41, "cnt_1", "2026-01-01T00:00:00Z", 57)
    assert codec.decode("contacts", cursor, "after") == Anchor(
        41, "cnt_1", "2026-01-01T00:00:00Z", 57
    )
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    forged = base64.urlsafe_b64encode(raw.replace(",41,", ",42,").encode()).decode()
    for bad in (forged, "not-a-cursor", "", codec.encode("users", 41), "A" * 5000):
        with pytest.raises(GatewayError) as info:
            codec.decode("contacts", bad, "after")
        assert info.value.extensions["code"] == "BAD_USER_INPUT"


def test_cursors_of_awkward_ids_and_sort_values_round_trip():
    for item_id, value in (("\x01" * 200, "\x02" * 64), ('ü:",' * 50, 1.5), ("7", 2**40)):
        cursor = codec.encode("contacts", 3, item_id, value, 9)
        assert codec.decode("contacts", cursor, "after") == Anchor(3, item_id, value, 9)
    # Sort values that cannot be carried are left out (the id still is).
    for value in ("x" * 65, float("nan"), True, {"a": 1}):
        cursor = codec.encode("contacts", 3, "cnt_1", value, 9)
        assert codec.decode("contacts", cursor, "after") == Anchor(3, "cnt_1", None, 9)


def test_slices():
    after_9 = codec.encode("contacts", 9, "a")
    before_30 = codec.encode("contacts", 30, "b")
    a9, b30 = Anchor(9, "a"), Anchor(30, "b")
    assert slice_of() == Slice(first=25)
    assert slice_of(first=10, after=after_9) == Slice(first=10, after=a9)
    assert slice_of(last=5, before=before_30) == Slice(last=5, before=b30)
    assert slice_of(last=5) == Slice(last=5)
    assert slice_of(first=100, after=after_9, before=before_30) == Slice(100, None, a9, b30)


@pytest.mark.parametrize("args", [{"first": 251}, {"last": 1000}, {"first": -1}])
def test_sizes_out_of_range_are_bad_user_input(args):
    with pytest.raises(GatewayError) as info:
        slice_of(**args)
    assert info.value.extensions["code"] == "BAD_USER_INPUT"
