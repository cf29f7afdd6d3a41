"""Layer 3: an LLM judge through the StructuredChat interface, when a judge model is configured.

For each turn it re-reads every red line the speaker is bound by, and every position the
offline layers found touched, against a rubric built from the ledger entry (statement, evidence,
complies/violates examples, in an order shuffled by a seeded RNG so that the judge cannot lean
on position). It asks k times at temperature 0 and takes the majority. A sample whose call
fails, whose reply does not validate, or whose quote is not a verbatim substring of the turn is
unscored; when no verdict has a majority of the scored samples the verdict is `ambiguous`,
never a silent default.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import ImpasseError
from harness.eval.model import TurnVerdicts, Verdict
from harness.llm.types import ChatMessage, StructuredChat
from harness.pack.models import LedgerEntry, PersonaPack
from harness.prompts import render, template_text

if TYPE_CHECKING:
    from harness.eval.evaluate import TurnInput

TEMPLATE = "judge_entry"
JUDGE_VERSION = "1"


class JudgeReply(BaseModel):
    """What the judge model returns for one (turn, ledger entry)."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["upheld", "violated", "not_addressed", "ambiguous"]
    quote: str = Field(default="", description="Verbatim span of the turn supporting the verdict.")
    reason: str = Field(default="", description="One sentence.")


def prompt_hash() -> str:
    """SHA-256 of the judge template and version, recorded in every evaluation."""
    text = f"{JUDGE_VERSION}\n{template_text(TEMPLATE)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _examples(entry: LedgerEntry, rng: random.Random) -> str:
    lines = [f'- source evidence: "{e.quote}"' for e in entry.evidence]
    lines += [f'- keeps to it: "{c}"' for c in entry.complies]
    lines += [f'- breaks it: "{v}"' for v in entry.violates]
    rng.shuffle(lines)
    return "\n".join(lines)


def build_messages(
    pack: PersonaPack, entry: LedgerEntry, speaker: str, turn: str, *, seed: int
) -> list[ChatMessage]:
    """The judge prompt for one (turn, entry); `seed` fixes the evidence order."""
    rng = random.Random(f"{seed}:{entry.id}")
    body = render(
        TEMPLATE,
        entry_id=entry.id,
        side=pack.side_of(entry.holder),
        kind=entry.kind,
        issue=entry.issue,
        statement=entry.statement,
        examples=_examples(entry, rng),
        speaker=speaker,
        speaker_side=pack.personas[speaker].side,
        turn=turn,
    )
    return [ChatMessage(role="user", content=body)]


def majority(replies: Sequence[JudgeReply | None], text: str) -> tuple[JudgeReply | None, int, int]:
    """The reply a strict majority of all k samples agrees on (among scored samples), the
    number of samples agreeing, and the number of unscored samples.

    A reply is scored only if its quote is a verbatim substring of the turn (an empty quote is
    accepted only for `not_addressed`).
    """
    scored: list[JudgeReply] = []
    for reply in replies:
        if reply is None:
            continue
        quote = reply.quote.strip()
        if (quote and quote in text) or (not quote and reply.verdict == "not_addressed"):
            scored.append(reply)
    unscored = len(replies) - len(scored)
    if not scored:
        return None, 0, unscored
    label, count = Counter(r.verdict for r in scored).most_common(1)[0]
    if count * 2 <= len(replies):
        return None, count, unscored
    return next(r for r in scored if r.verdict == label), count, unscored


class Judge:
    def __init__(
        self, chat: StructuredChat, pack: PersonaPack, *, k: int = 3, seed: int = 0
    ) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.chat, self.pack, self.k, self.seed = chat, pack, k, seed

    async def _sample(self, messages: list[ChatMessage], sample: int) -> JudgeReply | None:
        try:
            result = await self.chat.structured(
                messages, JudgeReply, tag="judge", temperature=0.0, seed=self.seed + sample
            )
        except ImpasseError:  # the LLM layer's typed errors: unscored, not a default
            return None
        return result.value

    async def judge_entry(
        self, entry: LedgerEntry, turn: TurnInput, offline: Verdict | None
    ) -> Verdict | None:
        replies = await asyncio.gather(
            *(
                self._sample(
                    build_messages(
                        self.pack, entry, turn.speaker, turn.text,
                        seed=self.seed * 1000 + turn.index * 10 + i,
                    ),
                    i,
                )
                for i in range(self.k)
            )
        )  # fmt: skip
        winner, agree, _ = majority(replies, turn.text)
        red_line = entry.kind == "red_line"
        if winner is None:
            return Verdict(
                issue=entry.issue, entry=entry.id, verdict="ambiguous", confidence=0.0,
                quote=offline.quote if offline else "", evidence=entry.evidence[0].quote,
                layer="judge", red_line=red_line,
            )  # fmt: skip
        if winner.verdict == "not_addressed" and offline is None:
            return None
        label = winner.verdict
        if label == "violated" and not red_line:
            label = "conceded"  # type: ignore[assignment]
        return Verdict(
            issue=entry.issue,
            entry=entry.id,
            verdict=label,  # type: ignore[arg-type]
            confidence=round(agree / self.k, 3),
            quote=winner.quote.strip() or (offline.quote if offline else ""),
            evidence=entry.evidence[0].quote,
            layer="judge",
            red_line=red_line,
        )

    async def review(
        self, turns: Sequence[TurnInput], offline: Sequence[TurnVerdicts]
    ) -> list[TurnVerdicts]:
        """Judge every red line of each speaker and every position the offline layers saw."""

        async def one(turn: TurnInput, found: TurnVerdicts) -> TurnVerdicts:
            known = {v.entry: v for v in found.verdicts}
            wanted = [
                e
                for e in self.pack.entries_for(turn.speaker)
                if e.kind == "red_line" or e.id in known
            ]
            judged = await asyncio.gather(
                *(self.judge_entry(e, turn, known.get(e.id)) for e in wanted)
            )
            verdicts = [v for v in judged if v is not None]
            if found.injection_quote:
                verdicts = [v.model_copy(update={"injection": True}) for v in verdicts]
            return found.model_copy(update={"verdicts": verdicts})

        return list(await asyncio.gather(*(one(t, f) for t, f in zip(turns, offline, strict=True))))
