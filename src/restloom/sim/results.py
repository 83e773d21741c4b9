"""What handlers return: style-neutral results that a style turns into HTTP responses.

Handlers never build responses themselves, so one handler serves every style.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from restloom.sim.query import ListQuery, Row


@dataclass
class One:
    """A single record (or membership) of collection ``kind``."""

    kind: str
    row: Row
    status: int = 200


@dataclass
class Many:
    """One page of a list, with what the style needs for its page metadata."""

    kind: str
    rows: list[Row]
    query: ListQuery
    total: int


@dataclass
class Payload:
    """A body that is not a record; ``envelope`` says whether enveloping styles wrap it."""

    body: Any
    status: int = 200
    envelope: bool = True


@dataclass
class NoContent:
    status: int = 204


Result = One | Many | Payload | NoContent
