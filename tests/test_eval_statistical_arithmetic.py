"""The statistical layer scores with its own arithmetic (scikit-learn's per-call input checks
cost more than the model); it must give scikit-learn's probabilities, to the last digits."""

from __future__ import annotations

import pickle

import pytest

from harness.eval import Evaluator, statistical
from harness.eval.gold import gold_path, read_gold
from harness.pack.load import load_pack


def _instances() -> list[statistical.Instance]:
    evaluator = Evaluator.for_pack(load_pack("us-china-2019"))
    turns = read_gold(gold_path("train"))[:120]
    items = []
    for turn in turns:
        reading = evaluator.read(turn)
        items += [
            statistical.instance(reading, e.id) for e in evaluator.bound_entries(turn.speaker)
        ]
    # Edge cases: nothing the vocabularies know, and an empty clause.
    items.append(
        statistical.instance(
            evaluator.read(turns[0].model_copy(update={"text": "zzqx"})), items[0].entry_id
        )
    )
    items.append(statistical.Instance(items[0].entry_id, "", ()))
    return items


def test_statistical_arithmetic_matches_scikit_learn() -> None:
    model = Evaluator.for_pack(load_pack("us-china-2019")).model
    items = _instances()
    assert len(items) > 500
    fast = model.predict(items)
    reference = model.predict_reference(items)
    for got, want in zip(fast, reference, strict=True):
        assert got.keys() == want.keys()
        for label in want:
            assert got[label] == pytest.approx(want[label], abs=1e-9)
    assert len({max(p, key=p.get) for p in fast}) == 3  # every label is predicted somewhere


def test_the_cached_model_file_leaves_the_arithmetic_out() -> None:
    model = Evaluator.for_pack(load_pack("us-china-2019")).model
    model.predict(_instances()[:3])
    again = pickle.loads(pickle.dumps(model))
    assert "_arithmetic" not in again.__dict__
    assert again.predict(_instances()[:3]) == model.predict(_instances()[:3])


def test_word_stems_join_inflections_of_one_word() -> None:
    """A turn worded with another inflection than the training data still shares features."""
    tokens = {
        t
        for word in ("removal", "removing", "removed")
        for t in statistical._doc_tokens(statistical.Instance("e1", f"tariff {word}", ()))
    }
    assert {"S:remov", "e1|S:remov"} <= tokens
    assert statistical._stem("Legislation,") == "legisl"
    assert statistical._stem("laws") == "laws"  # short words keep their ending
