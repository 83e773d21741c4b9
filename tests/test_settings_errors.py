"""Bad settings, as a person meets them: the real CLI, one line naming the setting and its source."""

import os

import pytest

from tests.test_cli import restloom

UPSTREAM = ("--upstream", "http://127.0.0.1:1")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RESTLOOM_")}
    return {**env, **extra}


def fails_with(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RESTLOOM_CACHE_TTLS", "notjson"), ("RESTLOOM_PROFILES", "x")],
)
def test_unparsable_json_in_the_environment_is_one_line(variable, value):
    result = restloom("serve", *UPSTREAM, env=clean_env(**{variable: value}))
    fails_with(result, f"(environment variable {variable})", "not valid JSON", "e.g.")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_option_is_named_as_an_option():
    result = restloom("serve", *UPSTREAM, "--port", "99999", env=clean_env())
    fails_with(result, "setting `port` (option --port)", "99999")
    assert "environment variable" not in result.stderr


def test_an_unknown_file_key_names_the_file_and_suggests(tmp_path):
    config = tmp_path / "restloom.toml"
    config.write_text("cache_tl = 5\n")
    result = restloom("serve", *UPSTREAM, "--config", str(config), env=clean_env())
    fails_with(result, f"(file {config})", "did you mean `cache_ttl`?")
    assert "environment variable" not in result.stderr


def test_an_unknown_environment_variable_suggests_the_right_one():
    result = restloom("serve", *UPSTREAM, env=clean_env(RESTLOOM_CACHE_TL="3"))
    fails_with(result, "RESTLOOM_CACHE_TL names no setting", "RESTLOOM_CACHE_TTL")


def test_a_bad_rate_limit_is_described_in_words(tmp_path):
    config = tmp_path / "restloom.toml"
    config.write_text("rate_limit = {requests = 0}\n")
    result = restloom("serve", *UPSTREAM, "--config", str(config), env=clean_env())
    fails_with(result, "setting `rate_limit`", '{requests = N, per_seconds = S} or "off"')
    assert "RateLimitSpec" not in result.stderr and "literal[" not in result.stderr


def test_a_misspelt_profile_suggests_the_right_one():
    result = restloom("serve", *UPSTREAM, "--profile", "mosdesk", env=clean_env())
    fails_with(result, "(option --profile)", "did you mean `mossdesk`?")


def test_an_unknown_profile_field_suggests_the_right_one(tmp_path):
    config = tmp_path / "restloom.toml"
    config.write_text('profile = "mine"\n[profiles.mine]\nextends = "mossdesk"\nprefx = "/v2"\n')
    result = restloom("serve", *UPSTREAM, "--config", str(config), env=clean_env())
    fails_with(result, "setting `profiles.mine.prefx`", "did you mean `prefix`?")


def test_version_and_help_say_what_restloom_is():
    version = restloom("--version")
    assert version.returncode == 0 and version.stdout.startswith("restloom ")
    top = restloom("--help")
    assert top.returncode == 0
    for command in ("serve", "demo", "sim", "export-schema"):
        assert command in top.stdout
    serve = restloom("serve", "--help")
    assert "mossdesk, moco, template" in serve.stdout
    assert "RESTLOOM_CACHE_TTL " in serve.stdout and "RESTLOOM_REDIS_URL" in serve.stdout
