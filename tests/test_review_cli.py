"""`impasse list | show | export | diff` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transcript_samples import XSS, sample_evaluation, sample_transcript

from harness.cli.main import main
from harness.transcript.store import RunStore

PARENT = "20261129-083012-washington-2019-05-3f9a"
FORK = "20261129-093012-washington-2019-05-77aa"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    store = RunStore(tmp_path / "runs")
    parent = sample_transcript(PARENT, first_text=XSS)
    store.save_transcript(parent)
    store.save_evaluation(PARENT, sample_evaluation(parent))
    store.save_transcript(
        sample_transcript(FORK, liu_round2="accepts", parent_run=PARENT, fork_round=2)
    )
    return store.root


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_list_table_and_json(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["list", "--transcripts-dir", str(root)], capsys)
    assert code == 0 and PARENT in out and FORK in out and "0.75" in out
    code, out, _ = run(["list", "--transcripts-dir", str(root), "--json"], capsys)
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [PARENT, FORK]
    assert rows[0]["fidelity"] == 0.75 and rows[1]["parent_run"] == PARENT


def test_list_reads_env_and_filters(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPASSE_TRANSCRIPTS", str(root))
    code, out, _ = run(["list", "--json", "--scenario", "nope"], capsys)
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(["list", "--json", "--since", "2026-11-29"], capsys)
    assert len(json.loads(out)) == 2
    code, _, err = run(["list", "--since", "yesterday"], capsys)
    assert code == 2 and "--since" in err


def test_show_hides_private_channels_by_default(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["show", PARENT[:15], "--transcripts-dir", str(root)], capsys)
    assert code == 0
    assert XSS in out  # printed as text, not markup
    assert "r01.table.02" in out and "violated" in out and "cn.tariffs_first" in out
    assert "all additional tariffs must be removed" in out  # evidence quote inline
    assert "r01.caucus.01" not in out and "r01.principal.01" not in out
    assert "Anchor high" not in out  # rationale is private
    assert "private turn(s) hidden" in out


def test_show_private_and_filters(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["show", PARENT, "--transcripts-dir", str(root), "--private"]
    code, out, _ = run(args, capsys)
    assert code == 0
    assert "r01.caucus.01" in out and "directive to U.S." in out and "Anchor high" in out
    code, out, _ = run([*args, "--round", "2", "--speaker", "liu_he"], capsys)
    assert "r02.table.02" in out and "r01" not in out.replace(PARENT, "")


def test_show_json(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["show", PARENT, "--transcripts-dir", str(root), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["evaluated"] is True
    assert all(not t["private"] for t in data["turns"])
    assert all("rationale" not in (t["move"] or {}) for t in data["turns"])
    violated = [t for t in data["turns"] if any(v["verdict"] == "violated" for v in t["verdicts"])]
    assert [t["id"] for t in violated] == ["r01.table.02"]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("nope", "no run 'nope'"), ("20261129", "ambiguous"), ("/etc", "outside the transcripts")],
)
def test_bad_references_exit_2_with_one_line(
    root: Path, capsys: pytest.CaptureFixture[str], ref: str, expected: str
) -> None:
    code, _out, err = run(["show", ref, "--transcripts-dir", str(root)], capsys)
    assert code == 2 and expected in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err


def test_export_formats(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("md", "html", "jsonl"):
        code, _out, _ = run(
            ["export", PARENT, "--format", fmt, "--transcripts-dir", str(root)], capsys
        )
        assert code == 0
        assert (root / PARENT / f"transcript.{fmt}").is_file()
    lines = (root / PARENT / "transcript.jsonl").read_text().splitlines()
    assert [json.loads(x)["speaker"] for x in lines] == ["lighthizer", "liu_he"] * 2
    assert json.loads(lines[0]) == {"speaker": "lighthizer", "text": XSS}
    md = (root / PARENT / "transcript.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md and "**VIOLATED**" in md


def test_export_to_chosen_file(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "view.html"
    code, out, _ = run(
        ["export", PARENT, "-f", "html", "-o", str(target), "--transcripts-dir", str(root)], capsys
    )
    assert code == 0 and target.is_file() and str(target) in out.replace("\n", "")


def test_diff_fork_against_parent(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["diff", PARENT, FORK, "--transcripts-dir", str(root)], capsys)
    assert code == 0
    assert "fork of A at round 2" in out and "first divergence: round 2" in out
    assert "round 1: identical" in out
    assert "rejects" in out and "accepts" in out
    code, out, _ = run(["diff", PARENT, FORK, "--transcripts-dir", str(root), "--json"], capsys)
    data = json.loads(out)
    assert data["b_forked_from_a"] is True and data["first_divergence"] == 2
    r2 = data["rounds"][1]
    assert {c["key"]: (c["a"], c["b"]) for c in r2["clauses"]}["structural_reforms"] == (
        "bracketed",
        "agreed",
    )
