"""Run a real restate-server and serve Restate apps: the ``durable-agents`` command and the tests.

- :class:`RestateServer`: one restate-server process on ports of our choosing (binary: see ``_binary``);
- :class:`ServiceProcess` / :class:`Stack`: an app served (granian or hypercorn, N workers) in a killable
  process, registered;
- :class:`Ingress`: a small client for calls, sends, attaches and awakeables;
- :func:`require_identity` / :func:`ensure_signing_key` / :func:`public_key_of`: only restate-server
  may call a service (request signatures; docs/deploy.md);
- :func:`resolve_target` / :class:`LaunchSpec`: what ``durable-agents up|serve TARGET`` runs
  (``file.py:app``, ``package.module:app``, or an app's ``launch.toml``).
"""

from ._binary import RESTATE_SERVER_VERSION, ensure_restate_server, locate_restate_server, server_cache_dir
from ._client import Ingress, IngressError
from ._identity import (
    IDENTITY_KEYS_ENV,
    IdentityKeyError,
    ensure_signing_key,
    identity_keys_from_env,
    public_key_of,
    require_identity,
)
from ._launch_spec import Demo, Example, LaunchError, LaunchSpec, load_launch_file, resolve_target
from ._ports import free_port, wait_until
from ._server import RestateServer
from ._service import ServiceProcess
from ._stack import Stack

__all__ = [
    "IDENTITY_KEYS_ENV",
    "RESTATE_SERVER_VERSION",
    "Demo",
    "Example",
    "Ingress",
    "IdentityKeyError",
    "IngressError",
    "LaunchError",
    "LaunchSpec",
    "RestateServer",
    "ServiceProcess",
    "Stack",
    "ensure_restate_server",
    "ensure_signing_key",
    "free_port",
    "identity_keys_from_env",
    "load_launch_file",
    "locate_restate_server",
    "public_key_of",
    "require_identity",
    "resolve_target",
    "server_cache_dir",
    "wait_until",
]
