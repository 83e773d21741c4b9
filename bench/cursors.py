"""Cursor encoding cost per edge: the hot path of every big list.

Encodes the cursors of 250-edge windows the way `load_connection_window` does
(scope of the list query, then one cursor per item with its offset, id, sort
value and the total), cold (every cursor new) and warm (the same window again,
served from the codec's memo), and decodes one cursor.

    .venv/bin/python bench/cursors.py [--windows 200]
"""

from __future__ import annotations

import argparse
import time

from restloom.graphql.connections import edge_cursors
from restloom.graphql.relay import CursorCodec
from restloom.upstream.api import Direction, ListQuery, Sort
from restloom.upstream.windows import Window


def items(start: int, size: int = 250) -> Window:
    records = [
        {"id": f"cnt_{offset:010d}", "created_at": f"2025-06-{offset % 28 + 1:02d}T10:00:00Z"}
        for offset in range(start, start + size)
    ]
    return Window(records, list(range(start, start + size)), start, 100_000)


def window(query: ListQuery, codec: CursorCodec, records: Window) -> list[str]:
    return edge_cursors(codec, codec.scope(query), query, records)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=200)
    args = parser.parse_args()
    codec = CursorCodec(b"bench-secret")
    query = ListQuery.build("contacts", sort=Sort("created_at", Direction.DESC), search="a")
    edges = args.windows * 250

    windows = [items(n * 250) for n in range(args.windows)]
    began = time.perf_counter()
    for records in windows:
        window(query, codec, records)
    cold = (time.perf_counter() - began) / edges * 1e6

    # The same window again, as a new upstream answer (new dicts, equal contents).
    again = [items(0) for _ in range(args.windows)]
    began = time.perf_counter()
    for records in again:
        window(query, codec, records)
    warm = (time.perf_counter() - began) / edges * 1e6

    cursor = window(query, codec, again[0])[-1]
    scope = codec.scope(query)
    began = time.perf_counter()
    for _ in range(edges):
        codec.decode(scope, cursor, "after")
    decode = (time.perf_counter() - began) / edges * 1e6

    print(f"cursor length: {len(cursor)} characters")
    print(f"encode, cold (new cursor): {cold:.2f} us per edge")
    print(f"encode, warm (memoised):   {warm:.2f} us per edge")
    print(f"decode:                    {decode:.2f} us per cursor")


if __name__ == "__main__":
    main()
