"""Bad suite files: one line on stderr naming file:line and the field, exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from tests.cli_process import snapshot

GOOD = """\
name: bad
pack: us-china-2019
matrix:
  scenarios: [washington-2019-05]
  seeds: [1]
  rounds: [1]
"""

# (case id, file text, expected "line: field" part, a word of the message)
CASES = [
    ("empty", "", ":1: -:", "empty"),
    ("bad-yaml", "name: [unclosed\n", ": yaml:", "invalid YAML"),
    ("unknown-field", GOOD + "colour: red\n", ":7: colour:", "unknown field"),
    ("missing-matrix", "name: bad\n", ":1: matrix:", "required"),
    (
        "empty-scenarios",
        GOOD.replace("[washington-2019-05]", "[]"),
        ":4: matrix.scenarios:",
        "at least 1",
    ),
    (
        "unknown-scenario",
        GOOD.replace("washington-2019-05", "paris-1919"),
        ":4: matrix.scenarios[0]:",
        "unknown scenario",
    ),
    (
        "negative-rounds",
        GOOD.replace("rounds: [1]", "rounds: [-2]"),
        ":6: matrix.rounds[0]:",
        "greater than or equal to 1",
    ),
    ("zero-seeds", GOOD.replace("seeds: [1]", "seeds: []"), ":5: matrix.seeds:", "at least 1"),
    (
        "repeated-seed",
        GOOD.replace("seeds: [1]", "seeds: [1, 1]"),
        ":5: matrix.seeds:",
        "listed twice",
    ),
    (
        "rounds-not-int",
        GOOD.replace("rounds: [1]", "rounds: [many]"),
        ":6: matrix.rounds[0]:",
        "integer",
    ),
    ("no-models", GOOD + "  models: {}\n", ":7: matrix.models:", "at least 1"),
    ("bad-name", GOOD.replace("name: bad", "name: my suite"), ":1: name:", "pattern"),
    (
        "missing-persona-file",
        GOOD + "  personas:\n    soft: {liu_he: nowhere.yaml}\n",
        ":8: matrix.personas.soft.liu_he:",
        "persona file not found",
    ),
    (
        "unknown-persona",
        GOOD + "  personas:\n    soft: {deng: x.yaml}\n",
        ":8: matrix.personas.soft.deng:",
        "unknown persona",
    ),
    (
        "empty-variant",
        GOOD + "  personas:\n    soft: {}\n",
        ":8: matrix.personas.soft:",
        "replaces no persona",
    ),
    (
        "baseline-reserved",
        GOOD + "  personas:\n    baseline: {liu_he: x.yaml}\n",
        ":8: matrix.personas.baseline:",
        "added automatically",
    ),
    ("judge-without-model", GOOD + "evaluation: {mode: judge}\n", ":7: evaluation:", "judge_model"),
    ("unknown-mode", GOOD + "evaluation: {mode: vibes}\n", ":7: evaluation.mode:", "offline"),
    (
        "rate-above-one",
        GOOD + "thresholds: {max_red_line_violation_rate: 10}\n",
        ":7: thresholds.max_red_line_violation_rate:",
        "less than or equal to 1",
    ),
    (
        "consistency-unknown-persona",
        GOOD + "thresholds:\n  min_consistency: {deng: 0.5}\n",
        ":8: thresholds.min_consistency.deng:",
        "unknown persona",
    ),
    (
        "unknown-pack",
        GOOD.replace("pack: us-china-2019", "pack: no-such-pack"),
        ":2: pack:",
        "no pack with id",
    ),
    ("duplicate-key", GOOD + "name: again\n", ":7: name:", "twice"),
    (
        "model-setting-field",
        GOOD + "  models:\n    strong: {modle: gpt-4o}\n",
        ":8: matrix.models.strong.modle:",
        "unknown field",
    ),
]


@pytest.mark.parametrize(
    ("text", "where", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_suite_file(
    tmp_path: Path, monkeypatch, capsys, text: str, where: str, word: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text(text, encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["suite", "run", "suite.yaml", "--base-url", "http://127.0.0.1:9/v1"])
    out, err = capsys.readouterr()
    assert info.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: suite.yaml"), err
    assert where in lines[0] and word in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert snapshot(tmp_path) == before  # no report folder, no transcripts


def test_invalid_persona_variant_names_the_variant_file(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text("id: liu_he\nname: 3\n", encoding="utf-8")
    (tmp_path / "suite.yaml").write_text(GOOD + "  personas:\n    soft: {liu_he: v.yaml}\n")
    with pytest.raises(SystemExit) as info:
        main(["suite", "plan", "suite.yaml"])
    err = capsys.readouterr().err
    assert (
        info.value.code == 2
        and err.startswith("error: v.yaml")
        and len(err.strip().splitlines()) == 1
    )


@pytest.mark.parametrize(
    "args", [["suite", "run", "nowhere.yaml"], ["suite", "run", "suite.yaml", "--parallel", "0"]]
)
def test_bad_arguments(tmp_path: Path, monkeypatch, capsys, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_non_utf8_suite(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_bytes(GOOD.encode() + b"\xff\xfe\n")
    with pytest.raises(SystemExit) as info:
        main(["suite", "run", "suite.yaml"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "suite.yaml:7: encoding: not valid UTF-8" in err
