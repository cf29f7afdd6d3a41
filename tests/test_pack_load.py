"""Loading and validating packs: resolution, YAML edge cases, hashing and memoisation."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from harness.errors import PackError
from harness.pack.load import clear_cache, load_pack
from harness.pack.locate import REPO_ROOT
from harness.pack.validate import check_pack, validate_pack

BASE = Path(__file__).parent / "fixtures" / "bad_packs" / "_base"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    pack = tmp_path / "mini"
    shutil.copytree(BASE, pack)
    return pack


def test_a_pack_id_resolves_from_the_environment_first(
    mini: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPASSE_PACKS", str(mini.parent))
    assert load_pack("mini").id == "mini"


def test_a_pack_id_resolves_from_the_repo_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMPASSE_PACKS", raising=False)
    pack = load_pack("us-china-2019")
    assert Path(pack.root) == (REPO_ROOT / "personas" / "us-china-2019").resolve()


def test_an_unknown_pack_says_where_it_looked() -> None:
    with pytest.raises(PackError, match="no pack with id 'no-such-pack'; looked in"):
        load_pack("no-such-pack")


def test_loading_is_fast_and_memoised(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    started = time.perf_counter()
    first = load_pack("us-china-2019")
    assert time.perf_counter() - started < 0.5  # ~10 ms in practice; generous for slow CI
    assert load_pack("us-china-2019") is first


def test_an_edited_file_is_reloaded_and_changes_the_content_hash(mini: Path) -> None:
    before = load_pack(mini)
    path = mini / "personas" / "counterpart.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Blunt.", "Very blunt."), "utf-8")
    after = load_pack(mini)
    assert after.personas["counterpart"].voice == ["Very blunt."]
    assert after.content_hash != before.content_hash


def test_content_hash_ignores_where_the_pack_lives(mini: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "mini"
    shutil.copytree(mini, copy)
    assert load_pack(copy).content_hash == load_pack(mini).content_hash


def test_validate_reports_every_problem_not_just_the_first(mini: Path) -> None:
    scenario = mini / "scenarios" / "round.yaml"
    text = scenario.read_text(encoding="utf-8")
    text = text.replace("persona: counterpart", "persona: ghost").replace(
        "[text_publication, tariff_escalation]", "[text_publication, weather]"
    )
    scenario.write_text(text, encoding="utf-8")
    problems = [str(p) for p in validate_pack(mini)]
    assert len(problems) == 2
    assert "unknown persona 'ghost'" in problems[0] and "unknown issue 'weather'" in problems[1]


def test_a_huge_file_is_refused_before_parsing(mini: Path) -> None:
    (mini / "personas" / "counterpart.yaml").write_bytes(b"# x\n" * 600_000)
    [problem] = validate_pack(mini)
    assert problem.field == "size" and "limit is 2 MB" in problem.message


def test_a_duplicate_key_is_an_error(mini: Path) -> None:
    path = mini / "personas" / "counterpart.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "side: cn\n", encoding="utf-8")
    [problem] = validate_pack(mini)
    assert str(problem).endswith("counterpart.yaml:9: side: key appears twice in the same mapping")


def test_an_empty_file_is_an_error(mini: Path) -> None:
    (mini / "scenarios" / "round.yaml").write_text("", encoding="utf-8")
    [problem] = validate_pack(mini)
    assert "round.yaml:1" in str(problem) and "file is empty" in str(problem)


def test_an_unquoted_colon_gets_a_hint(mini: Path) -> None:
    path = mini / "personas" / "counterpart.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("voice: [Blunt.]", "voice:\n  - Blunt: always\n"),
        encoding="utf-8",
    )
    [problem] = validate_pack(mini)
    assert problem.field == "voice[0]" and "quotes" in problem.message


def test_a_missing_explicit_source_is_reported(mini: Path, tmp_path: Path) -> None:
    report = check_pack(mini, source=tmp_path / "missing.md")
    assert [p.field for p in report.problems] == ["source"]
    assert report.quotes_checked == 0


def test_a_different_source_text_fails_the_hash(mini: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.md"
    fake.write_text("not the article", encoding="utf-8")
    problems = [str(p) for p in validate_pack(mini, source=fake)]
    assert any("source.sha256" in p and "different text" in p for p in problems)
