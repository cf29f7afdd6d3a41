"""The LLM judge end to end through the CLI and the LLM layer, against the fake HTTP server.

The fake judge reads the position id and the turn from the rendered rubric and answers like a
careful model would for one red line; the test checks that its verdicts reach the JSON output
with the judge layer named, that k samples at temperature 0 were requested per (turn, entry),
and that a judge quote that is not in the turn is never trusted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from tests.fake_openai import FakeOpenAI

LAW_LINE = "cn.legal_changes.no_law_change"
TURNS = [
    {"speaker": "liu_he", "text": "The legislature will pass new statutes on patents next year."},
    {"speaker": "liu_he", "text": "We will strengthen regulations, not our laws."},
]


def judge_reply(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body["messages"][-1]["content"]
    entry = re.search(r"^id: (\S+)$", prompt, re.MULTILINE).group(1)  # type: ignore[union-attr]
    turn = re.search(
        r'<turn speaker="[^"]+" side="[^"]+">\n(.*)\n</turn>', prompt, re.DOTALL
    ).group(1)  # type: ignore[union-attr]
    if entry != LAW_LINE:
        return {"verdict": "not_addressed", "quote": "", "reason": "other position"}
    if "statutes" in turn:
        return {"verdict": "violated", "quote": "pass new statutes", "reason": "commits to laws"}
    return {"verdict": "upheld", "quote": "not our laws", "reason": "regulations only"}


def run_eval(tmp_path: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys) -> dict:
    turns = tmp_path / "turns.jsonl"
    turns.write_text("\n".join(json.dumps(t) for t in TURNS) + "\n", encoding="utf-8")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    with pytest.raises(SystemExit) as done:
        main(["eval", "--turns", str(turns), "--pack", "us-china-2019",
              "--judge-model", "fake-model", "--json"])  # fmt: skip
    out = capsys.readouterr().out
    assert done.value.code == 0, out
    return json.loads(out)


def test_judge_verdicts_come_through_the_llm_layer(tmp_path, monkeypatch, capsys):
    with FakeOpenAI(responder=judge_reply) as fake:
        report = run_eval(tmp_path, fake, monkeypatch, capsys)
        judged = fake.chat_requests
    law = {
        t["index"]: [v for v in t["verdicts"] if v["entry"] == LAW_LINE] for t in report["turns"]
    }
    assert [v["verdict"] for v in law[0]] == ["violated"]
    assert law[0][0]["layer"] == "judge" and law[0][0]["quote"] == "pass new statutes"
    assert [v["verdict"] for v in law[1]] == ["upheld"]
    assert judged and all(r.body["temperature"] == 0 for r in judged)
    per_pair: dict[tuple[str, str], int] = {}
    for request in judged:
        prompt = request.body["messages"][-1]["content"]
        key = (re.search(r"^id: (\S+)$", prompt, re.MULTILINE).group(1), prompt.split("<turn ")[1])  # type: ignore[union-attr]
        per_pair[key] = per_pair.get(key, 0) + 1
    assert set(per_pair.values()) == {3}  # k = 3 samples for every (turn, entry) judged


def test_a_judge_quote_not_in_the_turn_is_not_trusted(tmp_path, monkeypatch, capsys):
    def inventing(body: dict[str, Any]) -> dict[str, Any]:
        reply = judge_reply(body)
        if reply["verdict"] == "violated":
            reply["quote"] = "we will rewrite every law"  # not in the turn
        return reply

    with FakeOpenAI(responder=inventing) as fake:
        report = run_eval(tmp_path, fake, monkeypatch, capsys)
    first = [v for v in report["turns"][0]["verdicts"] if v["entry"] == LAW_LINE]
    assert all(not (v["layer"] == "judge" and v["verdict"] == "violated") for v in first)
    assert report["run"]["unscored"] >= 1
