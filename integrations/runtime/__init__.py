"""Run a real restate-server and serve Restate apps: used by the main command and the tests."""

from ._binary import RESTATE_SERVER_VERSION, ensure_restate_server, locate_restate_server
from ._client import Ingress, IngressError
from ._ports import free_port, wait_until
from ._server import RestateServer
from ._service import ServiceProcess
from ._stack import Stack

__all__ = [
    "RESTATE_SERVER_VERSION",
    "Ingress",
    "IngressError",
    "RestateServer",
    "ServiceProcess",
    "Stack",
    "ensure_restate_server",
    "free_port",
    "locate_restate_server",
    "wait_until",
]
