"""Request identity: only restate-server may call the service endpoint.

restate-server signs every request it sends to a service (discovery and invocations) with an
ed25519 key (``worker.invoker.request-identity-private-key-pem-file``); the service checks the
signature against the public key, written ``publickeyv1_<base58>``. The verification itself is the
restate-sdk's (``restate.app(..., identity_keys=[...])`` builds the same ``PyIdentityVerifier``); the
serve command applies it around an app that was built without keys, so a deployment adds keys by
configuration (``--identity-key`` / ``RESTATE_IDENTITY_KEYS``), not by editing code.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "IDENTITY_KEYS_ENV",
    "SIGNING_PUBLIC_KEY_ENV",
    "IdentityKeyError",
    "check_identity_keys",
    "ensure_signing_key",
    "identity_keys_from_env",
    "public_key_of",
    "require_identity",
]

IDENTITY_KEYS_ENV = "RESTATE_IDENTITY_KEYS"
"""Public keys the service accepts, separated by commas or whitespace (several: key rotation)."""
SIGNING_PUBLIC_KEY_ENV = "RESTATE_SIGNING_PUBLIC_KEY"
"""The one variable Restate Cloud's setup pages tell you to export; read as well."""
SERVER_KEY_FILE_ENV = "RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE"
"""restate-server's option (1.7) naming the PEM file of the private key it signs requests with."""

_PREFIX = "publickeyv1_"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


class IdentityKeyError(ValueError):
    """A configured identity key the SDK cannot use (the message names the key and the rule)."""


def identity_keys_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """The keys in ``RESTATE_IDENTITY_KEYS`` and ``RESTATE_SIGNING_PUBLIC_KEY``, in order, once each."""
    env = os.environ if environ is None else environ
    keys: list[str] = []
    for name in (IDENTITY_KEYS_ENV, SIGNING_PUBLIC_KEY_ENV):
        for key in re.split(r"[,\s]+", env.get(name, "")):
            if key and key not in keys:
                keys.append(key)
    return keys


def _sdk_core() -> Any:
    """The restate-sdk's compiled core (no type stubs): its identity verifier and exception."""
    return importlib.import_module("restate._internal")


def _verifier(keys: Sequence[str]) -> Any:
    PyIdentityVerifier = _sdk_core().PyIdentityVerifier

    for key in keys:
        if not key.startswith(_PREFIX):
            raise IdentityKeyError(f"identity key {key!r} must start with {_PREFIX} (Restate's public key format)")
    try:
        return PyIdentityVerifier(list(keys))
    except Exception as error:  # the SDK's core raises its own exception type for a malformed key
        raise IdentityKeyError(f"identity keys {list(keys)!r} are not usable: {error}") from error


def check_identity_keys(keys: Sequence[str]) -> None:
    """:class:`IdentityKeyError` naming the first key the SDK cannot use; at start-up, not per request."""
    _verifier(keys)


def require_identity(app: _App, keys: Iterable[str]) -> _App:
    """Wrap a Restate ASGI app so every request but ``/health`` must carry a valid signature.

    Unsigned or wrongly signed requests get 401 before the app (and so any handler code) sees them;
    discovery is signed by restate-server like an invocation, so registration keeps working. This
    also refuses every path that is not Restate's (a chat page, an event stream): serve those on
    their own port. :class:`IdentityKeyError` if a key is malformed, at once rather than per request.
    """
    key_list = list(keys)
    if not key_list:
        raise IdentityKeyError("require_identity needs at least one publickeyv1_ key")
    verifier = _verifier(key_list)
    refused: type[Exception] = _sdk_core().IdentityVerificationException

    async def verified(scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await app(scope, receive, send)
            return
        received = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in scope.get("headers", [])]
        try:
            verifier.verify(received, scope["path"])
        except refused as error:
            body = f"request identity: {error}; only the restate-server holding the signing key may call this endpoint"
            data = body.encode()
            headers: list[tuple[bytes, bytes]] = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
            ]
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        await app(scope, receive, send)

    return verified


def _base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def public_key_of(pem_file: str | Path) -> str:
    """The ``publickeyv1_...`` form of the ed25519 private key in ``pem_file`` (what the service checks)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(Path(pem_file).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise IdentityKeyError(f"{pem_file} holds no ed25519 private key (Restate signs with ed25519)")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _PREFIX + _base58(raw)


def ensure_signing_key(pem_file: str | Path) -> str:
    """Create an ed25519 signing key at ``pem_file`` (mode 0600) unless one is there; its public key.

    Kept across restarts next to the journal: a restarted local stack signs with the same key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(pem_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
    return public_key_of(path)
