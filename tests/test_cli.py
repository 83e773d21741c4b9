"""The command line, run as a user would: a real process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def restloom(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "restloom.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_schema_file_matches_the_code():
    result = restloom("export-schema")
    assert result.returncode == 0, result.stderr
    committed = (ROOT / "schema.graphql").read_text()
    assert result.stdout == committed, (
        "schema.graphql is stale: run `restloom export-schema > schema.graphql`"
    )


def test_serve_without_upstream_names_the_setting():
    result = restloom("serve")
    assert result.returncode == 2
    assert "upstream_url" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_settings_are_named(tmp_path):
    result = restloom("serve", "--upstream", "not a url")
    assert result.returncode == 2 and "setting `upstream_url`" in result.stderr
    result = restloom("serve", "--upstream", "http://127.0.0.1:1", "--profile", "nope")
    assert result.returncode == 2 and "setting `profile`" in result.stderr
    config = tmp_path / "restloom.toml"
    config.write_text('upstream_url = "http://127.0.0.1:1"\nupstream_timeout = -3\n')
    result = restloom("serve", "--config", str(config))
    assert result.returncode == 2 and "setting `upstream_timeout`" in result.stderr
    config.write_text("this is = = not toml")
    result = restloom("serve", "--config", str(config))
    assert result.returncode == 2 and "invalid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_settings_are_validated():
    import os

    env = {**os.environ, "RESTLOOM_PORT": "seventy"}
    result = restloom("serve", "--upstream", "http://127.0.0.1:1", env=env)
    assert result.returncode == 2
    assert "RESTLOOM_PORT" in result.stderr


def test_sim_rejects_bad_options():
    result = restloom("sim", "--fail-rate", "3")
    assert result.returncode == 2
    assert "--fail-rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_serves_the_gateway_over_the_embedded_sim(tmp_path):
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "restloom.cli", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(
            base + "/graphql",
            data=json.dumps(
                {"query": "{ viewer { email } contacts(first: 2) { totalCount } }"}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = json.loads(resp.read())
        assert "errors" not in body, body
        assert body["data"]["contacts"]["totalCount"] == 1000  # the demo dataset
        assert "@" in body["data"]["viewer"]["email"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert f"{base}/graphql" in output
    assert "moss_k_demo_full" in output and "moss_k_demo_read" in output
    assert "Traceback" not in output
