"""The LLM judge (against a scripted StructuredChat), scores, and the `impasse eval` CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli.main import main
from harness.eval import aevaluate_turns
from harness.eval.judge import JudgeReply, majority, prompt_hash
from harness.eval.scores import bootstrap_ci
from harness.llm.types import CallRecord, CallResult, ChatMessage
from harness.pack.models import PersonaPack
from harness.transcript.turns_jsonl import PlainTurn

FIXTURE = Path(__file__).parent / "fixtures" / "eval_pack" / "pack.yaml"


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return PersonaPack.model_validate(yaml.safe_load(FIXTURE.read_text(encoding="utf-8")))


class ScriptedJudge:
    """A StructuredChat that answers from a function of the prompt and records calls."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    async def structured(self, messages: list[ChatMessage], schema: Any, *, tag: str,
                         temperature: float = 0.7, seed: int | None = None,
                         max_tokens: int | None = None) -> CallResult[Any]:  # fmt: skip
        self.calls.append({"tag": tag, "temperature": temperature, "text": messages[-1].content})
        value = schema.model_validate(self.answer(messages[-1].content, seed))
        return CallResult(
            value=value, record=CallRecord(endpoint="x", model="judge", mode="json_schema")
        )


def test_judge_majority_and_verbatim_quotes(pack: PersonaPack) -> None:
    text = "We will amend our laws this year."

    def answer(prompt: str, seed: int | None) -> dict[str, str]:
        if "id: cn.legal_changes.no_law_change" in prompt:
            quote = "amend our laws" if seed != 2 else "a quote that is not there"
            return {"verdict": "violated", "quote": quote, "reason": "commits"}
        return {"verdict": "not_addressed", "quote": "", "reason": ""}

    judge = ScriptedJudge(answer)
    evaluation = asyncio.run(
        aevaluate_turns(
            [PlainTurn(speaker="liu_he", text=text)], pack, judge=judge, judge_model="m"
        )
    )
    assert evaluation.layers == ["rules", "statistical", "judge"]
    assert evaluation.judge_prompt_hash == prompt_hash()
    assert all(c["temperature"] == 0.0 and c["tag"] == "judge" for c in judge.calls)
    verdict = next(v for v in evaluation.turns[0].verdicts if v.issue == "legal_changes")
    assert (verdict.verdict, verdict.layer, verdict.quote) == (
        "violated",
        "judge",
        "amend our laws",
    )
    assert verdict.confidence == pytest.approx(2 / 3, abs=0.01)


def test_unverifiable_quotes_are_unscored_not_defaulted(pack: PersonaPack) -> None:
    judge = ScriptedJudge(lambda p, s: {"verdict": "violated", "quote": "invented", "reason": ""})
    evaluation = asyncio.run(
        aevaluate_turns(
            [PlainTurn(speaker="liu_he", text="We will amend our laws.")], pack, judge=judge
        )
    )
    legal = next(v for v in evaluation.turns[0].verdicts if v.issue == "legal_changes")
    assert legal.verdict == "ambiguous" and legal.confidence == 0.0
    assert evaluation.run.unscored >= 1


def test_majority_needs_more_than_half() -> None:
    a = JudgeReply(verdict="upheld", quote="x")
    b = JudgeReply(verdict="violated", quote="x")
    assert majority([a, b, None], "x")[0] is None
    assert majority([a, a, b], "x")[:2] == (a, 2)


def test_evidence_order_is_shuffled_but_seeded(pack: PersonaPack) -> None:
    from harness.eval.judge import build_messages

    entry = pack.entry("cn.legal_changes.no_law_change")
    one = build_messages(pack, entry, "liu_he", "t", seed=1)[0].content
    again = build_messages(pack, entry, "liu_he", "t", seed=1)[0].content
    assert one == again
    others = {build_messages(pack, entry, "liu_he", "t", seed=s)[0].content for s in range(6)}
    assert len(others) > 1


def test_bootstrap_is_seeded() -> None:
    values = [0.1, 0.5, 0.9, 0.4, 0.7]
    ci = bootstrap_ci(values, seed=3)
    assert ci is not None and ci.low <= ci.mean <= ci.high
    assert bootstrap_ci(values, seed=3) == ci
    assert bootstrap_ci([]) is None


def test_bootstrap_interval_matches_the_normal_approximation() -> None:
    # 50 zeros and 50 ones: mean 0.5, standard error 0.05, so a 95% interval of about
    # 0.40-0.60; a constant sample has no spread at all.
    ci = bootstrap_ci([0.0] * 50 + [1.0] * 50)
    assert ci is not None and ci.n == 100 and ci.mean == 0.5
    assert 0.38 <= ci.low <= 0.42 and 0.58 <= ci.high <= 0.62
    flat = bootstrap_ci([0.7] * 8)
    assert flat is not None and flat.low == flat.high == pytest.approx(0.7) == flat.mean


def test_cli_turns_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    turns = tmp_path / "turns.jsonl"
    turns.write_text(
        json.dumps({"speaker": "liu_he", "text": "We will change our laws."}) + "\n"
        + json.dumps({"speaker": "trump", "text": "Great dinner."}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(SystemExit) as done:
        main(["eval", "--turns", str(turns), "--pack", "us-china-2019", "--json"])
    assert done.value.code in (0, None)
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"turns", "personas", "run"}
    first = doc["turns"][0]
    assert set(first) == {"index", "speaker", "verdicts"}
    assert set(first["verdicts"][0]) == {
        "issue",
        "entry",
        "verdict",
        "confidence",
        "quote",
        "layer",
    }
    assert first["verdicts"][0]["verdict"] == "violated"


def test_cli_bad_speaker_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    turns = tmp_path / "bad.jsonl"
    turns.write_text(json.dumps({"speaker": "nobody", "text": "hi"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["eval", "--turns", str(turns)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and "speaker" in err and len(err.strip().splitlines()) == 1


def test_cli_calibrate_parses_as_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["eval", "calibrate", "--split", "dev", "--json"])
    assert done.value.code in (0, None)
    doc = json.loads(capsys.readouterr().out)
    assert doc["split"] == "dev" and "overall" in doc and "confusion" in doc
