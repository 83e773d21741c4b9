"""Settings errors a person can act on: which setting, where its value came from, what to do.

pydantic reports a bad value by its location in the model; the user set it with a
command-line option, an environment variable or a key in the TOML file, and needs
to hear which one. Unknown names get the nearest valid name as a suggestion, and
the members of a union (`rate_limit`) are not spelled out as pydantic's internals.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

ENV_PREFIX = "RESTLOOM_"


@dataclass(frozen=True)
class Origins:
    """Where each top-level setting was given, highest priority first."""

    options: Mapping[str, str] = field(default_factory=dict)  # setting -> "option --port"
    config_file: Path | None = None
    file_keys: frozenset[str] = frozenset()

    def of(self, name: str) -> str | None:
        """ "option --port", "environment variable RESTLOOM_PORT", "file x.toml" or None."""
        top = name.split(".", 1)[0]
        if top in self.options:
            return self.options[top]
        env = environment_name(top)
        if env is not None:
            return f"environment variable {env}"
        if top in self.file_keys:
            return f"file {self.config_file}"
        return None


def environment_name(setting: str) -> str | None:
    """The environment variable that sets `setting`, as the user spelled it, if any is set."""
    wanted = ENV_PREFIX + setting.upper()
    return next((k for k in os.environ if k.upper() == wanted), None)


def unknown_environment_names(known: set[str]) -> list[str]:
    """Lines for `RESTLOOM_*` variables that name no setting (pydantic ignores them silently)."""
    lines = []
    for name in sorted(os.environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        setting = upper[len(ENV_PREFIX) :].lower()
        if setting not in known:
            hint = suggestion(setting, known, prefix=ENV_PREFIX, upper=True)
            lines.append(f"environment variable {name} names no setting{hint}")
    return lines


def suggestion(name: str, known: set[str], *, prefix: str = "", upper: bool = False) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    if not close:
        return ""
    shown = prefix + (close[0].upper() if upper else close[0])
    return f"; did you mean `{shown}`?"


def describe(
    exc: ValidationError, model: type[BaseModel], origins: Origins, prefix: str = ""
) -> str:
    """One line per bad value: ``setting `port` (option --port): <why>, got 99999``."""
    lines: list[str] = []
    seen_unions: set[str] = set()
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        branch = _union_branch(loc)
        if branch is not None:
            # A union (`rate_limit`): report once, in words, not per member.
            name = prefix + ".".join(loc[:branch])
            if name in seen_unions:
                continue
            seen_unions.add(name)
            whole = next(
                (e for e in exc.errors() if [str(p) for p in e["loc"]] == loc[: branch + 1]),
                None,
            )
            lines.append(_line(name, origins, _union_message(exc, loc[:branch]), whole))
            continue
        name = prefix + ".".join(loc)
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            known = _field_names_at(model, loc[:-1])
            message = "not a known setting" + suggestion(loc[-1], known)
            lines.append(_line(name, origins, message, None))
            continue
        lines.append(_line(name, origins, message, error))
    return "\n".join(lines)


def _line(name: str, origins: Origins, message: str, error: Any) -> str:
    where = origins.of(name)
    shown = ""
    if error is not None and not isinstance(error.get("input"), dict):
        shown = f", got {_short(error.get('input'))}"
    return f"setting `{name}`" + (f" ({where})" if where else "") + f": {message}{shown}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# pydantic names union members in the location: "RateLimitSpec", "literal['off']".
_UNION_MEMBER = re.compile(r"^(literal\[.*\]|[A-Z]\w*|function-\w+\[.*\])$")


def _union_branch(loc: list[str]) -> int | None:
    for index, part in enumerate(loc):
        if _UNION_MEMBER.match(part):
            return index
    return None


def _union_message(exc: ValidationError, loc: list[str]) -> str:
    if loc and loc[-1] == "rate_limit":
        details = [
            f"{e['loc'][-1]}: {e['msg']}"
            for e in exc.errors()
            if [str(p) for p in e["loc"][: len(loc)]] == loc
            and len(e["loc"]) > len(loc) + 1
            and str(e["loc"][len(loc)]) == "RateLimitSpec"
        ]
        detail = f" ({'; '.join(details)})" if details else ""
        return 'expected a table {requests = N, per_seconds = S} or "off"' + detail
    return "not any of the accepted forms"


def _field_names_at(model: type[BaseModel], loc: list[str]) -> set[str]:
    """The field names of the (sub)model at `loc`, for suggestions; empty when unknown."""
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return set()
        current = _model_of(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return set(fields) if fields else set()


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
