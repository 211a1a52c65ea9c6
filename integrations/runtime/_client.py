"""A small HTTP client for Restate's ingress: call, send, attach, resolve awakeables."""

from __future__ import annotations

import json
from typing import Any

import httpx


class IngressError(RuntimeError):
    """A non-2xx answer from the ingress; ``status`` and ``body`` say what Restate returned."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"ingress answered {status}: {body}")
        self.status = status
        self.body = body

    @property
    def message(self) -> str:
        try:
            return str(json.loads(self.body).get("message", self.body))
        except (ValueError, AttributeError):
            return self.body


class Ingress:
    """Synchronous ingress client; ``send`` + ``attach`` give concurrency without threads."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    @staticmethod
    def _path(service: str, handler: str, key: str | None) -> str:
        return f"/{service}/{key}/{handler}" if key is not None else f"/{service}/{handler}"

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 300:
            raise IngressError(response.status_code, response.text)
        return response.json() if response.content else None

    def call(
        self,
        service: str,
        handler: str,
        payload: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        response = self._client.post(self.url + self._path(service, handler, key), json=payload, headers=headers)
        return self._answer(response)

    def send(
        self,
        service: str,
        handler: str,
        payload: Any = None,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Start an invocation without waiting; return its invocation id."""
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        response = self._client.post(
            self.url + self._path(service, handler, key) + "/send", json=payload, headers=headers
        )
        return str(self._answer(response)["invocationId"])

    def attach(self, invocation_id: str) -> Any:
        """Wait for the invocation to finish and return its output (raises IngressError on failure)."""
        response = self._client.get(f"{self.url}/restate/invocation/{invocation_id}/attach")
        return self._answer(response)

    def resolve_awakeable(self, awakeable_id: str, value: Any) -> None:
        response = self._client.post(f"{self.url}/restate/awakeables/{awakeable_id}/resolve", json=value)
        self._answer(response)

    def reject_awakeable(self, awakeable_id: str, reason: str) -> None:
        """Reject: the awaiting handler sees a ``TerminalError`` carrying ``reason``."""
        response = self._client.post(
            f"{self.url}/restate/awakeables/{awakeable_id}/reject",
            content=reason.encode(),
            headers={"content-type": "text/plain"},
        )
        self._answer(response)

    def close(self) -> None:
        self._client.close()
