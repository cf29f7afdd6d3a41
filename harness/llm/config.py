"""Effective LLM settings: CLI flags > environment > config file > defaults.

`resolve_settings(CLIOverrides(...))` is the one entry point; it returns a frozen `LLMSettings`
with the key as a `SecretStr` and, per field, where the value came from (for `impasse config
show`). The config file is `$IMPASSE_CONFIG`, else `./impasse.toml`, else the user's
`~/.config/impasse/impasse.toml`. Its tables::

    [llm]                      # model, judge_model, base_url, api_key_env, cache,
                               # max_concurrency, timeout, retry_attempts, retry_deadline
    [roles.cn]                 # per side / persona / judge: model, base_url, api_key_env
    [prices."gpt-4o-mini"]     # USD per 1M tokens: prompt, completion, cached_prompt
    [local]                    # embedded server: model_path, n_parallel, ctx_per_slot, threads

Keys never live in the file: it names the environment variable that holds them (`api_key_env`).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from harness.errors import ConfigError
from harness.llm.paths import cache_dir, user_config_file

ROLE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")
JUDGE = "judge"
# Top-level tables of impasse.toml owned by other parts of impasse; read by them, ignored here.
OTHER_SECTIONS = frozenset({"run", "eval", "review", "suite", "personas", "scenarios"})


class Price(BaseModel):
    """USD per 1M tokens for one model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)
    cached_prompt: float | None = Field(default=None, ge=0, description="Defaults to `prompt`.")


class RoleSettings(BaseModel):
    """Overrides for one role: a side (`us`, `cn`), a persona id, or `judge`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = Field(default=None, description="Env var the key was read from.")


class LocalSettings(BaseModel):
    """The embedded llama.cpp server (xllamacpp)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: Path | None = Field(default=None, description="GGUF file; None = SmolLM2 pull.")
    n_parallel: int = Field(
        default=8,
        ge=1,
        le=32,
        description="Slots, one prompt cache each: one per alternating speaker.",
    )
    ctx_per_slot: int = Field(default=4096, ge=512, description="Context tokens per slot.")
    threads: int = Field(default=2, ge=1)


class LLMSettings(BaseModel):
    """Everything the LLM layer needs, resolved. `repr` and `describe()` never show the key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(default=None, description="Default model; None = embedded model.")
    base_url: str | None = Field(default=None, description="None = embedded local server.")
    api_key: SecretStr | None = None
    roles: dict[str, RoleSettings] = Field(default_factory=dict)
    cache: bool = False
    cache_dir: Path = Field(default_factory=cache_dir)
    max_concurrency: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    retry_attempts: int = Field(default=6, ge=1)
    retry_deadline_s: float = Field(default=300.0, gt=0)
    prices: dict[str, Price] = Field(default_factory=dict)
    local: LocalSettings = LocalSettings()
    config_file: Path | None = None
    sources: dict[str, str] = Field(default_factory=dict, description="Field -> origin.")

    @property
    def judge_model(self) -> str | None:
        role = self.roles.get(JUDGE)
        return role.model if role else None

    def describe(self) -> dict[str, Any]:
        """A JSON-able view for `impasse config show`, with keys masked."""
        data = self.model_dump(mode="json", exclude={"api_key", "roles", "sources"})
        data["api_key"] = mask(self.api_key)
        data["roles"] = {
            name: {
                "model": role.model,
                "base_url": role.base_url,
                "api_key": mask(role.api_key),
                "api_key_env": role.api_key_env,
            }
            for name, role in sorted(self.roles.items())
        }
        data["sources"] = dict(sorted(self.sources.items()))
        return data


def mask(secret: SecretStr | None) -> str | None:
    """`sk-...9f` style: enough to tell keys apart, never enough to use one."""
    if secret is None:
        return None
    value = secret.get_secret_value()
    if len(value) <= 8:
        return "***"
    return f"{value[:3]}...{value[-2:]}"


class CLIOverrides(BaseModel):
    """Values given as command-line flags; None means 'not given'."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    model_for: list[str] = Field(default_factory=list, description="ROLE=MODEL entries.")
    endpoint_for: list[str] = Field(default_factory=list, description="ROLE=URL entries.")
    judge_model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    model_path: Path | None = None
    cache: bool | None = None
    max_concurrency: int | None = None
    timeout: float | None = None
    retry_attempts: int | None = None
    retry_deadline: float | None = None
    config: Path | None = None


