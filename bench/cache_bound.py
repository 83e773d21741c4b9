"""Memory cache bound: fill the store far past `cache_max_bytes` and print what it holds.

Writes `--windows` list pages of 250 contact-like records (about 100 KB of JSON
each) under distinct keys to the memory store restloom uses, bounded at
`--max-mib`, and prints the bytes it counts, the entries it kept, its evictions
and the process's peak RSS (which includes the interpreter, about 30 MB).

    .venv/bin/python bench/cache_bound.py [--windows 3000] [--max-mib 64]
"""

from __future__ import annotations

import argparse
import asyncio
import resource

from restloom.upstream.cache import CacheStore, LruMemory


def window(n: int) -> dict[str, object]:
    records = [
        {
            "id": f"cnt_{n:05d}{i:03d}",
            "first_name": f"First{i}",
            "last_name": f"Last{n}",
            "email": f"person{n}.{i}@example.com",
            "company": "Example Industries",
            "tags": ["lead", "newsletter"],
            "created_at": "2026-11-25T20:00:00Z",
            "updated_at": "2026-11-25T20:00:00Z",
        }
        for i in range(250)
    ]
    return {"s": 200, "h": {}, "b": {"data": records, "meta": {"page": n, "total": 10**6}}}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=3000)
    parser.add_argument("--max-mib", type=int, default=64)
    args = parser.parse_args()
    bound = args.max_mib * 1024 * 1024
    backend = LruMemory(bound)
    store = CacheStore(backend, "memory")  # what memory_store(bound) builds
    written = 0
    for n in range(args.windows):
        value = window(n)
        await store.set_many([(f"restloom:bench:get:{n}", value)], ttl=3600)
        written += len(str(value))  # about the JSON size; for the "written" column only
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"bound {bound:,} bytes; wrote {args.windows} windows of 250 (~{written / 2**20:.0f} MiB)"
    )
    print(
        f"held {store.stored_bytes():,} bytes in {len(backend)} entries "
        f"({backend.evictions} evicted); peak RSS {rss_mib:.0f} MiB"
    )


if __name__ == "__main__":
    asyncio.run(main())
