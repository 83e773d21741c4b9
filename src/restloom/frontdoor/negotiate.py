"""Which media type the answer uses, from the request's `Accept` header.

GraphQL over HTTP (current draft): `application/graphql-response+json` is the
preferred response type and `application/json` the legacy one. The client's
highest-priority supported type wins (q-values, then the more specific range, then
the order in the header). Decisions where the draft leaves room:

- no `Accept` header: `application/graphql-response+json` (the draft's SHOULD since
  the 2025-01-01 watershed);
- only wildcards (`*/*`, `application/*`): `application/json`. Clients that send only
  `*/*` (fetch's and curl's default, Apollo Client 3) predate the new type and read
  GraphQL errors only from 200 answers; clients that understand the new type name it.
- neither type acceptable (`Accept: text/html` on a POST): 406, as the draft recommends.
"""

from __future__ import annotations

from dataclasses import dataclass

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
# In order of preference when the client's header does not decide.
SUPPORTED = (APPLICATION_JSON, GRAPHQL_RESPONSE_JSON)
DEFAULT_WITHOUT_ACCEPT = GRAPHQL_RESPONSE_JSON
# An Accept header is a list; past this many entries the rest is ignored.
MAX_RANGES = 32


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    position: int

    def specificity(self, media_type: str) -> int:
        """2 for an exact match, 1 for `type/*`, 0 for `*/*`, -1 for no match."""
        type_, subtype = media_type.split("/", 1)
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != type_:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else -1


def parse_accept(header: str) -> list[MediaRange]:
    ranges: list[MediaRange] = []
    for position, part in enumerate(header.split(",")[:MAX_RANGES]):
        essence, *parameters = part.split(";")
        type_, slash, subtype = essence.strip().lower().partition("/")
        if not slash or not type_ or not subtype:
            continue  # not a media range: ignored, as a malformed entry
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                q = _quality(value.strip())
        if q >= 0:
            ranges.append(MediaRange(type_, subtype, q, position))
    return ranges


def _quality(value: str) -> float:
    """RFC 9110 qvalue: 0 to 1 with up to three decimals; -1 when malformed."""
    try:
        q = float(value)
    except ValueError:
        return -1.0
    return q if 0.0 <= q <= 1.0 and len(value) <= 5 else -1.0


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in; None when the client accepts none we serve (406)."""
    if accept is None or not accept.strip():
        return DEFAULT_WITHOUT_ACCEPT
    ranges = parse_accept(accept)
    best: tuple[float, int, int, int] | None = None
    chosen: str | None = None
    for preference, media_type in enumerate(SUPPORTED):
        match = _best_range(ranges, media_type)
        if match is None or match.q <= 0:
            continue
        specificity = match.specificity(media_type)
        # Higher q, then the more specific range, then earlier in the header, then ours.
        key = (match.q, specificity, -match.position, -preference)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def _best_range(ranges: list[MediaRange], media_type: str) -> MediaRange | None:
    """The most specific range that matches (its q applies, RFC 9110 12.5.1)."""
    found: MediaRange | None = None
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity < 0:
            continue
        if found is None or specificity > found.specificity(media_type):
            found = media_range
    return found
