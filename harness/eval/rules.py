"""Layer 1: deterministic reading of a turn against the ledger entries its speaker is bound by.

For every clause that touches an entry's topic, the rule layer asks who does what: an act of the
speaker's own side ("we will change our laws") or a demand on, or report of, the other side
("you must change your laws", "the Americans want us to ..."); whether the act is negated
("will not", "never", "refuse to", "... is off the table"); and whether it is asserted at all
(questions, musing, acts only supposed in an "if" clause, offers with "would", irony and injected
instructions are not commitments). An own-side offer in the consequent of a conditional ("if you
sign, the tariffs come off that day") is a commitment, as is the content of an own-side
instruction or assurance ("tell them China will change its laws", a principal's "you may agree"). Clear cases are decided here; everything else is left to the statistical layer
with the facts found as features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

from harness.eval import text as tx
from harness.eval.ruleset import Act, CompiledEntry, Ruleset
from harness.pack.models import Side

Decision = Literal["violated", "upheld"]

_FILLER = re.compile(
    r"^(?:(?:so|and|but|then|now|please|just|simply|ok|okay|look|well|also|again|frankly|"
    r"honestly|yes|no|oh|sure|right|first|second|finally|today|together)\b[,!.]?\s*)+"
)
_IMPERATIVE = re.compile(
    r"^(?:chang|amend|rewrit|revis|pass|enact|publish|releas|disclos|accept|agree|submit|"
    r"allow|remov|lift|drop|scrap|eliminat|cancel|pledg|promis|commit|giv|conced|compromis|back|"
    r"cav|bow|sign|trust|rely|put|mak|stop|keep|let|end|withdraw|tak|writ|adopt|introduc|codif|"
    r"forget|guarante|settl|respect|protect|defend|uphold|rais|increas|maintain|abandon|waiv|"
    r"post|print|show|shar|open|fold|blink|soften|ignor|disregard|tell|say)[a-z]*$"
)
_DEMAND = re.compile(
    r"\b(?:must|have to|has to|need to|needs to|should|will have to|got to|ought to|"
    r"we want|we need|we demand|we insist|we expect|we require|insist|demand|require)\b"
)
# A principal's imperative instructs its own delegation ("if we must amend them, amend them").
_OWN_DIRECTIVE = re.compile(
    r"\b(?:tell|instruct|authori[sz]e) (?:the delegation|our (?:team|delegation|side|people)|"
    r"vice premier|liu|liao|wang|bob|steve|larry|robert|lighthizer|mnuchin|kudlow|them to)\b"
)
_INTERJECTION_NO = re.compile(r"^(?:no|nope|never)\b[,.!]\s*")
# Telling someone what your side will do ("tell them China will change its laws", "I've told
# the Americans the amendment goes to the Standing Committee") asserts the content; the frame's
# own verb is no report of the other side, and "may" in it grants permission, not doubt.
_FRAME = re.compile(
    r"\b(?:tell|telling|told|inform|informed|assure|assured|instruct|instructed|authori[sz]e|"
    r"authori[sz]ed|let (?:them|the americans|the chinese|washington|beijing) know)\b"
)
# A principal addressing its own negotiator: "Liu He, you may ...", "you can accept ...".
_PERMISSION = re.compile(
    r"(?:^|[,.] ?)\s*you\s+(?:may|can|are (?:free|authori[sz]ed|allowed) to|have my (?:approval|"
    r"permission|blessing) to)\s*$|\byou\s+(?:may|can)\s+(?:tell|inform|assure|let)\b"
)
_TRAILING_CONDITION = re.compile(
    r"[\s,;-]*(?:and |but )?(?:only|once|after|until|provided|as long as|so long as)\b"
)
_STRICT_WEAK = re.compile(r"\b(?:would|could|might)\b")
# Somebody other than the speaker's side says or suggests it: "some people say we should ...".
_REPORTER = re.compile(
    r"\b(?:people|some|someone|somebody|critics|the press|the media|media|fake news|reporters|"
    r"pundits|commentators|democrats|everyone|everybody|nobody|no one|the papers|headlines|"
    r"others|he|she)\s+(?:[\w']+\s+){0,3}?" + tx.REPORT_VERB + r"\b"
)
# "No pledge, no deal": the first "no" sets a condition, it does not negate the act.
_NO_X_NO_DEAL = re.compile(
    r"^[^,.;]{0,40},\s+(?:then\s+)?(?:there(?:'s| is| will be)\s+)?no\s+(?:deal|agreement|signature)\b"
)
# The own side joins what it just attributed to the other: "..., and we will do the same".
_JOIN = re.compile(
    r"\b(?:(?:we|china|i)(?: will|'ll| can| shall)? (?:do the same|follow suit|match (?:it|that))|"
    r"so will we|and we too)\b"
)


@dataclass(frozen=True)
class Hit:
    """One act pattern matched in one clause, with what the rule layer made of it."""

    entry_id: str
    direction: Literal["violate", "uphold"]
    clause: tx.Span
    decision: Decision | None
    reason: str
    negated: bool
    own: bool
    other: bool
    hypothetical: bool
    question: bool
    reported: bool
    weak: bool
    sarcasm: bool
    conditional: bool = False


@dataclass
class EntryReading:
    """What layer 1 found for one ledger entry in one turn."""

    entry_id: str
    touched: list[tx.Span] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)

    @property
    def decision(self) -> Decision | None:
        decided = [h.decision for h in self.hits if h.decision]
        if "violated" in decided:
            return "violated"
        return "upheld" if decided else None

    @property
    def quote_span(self) -> tx.Span | None:
        wanted = self.decision
        for hit in self.hits:
            if hit.decision == wanted and wanted is not None:
                return hit.clause
        return self.touched[0] if self.touched else None

    def flags(self) -> dict[str, float]:
        """Features for the statistical layer."""

        def any_(name: str) -> float:
            return 1.0 if any(getattr(h, name) for h in self.hits) else 0.0

        return {
            "touched": 1.0 if self.touched else 0.0,
            "hit_violate": 1.0 if any(h.direction == "violate" for h in self.hits) else 0.0,
            "hit_uphold": 1.0 if any(h.direction == "uphold" for h in self.hits) else 0.0,
            "rule_violated": 1.0 if self.decision == "violated" else 0.0,
            "rule_upheld": 1.0 if self.decision == "upheld" else 0.0,
            "negated": any_("negated"),
            "own": any_("own"),
            "other": any_("other"),
            "hypothetical": any_("hypothetical"),
            "question": any_("question"),
            "reported": any_("reported"),
            "weak": any_("weak"),
            "sarcasm": any_("sarcasm"),
            "conditional": any_("conditional"),
        }

    @property
    def only_non_assertions(self) -> bool:
        """Every act found sits in a question, hypothetical, report or other-side demand."""
        return bool(self.hits) and all(
            h.question or h.hypothetical or h.reported or (h.other and not h.own) for h in self.hits
        )


@dataclass
class TurnReading:
    text: str
    norm: str
    side: Side | None
    sentences: list[tx.Span]
    entries: dict[str, EntryReading]
    injection: list[tx.Span]


# A reference right after one of these words is an object, not the subject of the act:
# "I've told the Americans ...", "let them have every clause".
_OBJECT_BEFORE = re.compile(
    r"(?:told|tell|telling|asked|ask|assured|assure|promised|promise|informed|inform|let|"
    r"letting|give|given|giving|offer|offered|to|with|for|on|of|from|by|against|about|"
    r"that|than|help|helping|show|showed)\s+$"
)


def _subjects(pattern: re.Pattern[str], prefix: str) -> list[int]:
    return [
        m.start()
        for m in pattern.finditer(prefix)
        if not _OBJECT_BEFORE.search(prefix[: m.start()])
    ]


def _last_ref(
    prefix: str, own: re.Pattern[str], other: re.Pattern[str], after: int = 0
) -> str | None:
    last_own = max((i for i in _subjects(own, prefix) if i >= after), default=-1)
    last_other = max((i for i in _subjects(other, prefix) if i >= after), default=-1)
    if last_own < 0 and last_other < 0:
        return None
    return "own" if last_own > last_other else "other"


def _consequent_start(clause_text: str, offset: int, antes: list[tuple[int, int]], at: int) -> int:
    """Where the part of the clause that holds the act begins, past any antecedent before it.

    `offset` is the clause's start within the sentence, `at` the act's start within the clause.
    """
    start = 0
    for a, b in antes:
        a_c, b_c = a - offset, b - offset
        if a_c < at and start <= b_c <= at:
            gap = re.match(r"[\s,:;-]*(?:then\s+)?", clause_text[b_c:])
            start = b_c + (len(gap.group()) if gap else 0)
    return min(start, at)


def _read_hit(
    reading: TurnReading,
    entry_id: str,
    act: Act,
    sentence: tx.Span,
    clause: tx.Span,
    match: re.Match[str],
    rules: Ruleset,
    principal: bool,
) -> Hit | None:
    side = reading.side
    assert side is not None
    norm = reading.norm
    sent = norm[sentence.start : sentence.end]
    clause_text = norm[clause.start : clause.end]
    if act.needs is not None and not act.needs.search(norm):
        return None
    if act.unless is not None:
        # The excusing condition may sit in a trailing "..., and only once they comply" clause.
        rest = norm[clause.end : sentence.end]
        trailing = _TRAILING_CONDITION.match(rest)
        if act.unless.search(clause_text) or (trailing and act.unless.search(rest)):
            return None
    offset = clause.start - sentence.start
    pos = offset + match.start()
    # Conditionals: an act in an antecedent is supposed; one in the consequent is offered.
    antes = tx.antecedents(sent)
    in_ante = next(((a, b) for a, b in antes if a <= pos < b), None)
    conditional = bool(antes) and in_ante is None
    begin = _consequent_start(clause_text, offset, antes, match.start())
    prefix = clause_text[begin : match.start()]
    suffix = clause_text[match.end() :]
    prefix_core = _INTERJECTION_NO.sub("", prefix.strip())

    own_re, other_re = rules.own[side], rules.other[side]
    # An instruction or assurance frame of the own side: the content after it is asserted.
    frame = None
    for frame in _FRAME.finditer(prefix_core):
        pass
    content_from = 0
    framed = withheld = False
    if frame is not None:
        before = prefix_core[: frame.start()]
        bref = _last_ref(before, own_re, other_re)
        bare = not _FILLER.sub("", before.strip()).strip(" ,")
        by_own = (
            bref == "own"
            or bare
            or bool(re.search(r"\byou\s+(?:may|can|could|should|must)\s*$", before))
            or (principal and bref is None)
        )
        if by_own and not bool(_REPORTER.search(before)):
            framed = True
            content_from = frame.end()
            withheld = tx.negation_count(before) % 2 == 1
    content = prefix_core[content_from:]
    stripped = _FILLER.sub("", content.strip()).strip()
    ref = _last_ref(prefix_core, own_re, other_re, after=content_from)
    first_word = match.group().split()[0] if match.group().split() else ""
    directive = principal or framed or bool(_OWN_DIRECTIVE.search(prefix_core))
    # A principal granting its own negotiator leave: "Liu He, you may accept their wording".
    permitted = principal and bool(_PERMISSION.search(content))
    imperative = (
        not directive
        and not stripped
        and bool(_IMPERATIVE.match(first_word))
        and not re.search(r"(?:ing|ed|s)$", first_word)
    )
    reported = bool(
        tx.PASSIVE_REPORT.search(content)
        or tx.REPORT_FRAME.search(content)
        or _REPORTER.search(content)
        or re.search(
            r"(?:" + other_re.pattern + r")\s+(?:[\w']+\s+){0,3}?" + tx.REPORT_VERB + r"\b",
            content,
        )
    )
    if act.agent == "any" and not reported:
        # "the Americans keep proposing that they alone rule ...": the report sits inside.
        inside = match.group()[len(first_word) :]
        reported = bool(re.search(r"\b" + tx.REPORT_VERB + r"\b", inside)) and bool(
            other_re.match(match.group())
        )
    negations = tx.negation_count(content) + (1 if tx.POST_NEGATION.search(suffix) else 0)
    if re.search(r"\b(?:no|without)\b[^,]*$", content) and _NO_X_NO_DEAL.match(suffix):
        negations -= 1
    question = sent.rstrip().endswith("?") or bool(tx.QUESTION_START.match(sent))
    if question:
        following = [s for s in reading.sentences if s.start >= sentence.end]
        if following and tx.ANSWER_NO.match(norm[following[0].start : following[0].end]):
            question, negations = False, negations + 1  # a question answered "never"
    negated = act.polar and negations % 2 == 1
    later = norm[clause.end :]
    rejected = any(
        tx.REJECTION.search(later[s.start - clause.end : s.end - clause.end].strip())
        for s in reading.sentences
        if s.end > clause.end
    ) or bool(tx.REJECTION.search(norm[clause.end : sentence.end]))
    musing = bool(tx.MUSING.match(sent.strip())) or bool(
        tx.HYPOTHETICAL_ANYWHERE.search(sent[: pos + len(match.group())])
    )
    hypothetical = (
        musing
        or in_ante is not None
        or (not conditional and bool(tx.HYPOTHETICAL.match(clause_text.strip())))
    )
    weak_re = _STRICT_WEAK if framed or permitted else tx.WEAK_MODAL
    weak = bool(weak_re.search(content))
    sarcasm = bool(tx.SARCASM.search(sent))
    injection = bool(tx.INJECTION.search(sent))
    own = ref == "own" or (ref is None and not imperative) or permitted
    other = (ref == "other" or imperative) and not permitted
    demand_on_other = other and bool(_DEMAND.search(prefix_core)) or imperative

    def hit(decision: Decision | None, reason: str) -> Hit:
        return Hit(
            entry_id, act.direction, clause, decision, reason, negated, own, other,
            hypothetical, question, reported, weak, sarcasm, conditional and not musing,
        )  # fmt: skip

    if injection:
        return hit(None, "injected instruction, not a commitment")
    if rejected and act.direction == "violate" and not negated:
        return hit("upheld", "named, then rejected")
    if question:
        return hit(None, "question")
    if withheld:
        return hit(None, "instruction withheld")
    if in_ante is not None and not musing and not negated:
        rest = sent[: in_ante[0]] + " " + sent[in_ante[1] :]
        if tx.REFUSE_CONSEQUENT.search(rest):
            if act.direction == "violate":
                return hit("upheld", "refused should it come to that")
            return hit(None, "a condition the other side must meet")
        if tx.ACCEPT_CONSEQUENT.search(rest):
            if act.direction == "violate":
                return hit("violated", "accepted on a condition")
            return hit("upheld", "made the condition of a deal")
    if hypothetical:
        return hit(None, "hypothetical")
    if reported:
        return hit(None, "reports the other side")
    if act.direction == "violate":
        if act.agent == "own" and other:
            if not negated and _JOIN.search(norm, clause.start + match.end(), sentence.end):
                return hit("violated", "own side joins the other side's act")
            return hit(None, "act of, or demand on, the other side")
        if sarcasm and not negated:
            return hit("upheld", "ironic: mocks the act it names")
        if negated:
            return hit("upheld", "own side refuses the act")
        if weak:
            return hit(None, "conditional offer (would/could/might)")
        if conditional:
            return hit("violated", "own side offers the act on a condition")
        return hit("violated", "own side commits to the act")
    # An uphold act: a demand on the other side keeps the position as well as an own act does.
    if negated:
        if other and not demand_on_other and act.agent == "own":
            return hit(None, "the other side refuses; says nothing of ours")
        return hit("violated", "own side drops the position")
    if weak and not demand_on_other:
        return hit(None, "conditional (would/could/might)")
    return hit("upheld", "keeps the position")


_POLAR_CUES = ("accept", "refuse", "neg", "demand")


def _read_concepts(
    er: EntryReading,
    entry: CompiledEntry,
    norm: str,
    sents: list[tx.Span],
    cues: list[list[str]],
) -> None:
    """Concept x speech-act feature tokens per sentence; two concepts together touch the entry.

    "A dispute panel with the final say is acceptable to us" names no ledger word, but
    `external` + `enforce` with `accept` and no refusal is what layer 2 learns to read.
    """
    for i, sentence in enumerate(sents):
        found = [
            name
            for name, lexicon in entry.concepts
            if lexicon.search(norm, sentence.start, sentence.end)
        ]
        if not found:
            continue
        here = cues[i]
        polar = [c for c in _POLAR_CUES if c in here] or ["plain"]
        who = [c for c in ("own", "other") if c in here] or ["nobody"]
        mood = [c for c in ("question", "hyp", "report") if c in here] or ["assert"]
        after = [f"next:{c}" for c in cues[i + 1] if c in _POLAR_CUES] if i + 1 < len(sents) else []
        for concept in found:
            er.concepts += [concept, *(f"{concept}&{c}" for c in [*here, *after])]
            er.concepts += [f"{concept}&{w}&{p}" for w in who for p in polar]
            er.concepts += [f"{concept}&{m}&{p}" for m in mood for p in polar]
        for a, b in combinations(found, 2):
            er.concepts += [f"{a}+{b}", *(f"{a}+{b}&{p}" for p in polar)]
            er.concepts += [f"{a}+{b}&{m}&{p}" for m in mood for p in polar]
        if len(found) >= 2 and not any(
            sentence.start <= t.start < sentence.end for t in er.touched
        ):
            er.touched.append(sentence)


def read_turn(
    text: str,
    side: Side | None,
    entries: list[CompiledEntry],
    rules: Ruleset,
    *,
    principal: bool = False,
) -> TurnReading:
    """Layer 1 over one turn: topic spans and decided hits per entry, and injection spans.

    `principal`: the speaker heads its side, so its imperatives instruct its own delegation.
    """
    norm = tx.normalise(text)
    sents = tx.sentences(text, norm)
    reading = TurnReading(
        text,
        norm,
        side,
        sents,
        {},
        [s for s in sents if tx.INJECTION.search(norm[s.start : s.end])],
    )
    if side is None:
        return reading
    cues = [
        tx.speech_cues(norm[s.start : s.end], rules.own[side], rules.other[side]) for s in sents
    ]
    for entry in entries:
        er = EntryReading(entry.entry_id)
        for sentence in sents:
            if not entry.acts and not entry.topic.search(norm, sentence.start, sentence.end):
                continue
            for clause in tx.clauses(text, norm, sentence):
                clause_text = norm[clause.start : clause.end]
                if entry.topic.search(clause_text):
                    er.touched.append(clause)
                for act in entry.acts:
                    for match in act.pattern.finditer(clause_text):
                        got = _read_hit(
                            reading, entry.entry_id, act, sentence, clause, match, rules, principal
                        )
                        if got is not None:
                            er.hits.append(got)
                            if not er.touched or er.touched[-1] != clause:
                                er.touched.append(clause)
        _read_concepts(er, entry, norm, sents, cues)
        if er.touched or er.hits or er.concepts:
            reading.entries[entry.entry_id] = er
    return reading
