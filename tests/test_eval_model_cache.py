"""The trained statistical layer is kept in the cache folder: a new process loads it instead of
training again, and a damaged file is retrained, never trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.eval import statistical
from harness.eval.gold import gold_path
from harness.eval.rules import read_turn
from harness.eval.ruleset import load_ruleset
from harness.pack.load import load_pack

TEXT = "The legislature will pass new statutes on technology transfer this autumn."
# One small training split: caching works the same for any training files, and training on all
# of them (4,690 turns, about 25 s) five times over would dominate the test suite's time.
SMALL = [gold_path("train")]


def _predict(model: statistical.StatModel) -> dict[str, float]:
    pack = load_pack("us-china-2019")
    rules = load_ruleset(pack)
    entry_id = "cn.legal_changes.no_law_change"
    reading = read_turn(TEXT, "cn", [rules.entries[entry_id]], rules)
    return model.predict([statistical.instance(reading, entry_id)])[0]


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forget the in-memory models (as a new process would) and count trainings."""
    monkeypatch.setattr(statistical, "_MODELS", {})
    trained: list[int] = []
    real_fit = statistical.fit

    def counting_fit(*args, **kwargs):  # type: ignore[no-untyped-def]
        trained.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(statistical, "fit", counting_fit)
    return trained


def test_a_new_process_loads_the_trained_model(monkeypatch: pytest.MonkeyPatch) -> None:
    pack = load_pack("us-china-2019")
    rules = load_ruleset(pack)
    trained = _fresh_process(monkeypatch)
    first = statistical.model_for(pack, rules, SMALL)
    assert trained == [1]
    files = list((Path(statistical.cache_dir()) / "eval").glob("statistical-*.pkl"))
    assert [f.name for f in files] == [f"statistical-{first.digest}.pkl"]

    trained = _fresh_process(monkeypatch)
    second = statistical.model_for(pack, rules, SMALL)
    assert trained == []  # loaded, not retrained
    assert second is not first and second.digest == first.digest
    assert _predict(second) == _predict(first)


def test_a_damaged_cache_file_is_retrained(monkeypatch: pytest.MonkeyPatch) -> None:
    pack = load_pack("us-china-2019")
    rules = load_ruleset(pack)
    _fresh_process(monkeypatch)
    model = statistical.model_for(pack, rules, SMALL)
    path = Path(statistical.cache_dir()) / "eval" / f"statistical-{model.digest}.pkl"
    path.write_bytes(b"not a pickle")

    trained = _fresh_process(monkeypatch)
    again = statistical.model_for(pack, rules, SMALL)
    assert trained == [1]
    assert _predict(again) == _predict(model)
    assert path.read_bytes() != b"not a pickle"  # rewritten with the retrained model


def test_a_change_to_the_feature_code_retrains(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rules file and training data unchanged, but text.py/rules.py edited: the cached model's
    # features would be stale, so it must not be loaded.
    pack = load_pack("us-china-2019")
    rules = load_ruleset(pack)
    _fresh_process(monkeypatch)
    model = statistical.model_for(pack, rules, SMALL)

    trained = _fresh_process(monkeypatch)
    monkeypatch.setattr(statistical, "feature_code_digest", lambda: "edited rules.py")
    again = statistical.model_for(pack, rules, SMALL)
    assert trained == [1]
    assert again.digest != model.digest
