"""GraphiQL served entirely from this package, so the IDE works on machines without internet.

Strawberry's built-in page loads React and GraphiQL from a CDN and stays blank offline. This
module renders an equivalent page whose scripts and stylesheet come from `static/` (versions in
`static/VERSIONS.txt`), and provides the Starlette mount that serves them.
"""

from __future__ import annotations

import html
import json
from string import Template

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

__all__ = [
    "DEFAULT_QUERY",
    "STATIC_PATH",
    "graphiql_html",
    "static_mount",
]

#: Where the vendored assets are served, relative to the app's root.
STATIC_PATH = "/graphiql/static"

#: What a first-time visitor sees in the editor (GraphiQL keeps later edits in localStorage).
DEFAULT_QUERY = """\
# restloom. Your API key goes in Headers (below),
# as "X-API-Key"; left empty, the gateway uses
# its own service key, if it has one.
# Run: Ctrl-Enter. Complete: Ctrl-Space.
{
  viewer { email }
  organizations(first: 3) {
    totalCount
    nodes { name members(first: 3) { edges { role node { email } } } }
  }
}
"""

# An empty key is sent as no key (see Credential.from_headers), so this is safe as a prompt.
DEFAULT_HEADERS = '{\n  "X-API-Key": ""\n}'

# $-placeholders: the page's CSS and JS are full of braces, which str.format would trip on.
_PAGE = Template("""\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>restloom GraphiQL</title>
    <!-- An inline empty icon stops the browser asking the server for /favicon.ico. -->
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="$static/graphiql.min.css" />
    <style>
      body { margin: 0; height: 100vh; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL&hellip;</div>
    <script src="$static/react.production.min.js"></script>
    <script src="$static/react-dom.production.min.js"></script>
    <script src="$static/graphiql.min.js"></script>
    <script>
      const config = $config;
      // Subscriptions go over graphql-transport-ws to the same endpoint; GraphiQL sends
      // the Headers editor's values as the connection's init payload.
      const socket = new URL(config.endpoint, location.href);
      socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";
      const fetcher = GraphiQL.createFetcher({
        url: config.endpoint,
        subscriptionUrl: socket.href,
      });
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultQuery: config.defaultQuery,
          defaultHeaders: config.defaultHeaders,
          isHeadersEditorEnabled: true,
          // Headers hold API keys: keep them out of localStorage, unlike queries.
          shouldPersistHeaders: false,
          defaultEditorToolsVisibility: "headers",
          inputValueDeprecation: true,
        }),
      );
    </script>
  </body>
</html>
""")


def _script_json(value: object) -> str:
    """`value` as a JavaScript literal that cannot end the inline <script> it sits in."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_html(
    endpoint: str = "/graphql",
    static_path: str = STATIC_PATH,
    default_query: str = DEFAULT_QUERY,
) -> str:
    """The GraphiQL page: assets from `static_path`, queries sent to `endpoint`.

    Both are URL paths as the browser sees them; pass the app's root path in front of them
    when restloom is mounted below `/`.
    """
    config = {
        "endpoint": endpoint,
        "defaultQuery": default_query,
        "defaultHeaders": DEFAULT_HEADERS,
    }
    return _PAGE.substitute(
        static=html.escape(static_path.rstrip("/"), quote=True),
        config=_script_json(config),
    )


def static_mount(path: str = STATIC_PATH) -> Mount:
    """A route serving the vendored assets at `path`, straight from the installed package."""
    # packages= resolves the directory through the import system, so this works from a
    # wheel install as well as from a source checkout.
    files = StaticFiles(packages=[("restloom.graphiql", "static")])
    return Mount(path, app=files, name="graphiql-static")
