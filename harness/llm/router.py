"""Which model answers whom: the `ModelRouter`, and `open_router` that builds one from settings.

Resolution for a speaker: persona id > side > default. The first of those with a `[roles.X]`
entry (or `--model-for` / `--endpoint-for`) is used; fields it leaves unset come from the
default level (so the set of endpoints is known up front and preflight can check them all).
The judge is the `judge` role; with no judge configured `for_judge()` is None.

`open_router(settings)` starts the embedded server when a role has no endpoint (or reuses a
running `impasse local start` one), runs the preflight, and tears everything down on exit.
Engine tests build a router over the fake server with `ModelRouter.from_chats(...)` or
`open_router(settings, preflight=...)` pointed at its URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

import openai

from harness.errors import ConfigError
from harness.llm.accounting import Accounting
from harness.llm.cache import ResponseCache
from harness.llm.client import OpenAIChat, make_client
from harness.llm.config import JUDGE, LLMSettings
from harness.llm.preflight import Target, check_endpoint, check_keys
from harness.llm.retry import RetryPolicy
from harness.llm.types import StructuredChat
from harness.transcript.model import RoleModel

DEFAULT = "default"


class ModelRouter:
    """Maps roles to `StructuredChat`s and holds the run's accounting."""

    def __init__(
        self,
        default: StructuredChat,
        *,
        roles: Mapping[str, StructuredChat] | None = None,
        judge: StructuredChat | None = None,
        accounting: Accounting | None = None,
    ) -> None:
        self.default = default
        self._roles = dict(roles or {})
        self._judge = judge
        self.accounting = (
            accounting
            if accounting is not None
            else _shared_accounting(default, self._roles, judge)
        )

    @classmethod
    def from_chats(
        cls,
        default: StructuredChat,
        *,
        roles: Mapping[str, StructuredChat] | None = None,
        judge: StructuredChat | None = None,
        accounting: Accounting | None = None,
    ) -> ModelRouter:
        """A router over ready-made chats (a scripted fake, `OpenAIChat`s on the fake server)."""
        return cls(default, roles=roles, judge=judge, accounting=accounting)

    def for_speaker(self, persona_id: str, side: str) -> StructuredChat:
        return self._roles.get(persona_id) or self._roles.get(side) or self.default

    def for_judge(self) -> StructuredChat | None:
        return self._judge

    def roles(self) -> list[RoleModel]:
        """Model and endpoint per configured role (never a key), for the transcript."""
        out = [_role_model(DEFAULT, self.default)]
        out += [_role_model(name, chat) for name, chat in sorted(self._roles.items())]
        if self._judge is not None:
            out.append(_role_model(JUDGE, self._judge))
        return out


def _role_model(role: str, chat: StructuredChat) -> RoleModel:
    return RoleModel(
        role=role,
        model=str(getattr(chat, "model", type(chat).__name__)),
        endpoint=str(getattr(chat, "base_url", "in-process")),
    )


def _shared_accounting(
    default: StructuredChat, roles: Mapping[str, StructuredChat], judge: StructuredChat | None
) -> Accounting:
    for chat in (default, *roles.values(), judge):
        found = getattr(chat, "accounting", None)
        if isinstance(found, Accounting):
            return found
    return Accounting()


# -- building a router from settings -----------------------------------------------------------


def plan_targets(settings: LLMSettings) -> dict[str, Target]:
    """One target per role: 'default', each configured side/persona, and 'judge' if any."""
    default = Target(DEFAULT, settings.model, settings.base_url, settings.api_key)
    targets = {DEFAULT: default}
    for name, role in settings.roles.items():
        base_url = role.base_url or default.base_url
        if role.api_key is not None:
            key, key_env = role.api_key, role.api_key_env
        elif role.base_url is None or role.base_url == default.base_url:
            key, key_env = default.api_key, role.api_key_env
        else:
            key, key_env = None, role.api_key_env  # never send the default key to another host
        targets[name] = Target(name, role.model or default.model, base_url, key, key_env)
    return targets


def needs_local_server(targets: dict[str, Target]) -> bool:
    """True when some role has no endpoint: the embedded model serves it."""
    return any(t.base_url is None for t in targets.values())


@contextlib.asynccontextmanager
async def open_router(
    settings: LLMSettings, *, preflight: bool = True
) -> AsyncIterator[ModelRouter]:
    """Build the router for a run; start/stop the embedded server if needed."""
    targets = plan_targets(settings)
    check_keys(list(targets.values()))
    async with contextlib.AsyncExitStack() as stack:
        if needs_local_server(targets):
            from harness.llm.local_server import local_endpoint  # only when needed

            local = await stack.enter_async_context(local_endpoint(settings))
            targets = {name: _on_local(t, local.url, local.model) for name, t in targets.items()}
        for target in targets.values():
            if target.model is None:
                raise ConfigError(
                    f"no model set for {target.base_url}",
                    field=f"role {target.role}",
                    fix="set IMPASSE_MODEL or --model (or --model-for ROLE=MODEL)",
                )
        accounting = Accounting()
        cache = ResponseCache(settings.cache_dir) if settings.cache else None
        if cache is not None:
            stack.callback(cache.close)
        policy = RetryPolicy(attempts=settings.retry_attempts, deadline_s=settings.retry_deadline_s)
        clients: dict[tuple[str, str | None], openai.AsyncOpenAI] = {}
        chats: dict[tuple[str, str | None, str], OpenAIChat] = {}
        for target in targets.values():
            assert target.base_url is not None and target.model is not None
            secret = target.api_key.get_secret_value() if target.api_key else None
            client_key = (target.base_url, secret)
            if client_key not in clients:
                clients[client_key] = make_client(
                    target.base_url, target.api_key, settings.timeout_s
                )
                stack.push_async_callback(clients[client_key].close)
            chat_key = (target.base_url, secret, target.model)
            if chat_key not in chats:
                chats[chat_key] = OpenAIChat(
                    base_url=target.base_url,
                    model=target.model,
                    client=clients[client_key],
                    policy=policy,
                    max_concurrency=settings.max_concurrency,
                    cache=cache,
                    accounting=accounting,
                    prices=settings.prices,
                )
        if preflight:
            wanted: dict[tuple[str, str | None], set[str]] = {}
            for base_url, secret, model in chats:
                wanted.setdefault((base_url, secret), set()).add(model)
            for client_key, models in wanted.items():
                await check_endpoint(clients[client_key], client_key[0], models)

        def chat_for(target: Target) -> OpenAIChat:
            secret = target.api_key.get_secret_value() if target.api_key else None
            assert target.base_url is not None and target.model is not None
            return chats[(target.base_url, secret, target.model)]

        role_chats = {n: chat_for(t) for n, t in targets.items() if n not in (DEFAULT, JUDGE)}
        judge = chat_for(targets[JUDGE]) if JUDGE in targets else None
        yield ModelRouter(
            chat_for(targets[DEFAULT]), roles=role_chats, judge=judge, accounting=accounting
        )


def _on_local(target: Target, url: str, served_model: str) -> Target:
    if target.base_url is not None:
        return target
    if target.model is not None and target.model != served_model:
        raise ConfigError(
            f"model {target.model!r} has no endpoint",
            field=f"role {target.role}",
            fix="set OPENAI_BASE_URL / --base-url (and OPENAI_API_KEY), or drop the model to use "
            f"the embedded {served_model}",
        )
    return Target(target.role, served_model, url, None)
