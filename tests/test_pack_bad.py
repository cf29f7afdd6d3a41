"""Broken packs give one clear line each, from the library and through the CLI (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import PackError
from harness.pack.load import load_pack
from harness.pack.source import find_source
from harness.pack.validate import validate_pack

BAD_PACKS = Path(__file__).parent / "fixtures" / "bad_packs"

# case -> (file, field, message fragment); cases needing the source article are marked.
CASES = {
    "bad_yaml_syntax": ("personas/negotiator.yaml:7", "yaml", "invalid YAML"),
    "unknown_field": ("ledger.yaml:26", "entries[1].stanse", "unknown field (expected one of: id,"),
    "wrong_type": ("scenarios/round.yaml:18", "max_rounds", "valid integer"),
    "missing_field": ("personas/counterpart.yaml:1", "side", "required field is missing"),
    "unknown_persona": (
        "scenarios/round.yaml:7", "participants[1].persona", "unknown persona 'nobody'"
    ),
    "unknown_holds": (
        "personas/counterpart.yaml:8", "holds[0]",
        "unknown ledger entry 'us.tariff_escalation.never_happened'",
    ),
    "red_line_two_examples": ("ledger.yaml:2", "entries[0]", "at least 3 'complies' examples"),
    "non_utf8": ("personas/counterpart.yaml:2", "encoding", "not valid UTF-8 (byte 0xe9"),
    "duplicate_red_line": ("ledger.yaml:43", "entries[3].issue", "a second red line for side 'cn'"),
    "wrong_side_holds": ("personas/negotiator.yaml:8", "holds[0]", "belongs to side 'us'"),
    "quote_not_in_source": ("ledger.yaml:28", "entries[1].evidence[0]", "quote not found in the source"),
    "offsets_wrong": (
        "ledger.yaml:28", "entries[1].evidence[0]", "not at 4300-4375 but is found at 4308-4383"
    ),
}  # fmt: skip
NEEDS_SOURCE = {"quote_not_in_source", "offsets_wrong"}


def build(case: str, dest: Path) -> Path:
    """The base pack with the case's files laid over it (`.bin` files lose the suffix)."""
    pack = dest / case
    shutil.copytree(BAD_PACKS / "_base", pack)
    for path in (BAD_PACKS / case).rglob("*"):
        if path.is_file():
            target = pack / path.relative_to(BAD_PACKS / case)
            target = target.with_suffix("") if target.suffix == ".bin" else target
            shutil.copyfile(path, target)
    return pack


def source_or_skip(pack: Path) -> Path:
    from harness.pack.read import read_pack_files

    manifest = read_pack_files(pack).manifest
    assert manifest is not None
    path = find_source(manifest.item)
    if path is None:
        pytest.skip(
            f"source article not found at ../shared/sources/{manifest.item.source.filename}"
        )
    return path


def expect(line: str, case: str) -> None:
    location, field, fragment = CASES[case]
    assert location in line and f": {field}: " in line and fragment in line, line
    assert "\n" not in line


def test_every_case_has_a_fixture_and_the_base_is_valid() -> None:
    folders = {p.name for p in BAD_PACKS.iterdir() if p.is_dir()} - {"_base"}
    assert folders == set(CASES)
    assert validate_pack(BAD_PACKS / "_base") == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_reports_exactly_the_one_problem(case: str, tmp_path: Path) -> None:
    pack = build(case, tmp_path)
    source = source_or_skip(pack) if case in NEEDS_SOURCE else None
    problems = validate_pack(pack, source=source)
    assert len(problems) == 1, [str(p) for p in problems]
    expect(str(problems[0]), case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_raises_the_same_line_as_a_pack_error(case: str, tmp_path: Path) -> None:
    pack = build(case, tmp_path)
    source = source_or_skip(pack) if case in NEEDS_SOURCE else None
    with pytest.raises(PackError) as raised:
        load_pack(pack, source=source)
    expect(str(raised.value), case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_validate_prints_one_line_and_exits_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = build(case, tmp_path)
    argv = ["personas", "validate", str(pack)]
    if case in NEEDS_SOURCE:
        argv += ["--source", str(source_or_skip(pack))]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    expect(lines[0], case)


@pytest.mark.parametrize("case", ["bad_yaml_syntax", "non_utf8", "unknown_persona"])
def test_cli_list_with_a_bad_pack_prints_one_error_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = build(case, tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["personas", "list", "--pack", str(pack)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    expect(err.removeprefix("error: ").strip(), case)
