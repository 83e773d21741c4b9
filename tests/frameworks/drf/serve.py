"""Run the DRF test API: `python -m tests.frameworks.drf.serve DB_PATH`.

Migrates and seeds a fresh SQLite file, binds a free loopback port, prints it
on the first line of stdout, then serves Django's ASGI app under uvicorn.
"""

from __future__ import annotations

import os
import socket
import sys


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.frameworks.drf.settings"
    os.environ["DRF_DB_PATH"] = sys.argv[1]
    import django

    django.setup()
    import uvicorn
    from django.core.asgi import get_asgi_application
    from django.core.management import call_command

    from tests.frameworks.drf.seed import seed

    call_command("migrate", verbosity=0)
    seed()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        get_asgi_application(), log_level="warning", lifespan="off", access_log=False
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
