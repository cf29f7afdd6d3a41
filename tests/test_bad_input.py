"""Bad input of every kind: one error line naming the file and field, exit 2, nothing written.

Table-driven over malformed persona packs, scenarios, suites, config files, transcripts, run
folders, JSONL turns files and CLI arguments. Each case prepares its broken input in a fresh workspace,
then the test snapshots the whole workspace (file names and bytes), runs the real entry point
(`harness.cli.main.main`), and checks: exit code 2, stderr is exactly one line starting with
`error:`, the line names the file (where there is one) and the field, no traceback, and the
workspace is byte-for-byte unchanged. Two cases also go through a real subprocess.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.graph.runner import REQUEST_FILE, RunRequest
from harness.pack.locate import REPO_ROOT
from harness.transcript.store import TRANSCRIPT_FILE, RunStore
from tests.cli_process import cli_env, run_cli, snapshot
from tests.fake_openai import FakeOpenAI
from tests.transcript_samples import sample_transcript

RUN_ID = "20261129-083012-washington-2019-05-3f9a"
OTHER_RUN = "20261129-083012-washington-2019-05-77aa"  # shares a prefix with RUN_ID


@dataclass
class Workspace:
    """A tmp folder used as the working directory: a pack copy, a transcripts folder with
    one good run, and room for bad files."""

    dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pack(self) -> Path:
        return self.dir / "pack"

    @property
    def runs(self) -> Path:
        return self.dir / "transcripts"

    def write(self, rel: str, data: str | bytes) -> Path:
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        return path

    def edit(self, rel: str, old: str, new: str) -> Path:
        path = self.dir / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    def run_file(self, name: str, data: str | bytes, run_id: str = RUN_ID) -> Path:
        return self.write(f"transcripts/{run_id}/{name}", data)

    def good_transcript(self) -> dict:
        return json.loads((self.runs / RUN_ID / TRANSCRIPT_FILE).read_text(encoding="utf-8"))


Argv = list[str]


@dataclass(frozen=True)
class Case:
    """`prepare` breaks something in the workspace and returns the argv to run."""

    id: str
    prepare: Callable[[Workspace], Argv]
    names: tuple[str, ...]  # fragments the error line must contain (file, field, ...)
    endpoint: bool = False  # needs the fake endpoint (commands that start models)


SCENARIO = "pack/scenarios/washington-2019-05.yaml"
LIGHTHIZER = "pack/personas/lighthizer.yaml"
LIST_PACK = ["personas", "list", "--pack", "pack"]
RUN = ["run", "--scenario", "washington-2019-05", "--model", "fake-model"]


def _pack_case(rel: str, old: str, new: str, argv: Argv = LIST_PACK) -> Callable[[Workspace], Argv]:
    def prepare(ws: Workspace) -> Argv:
        ws.edit(rel, old, new)
        return argv

    return prepare


def _write_case(rel: str, data: str | bytes, argv: Argv, **env: str) -> Callable[[Workspace], Argv]:
    def prepare(ws: Workspace) -> Argv:
        ws.write(rel, data)
        ws.env.update(env)
        return argv

    return prepare


def _transcript_case(mutate: Callable[[dict], object]) -> Callable[[Workspace], Argv]:
    def prepare(ws: Workspace) -> Argv:
        data = ws.good_transcript()
        mutate(data)
        ws.run_file(TRANSCRIPT_FILE, json.dumps(data))
        return ["show", RUN_ID]

    return prepare


def _env_case(argv: Argv, **env: str) -> Callable[[Workspace], Argv]:
    def prepare(ws: Workspace) -> Argv:
        ws.env.update(env)
        return argv

    return prepare


def _truncated(ws: Workspace) -> Argv:
    path = ws.runs / RUN_ID / TRANSCRIPT_FILE
    path.write_bytes(path.read_bytes()[:500])
    return ["show", RUN_ID]


def _huge_persona(ws: Workspace) -> Argv:
    text = (ws.pack / "personas/lighthizer.yaml").read_text(encoding="utf-8")
    ws.write(LIGHTHIZER, text + "# " + "x" * 3_000_000 + "\n")
    return LIST_PACK


def _huge_turns(ws: Workspace) -> Argv:
    line = json.dumps({"speaker": "lighthizer", "text": "We hold firm."}) + "\n"
    ws.write("turns.jsonl", line * 20_000 + '{"speaker": "liu_he", "text": 5}\n')
    return ["eval", "--turns", "turns.jsonl", "--pack", "us-china-2019"]


def _variant(
    persona_id: str, rename: bool = False, edit: tuple[str, str] | None = None
) -> Callable[[Workspace], Argv]:
    """Lighthizer's persona file played as `persona_id` (renamed to it when `rename`; with the
    text replacement `edit` applied)."""

    def prepare(ws: Workspace) -> Argv:
        text = (ws.pack / "personas/lighthizer.yaml").read_text(encoding="utf-8")
        if rename:
            text = text.replace("id: lighthizer", f"id: {persona_id}", 1)
        if edit is not None:
            text = text.replace(*edit, 1)
        ws.write("variant.yaml", text)
        return [*RUN, "--set-persona", f"{persona_id}=variant.yaml"]

    return prepare


def _no_request(ws: Workspace) -> Argv:
    (ws.runs / RUN_ID / REQUEST_FILE).unlink()
    return ["resume", RUN_ID]


def _outside(ws: Workspace) -> Argv:
    elsewhere = ws.dir / "elsewhere" / RUN_ID
    elsewhere.mkdir(parents=True)
    shutil.copyfile(ws.runs / RUN_ID / TRANSCRIPT_FILE, elsewhere / TRANSCRIPT_FILE)
    return ["show", str(elsewhere)]


CASES: list[Case] = [
    # -- persona packs and scenarios ------------------------------------------------------------
    Case("pack-bad-yaml", _pack_case(LIGHTHIZER, "name: Robert Lighthizer", "name: [Robert"), ("lighthizer.yaml:", "yaml")),
    Case("pack-wrong-type", _pack_case(LIGHTHIZER, "name: Robert Lighthizer", "name: {first: Robert}"), ("lighthizer.yaml:2", "name")),
    Case("pack-unknown-field", _pack_case(LIGHTHIZER, "name: Robert Lighthizer", "name: Robert Lighthizer\nnickname: Bob"), ("lighthizer.yaml:3", "nickname")),
    Case("pack-non-utf8", lambda ws: (ws.write(LIGHTHIZER, b"id: lighthizer\nname: Robert Lighthizer \xe9\xff\n"), LIST_PACK)[1], ("lighthizer.yaml:2", "encoding")),
    Case("pack-huge-file", _huge_persona, ("lighthizer.yaml", "size")),
    Case("scenario-empty-agenda", _pack_case(SCENARIO, "agenda:\n", "agenda: []\nold_agenda:\n"), ("washington-2019-05.yaml", "agenda")),
    Case("scenario-negative-rounds", _pack_case(SCENARIO, "max_rounds: 4", "max_rounds: -3"), ("washington-2019-05.yaml:", "max_rounds")),
    Case("scenario-rounds-not-a-number", _pack_case(SCENARIO, "max_rounds: 4", "max_rounds: many"), ("washington-2019-05.yaml:", "max_rounds")),
    Case("scenario-unknown-persona", _pack_case(SCENARIO, "{persona: kudlow, seat: caucus}", "{persona: bolton, seat: caucus}"), ("washington-2019-05.yaml:", "participants[5].persona", "bolton")),
    Case("scenario-bad-date", _pack_case(SCENARIO, "date: 2019-05-09", "date: the ninth of May"), ("washington-2019-05.yaml:", "date")),
    Case("pack-unknown-id", lambda ws: ["personas", "list", "--pack", "no-such-pack"], ("pack", "no-such-pack")),
    Case("pack-folder-missing", lambda ws: ["scenarios", "list", "--pack", "./missing/pack"], ("missing/pack", "not found")),
    Case("persona-unknown-id", lambda ws: ["personas", "show", "bolton"], ("bolton",)),
    Case("scenario-unknown-id-show", lambda ws: ["scenarios", "show", "geneva-2031"], ("geneva-2031",)),
    # -- run arguments (the endpoint is up: the input alone is at fault) -------------------------
    Case("run-unknown-scenario", lambda ws: ["run", "--scenario", "geneva-2031", "--model", "fake-model"], ("scenario", "geneva-2031"), endpoint=True),
    Case("run-negative-rounds", lambda ws: [*RUN, "--rounds", "-1"], ("impasse run", "--rounds")),
    Case("run-zero-rounds", lambda ws: [*RUN, "--rounds", "0"], ("--rounds",)),
    Case("run-rounds-not-int", lambda ws: [*RUN, "--rounds", "two"], ("--rounds",)),
    Case("run-no-scenario", lambda ws: ["run", "--model", "fake-model"], ("--scenario",)),
    Case("run-unknown-option", lambda ws: [*RUN, "--turbo"], ("--turbo",)),
    Case("run-set-persona-no-equals", lambda ws: [*RUN, "--set-persona", "lighthizer"], ("--set-persona", "lighthizer")),
    Case("run-set-persona-missing-file", lambda ws: [*RUN, "--set-persona", "lighthizer=nope.yaml"], ("nope.yaml", "No such file"), endpoint=True),
    Case("run-set-persona-wrong-id", _variant("mnuchin"), ("variant.yaml", "id"), endpoint=True),
    Case("run-set-persona-bad-role", _variant("lighthizer", edit=("role: lead_negotiator", "role: dictator")), ("variant.yaml:5", "role"), endpoint=True),
    Case("run-set-persona-unknown-persona", _variant("bolton", rename=True), ("--set-persona", "bolton"), endpoint=True),
    Case("run-set-persona-non-utf8", _write_case("v.yaml", b"id: lighthizer\nname: \xff\xfe\n", [*RUN, "--set-persona", "lighthizer=v.yaml"]), ("v.yaml:2", "encoding", "UTF-8"), endpoint=True),
    # -- suites (the full table of bad suite files is in test_suite_bad.py) -------------------------
    Case("suite-non-utf8", _write_case("suite.yaml", b"name: s\npack: \xff\n", ["suite", "run", "suite.yaml"]), ("suite.yaml:2", "encoding")),
    Case("suite-missing-file", lambda ws: ["suite", "run", "nope.yaml"], ("nope.yaml", "file")),
    Case("suite-parallel-zero", _write_case("suite.yaml", "name: s\n", ["suite", "run", "suite.yaml", "--parallel", "0"]), ("--parallel",)),
    Case("suite-workers-zero", _write_case("suite.yaml", "name: s\n", ["suite", "run", "suite.yaml", "--workers", "0"]), ("--workers",)),
    # -- config files and environment -------------------------------------------------------------
    Case("config-bad-toml", _write_case("impasse.toml", 'model = "fake-model\n', ["config", "show"]), ("impasse.toml", "TOML")),
    Case("config-wrong-type", _write_case("impasse.toml", '[llm]\ntimeout = "fast"\n', ["config", "show"]), ("impasse.toml", "llm.timeout")),
    Case("config-negative-retries", _write_case("impasse.toml", '[llm]\nretry_attempts = -1\n', ["config", "show"]), ("impasse.toml", "llm.retry_attempts")),
    Case("config-unknown-key", _write_case("impasse.toml", '[llm]\nmodle = "fake-model"\n', ["config", "show"]), ("impasse.toml", "llm.modle")),
    Case("config-role-wrong-type", _write_case("impasse.toml", '[roles.us]\nmodel = 5\n', ["config", "show"]), ("impasse.toml", "roles.us.model")),
    Case("config-key-in-file", _write_case("impasse.toml", '[llm]\napi_key = "sk-in-a-file"\n', ["config", "show"]), ("impasse.toml", "llm.api_key", "api_key_env")),
    Case("config-non-utf8", _write_case("impasse.toml", b'[llm]\nmodel = "\xff"\n', ["config", "show"]), ("impasse.toml", "encoding")),
    Case("config-missing-file", _env_case(["config", "show"], IMPASSE_CONFIG="nowhere.toml"), ("nowhere.toml", "not found")),
    Case("env-retry-attempts-not-int", _env_case(["config", "show"], IMPASSE_RETRY_ATTEMPTS="lots"), ("IMPASSE_RETRY_ATTEMPTS", "lots")),
    Case("env-negative-timeout", _env_case(["config", "show"], IMPASSE_TIMEOUT="-5"), ("IMPASSE_TIMEOUT",)),
    # -- transcripts and run folders --------------------------------------------------------------
    Case("transcript-truncated", _truncated, (f"{RUN_ID}/transcript.json:", "invalid JSON")),
    Case("transcript-not-json", lambda ws: (ws.run_file(TRANSCRIPT_FILE, "not json at all"), ["show", RUN_ID])[1], ("transcript.json:1:1", "invalid JSON")),
    Case("transcript-wrong-type", _transcript_case(lambda d: d.update(turns="many")), ("transcript.json", "turns")),
    Case("transcript-turn-wrong-type", _transcript_case(lambda d: d["turns"][0].update(round="first")), ("transcript.json", "turns.0.round")),
    Case("transcript-unknown-field", _transcript_case(lambda d: d.update(comment="hi")), ("transcript.json", "comment")),
    Case("transcript-newer-schema", _transcript_case(lambda d: d.update(schema_version=99)), ("transcript.json", "schema_version 99")),
    Case("transcript-non-utf8", lambda ws: (ws.run_file(TRANSCRIPT_FILE, b'{"schema_version": 1, "x": "\xff"}'), ["show", RUN_ID])[1], ("transcript.json", "utf-8")),
    Case("run-unknown-id", lambda ws: ["show", "20991231-nothing"], ("20991231-nothing", "transcripts")),
    Case("run-ambiguous-prefix", lambda ws: ["show", "20261129"], ("20261129", "ambiguous")),
    Case("run-path-outside-folder", _outside, ("outside the transcripts folder",)),
    Case("run-path-traversal", lambda ws: ["show", f"transcripts/{RUN_ID}/../../pack"], ("outside the transcripts folder",)),
    Case("export-unknown-run", lambda ws: ["export", "20991231-nothing", "--format", "html"], ("20991231-nothing",)),
    Case("export-unknown-format", lambda ws: ["export", RUN_ID, "--format", "pdf"], ("--format", "pdf")),
    Case("diff-unknown-run", lambda ws: ["diff", RUN_ID, "20991231-nothing"], ("20991231-nothing",)),
    Case("resume-unknown-run", lambda ws: ["resume", "20991231-nothing"], ("20991231-nothing",)),
    Case("resume-no-request", _no_request, (f"{RUN_ID}/request.json", "not a run folder")),
    Case("resume-bad-request", lambda ws: (ws.run_file(REQUEST_FILE, '{"scenario": "washington-2019-05", "rounds": -2}'), ["resume", RUN_ID])[1], ("request.json", "rounds")),
    Case("fork-round-not-run", lambda ws: ["fork", RUN_ID, "--at-round", "0"], ("--at-round",)),
    # -- JSONL turns for `impasse eval --turns` ---------------------------------------------------
    Case("turns-invalid-json", _write_case("turns.jsonl", '{"speaker": "lighthizer", "text": "ok"}\n{"speaker": \n', ["eval", "--turns", "turns.jsonl"]), ("turns.jsonl:2", "invalid JSON")),
    Case("turns-missing-text", _write_case("turns.jsonl", '{"speaker": "lighthizer"}\n', ["eval", "--turns", "turns.jsonl"]), ("turns.jsonl:1", "text")),
    Case("turns-wrong-type", _write_case("turns.jsonl", '{"speaker": "lighthizer", "text": ["a"]}\n', ["eval", "--turns", "turns.jsonl"]), ("turns.jsonl:1", "text")),
    Case("turns-not-an-object", _write_case("turns.jsonl", '["lighthizer", "hello"]\n', ["eval", "--turns", "turns.jsonl"]), ("turns.jsonl:1", "object")),
    Case("turns-unknown-field", _write_case("turns.jsonl", '{"speaker": "lighthizer", "text": "hi", "mood": "bad"}\n', ["eval", "--turns", "turns.jsonl"]), ("turns.jsonl:1", "mood")),
    Case("turns-non-utf8", _write_case("turns.jsonl", b'{"speaker": "lighthizer", "text": "\xff"}\n', ["eval", "--turns", "turns.jsonl"]), ("turns.jsonl", "utf-8")),
    Case("turns-missing-file", lambda ws: ["eval", "--turns", "nope.jsonl"], ("nope.jsonl", "not found")),
    Case("turns-huge-file-bad-last-line", _huge_turns, ("turns.jsonl:20001", "text")),
    Case("eval-unknown-run", lambda ws: ["eval", "20991231-nothing", "--offline"], ("20991231-nothing",)),
]  # fmt: skip


@pytest.fixture(scope="module")
def endpoint() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    shutil.copytree(REPO_ROOT / "personas" / "us-china-2019", ws.pack)
    store = RunStore(ws.runs)
    for run_id in (RUN_ID, OTHER_RUN):
        store.save_transcript(sample_transcript(run_id))
        ws.run_file(
            REQUEST_FILE,
            RunRequest(scenario="washington-2019-05", rounds=2).model_dump_json(),
            run_id,
        )
    return ws


def _call(argv: Argv, capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def test_there_are_at_least_30_cases_with_unique_ids() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 30 and len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_line_exit_2_and_changes_nothing(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    endpoint: FakeOpenAI,
) -> None:
    ws = _workspace(tmp_path)
    argv = case.prepare(ws)
    monkeypatch.chdir(ws.dir)
    monkeypatch.setenv("IMPASSE_TRANSCRIPTS", str(ws.runs))
    monkeypatch.setenv("IMPASSE_CACHE_DIR", str(ws.dir / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
    if case.endpoint:
        monkeypatch.setenv("OPENAI_BASE_URL", endpoint.base_url)
    else:  # nothing may be started: a dead endpoint, so a model call would fail loudly
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    for name, value in ws.env.items():
        monkeypatch.setenv(name, value)
    before = snapshot(tmp_path)

    code, out, err = _call(argv, capsys)

    assert code == 2, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in err + out
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    line = lines[0]
    assert line.startswith("error: "), line
    for fragment in case.names:
        assert fragment in line, f"{fragment!r} not in: {line}"
    assert snapshot(tmp_path) == before, "the command changed files on disk"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--scenario", "washington-2019-05", "--rounds", "-4"], "--rounds"),
        (["show", "20991231-nothing"], "20991231-nothing"),
    ],
)
def test_a_real_process_prints_one_line_too(tmp_path: Path, argv: Argv, fragment: str) -> None:
    ws = _workspace(tmp_path)
    before = snapshot(tmp_path)
    done = run_cli(argv, cli_env("http://127.0.0.1:9/v1", ws.runs, ws.dir / "cache"), ws.dir)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert snapshot(tmp_path) == before
