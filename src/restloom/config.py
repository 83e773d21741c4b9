"""Settings: command-line options over `RESTLOOM_*` environment variables over a TOML file.

A bad value stops start-up with `ConfigError`, whose message names the setting.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AnyHttpUrl, Field, RedisDsn, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from restloom.upstream.profile import (
    BUILTIN_PROFILES,
    REQUIRED_PATHS,
    Profile,
    RateLimitSpec,
    UnknownBaseProfile,
    profile_from_table,
)

ENV_PREFIX = "RESTLOOM_"

# What `cache_ttls` may name: every collection a read can target.
CACHE_TYPES = tuple(name for name in REQUIRED_PATHS if name != "auth")


class ConfigError(Exception):
    """A setting that cannot be used; the message says which and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    upstream_url: AnyHttpUrl | None = Field(None, description="Base URL of the REST API.")
    profile: str = Field("mossdesk", description="Upstream profile name.")
    api_key: SecretStr | None = Field(
        None, description="Service credential used when a caller sends none."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    upstream_timeout: float = Field(10.0, gt=0, description="Seconds per upstream call.")
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to get a connection.")
    max_connections: int = Field(100, ge=1, description="Upstream connection pool size.")
    cursor_secret: SecretStr | None = Field(
        None,
        description="Key that signs pagination cursors; set the same on every instance. "
        "Unset: a random key per process (required when redis_url is set).",
    )
    # Untrusted callers (README: "Limits and the trust model").
    max_depth: int = Field(10, ge=1, description="Deepest field nesting of a query.")
    max_aliases: int = Field(15, ge=1, description="Aliases per operation.")
    max_directives: int = Field(50, ge=1, description="Directives per operation.")
    max_tokens: int = Field(1000, ge=1, description="Lexical tokens per document.")
    max_query_chars: int = Field(15000, ge=1, description="Characters per document.")
    max_body_bytes: int = Field(1_048_576, ge=1, description="Bytes per HTTP request body.")
    max_upstream_requests: int = Field(
        50, ge=1, description="Predicted upstream requests an operation may cost."
    )
    field_suggestions: bool = Field(False, description='"Did you mean ..." in errors.')
    introspection: bool = Field(True, description="Answer __schema and __type queries.")
    anonymous_mutations: bool = Field(
        False, description="Let callers without a credential write through the service key."
    )
    service_impersonation: bool = Field(
        False, description="Honour X-Impersonate-User-Id on the service credential."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed to call restloom."
    )
    # Untrusted upstreams (README: "What restloom accepts from the upstream").
    max_upstream_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1, description="Bytes per upstream body, after decompression."
    )
    max_retry_after: float = Field(
        60.0, gt=0, description="Longest wait a 429's Retry-After may impose, in seconds."
    )
    cache_max_bytes: int = Field(
        64 * 1024 * 1024, ge=1, description="Size bound of the in-process cache (LRU)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Caching, rate budget and failures (README: "Caching, rate budget and failures").
    redis_url: RedisDsn | None = Field(
        None,
        description="Redis shared by every instance: cache, invalidation and rate budget. "
        "Without it each process keeps its own.",
    )
    redis_namespace: str = Field(
        "restloom", min_length=1, description="Prefix of every Redis key restloom writes."
    )
    cache_ttl: float = Field(0.0, ge=0, description="Seconds to cache upstream reads; 0: none.")
    cache_ttls: dict[str, float] = Field(
        default_factory=dict, description="cache_ttl per type, e.g. {contacts = 60, me = 0}."
    )
    rate_limit: RateLimitSpec | Literal["off"] | None = Field(
        None,
        description="The upstream's budget, {requests, per_seconds}, instead of the "
        'profile\'s; "off" for none.',
    )
    request_deadline: float = Field(30.0, gt=0, description="Seconds per GraphQL request.")
    read_retries: int = Field(2, ge=0, le=10, description="Repeats of a failed upstream GET.")
    breaker_failures: int = Field(5, ge=1, description="Consecutive failures that open it.")
    breaker_cooldown: float = Field(10.0, gt=0, description="Seconds open before a probe.")
    response_extensions: bool = Field(
        True, description="Upstream request and cache-hit counts in each response's extensions."
    )
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Profiles written in the settings file: [profiles.NAME], optionally "
        "`extends` a built-in one.",
    )

    @field_validator("cache_ttls")
    @classmethod
    def _known_cache_types(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CACHE_TYPES))
        if unknown:
            raise ValueError(f"unknown type {', '.join(unknown)} (known: {', '.join(CACHE_TYPES)})")
        if any(ttl < 0 for ttl in value.values()):
            raise ValueError("TTLs are seconds >= 0")
        return value

    def upstream_rate_limit(self, profile: Profile) -> RateLimitSpec | None:
        """The budget to keep to: this setting's, or else the profile's."""
        if self.rate_limit == "off":
            return None
        return self.rate_limit if isinstance(self.rate_limit, RateLimitSpec) else profile.rate_limit

    def upstream_profile(self) -> Profile:
        if self.profile in self.profiles:
            return _custom_profile(self.profile, self.profiles[self.profile])
        try:
            return BUILTIN_PROFILES[self.profile]
        except KeyError:
            known = ", ".join(sorted({*BUILTIN_PROFILES, *self.profiles}))
            raise ConfigError(
                f"setting `profile`: unknown profile {self.profile!r} (known: {known})"
            ) from None


def _custom_profile(name: str, table: dict[str, Any]) -> Profile:
    try:
        return profile_from_table(name, table)
    except UnknownBaseProfile as exc:
        raise ConfigError(f"setting `profiles.{name}.extends`: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, prefix=f"profiles.{name}.")) from None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from (highest first) `overrides`, the environment, `config_file`, defaults."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if config_file is not None:
        _check_readable(config_file)

    class FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return tuple(sources)

    try:
        settings = FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    settings.upstream_profile()  # fail now, not on the first query
    return settings


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for error in exc.errors():
        name = prefix + ".".join(str(part) for part in error["loc"])
        env = ENV_PREFIX + name.upper() if "." not in name else None
        where = f" (environment variable {env})" if env else ""
        value = error.get("input")
        shown = f", got {value!r}" if not isinstance(value, dict) else ""
        lines.append(f"setting `{name}`{where}: {error['msg']}{shown}")
    return "\n".join(lines)


def _check_readable(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
