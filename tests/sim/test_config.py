"""SimConfig validation and the CLI helpers."""

from __future__ import annotations

import argparse

import pytest

from restloom.sim import SimConfig, add_cli_arguments, config_from_args


def _parse(*argv: str) -> SimConfig:
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    return config_from_args(parser.parse_args(list(argv)))


def test_defaults():
    config = _parse()
    assert config == SimConfig()
    assert config.effective_prefix == "/api/v1"
    assert config.effective_rate_limit == 0


def test_all_options():
    config = _parse(
        "--style", "moco", "--seed", "7", "--contacts", "5", "--resources", "6", "--users", "7",
        "--organizations", "2", "--webhooks", "1", "--full-key", "f", "--read-key", "r",
        "--latency-ms", "5", "--fail-rate", "0.1", "--rate-limit", "9", "--rate-window", "3",
        "--prefix", "/api/v2", "--path", "contacts=/people", "--path", "users=/staff",
        "--param", "page=p", "--param", "per_page=size",
    )  # fmt: skip
    assert config.style == "moco"
    assert (config.contacts, config.resources, config.users) == (5, 6, 7)
    assert (config.rate_limit, config.rate_window) == (9, 3.0)
    assert config.paths == {"contacts": "/people", "users": "/staff"}
    assert config.params == {"page": "p", "per_page": "size"}
    assert config.effective_prefix == "/api/v2"


def test_style_defaults():
    assert SimConfig(style="moco").effective_rate_limit == 15
    assert SimConfig(style="moco").effective_rate_window == 15.0
    assert SimConfig(style="template").effective_rate_limit == 100
    assert SimConfig(style="template").effective_prefix == "/v1"
    assert SimConfig(style="moco", rate_limit=0).effective_rate_limit == 0


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"fail_rate": 1.5}, "--fail-rate"),
        ({"fail_rate": -0.1}, "--fail-rate"),
        ({"latency_ms": -1}, "--latency-ms"),
        ({"rate_limit": -1}, "--rate-limit"),
        ({"rate_window": 0}, "--rate-window"),
        ({"users": 1}, "--users"),
        ({"contacts": -1}, "--contacts"),
        ({"style": "soap"}, "--style"),
        ({"read_key": "moss_k_demo_full"}, "--read-key"),
        ({"prefix": "api"}, "--prefix"),
        ({"paths": {"gadgets": "/g"}}, "--path"),
        ({"paths": {"contacts": "people"}}, "--path"),
        ({"paths": {"contacts": "/users"}}, "--path"),
        ({"params": {"limit": "l"}}, "--param"),
        ({"params": {"page": "per_page"}}, "--param"),
    ],
)
def test_bad_values_name_the_option(kwargs, option):
    with pytest.raises(ValueError, match=option):
        SimConfig(**kwargs)


def test_parser_rejects_garbage(capsys):
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--contacts", "many"])
    assert "--contacts" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--path", "contacts"])
    assert "--path" in capsys.readouterr().err
