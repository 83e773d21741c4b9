"""Settings: command-line options over `RESTLOOM_*` environment variables over a TOML file.

A bad value stops start-up with `ConfigError`, whose message names the setting.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import AnyHttpUrl, Field, RedisDsn, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from restloom.settings_errors import (
    ENV_PREFIX,
    Origins,
    describe,
    environment_name,
    suggestion,
    unknown_environment_names,
)
from restloom.upstream.profile import (
    BUILTIN_PROFILES,
    REQUIRED_PATHS,
    Profile,
    RateLimitSpec,
    UnknownBaseProfile,
    profile_from_table,
)

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
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on.")
    root_path: str = Field(
        "",
        pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="Path prefix when a reverse proxy mounts restloom below /, e.g. /gateway.",
    )
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
    # 300: the README's nested query costs up to 276 on an upstream without batch lookups.
    max_upstream_requests: int = Field(
        300, ge=1, description="Predicted upstream requests an operation may cost."
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
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="debug, info, warning or error."
    )
    access_log: bool = Field(
        False,
        description="uvicorn's line per HTTP request, beside restloom's line per GraphQL "
        "operation.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="serve: worker processes; each keeps its own cache and budget unless "
        "redis_url is set.",
    )
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
    response_cache: bool = Field(
        True,
        description="Keep whole responses of repeated queries while what they read is "
        "unchanged (only when cache_ttl or cache_ttls caches something).",
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
    startup_check: bool = Field(
        True, description="Probe the upstream once at start-up and log what is wrong."
    )
    response_extensions: bool = Field(
        True, description="Upstream request and cache-hit counts in each response's extensions."
    )
    # Webhooks and subscriptions (README: "Webhooks and subscriptions").
    webhook_secret: SecretStr | None = Field(
        None,
        description="Secret the upstream signs webhooks with (whsec_... for Standard "
        "Webhooks, the 32-hex key for MOCO); unset: no receiver at /webhooks/{source}.",
    )
    webhook_style: Literal["auto", "standard", "moco"] = Field(
        "auto", description='Signature style; "auto": moco for the moco profile, else standard.'
    )
    webhook_tolerance: float = Field(
        300.0, gt=0, le=3600, description="Seconds a delivery's timestamp may be off."
    )
    event_retention: int = Field(
        1000, ge=1, le=1_000_000, description="Events kept for clients that resume (after:)."
    )
    event_retention_seconds: float = Field(
        3600.0, ge=0, description="And none older than this; 0: no age limit."
    )
    max_subscriptions: int = Field(
        20, ge=1, le=1000, description="Subscriptions open at once per WebSocket connection."
    )
    max_queued_events: int = Field(
        100, ge=1, le=100_000, description="Events waiting for a slow subscriber before it ends."
    )
    # Logs, metrics and traces (README: "Logs, metrics and traces").
    log_format: Literal["text", "json"] = Field(
        "text", description="text (key=value) or json (one object per line)."
    )
    metrics: bool = Field(False, description="Serve Prometheus metrics at /metrics.")
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token /metrics requires; unset: /metrics is open."
    )
    max_metric_operations: int = Field(
        100, ge=1, le=10_000, description="Operation names with their own metrics series."
    )
    tracing: bool = Field(
        False, description="OpenTelemetry spans per operation and upstream call; traceparent."
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


def _custom_profile(name: str, table: dict[str, Any], origins: Origins | None = None) -> Profile:
    try:
        return profile_from_table(name, table)
    except UnknownBaseProfile as exc:
        where = origins.of("profiles") if origins else None
        suffix = f" ({where})" if where else ""
        raise ConfigError(f"setting `profiles.{name}.extends`{suffix}: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(
            describe(exc, Profile, origins or Origins(), prefix=f"profiles.{name}.")
        ) from None


def load_settings(
    config_file: Path | None = None, options: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Settings from (highest first) `overrides`, the environment, `config_file`, defaults.

    `options` says where each override came from ("option --port"), for error messages.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    file_keys: frozenset[str] = frozenset()
    if config_file is not None:
        file_keys = frozenset(_read_toml(config_file))
    origins = Origins(
        options={k: (options or {}).get(k, "given by the command") for k in overrides},
        config_file=config_file,
        file_keys=file_keys,
    )
    unknown = unknown_environment_names(set(Settings.model_fields))
    if unknown:
        raise ConfigError("\n".join(unknown))

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
        raise ConfigError(describe(exc, Settings, origins)) from None
    except SettingsError as exc:
        raise ConfigError(_unparsable_environment(exc)) from None
    # Fail now, not on the first query.
    if settings.profile in settings.profiles:
        _custom_profile(settings.profile, settings.profiles[settings.profile], origins)
    elif settings.profile not in BUILTIN_PROFILES:
        known = ", ".join(sorted({*BUILTIN_PROFILES, *settings.profiles}))
        where = origins.of("profile")
        raise ConfigError(
            f"setting `profile`{f' ({where})' if where else ''}: unknown profile "
            f"{settings.profile!r}{suggestion(settings.profile, set(BUILTIN_PROFILES))} "
            f"(known: {known})"
        )
    return settings


_SETTINGS_ERROR = re.compile(r'error parsing value for field "(\w+)" from source')


def _unparsable_environment(exc: SettingsError) -> str:
    """pydantic-settings reads tables and lists from the environment as JSON."""
    match = _SETTINGS_ERROR.search(str(exc))
    name = match.group(1) if match else "?"
    env = environment_name(name) or ENV_PREFIX + name.upper()
    example = {
        "cache_ttls": '{"contacts": 60, "me": 0}',
        "cors_origins": '["https://app.example.com"]',
        "rate_limit": '{"requests": 600, "per_seconds": 60}',
        "profiles": '{"mine": {"extends": "mossdesk", "prefix": "/v2"}}',
    }.get(name)
    hint = f", e.g. {env}='{example}'" if example else ""
    return f"setting `{name}` (environment variable {env}): not valid JSON{hint}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
