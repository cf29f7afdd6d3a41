"""The data a persona pack holds: the source, the position ledger, personas and scenarios.

Every model here is read from YAML on disk, so every model forbids unknown fields and checks
its own values where it is built. Cross-references between files (a persona holding a ledger
entry, a scenario naming a persona) are checked by `harness.pack.load`, which sees them all.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Side = Literal["us", "cn"]
SIDES: tuple[Side, ...] = ("us", "cn")

EntryKind = Literal["position", "red_line", "tactic", "belief", "fact"]
Stance = Literal["demand", "refuse", "offer", "accept", "prefer", "assert", "oppose"]
Severity = Literal["absolute", "strong"]
DelegationRole = Literal["principal", "lead_negotiator", "negotiator", "adviser", "spokesperson"]
Seat = Literal["table", "caucus", "principal"]
OutcomeResult = Literal["deal", "breakdown", "no_deal"]

MAX_QUOTE_WORDS = 25
MIN_RED_LINE_EXAMPLES = 3


class Strict(BaseModel):
    """Base for everything read from disk: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(Strict):
    """A verbatim quote from the source with its character offsets (Python str indices)."""

    quote: str = Field(min_length=1, description="Verbatim text from the source, <= 25 words.")
    start: int = Field(ge=0, description="Offset of the quote's first character in the source.")
    end: int = Field(gt=0, description="Offset one past the quote's last character.")

    @field_validator("quote")
    @classmethod
    def _short(cls, quote: str) -> str:
        words = len(quote.split())
        if words > MAX_QUOTE_WORDS:
            raise ValueError(f"quote has {words} words; keep evidence to {MAX_QUOTE_WORDS} at most")
        return quote

    @model_validator(mode="after")
    def _span(self) -> Evidence:
        if self.end - self.start != len(self.quote):
            raise ValueError(
                f"end - start is {self.end - self.start} but the quote has {len(self.quote)} "
                "characters; offsets must span exactly the quote"
            )
        return self


class Source(Strict):
    """The article a pack is built from. The text itself is not shipped, only its hash."""

    id: str
    title: str
    publication: str
    date: dt.date
    authors: list[str] = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: str = Field(description="File name to look for under ../shared/sources/.")


class LedgerEntry(Strict):
    """One documented position, red line, tactic, belief or fact, with its evidence."""

    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    holder: str = Field(description="A persona id, or a side: 'us' or 'cn'.")
    issue: str
    kind: EntryKind
    statement: str = Field(min_length=1, description="The entry in our own words.")
    stance: Stance
    severity: Severity | None = None
    evidence: list[Evidence] = Field(min_length=1)
    complies: list[str] = Field(default_factory=list, description="Sentences that keep to it.")
    violates: list[str] = Field(default_factory=list, description="Sentences that break it.")

    @model_validator(mode="after")
    def _red_line_rules(self) -> LedgerEntry:
        if self.kind == "red_line":
            if self.severity is None:
                raise ValueError("a red_line needs a severity ('absolute' or 'strong')")
            for name in ("complies", "violates"):
                if len(getattr(self, name)) < MIN_RED_LINE_EXAMPLES:
                    raise ValueError(
                        f"a red_line needs at least {MIN_RED_LINE_EXAMPLES} '{name}' examples"
                    )
        elif self.severity is not None:
            raise ValueError("only a red_line takes a severity")
        return self

    @property
    def side(self) -> Side | None:
        """The side when the holder is a side; persona holders are resolved by the pack."""
        return self.holder if self.holder in SIDES else None  # type: ignore[return-value]


class Claim(Strict):
    """A factual statement about a persona, citing the ledger entries that ground it."""

    text: str = Field(min_length=1)
    cites: list[str] = Field(min_length=1, description="Ledger entry ids with the evidence.")


