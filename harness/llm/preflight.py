"""Checks before any simulation: keys for remote endpoints, reachability, known models.

Cheap: no request for the key check, then one `GET /models` per distinct endpoint. Failures are
one-line `ConfigError` / `EndpointError`s saying what to set.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import openai
from pydantic import SecretStr

from harness.errors import ConfigError, EndpointError
from harness.llm.retry import server_message

logger = logging.getLogger("harness.llm")


@dataclass(frozen=True)
class Target:
    """Where one role's calls go. `base_url` None means the embedded local server."""

    role: str
    model: str | None
    base_url: str | None
    api_key: SecretStr | None
    api_key_env: str | None = None

    def __repr__(self) -> str:  # never show the key
        return f"Target(role={self.role!r}, model={self.model!r}, base_url={self.base_url!r})"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_keys(targets: list[Target]) -> None:
    """A remote endpoint without a key: say what to set, before any request."""
    for target in targets:
        if target.base_url is None or target.api_key is not None or is_loopback(target.base_url):
            continue
        env = target.api_key_env or "OPENAI_API_KEY"
        where = "" if target.role == "default" else f" (role {target.role})"
        raise ConfigError(
            f"no API key for {target.base_url}{where}",
            fix=f"set {env}; for a server that needs none, any non-empty value works",
        )


async def check_endpoint(client: openai.AsyncOpenAI, base_url: str, models: set[str]) -> None:
    """One GET /models: reachable, key accepted, every model listed."""
    try:
        page = await client.models.list()
    except openai.AuthenticationError as error:
        raise EndpointError(
            f"{base_url} rejected the API key (HTTP 401): {server_message(error)}",
            fix="check OPENAI_API_KEY or the role's api_key_env",
        ) from None
    except openai.NotFoundError:
        logger.info("%s has no /models route; model names not checked", base_url)
        return
    except openai.APIStatusError as error:
        raise EndpointError(
            f"{base_url} answered GET /models with HTTP {error.status_code}: {server_message(error)}"
        ) from None
    except openai.APITimeoutError:
        raise EndpointError(
            f"{base_url} did not answer in time", fix="check the URL and the server"
        ) from None
    except openai.APIConnectionError:
        raise EndpointError(
            f"cannot reach {base_url}", fix="check the URL and that the server is running"
        ) from None
    available = [m.id for m in page.data]
    for model in sorted(models):
        if model not in available:
            shown = ", ".join(available[:8]) + (", ..." if len(available) > 8 else "")
            raise EndpointError(
                f"model {model!r} is not served by {base_url}; available: {shown or 'none'}",
                fix="pick one with --model / --model-for",
            )
