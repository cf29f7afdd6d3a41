"""Config precedence, `impasse config show`, and the preflight errors through the real CLI."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from pydantic import SecretStr

from harness.cli.main import main
from harness.errors import ConfigError, EndpointError
from harness.llm.config import CLIOverrides, resolve_settings
from harness.llm.router import open_router, plan_targets

SECRET = "sk-live-abcdefghijklmnop"


def write_config(folder: Path, text: str) -> Path:
    path = folder / "impasse.toml"
    path.write_text(text)
    return path


def test_precedence_flags_env_file_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(
        tmp_path,
        '[llm]\nmodel = "file-model"\nbase_url = "http://file:1/v1"\nmax_concurrency = 3\n'
        'timeout = 9\n[roles.cn]\nmodel = "file-cn"\n[prices."file-model"]\nprompt = 1\ncompletion = 2\n',
    )
    settings = resolve_settings()
    assert (settings.model, settings.base_url, settings.max_concurrency, settings.timeout_s) == (
        "file-model",
        "http://file:1/v1",
        3,
        9,
    )
    assert settings.roles["cn"].model == "file-cn" and settings.retry_attempts == 6  # default
    monkeypatch.setenv("IMPASSE_MODEL", "env-model")
    monkeypatch.setenv("IMPASSE_MAX_CONCURRENCY", "5")
    monkeypatch.setenv("IMPASSE_MODEL_FOR", "cn=env-cn")
    settings = resolve_settings()
    assert (settings.model, settings.max_concurrency, settings.roles["cn"].model) == (
        "env-model",
        5,
        "env-cn",
    )
    assert settings.sources["model"] == "env IMPASSE_MODEL"
    settings = resolve_settings(
        CLIOverrides(
            model="flag-model",
            model_for=["cn=flag-cn", "liu_he=x"],
            max_concurrency=2,
            judge_model="j",
        )
    )
    assert (settings.model, settings.max_concurrency, settings.roles["cn"].model) == (
        "flag-model",
        2,
        "flag-cn",
    )
    assert settings.roles["liu_he"].model == "x" and settings.judge_model == "j"
    assert settings.sources["roles.cn.model"] == "flag --model-for"


def test_bad_config_file_is_one_line_naming_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, '[roles.cn]\nmodle = "x"\n')
    with pytest.raises(ConfigError) as caught:
        resolve_settings()
    assert str(path) in str(caught.value) and "roles.cn.modle" in str(caught.value)
    write_config(tmp_path, '[llm]\napi_key = "sk-in-file"\n')
    with pytest.raises(ConfigError, match="api_key_env"):
        resolve_settings()
    write_config(tmp_path, "[llm\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve_settings()


def test_bad_env_and_flag_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPASSE_CACHE", "maybe")
    with pytest.raises(ConfigError, match="IMPASSE_CACHE"):
        resolve_settings()
    monkeypatch.delenv("IMPASSE_CACHE")
    with pytest.raises(ConfigError, match="--model-for"):
        resolve_settings(CLIOverrides(model_for=["cn"]))


def test_role_key_never_sent_to_another_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    settings = resolve_settings(
        CLIOverrides(
            base_url="https://api.openai.com/v1",
            model="m",
            endpoint_for=["cn=http://10.0.0.5:11434/v1"],
            model_for=["us=m2"],
        )
    )
    targets = plan_targets(settings)
    assert targets["us"].api_key is not None and targets["cn"].api_key is None
    assert SECRET not in repr(settings) and SECRET not in repr(targets)


def test_config_show_masks_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.com/v1")
    with pytest.raises(SystemExit) as done:
        main(["config", "show", "--json", "--model", "gpt-4o-mini"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert (
        SECRET not in out and "sk-...op" in out and "gpt-4o-mini" in out and "flag --model" in out
    )


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_preflight_remote_without_key(
    fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _cli_error(
        ["config", "check", "--base-url", "https://api.example.com/v1", "--model", "m"], capsys
    )
    assert "OPENAI_API_KEY" in err
    assert fake_openai.count == 0


def test_preflight_unreachable_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    err = _cli_error(
        ["config", "check", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m"], capsys
    )
    assert "cannot reach" in err


def test_preflight_unknown_model_lists_available(
    fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.models = ["fake-model", "other-model"]
    err = _cli_error(
        ["config", "check", "--base-url", fake_openai.base_url, "--model", "gpt-9"], capsys
    )
    assert "'gpt-9' is not served" in err and "fake-model, other-model" in err
    assert len(fake_openai.requests) == 1 and fake_openai.requests[0].method == "GET"


def test_preflight_bad_key_is_401(
    fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.require_key = "sk-right"
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    err = _cli_error(
        ["config", "check", "--base-url", fake_openai.base_url, "--model", "fake-model"], capsys
    )
    assert "401" in err and SECRET not in err


def test_preflight_ok_one_request_per_endpoint(
    fake_openai: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_openai.models = ["fake-model", "judge-model"]
    with pytest.raises(SystemExit) as done:
        main(
            [
                "config",
                "check",
                "--base-url",
                fake_openai.base_url,
                "--model",
                "fake-model",
                "--model-for",
                "cn=fake-model",
                "--judge-model",
                "judge-model",
            ]
        )
    assert done.value.code in (0, None)
    assert len(fake_openai.requests) == 1
    assert "judge: judge-model" in capsys.readouterr().out


def test_model_without_endpoint_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.llm import local_server

    class Local:
        url, model = "http://127.0.0.1:9/v1", "smollm2-135m-instruct"

    class Ctx:
        async def __aenter__(self) -> Local:
            return Local()

        async def __aexit__(self, *a: object) -> None:
            return None

    monkeypatch.setattr(local_server, "local_endpoint", lambda settings: Ctx())
    settings = resolve_settings(CLIOverrides(model="gpt-4o-mini"))

    async def run() -> None:
        async with open_router(settings):
            pass

    with pytest.raises(ConfigError, match="has no endpoint"):
        asyncio.run(run())


def test_no_xllamacpp_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xllamacpp" else real(name, *a),
    )
    err = _cli_error(["config", "check"], capsys)
    assert "pip install 'impasse[local]'" in err


def test_key_absent_from_logs_and_errors(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.require_key = "sk-other"
    settings = resolve_settings(
        CLIOverrides(base_url=fake_openai.base_url, model="fake-model", api_key=SecretStr(SECRET))
    )

    async def run() -> None:
        async with open_router(settings):
            pass

    with caplog.at_level(logging.DEBUG), pytest.raises(EndpointError) as caught:
        asyncio.run(run())
    assert SECRET not in str(caught.value) and SECRET not in caplog.text
