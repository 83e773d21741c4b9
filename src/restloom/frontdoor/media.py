"""Exact media types: `application/jsonx` is not `application/json`.

RFC 9110 media type: `type "/" subtype *( OWS ";" OWS parameter )`, compared
case-insensitively, parameters aside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from restloom.frontdoor.errors import RequestRejected

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"^\s*({_TOKEN})/({_TOKEN})\s*(;.*)?$", re.DOTALL)
_PARAMETER = re.compile(rf'^\s*({_TOKEN})=({_TOKEN}|"(?:[^"\\]|\\.)*")\s*$')

# What a POST body may be: JSON. (application/graphql-response+json is the
# response's media type; a client names it in Accept, not in Content-Type.)
POST_MEDIA_TYPES = frozenset({"application/json"})


@dataclass(frozen=True)
class MediaType:
    essence: str  # "type/subtype", lower case
    parameters: dict[str, str] = field(default_factory=dict)


def parse_media_type(value: str) -> MediaType | None:
    """The media type in a Content-Type header, or None when it is not one."""
    match = _MEDIA_TYPE.match(value)
    if match is None:
        return None
    parameters: dict[str, str] = {}
    for part in (match.group(3) or "").split(";")[1:]:
        if not part.strip():
            continue
        parameter = _PARAMETER.match(part)
        if parameter is None:
            return None
        parameters[parameter.group(1).lower()] = parameter.group(2).strip('"')
    return MediaType(f"{match.group(1)}/{match.group(2)}".lower(), parameters)


def check_post_body_type(content_type: str | None) -> None:
    """Refuse (415) a POST whose body is not JSON, or JSON in another charset than UTF-8."""
    media_type = parse_media_type(content_type or "")
    allowed = " or ".join(sorted(POST_MEDIA_TYPES))
    if media_type is None or media_type.essence not in POST_MEDIA_TYPES:
        shown = (content_type or "none")[:100]
        raise RequestRejected(415, f"Content-Type {shown!r} is not supported: send {allowed}")
    charset = media_type.parameters.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise RequestRejected(415, f"charset {charset[:40]!r} is not supported: send utf-8")
