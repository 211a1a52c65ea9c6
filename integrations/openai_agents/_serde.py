"""Journal encoding of the SDK's ``ModelResponse``.

Items are dumped with ``by_alias=True, exclude_unset=True`` so a replayed response is equal to the
original, fields-set included: the SDK re-sends output items to the model with ``exclude_unset``,
so a lossy round-trip would change the next request after a replay.
"""

from __future__ import annotations

import json
from typing import Any

from agents.items import ModelResponse, TResponseOutputItem
from agents.usage import Usage
from pydantic import TypeAdapter
from restate.serde import Serde

_ITEMS: TypeAdapter[list[TResponseOutputItem]] = TypeAdapter(list[TResponseOutputItem])
_USAGE: TypeAdapter[Usage] = TypeAdapter(Usage)


def dump_response(response: ModelResponse) -> dict[str, Any]:
    return {
        "output": [item.model_dump(mode="json", by_alias=True, exclude_unset=True) for item in response.output],
        "usage": _USAGE.dump_python(response.usage, mode="json"),
        "response_id": response.response_id,
        "request_id": response.request_id,
        "raw_usage": response.raw_usage,
    }


def load_response(data: dict[str, Any]) -> ModelResponse:
    return ModelResponse(
        output=_ITEMS.validate_python(data["output"]),
        usage=_USAGE.validate_python(data["usage"]),
        response_id=data.get("response_id"),
        request_id=data.get("request_id"),
        raw_usage=data.get("raw_usage"),
    )


class ModelResponseSerde(Serde[ModelResponse]):
    """Restate serde for ``ModelResponse``: every output item type, usage and ids survive a replay."""

    def serialize(self, obj: ModelResponse | None) -> bytes:
        if obj is None:
            return b"null"
        return json.dumps(dump_response(obj), separators=(",", ":")).encode()

    def deserialize(self, buf: bytes) -> ModelResponse | None:
        data = json.loads(buf)
        return None if data is None else load_response(data)