class Persona(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    title: str
    side: Side
    role: DelegationRole
    background: list[Claim] = Field(default_factory=list)
    goals: list[str] = Field(min_length=1)
    voice: list[str] = Field(min_length=1, description="Voice and style notes for the prompt.")
    holds: list[str] = Field(default_factory=list, description="Ledger entry ids it holds.")
    private_knowledge: list[Claim] = Field(default_factory=list)


class Participant(Strict):
    """A persona's seat in a scenario: at the table, in its side's caucus only, or principal."""

    persona: str
    seat: Seat


class ScriptedEvent(Strict):
    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    round: int = Field(ge=1)
    text: str = Field(min_length=1)
    audience: Literal["public", "us", "cn"] = "public"
    cites: list[str] = Field(default_factory=list, description="Ledger entry ids grounding it.")


class TurnPolicy(Strict):
    """How code (never an LLM) orders the turns of a round."""

    first_side: Side = "us"
    caucus: bool = True
    principals_in_caucus: bool = False
    principal_interventions: bool = True
    table_passes: int = Field(default=1, ge=1, description="Times each table seat speaks a round.")


class DocumentedOutcome(Strict):
    """What the source says happened, for comparison with a simulated run."""

    result: OutcomeResult | None = None
    talks_continue: bool | None = None
    decision: str | None = None
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)


class Scenario(Strict):
    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    title: str
    date: dt.date
    setting: str
    participants: list[Participant] = Field(min_length=1)
    agenda: list[str] = Field(min_length=1)
    public_context: str
    private_briefs: dict[Side, str]
    events: list[ScriptedEvent] = Field(default_factory=list)
    max_rounds: int = Field(ge=1, le=200)
    turn_policy: TurnPolicy = TurnPolicy()
    documented_outcome: DocumentedOutcome | None = None

    @field_validator("agenda")
    @classmethod
    def _unique_agenda(cls, agenda: list[str]) -> list[str]:
        if len(set(agenda)) != len(agenda):
            raise ValueError("agenda lists an issue twice")
        return agenda

    @model_validator(mode="after")
    def _seated_once(self) -> Scenario:
        ids = [p.persona for p in self.participants]
        if len(set(ids)) != len(ids):
            raise ValueError("a persona is seated twice in participants")
        if not any(p.seat == "table" for p in self.participants):
            raise ValueError("participants need at least one 'table' seat")
        return self


class PackManifest(Strict):
    """`pack.yaml`: the pack's id, its source, its issue keys and where the ledger lives."""

    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    title: str
    source: Source
    issues: dict[str, str] = Field(min_length=1, description="Issue key -> what it covers.")
    ledger: list[LedgerEntry] | str = Field(
        description="The ledger inline, or a file name next to pack.yaml (e.g. ledger.yaml)."
    )


class Ledger(Strict):
    entries: list[LedgerEntry] = Field(min_length=1)


class PersonaPack(Strict):
    """A loaded, cross-checked pack. Build it with `harness.pack.load.load_pack`."""

    id: str
    title: str
    root: str = Field(description="Folder the pack was loaded from.")
    source: Source
    issues: dict[str, str]
    ledger: list[LedgerEntry]
    personas: dict[str, Persona]
    scenarios: dict[str, Scenario]
    content_hash: str = Field(description="SHA-256 over the pack's files, for provenance.")

    def entry(self, entry_id: str) -> LedgerEntry:
        for item in self.ledger:
            if item.id == entry_id:
                return item
        raise KeyError(entry_id)

    def side_of(self, holder: str) -> Side:
        """The side of a ledger holder: the side itself, or the persona's side."""
        if holder in SIDES:
            return holder  # type: ignore[return-value]
        return self.personas[holder].side

    def entries_for(self, persona_id: str) -> list[LedgerEntry]:
        """Entries a persona is bound by: those it holds and those held by its whole side."""
        persona = self.personas[persona_id]
        held = set(persona.holds)
        return [e for e in self.ledger if e.id in held or e.holder in (persona.id, persona.side)]

    def red_lines(self, side: Side | None = None) -> list[LedgerEntry]:
        return [
            e
            for e in self.ledger
            if e.kind == "red_line" and (side is None or self.side_of(e.holder) == side)
        ]
