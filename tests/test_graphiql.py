"""GraphiQL works offline: the page and every asset it loads come from the gateway itself."""

import json
import re
from html.parser import HTMLParser

from restloom.graphiql import graphiql_html

HTML = {"Accept": "text/html"}
JS_TYPES = {"text/javascript", "application/javascript"}


class AssetRefs(HTMLParser):
    """The URLs a page's <script src> and <link href> tags load."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.other_links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.scripts.append(found["src"] or "")
        elif tag == "link" and found.get("href"):
            href = found["href"] or ""
            (self.styles if found.get("rel") == "stylesheet" else self.other_links).append(href)


def refs_of(page: str) -> AssetRefs:
    parser = AssetRefs()
    parser.feed(page)
    return parser


def config_of(page: str) -> dict:
    """The JSON config the page's inline script hands to GraphiQL."""
    match = re.search(r"const config = (\{.*?\});\n", page)
    assert match, "no config object in the page"
    return json.loads(match.group(1))


async def fetch_page(http, gateway) -> str:
    async with http.get(gateway.url + "/graphql", headers=HTML) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        return await resp.text()


async def test_page_loads_nothing_from_other_hosts(http, gateway):
    page = await fetch_page(http, gateway)
    refs = refs_of(page)
    assert len(refs.scripts) == 3 and len(refs.styles) == 1
    for url in [*refs.scripts, *refs.styles, *refs.other_links]:
        assert "://" not in url and not url.startswith("//"), url
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"unpkg|esm\.sh|jsdelivr|cdnjs", page)


async def test_every_asset_is_served_with_its_content_type(http, gateway):
    refs = refs_of(await fetch_page(http, gateway))
    for url, types in [(u, JS_TYPES) for u in refs.scripts] + [
        (u, {"text/css"}) for u in refs.styles
    ]:
        assert url.startswith("/graphiql/static/"), url
        async with http.get(gateway.url + url) as resp:
            assert resp.status == 200, url
            assert resp.content_type in types, (url, resp.content_type)
            assert len(await resp.read()) > 1000, url
    # React first, GraphiQL last: the UMD bundles find each other as globals in that order.
    names = [url.rsplit("/", 1)[1] for url in refs.scripts]
    assert names == ["react.production.min.js", "react-dom.production.min.js", "graphiql.min.js"]


async def test_fetcher_posts_to_the_gateway_endpoint(http, gateway):
    config = config_of(await fetch_page(http, gateway))
    assert config["endpoint"] == "/graphql"
    assert "X-API-Key" in json.loads(config["defaultHeaders"])
    # The first thing GraphiQL does with its fetcher: introspect the schema.
    async with http.post(
        gateway.url + config["endpoint"], json={"query": "{ __schema { queryType { name } } }"}
    ) as resp:
        assert (await resp.json())["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_unknown_and_escaping_static_paths_are_not_served(http, gateway):
    for path in ["/graphiql/static/nope.js", "/graphiql/static/../__init__.py"]:
        async with http.get(gateway.url + path) as resp:
            assert resp.status == 404, path


def test_page_follows_a_root_path_and_cannot_be_broken_out_of():
    page = graphiql_html("/api/graphql", "/api/graphiql/static/", "{ a } </script><b>")
    assert {*refs_of(page).scripts} >= {"/api/graphiql/static/graphiql.min.js"}
    assert page.count("</script>") == 4
    config = config_of(page)
    assert config["endpoint"] == "/api/graphql"
    assert config["defaultQuery"] == "{ a } </script><b>"
