"""``restloom sim``: the embedded fake upstream REST API.

An independent implementation of the REST documents in ``shared/seeds`` (it shares no
code with ``restloom.upstream``), so a misreading on either side shows up as a failing
test instead of cancelling out.
"""

from restloom.sim.app import create_app
from restloom.sim.auth import mask_credential
from restloom.sim.config import SimConfig, add_cli_arguments, config_from_args
from restloom.sim.server import SimServer

__all__ = [
    "SimConfig",
    "SimServer",
    "add_cli_arguments",
    "config_from_args",
    "create_app",
    "mask_credential",
]