# -- the config file -------------------------------------------------------------------------


class _FileLLM(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    judge_model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    cache: bool | None = None
    max_concurrency: int | None = Field(default=None, ge=1)
    timeout: float | None = Field(default=None, gt=0)
    retry_attempts: int | None = Field(default=None, ge=1)
    retry_deadline: float | None = Field(default=None, gt=0)


class _FileRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None


class _FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    llm: _FileLLM = _FileLLM()
    roles: dict[str, _FileRole] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)
    local: LocalSettings = LocalSettings()


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file in effect: --config, $IMPASSE_CONFIG, ./impasse.toml, user config."""
    chosen = explicit or (
        Path(os.environ["IMPASSE_CONFIG"]) if os.environ.get("IMPASSE_CONFIG") else None
    )
    if chosen is not None:
        if not chosen.expanduser().is_file():
            raise ConfigError(
                "config file not found", location=chosen, fix="check IMPASSE_CONFIG / --config"
            )
        return chosen.expanduser()
    for candidate in (Path.cwd() / "impasse.toml", user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def load_config_file(path: Path) -> _FileConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", location=path) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"not valid UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start})",
            location=path,
            field="encoding",
        ) from None
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", location=path) from None
    mine = {k: v for k, v in raw.items() if k not in OTHER_SECTIONS}
    try:
        return _FileConfig.model_validate(mine)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        fix = None
        if field.endswith("api_key"):
            fix = "keep keys out of files: name an environment variable with api_key_env"
        raise ConfigError(first["msg"], location=path, field=field, fix=fix) from None


# -- resolution ------------------------------------------------------------------------------


def _env_bool(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected 1/0/true/false, got {value!r}", field=name)


def _env_number(name: str, kind: type[int | float]) -> int | float | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(
            f"expected a positive {kind.__name__}, got {value!r}", field=name
        ) from None
    if number <= 0:
        raise ConfigError(f"expected a positive {kind.__name__}, got {value!r}", field=name)
    return number


def _env_str(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def _pairs(entries: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries:
        for item in (e.strip() for e in entry.split(",")):
            if not item:
                continue
            role, sep, value = item.partition("=")
            role, value = role.strip(), value.strip()
            if not sep or not value or not ROLE_ID.match(role):
                raise ConfigError(f"expected ROLE=VALUE, got {item!r}", field=flag)
            out[role] = value
    return out


def _first(*candidates: tuple[Any, str]) -> tuple[Any, str]:
    for value, origin in candidates:
        if value is not None:
            return value, origin
    return None, "default"


def resolve_settings(cli: CLIOverrides | None = None) -> LLMSettings:
    """Merge flags, environment, config file and defaults into `LLMSettings`."""
    cli = cli or CLIOverrides()
    path = find_config_file(cli.config)
    file = load_config_file(path) if path else _FileConfig()
    fsrc = f"file {path}" if path else "file"
    sources: dict[str, str] = {}
    values: dict[str, Any] = {}

    def pick(field: str, *candidates: tuple[Any, str]) -> Any:
        value, origin = _first(*candidates)
        if value is not None:
            values[field] = value
            sources[field] = origin
        return value

    pick(
        "model",
        (cli.model, "flag --model"),
        (_env_str("IMPASSE_MODEL"), "env IMPASSE_MODEL"),
        (file.llm.model, fsrc),
    )
    pick(
        "base_url",
        (cli.base_url, "flag --base-url"),
        (_env_str("OPENAI_BASE_URL"), "env OPENAI_BASE_URL"),
        (file.llm.base_url, fsrc),
    )
    file_key_env = file.llm.api_key_env
    file_key = _env_str(file_key_env) if file_key_env else None
    pick(
        "api_key",
        (cli.api_key, "flag --api-key"),
        (_env_str("OPENAI_API_KEY"), "env OPENAI_API_KEY"),
        (SecretStr(file_key) if file_key else None, f"env {file_key_env} (named in {path})"),
    )
    if isinstance(values.get("api_key"), str):
        values["api_key"] = SecretStr(values["api_key"])
    pick(
        "cache",
        (cli.cache, "flag --cache"),
        (_env_bool("IMPASSE_CACHE"), "env IMPASSE_CACHE"),
        (file.llm.cache, fsrc),
    )
    pick(
        "max_concurrency",
        (cli.max_concurrency, "flag --max-concurrency"),
        (_env_number("IMPASSE_MAX_CONCURRENCY", int), "env IMPASSE_MAX_CONCURRENCY"),
        (file.llm.max_concurrency, fsrc),
    )
    pick(
        "timeout_s",
        (cli.timeout, "flag --timeout"),
        (_env_number("IMPASSE_TIMEOUT", float), "env IMPASSE_TIMEOUT"),
        (file.llm.timeout, fsrc),
    )
    pick(
        "retry_attempts",
        (cli.retry_attempts, "flag --retry-attempts"),
        (_env_number("IMPASSE_RETRY_ATTEMPTS", int), "env IMPASSE_RETRY_ATTEMPTS"),
        (file.llm.retry_attempts, fsrc),
    )
    pick(
        "retry_deadline_s",
        (cli.retry_deadline, "flag --retry-deadline"),
        (_env_number("IMPASSE_RETRY_DEADLINE", float), "env IMPASSE_RETRY_DEADLINE"),
        (file.llm.retry_deadline, fsrc),
    )
    if os.environ.get("IMPASSE_CACHE_DIR"):
        sources["cache_dir"] = "env IMPASSE_CACHE_DIR"

    # Roles: file tables, then env IMPASSE_MODEL_FOR / IMPASSE_ENDPOINT_FOR, then flags.
    roles: dict[str, dict[str, Any]] = {}
    for name, role in file.roles.items():
        if not ROLE_ID.match(name):
            raise ConfigError(
                "role names are sides, persona ids or 'judge'", location=path, field=f"roles.{name}"
            )
        entry = roles.setdefault(name, {})
        for attr in ("model", "base_url", "api_key_env"):
            if getattr(role, attr) is not None:
                entry[attr] = getattr(role, attr)
                sources[f"roles.{name}.{attr}"] = fsrc
    if file.llm.judge_model:
        roles.setdefault(JUDGE, {})["model"] = file.llm.judge_model
        sources[f"roles.{JUDGE}.model"] = fsrc
    layered = (
        (
            "env IMPASSE_MODEL_FOR",
            "model",
            _pairs([os.environ.get("IMPASSE_MODEL_FOR", "")], "IMPASSE_MODEL_FOR"),
        ),
        (
            "env IMPASSE_ENDPOINT_FOR",
            "base_url",
            _pairs([os.environ.get("IMPASSE_ENDPOINT_FOR", "")], "IMPASSE_ENDPOINT_FOR"),
        ),
        (
            "env IMPASSE_JUDGE_MODEL",
            "model",
            {JUDGE: v} if (v := _env_str("IMPASSE_JUDGE_MODEL")) else {},
        ),
        ("flag --model-for", "model", _pairs(cli.model_for, "--model-for")),
        ("flag --endpoint-for", "base_url", _pairs(cli.endpoint_for, "--endpoint-for")),
        ("flag --judge-model", "model", {JUDGE: cli.judge_model} if cli.judge_model else {}),
    )
    for origin, attr, mapping in layered:
        for name, value in mapping.items():
            roles.setdefault(name, {})[attr] = value
            sources[f"roles.{name}.{attr}"] = origin
    role_settings: dict[str, RoleSettings] = {}
    for name, entry in roles.items():
        key_env = entry.get("api_key_env")
        key = _env_str(key_env) if key_env else None
        role_settings[name] = RoleSettings(
            model=entry.get("model"),
            base_url=_check_url(entry.get("base_url"), f"roles.{name}.base_url", path),
            api_key=SecretStr(key) if key else None,
            api_key_env=key_env,
        )

    model_path = cli.model_path or (Path(p) if (p := _env_str("IMPASSE_MODEL_PATH")) else None)
    local = file.local
    if model_path is not None:
        local = local.model_copy(update={"model_path": model_path})
        sources["local.model_path"] = (
            "flag --model-path" if cli.model_path else "env IMPASSE_MODEL_PATH"
        )
    elif local.model_path is not None:
        sources["local.model_path"] = fsrc
    if "base_url" in values:
        values["base_url"] = _check_url(values["base_url"], sources["base_url"], path)
    try:
        return LLMSettings(
            **values,
            roles=role_settings,
            prices=file.prices,
            local=local,
            config_file=path,
            sources=sources,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            first["msg"], field=f"{field} ({sources.get(field, 'default')})"
        ) from None


def _check_url(url: str | None, origin: str, path: Path | None) -> str | None:
    if url is None:
        return None
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"expected an http(s) URL, got {url!r}", field=origin)
    return url
