"""``config/shahrbin.yaml``: the peer's URL, auth, endpoints and field mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from callcenter.settings import Settings
from crm_bridge.exceptions import ShahrbinConfigError


class Endpoint(BaseModel):
    method: str = "POST"
    path: str


class Auth(BaseModel):
    header: str = "Authorization"
    value: str = "Bearer {token}"


class Inbound(BaseModel):
    signature_header: str = "X-Shahrbin-Signature"
    timestamp_header: str = "X-Shahrbin-Timestamp"
    max_skew_seconds: int = Field(300, gt=0)
    fields: dict[str, str]
    status_map: dict[str, str]


class ShahrbinConfig(BaseModel):
    base_url: str
    auth: Auth = Auth()
    idempotency_header: str = "Idempotency-Key"
    endpoints: dict[str, Endpoint]
    fields: dict[str, str]
    delivered_statuses: list[int] = [200, 201, 202, 204]
    inbound: Inbound

    def outbound_body(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Our canonical request fields under Shahrbin's names, plus the event id."""
        request = payload.get("request", {})
        body = {theirs: request.get(ours) for theirs, ours in self.fields.items()}
        body["EventId"] = payload.get("event_id")
        body["EventKind"] = payload.get("kind")
        if payload.get("extra"):
            body["Extra"] = payload["extra"]
        return body


def load_shahrbin_config(settings: Settings, path: Path | None = None) -> ShahrbinConfig:
    """Read and check the file; ``shahrbin_base_url`` overrides its ``base_url``."""
    path = path or settings.shahrbin_config_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        config = ShahrbinConfig.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ShahrbinConfigError(f"{path}: {exc}") from None
    if settings.shahrbin_base_url:
        config.base_url = settings.shahrbin_base_url
    return config
