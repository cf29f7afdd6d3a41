"""`impasse personas ...` and `impasse scenarios ...` on the shipped pack."""

from __future__ import annotations

import json

import pytest

from harness.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_personas_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "personas", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {r["id"] for r in rows} >= {"trump", "xi", "liu_he", "lighthizer"}
    assert set(rows[0]) == {"id", "name", "title", "side", "role"}


def test_personas_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "personas", "list")
    assert code == 0 and "wang_shouwen" in out and "lead_negotiator" in out


def test_personas_show_renders_identity_and_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "personas", "show", "lighthizer")
    assert code == 0
    assert "Robert Lighthizer" in out and "Goals" in out and "Voice" in out
    assert "us.retaliation_pledge.required" in out
    assert "moving the goal posts" in out  # an evidence quote


def test_personas_show_json_includes_held_entries(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "personas", "show", "liu_he", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["side"] == "cn"
    ids = {e["id"] for e in data["entries"]}
    assert "cn.legal_changes.no_law_change" in ids
    assert all(e["evidence"] for e in data["entries"])


def test_personas_show_unknown_id_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "personas", "show", "nobody")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "no persona 'nobody'" in err and "lighthizer" in err
    assert len(err.strip().splitlines()) == 1


def test_personas_validate_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "personas", "validate")
    assert code == 0 and err == ""
    assert out.startswith("ok: us-china-2019: ") and "(8 red lines), 8 personas, 3 scenarios" in out
    assert "quotes checked against" in out or "source not found: quotes not checked" in out


def test_personas_validate_without_source_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.pack.source.candidate_paths", lambda filename: [])
    code, out, _ = run(capsys, "personas", "validate", "us-china-2019")
    assert code == 0 and "source not found: quotes not checked" in out


def test_scenarios_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenarios", "list", "--json")
    assert code == 0
    by_id = {r["id"]: r for r in json.loads(out)}
    assert by_id["washington-2019-05"]["documented_outcome"] == "no_deal; talks continue"
    assert by_id["osaka-g20-2019-06"]["documented_outcome"] == "none documented"


def test_scenarios_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenarios", "show", "washington-2019-05")
    assert code == 0
    assert "Participants" in out and "Agenda" in out and "Documented outcome" in out
    assert "retaliation_pledge" in out and "round 2" in out


def test_scenarios_show_json_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scenarios", "show", "beijing-deliberation-2019-05", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["documented_outcome"]["decision"].startswith("send the delegation")


def test_scenarios_show_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scenarios", "show", "paris-2020")
    assert code == 2 and "no scenario 'paris-2020'" in err
