"""Atomic writes: readers see the old or the new file; fsync only when asked to be durable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import files
from harness.files import atomic_write_text


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(files.os, "fsync", counting)
    return calls


def test_durable_write_fsyncs_the_file_and_its_folder(tmp_path: Path, fsyncs: list[int]) -> None:
    atomic_write_text(tmp_path / "a.json", "{}")
    assert (tmp_path / "a.json").read_text() == "{}"
    assert len(fsyncs) == 2


def test_fast_write_is_still_atomic_but_skips_fsync(tmp_path: Path, fsyncs: list[int]) -> None:
    target = tmp_path / "a.json"
    atomic_write_text(target, "old")
    fsyncs.clear()
    atomic_write_text(target, "new", durable=False)
    assert target.read_text() == "new"
    assert fsyncs == []
    assert list(tmp_path.glob(".a.json.*.tmp")) == []


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write_text(target, "old")
    with pytest.raises(TypeError):
        files.atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert list(tmp_path.glob(".a.json.*.tmp")) == []
