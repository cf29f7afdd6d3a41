"""A puppet model: plays scripted moves through the real graph, no endpoint needed.

Like Concordia's puppet configuration, it lets a test drive a whole negotiation to a chosen
ending (deal, walk-out, max rounds) and inspect every prompt each speaker received.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from harness.llm.types import CallRecord, CallResult, ChatMessage, Usage
from harness.transcript.model import RoleModel


@dataclass
class Cue:
    """What the puppet knows when it must speak."""

    persona: str
    side: str
    round: int
    phase: str
    messages: list[ChatMessage]
    schema: str


Script = Callable[[Cue], dict[str, Any]]


def default_script(cue: Cue) -> dict[str, Any]:
    """Everyone holds on everything, politely: a run that ends with no deal."""
    reply: dict[str, Any] = {
        "utterance": f"{cue.persona} holds firm in round {cue.round} ({cue.phase}).",
        "stances": [],
        "rationale": f"private reasoning of {cue.persona} in round {cue.round}",
    }
    if cue.schema == "PrincipalReply":
        reply["kind"] = "directive"
    else:
        reply["action"] = None
    return reply


def _round_and_phase(messages: list[ChatMessage]) -> tuple[int, str]:
    user = messages[-1].content
    round_no = int(user.split("\nRound ", 1)[1].split(" ", 1)[0])
    if "private caucus" in user:
        phase = "caucus"
    elif "off the table as your side's principal" in user:
        phase = "principal"
    else:
        phase = "table"
    return round_no, phase


@dataclass
class PuppetChat:
    persona: str
    side: str
    owner: PuppetModels

    async def structured(
        self,
        messages: list[ChatMessage],
        schema: type[BaseModel],
        *,
        tag: str,
        temperature: float = 0.7,
        seed: int | None = None,
        max_tokens: int | None = None,
    ) -> CallResult:
        round_no, phase = _round_and_phase(messages)
        cue = Cue(self.persona, self.side, round_no, phase, messages, schema.__name__)
        self.owner.cues.append(cue)
        if self.owner.fail_after is not None and len(self.owner.cues) > self.owner.fail_after:
            raise self.owner.failure  # type: ignore[misc]
        value = schema.model_validate(self.owner.script(cue))
        record = CallRecord(
            endpoint="puppet://",
            model="puppet",
            mode="json_schema",
            usage=Usage(
                prompt_tokens=sum(len(m.content) for m in messages) // 4, completion_tokens=20
            ),
        )
        return CallResult(value=value, record=record)


@dataclass
class PuppetModels:
    """SpeakerModels for tests: every speaker is a puppet following `script`."""

    script: Script = default_script
    cues: list[Cue] = field(default_factory=list)
    fail_after: int | None = None
    failure: Exception | None = None

    def for_speaker(self, persona_id: str, side: str) -> PuppetChat:
        return PuppetChat(persona_id, side, self)

    def roles(self) -> list[RoleModel]:
        return [RoleModel(role="default", model="puppet", endpoint="puppet://")]

    def prompts_of(self, persona: str) -> list[str]:
        return [
            "\n".join(m.content for m in cue.messages)
            for cue in self.cues
            if cue.persona == persona
        ]
