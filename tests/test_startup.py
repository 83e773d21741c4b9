"""The start-up check against real upstreams: the sim, a wrong base URL, nothing listening."""

import pytest

from restloom.startup import Level, check_upstream, shown_url
from restloom.upstream.client import UpstreamClient, create_session
from restloom.upstream.credentials import Credential, CredentialKind
from restloom.upstream.profile import MOSSDESK
from tests.conftest import FULL_KEY
from tests.processes import free_port


@pytest.fixture
async def session():
    session = create_session(4, 2.0)
    yield session
    await session.close()


def client_for(session, base_url: str, key: str | None = FULL_KEY) -> UpstreamClient:
    credential = Credential(CredentialKind.API_KEY, key) if key else None
    return UpstreamClient(session, base_url, MOSSDESK, service_credential=credential)


async def test_a_right_base_url_and_key_are_ok(session, sim):
    findings = await check_upstream(client_for(session, sim.url))
    assert [f.level for f in findings] == [Level.OK]


async def test_a_wrong_base_url_asks_whether_it_is_right(session, sim):
    findings = await check_upstream(client_for(session, sim.url + "/wrong"))
    assert findings[0].level is Level.ERROR
    assert "answered 404" in findings[0].message
    assert "is the base URL right?" in findings[0].message


async def test_an_upstream_that_is_down_is_named(session):
    url = f"http://127.0.0.1:{free_port()}"
    findings = await check_upstream(client_for(session, url))
    assert findings[0].level is Level.ERROR
    assert url in findings[0].message and "unreachable" in findings[0].message


async def test_a_refused_service_key_is_named(session, sim):
    findings = await check_upstream(client_for(session, sim.url, key="moss_k_wrong"))
    assert findings[0].level is Level.ERROR
    assert "service credential (api_key) is refused" in findings[0].message
    assert "moss_k_wrong" not in findings[0].message


async def test_no_service_key_is_fine_but_said(session, sim):
    findings = await check_upstream(client_for(session, sim.url, key=None))
    assert all(f.level is Level.OK for f in findings)
    assert "every caller must send its own" in findings[-1].message


def test_passwords_in_the_url_are_not_shown():
    assert shown_url("https://user:secret@api.example.com:8443/v1") == (
        "https://api.example.com:8443/v1"
    )


async def test_serve_logs_the_hint_and_readyz_reports_it(sim, http, caplog):
    import asyncio
    import logging

    from restloom.config import Settings
    from tests.support import GatewayServer

    settings = Settings(upstream_url=sim.url + "/wrong", api_key=FULL_KEY)
    with caplog.at_level(logging.INFO, logger="restloom.startup"):
        async with GatewayServer(settings, startup_check=True) as gateway:
            for _ in range(100):
                if any("is the base URL right?" in r.message for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
            async with http.get(gateway.url + "/readyz") as resp:
                body = await resp.json()
                assert resp.status == 503
    assert [r for r in caplog.records if "is the base URL right?" in r.getMessage()]
    startup = body["checks"]["startup"]
    assert startup["status"] == "failing"
    assert "is the base URL right?" in startup["findings"][0]["message"]


async def test_serve_names_an_upstream_that_is_down(http, caplog):
    import asyncio
    import logging

    from restloom.config import Settings
    from tests.support import GatewayServer

    url = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.INFO, logger="restloom.startup"):
        async with GatewayServer(Settings(upstream_url=url), startup_check=True):
            for _ in range(100):
                if any("unreachable" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
    lines = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert lines and url in lines[0]
