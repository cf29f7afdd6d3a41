"""An API key never reaches a transcript, checkpoint, cache, log, report, output or error message.

A whole life cycle runs with a recognisable fake key: failed preflights (key in the environment,
key in `--api-key`), a run that stops on an endpoint failure, its resume, a cached run with the
key named in a config file (`api_key_env`) and its cache hit, an evaluation, exports, the
review commands and `config show --api-key`. Every file written
under the test's folders and every captured stdout/stderr is then searched for the key. The
endpoints are hostile on purpose: they echo the key back in their error messages, as a proxy or
a careless server might. Only the Authorization header (which the fake server records,
redacted) may carry it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from harness.cli.main import main
from tests.cli_process import RUN_ARGS, cli_env, holding_reply, run_cli, saved_run_id
from tests.fake_openai import FakeOpenAI, Fault

KEY = "sk-impasse-SECRET-9f8e7d"
NEEDLES = (KEY, "SECRET-9f8e7d")  # the whole key, and its distinctive part on its own
ONE_ROUND = [*RUN_ARGS[:-4], "--rounds", "1", "--model", "fake-model"]


class _EchoKey(BaseHTTPRequestHandler):
    """Answers everything with a 401 that quotes the key it was sent (unmasked)."""

    def _answer(self) -> None:
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_key_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoKey)
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _leaks(data: str | bytes) -> list[str]:
    blob = data.encode() if isinstance(data, str) else data
    return [n for n in NEEDLES if n.encode() in blob]


def test_the_key_never_leaves_the_authorization_header(
    tmp_path: Path,
    echo_key_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, cache, work = tmp_path / "transcripts", tmp_path / "cache", tmp_path / "work"
    work.mkdir()
    outputs: dict[str, str] = {}

    def impasse(name: str, args: list[str], env: dict[str, str], code: int = 0) -> str:
        done = run_cli(args, env, work)
        outputs[f"{name} stdout"], outputs[f"{name} stderr"] = done.stdout, done.stderr
        assert done.returncode == code, f"{name}: exit {done.returncode}\n{done.stderr}"
        return done.stdout

    keyed = cli_env(None, root, cache, OPENAI_API_KEY=KEY)
    fake = FakeOpenAI(require_key=KEY, responder=holding_reply)
    with fake:
        env = {**keyed, "OPENAI_BASE_URL": fake.base_url}

        # 1. A preflight the endpoint refuses, quoting the key: via the env and via the flag.
        impasse("preflight", [*ONE_ROUND, "--base-url", echo_key_url], keyed, code=2)
        assert "401" in outputs["preflight stderr"]

        # 2. The endpoint fails mid-run with a message quoting the key; the run stops.
        def failing(body: dict) -> object:
            return Fault("server_error", status=500, message=f"upstream refused key {KEY}")

        fake.responder = failing
        stopped = {**env, "IMPASSE_RETRY_ATTEMPTS": "1"}
        impasse("stopped run", ONE_ROUND, stopped, code=2)
        assert "impasse resume" in outputs["stopped run stderr"]
        (run_id,) = [p.name for p in root.iterdir()]
        assert json.loads((root / run_id / "transcript.json").read_text())["status"] == "error"

        # 3. The endpoint heals; resume finishes the run.
        fake.responder = holding_reply
        impasse("resume", ["resume", run_id], env)

        # 4. A cached run (miss) with the key named in a config file (`api_key_env`), then the
        #    same run with the key in OPENAI_API_KEY (a hit: no model call).
        (work / "impasse.toml").write_text('[llm]\napi_key_env = "IMPASSE_TEST_KEY"\n')
        by_file = cli_env(fake.base_url, root, cache, IMPASSE_TEST_KEY=KEY)
        del by_file["OPENAI_API_KEY"]
        first = saved_run_id(impasse("cache miss", [*ONE_ROUND, "--cache"], by_file))
        (work / "impasse.toml").unlink()
        calls = len(fake.chat_requests)
        impasse("cache hit", [*ONE_ROUND, "--cache"], env)
        assert len(fake.chat_requests) == calls, "the second run should come from the cache"
        assert (cache / "responses.sqlite").exists()
        assert all(r.key_matched for r in fake.requests), "the fake must have received the key"

    # 5. A preflight refused via the --api-key flag; reports and review commands (in process).
    monkeypatch.setenv("IMPASSE_TRANSCRIPTS", str(root))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    reports = tmp_path / "reports"
    for argv, code in (
        (["config", "check", "--base-url", echo_key_url, "--model", "m", "--api-key", KEY], 2),
        (["eval", first, "--offline"], 0),
        (["eval", first, "--offline", "--json"], 0),
        (["export", first, "--format", "html", "--output", str(reports / "run.html")], 0),
        (["export", first, "--format", "md", "--output", str(reports / "run.md")], 0),
        (["export", first, "--format", "jsonl", "--output", str(reports / "run.jsonl")], 0),
        (["show", run_id, "--private"], 0),
        (["list", "--json"], 0),
        (["config", "show", "--json", "--api-key", KEY], 0),
        (["config", "show"], 0),
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        captured = capsys.readouterr()
        outputs[" ".join(argv[:2]) + " out"], outputs[" ".join(argv[:2]) + " err"] = (
            captured.out,
            captured.err,
        )
        assert exited.value.code == code, f"{argv}: {captured.err}"

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "checkpoints.sqlite" for p in written)
    assert any(p.name == "evaluation.json" for p in written)
    assert any(p.suffix == ".html" for p in written)
    leaks = {str(p.relative_to(tmp_path)): _leaks(p.read_bytes()) for p in written}
    leaks.update({name: _leaks(text) for name, text in outputs.items()})
    assert {where: found for where, found in leaks.items() if found} == {}
