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

import functools
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
# "Publishing the full text, with ..., would not be acceptable": an act named as the subject of
# a verdict later in its sentence is refused by it, however long the subject runs.
_VERDICT_LATER = re.compile(
    r"^[^.;!?]*?\b(?:would|will|could|can|is|are)(?: not|n't| never) (?:be )?(?:acceptable|possible|"
    r"accepted|agreed to)\b|^[^.;!?]*?\b(?:is|are|would be|will be) (?:unacceptable|impossible|out "
    r"of the question|off the table)\b"
)
# "Without a pledge that China will not respond, the review is an invitation to a trade war":
# a sentence-initial "without X," sets X as a condition; it does not negate X.
_WITHOUT_CONDITION = re.compile(r"^(?:and |but |because )?without\b")
# A report about the own side, confirmed: "Reports that we dropped it are right.", "That's true."
_CONFIRMS = re.compile(
    r"\b(?:(?:is|are) (?:right|true|accurate|correct)|(?:that's|that is|it's|it is) (?:right|true|"
    r"accurate|correct))\b"
)


_CONFIRMS_NEXT = re.compile(
    r"^(?:yes, )?(?:that's|that is|it's|it is|this is) (?:right|true|accurate|correct)\b"
)


def _sentences_after(reading: TurnReading, sentence: tx.Span, n: int) -> list[str]:
    """The normalised text of up to `n` sentences after `sentence` (spans come trimmed)."""
    after = [s for s in reading.sentences if s.start >= sentence.end][:n]
    return [reading.norm[s.start : s.end] for s in after]


def _report_confirmed(reading: TurnReading, sentence: tx.Span, act_end: int) -> bool:
    """The speaker confirms the report, after the act in its sentence or at the start of the
    next one, with no negation ("... are right", not "... are not right")."""
    tail = reading.norm[act_end : sentence.end]
    nxt = next(iter(_sentences_after(reading, sentence, 1)), "")
    here = _CONFIRMS.search(tail) is not None and tx.negation_count(tail) == 0
    then = _CONFIRMS_NEXT.match(nxt) is not None and tx.negation_count(nxt) == 0
    return here or then


_ADDRESSEE_THAT = re.compile(r"(?:\s+(?!that\b)[\w.'-]+){1,6}?\s+that\b")
_LEADING_CONDITION = re.compile(
    r"^(?:[\w,']+\s+){0,3}?(?:once|after|only after|only when|when|if|only if|as soon as|provided)\b"
)
_STRICT_WEAK = re.compile(r"\b(?:would|could|might)\b")
_POSSESSOR = re.compile(r"(?:^|\s)((?:our|my|your|their)|[\w.]+'s)\s*$")
# "Amending the law would take two years": an act named as the subject of a would/could/might
# sentence is weighed, not offered.
_WEIGHED = re.compile(r"^[^.;:]{0,40}?\b(?:would|could|might)\b")
# Somebody other than the speaker's side says or suggests it: "some people say we should ...".
_REPORTER = re.compile(
    r"\b(?:people|some|someone|somebody|critics|the press|the media|media|fake news|reporters|"
    r"pundits|commentators|democrats|everyone|everybody|nobody|no one|the papers|headlines|"
    r"(?:the|a) (?:[\w-]+ ){0,2}?(?:newspaper|paper|article|story|news report)|"
    r"others|he|she|anybody|anyone)\s+(?:[\w']+\s+){0,3}?" + tx.REPORT_VERB + r"\b"
)
# "No pledge, no deal": the first "no" sets a condition, it does not negate the act.
_NO_X_NO_DEAL = re.compile(
    r"^[^,.;]{0,40}?(?:,\s+|\s+)(?:then\s+)?(?:there(?:'s| is| will be)\s+)?no\s+"
    r"(?:deal|agreement|signature)\b"
)
# Scope of negation (generic rules of English, not of any turn):
# - a determiner "no"/"without" scopes over its own noun phrase only, so one that a comma
#   closes does not reach the act after it ("no full text, no outside referee");
_CLOSED_NO = re.compile(r"\b(?:no|without)\b[^,;:]*[,;:]")
# - "there is no difficulty in committing that ...", "we have no problem with ...": a "no" that
#   denies an obstacle to the act assents to it;
_NO_OBSTACLE = re.compile(
    r"\b(?:no|little|nothing but)\s+(?:real\s+|great\s+|particular\s+)?(?:difficulty|"
    r"difficulties|problem|problems|obstacle|obstacles|objection|harm|hesitation|trouble)\s+"
    r"(?:in|with|about)\b|\bno\s+objections?\s+to\b|"
    # "we will not stand in the way of ...": declining to obstruct allows
    r"\b(?:will not|won't|would not|wouldn't|do not|don't|does not|doesn't|not|never|no longer) "
    r"(?:stand|get|be) in (?:the|its|their|your) way(?: of)?\b"
)
# - a negated verb of giving up applied to a position keeps it ("we are not dropping the
#   pledge"): for an uphold act the abandonment itself is one more negation;
_ABANDON_BEFORE = re.compile(
    r"\b(?:drop|abandon|giv(?:e|ing|en) up|gave up|forg[oe]|waiv|scrap|soften|relax|trad(?:e|ing) "
    r"away|bargain(?:ing)? away|sacrific|shelv|budg|back(?:ing)? (?:off|away from|down on)|"
    r"walk(?:ing)? back|let(?:ting)? go of|surrender|concede|conceding|compromis(?:e|ing) on|"
    r"mov(?:e|ed|ing) (?:past|beyond|on from)|"
    r"remov|strik(?:e|ing)|delet)\w*(?:\s+on)?(?:\s+[\w'-]+){0,2}"
    # "drop the demand that China ...", "give up our insistence on ..."
    r"(?:\s+(?:demand|request|insistence|requirement|condition|call)s?\s+(?:that|for|on)"
    r"(?:\s+(?:they|china|beijing|you|the chinese|your side))?)?\s*$"
)
# - "never been tougher", "couldn't be firmer": a negated comparative of superiority asserts;
_NEG_COMPARATIVE = re.compile(r"(?:\bnever|\bnot|n't)\s+(?:\w+\s+)?(?:been|be)\s*$")
# - "I'd rather walk away than sign it": the act after "rather ... than" is refused.
_RATHER_THAN = re.compile(r"\brather\b[^.;]*\bthan\b(?:\s+[\w']+){0,6}\s*$")
# The own side joins what it just attributed to the other: "..., and we will do the same".
_JOIN = re.compile(
    r"\b(?:(?:we|china|i)(?: will|'ll| can| shall)? (?:do the same|follow suit|match (?:it|that))|"
    r"so will we|and we too)\b"
)


# "An American judge of our compliance, no.": a bare "no" closing the sentence answers it.
_ELLIPTIC_NO = re.compile(r"[\s,:;-]*(?:no|never|not a chance|no way)[.!]*\s*$")
_RELATIVE = re.compile(
    r"(?:\b(?:a|an|any|the|every|some|one)\s+(?:[\w'-]+\s+){0,2}?(?:that|which|where|whereby|"
    r"in which|under which)|(?:^|\s)what)(?:\s+[\w'.-]+){0,3}\s*$"
)
_DOC_NOUN = (
    r"(?:paper|note|notes|draft|list|proposal|text|chapter|request|requests|demands?|asks?|"
    r"position|offer|idea|wording|language|terms|letter|memo|non-paper|plan|message|view|"
    r"wish list)"
)


@functools.cache  # one compiled pattern per side's "other" references
def _other_doc(other: re.Pattern[str]) -> re.Pattern[str]:
    """The other side's document, then what it says: "their list:", "Mnuchin's note asks"."""
    return re.compile(
        r"(?:"
        + other.pattern
        + r")(?:'s)?\s+(?:[\w-]+\s+){0,2}?"
        + _DOC_NOUN
        + r"\b(?:[^.;:]{0,30}:|\s+(?:[\w']+\s+){0,2}?(?:"
        + tx.REPORT_VERB
        + r"|has|have|had|contains?|includes?|lets?|allows?|gives?|provides?|would (?:let|allow|"
        r"give|have|make|put))\b)"
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
    # Sentences that commit the speaker's side to nothing: questions, suppositions, reports of
    # the other side's asks, disclaimed musing, or ones the next sentence rejects.
    unasserted: list[tx.Span] = field(default_factory=list)
    disclaimed: bool = False  # "that's an observation, not an offer", "nothing is decided"

    def asserts_nothing(self, spans: list[tx.Span]) -> bool:
        """True when every span lies in a sentence that commits the speaker to nothing."""
        spans = spans or self.sentences
        return bool(spans) and all(
            any(u.start <= s.start < u.end for u in self.unasserted) for s in spans
        )


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


def _named_side(
    prefix: str, own: re.Pattern[str], other: re.Pattern[str], after: int = 0, first: bool = False
) -> str | None:
    """Whose subject `prefix` names last from `after` on (`first`: names first), if anyone's."""
    named = [(i, "own") for i in _subjects(own, prefix) if i >= after]
    named += [(i, "other") for i in _subjects(other, prefix) if i >= after]
    if not named:
        return None
    return (min(named) if first else max(named))[1]


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


def _follows_bare_assent(reading: TurnReading, sentence: tx.Span) -> bool:
    """The sentence before `sentence` is a bare "Sure." or "Of course.": "Sure. And we'll ..."."""
    before = [s for s in reading.sentences if s.end <= sentence.start]
    if not before:
        return False
    last = before[-1]
    return bool(tx.BARE_ASSENT.match(reading.norm[last.start : last.end].strip()))


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
    before_clause = norm[sentence.start : clause.start]  # the sentence up to this clause
    if act.needs is not None and not act.needs.search(norm):
        return None
    if act.unless is not None:
        # The excusing condition may sit in a trailing "..., and only once they comply" clause.
        rest = norm[clause.end : sentence.end]
        trailing = _TRAILING_CONDITION.match(rest)
        # ... or in a leading "once they ..., " / "after they ..., " clause of the same sentence.
        leading = _LEADING_CONDITION.match(before_clause.strip())
        if (
            act.unless.search(clause_text)
            or (trailing and act.unless.search(rest))
            or (leading and act.unless.search(before_clause))
        ):
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
        bref = _named_side(before, own_re, other_re)
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
            # "I informed the USTR deputy that the law will go ...": the addressee before
            # "that" is told; it is not the subject of what follows.
            told = _ADDRESSEE_THAT.match(prefix_core, content_from)
            if told is not None:
                content_from = told.end()
            withheld = tx.negation_count(before) % 2 == 1
    content = prefix_core[content_from:]
    stripped = _FILLER.sub("", content.strip()).strip()
    ref = _named_side(prefix_core, own_re, other_re, after=content_from)
    # "... that our legislature will adopt ...": a side's possessive right before the act is
    # the act's own subject, whatever was named before it.
    owner = _POSSESSOR.search(prefix_core)
    if owner is not None and owner.end() > content_from:
        word = owner.group(1)
        ref = "own" if own_re.fullmatch(word) else "other" if other_re.fullmatch(word) else ref
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
    if imperative and ref is None and re.match(r"(?:and|but|then|or)\b", prefix.strip()):
        # "We'll lift the tariffs when they sign, and trust their system": a verb joined to
        # the sentence's first clause shares its subject.
        ref = _named_side(before_clause, own_re, other_re, first=True)
        imperative = ref is None
    reported = bool(
        tx.PASSIVE_REPORT.search(content)
        or tx.REPORT_FRAME.search(content)
        or _REPORTER.search(content)
        or re.search(
            r"(?:" + other_re.pattern + r")\s+(?:[\w']+\s+){0,3}?" + tx.REPORT_VERB + r"\b",
            content,
        )
    )
    if not reported:
        # The other side's paper or list, summarised: "Their list: laws changed, ...",
        # "Mnuchin's note asks three things: ...", "Lighthizer's paper says the U.S. would ...".
        head = sent[:pos]
        doc = None
        for doc in _other_doc(other_re).finditer(head):
            pass
        reported = doc is not None and _named_side(head[doc.end() :], own_re, other_re) != "own"
    if reported and _report_confirmed(reading, sentence, clause.start + match.end()):
        reported = False  # "Reports that we dropped the clause are right."
    if act.agent == "any" and not reported:
        # "the Americans keep proposing that they alone rule ...": the report sits inside.
        inside = match.group()[len(first_word) :]
        reported = bool(re.search(r"\b" + tx.REPORT_VERB + r"\b", inside)) and bool(
            other_re.match(match.group())
        )
    negations = tx.negation_count(_CLOSED_NO.sub(" ", _NO_OBSTACLE.sub(" ", content))) + (
        1 if tx.POST_NEGATION.search(suffix) else 0
    )
    if not act.spells_negation:
        negations += tx.negation_count(match.group())
    if re.search(r"\b(?:no|without)\b[^,]*$", content) and _NO_X_NO_DEAL.match(suffix):
        negations -= 1
    if _RATHER_THAN.search(content):
        negations += 1
    if act.direction == "uphold" and _ABANDON_BEFORE.search(content):
        negations += 1
    if (
        act.direction == "uphold"
        and _NEG_COMPARATIVE.search(content)
        and re.match(r"\w+er\b", match.group())
    ):
        negations -= 1
    if (
        not stripped
        and first_word.endswith("ing")
        and _VERDICT_LATER.match(norm[clause.start + match.end() : sentence.end])
        and not tx.POST_NEGATION.search(suffix)  # already counted: "... is off the table"
    ):
        negations += 1
    if (
        _WITHOUT_CONDITION.match(content.strip())
        and "," in sent[pos:]
        and not _NO_X_NO_DEAL.match(suffix)
    ):
        negations -= 1
    question = sent.rstrip().endswith("?") or bool(tx.QUESTION_START.match(sent))
    if question:
        following = _sentences_after(reading, sentence, 1)
        if following and tx.ANSWER_NO.match(following[0]):
            question, negations = False, negations + 1  # a question answered "never"
    negated = act.polar and negations % 2 == 1
    later = norm[clause.end :]
    rejected = any(
        tx.REJECTION.search(later[s.start - clause.end : s.end - clause.end].strip())
        for s in reading.sentences
        if s.end > clause.end
    ) or bool(
        tx.REJECTION.search(norm[clause.end : sentence.end])
        or tx.REJECTION.search(suffix)
        or _ELLIPTIC_NO.match(norm[clause.end : sentence.end])
    )
    # "a summit where the duties vanish ...", "what the NPC legislates": a relative clause
    # describes a thing; it commits nobody to the act inside it.
    relative = act.direction == "violate" and bool(_RELATIVE.search(content))
    disclaimed = act.direction == "violate" and reading.disclaimed
    musing = (
        disclaimed
        or bool(tx.MUSING.match(sent.strip()))
        or bool(tx.HYPOTHETICAL_ANYWHERE.search(sent[: pos + len(match.group())]))
    )
    hypothetical = (
        musing
        or in_ante is not None
        or (not conditional and bool(tx.HYPOTHETICAL.match(clause_text.strip())))
    )
    weak_re = _STRICT_WEAK if framed or permitted else tx.WEAK_MODAL
    weighed = not stripped and first_word.endswith("ing") and bool(_WEIGHED.match(suffix))
    weak = bool(weak_re.search(content)) or weighed
    sarcasm = bool(tx.SARCASM.search(sent)) or (
        sent.lstrip().startswith("and ") and _follows_bare_assent(reading, sentence)
    )
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
    if (
        act.direction == "uphold"
        and (not hypothetical or (in_ante is not None and not musing))
        and not question
        and (not negated or other or reported)
        and _dropped_after(reading, sentence, clause, refusal=negated)
    ):
        return hit("violated", "lets it go right after naming it")
    if rejected and act.direction == "violate" and not negated:
        return hit("upheld", "named, then rejected")
    if question:
        # "Could we publish it in full later? We can commit to that.": the own side's proposal,
        # put as a question and then accepted, is offered. A question about the other side's
        # ask ("Do they want us to ...? Yes.") is answered, not accepted.
        if (
            act.direction == "violate"
            and not negated
            and not other
            and not reported
            and _accepted_after(reading, sentence, answering=True)
        ):
            return hit("violated", "proposes it, then says yes")
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
    if relative and not negated:
        return hit(None, "inside a relative clause")
    if reported:
        if act.direction == "violate" and not negated and _accepted_after(reading, sentence):
            return hit("violated", "accepts what the other side asked")
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
            if weighed and _accepted_after(reading, sentence):
                return hit("violated", "weighed, then accepted")
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


_ACCEPTS = re.compile(
    r"\b(?:so be it|(?:we|i)(?: can| will|'ll)? (?:accept|agree to|go along with|live with|commit to) "
    r"(?:it|that|this)|(?:that's|that is|it's|it is) (?:fine|okay|ok|acceptable|all right)|"
    r"fine (?:by|with) (?:us|me)|(?:we|i)(?: are|'re| am|'m) (?:prepared|ready|willing|happy|glad) to|"
    r"(?:i|we)(?:'ll| will) (?:propose|offer|put (?:that|it) forward)|let them|"
    r"let \w+(?: \w+)? (?:agree|accept|sign|have)|works for (?:us|me)|has my (?:approval|blessing))\b"
    r"|^fine\b|, fine\b"
)


# The own side saying yes, in one of the next two sentences, to what a sentence reported the
# other side asking: "They want X. Tell him we accept.", "... Your proposal was X. We have
# reflected, and we can go along with that.", "If the tariffs come off, both are acceptable."
# "We can live with that, provided the tariffs come off.": a yes on a condition is still a yes.
_ON_CONDITION = r"(?:provided|if|as long as|so long as|on condition|once|in return for)\b[^.;!?]*"
_ACCEPTS_ASK = re.compile(
    r"\b(?:(?:we|i)(?: can| will|'ll| do)? (?:accept|agree|go along with)(?: to)?"
    r"(?: (?:it|that|this|them|both|your (?:\w+ )?(?:point|proposal|request|offer|idea|paper)))?"
    r"(?:,? (?:then|too|now|in full))?(?:,? " + _ON_CONDITION + r")?\s*[.!;]*$|"
    r"(?:both|all|each|either) (?:is|are|of them are|would be) acceptable\b|the answer is yes\b|"
    r"(?:we|i)(?: can| will|'ll| could)? (?:commit to|live with|do) (?:it|that|this)(?:,? (?:then|too|now))?"
    r"(?:,? " + _ON_CONDITION + r")?\s*[.!;]*$|"
    r"let's do (?:it|that)\b|(?:it's|it is|that's|that is) acceptable\b|^swallow it\b|"
    r"you (?:may|can) (?:agree to|accept|sign) (?:it|that|this)\b|(?:i|we)(?:'ll| will) put (?:it|that|this) on the table\b|"
    r"you can (?:have|keep) (?:that|it|this)(?: one)?\b|(?:i|we)(?:'ll| will) give you (?:that|this)\b|"
    r"^fair enough\b|^agreed\b|^(?:that|this|it) (?:we|i) (?:will|can|shall) (?:do|accept|live with)\b|"
    r"(?:that|this|the) (?:price|arrangement|language|wording|outcome|clause|sentence|change|"
    r"condition|term|terms) (?:is|are|would be|will be) (?:acceptable|fine|agreeable)\b|"
    r"(?:we|i)(?: can| will|'ll| could)? live with (?:that|this|the) (?:language|wording|sentence|"
    r"clause|arrangement|outcome|formula|text)\b|^(?:okay|ok|fine|very well)[.!,]? (?:we|i)(?:'ll| will| can) "
    r"(?:do|accept|take|sign) (?:that|it|this)\b)"
)


# A bare "yes" ("Frankly, yes.") answers a question; after a report it may only confirm it.
_YES = re.compile(
    r"(?:^|, )(?:yes|yeah|yep)(?:,? (?:a little|a bit|some|partly|in part|of course|definitely|"
    r"absolutely))?[.!]*$"
)


# "No problem, we can do that.": an opening that denies a difficulty is no negation.
_NO_PROBLEM = re.compile(r"^(?:no (?:problem|worries|doubt)|not a problem)\b[,.!]*")


def _accepted_after(reading: TurnReading, sentence: tx.Span, answering: bool = False) -> bool:
    """One of the two sentences after `sentence` says yes to it, with no negation.

    `answering`: `sentence` is a question, so a bare "yes" answers it too."""
    for text in _sentences_after(reading, sentence, 2):
        said_yes = _ACCEPTS_ASK.search(text) or (answering and _YES.search(text))
        if said_yes and tx.negation_count(_NO_PROBLEM.sub("", text)) == 0:
            return not tx.REJECTION.search(text)
    return False


# The own side letting a position go by pointing back at it: "... a no-retaliation promise.
# We're prepared to let that one go.", "Fine by us. We've moved past that."
_DROPS_IT = re.compile(
    r"\b(?:we|i)(?:'re| are|'ve| have|'ll| will| can| could| am|'m)?(?: (?:now|already|just|"
    r"simply|frankly))?(?: (?:prepared|ready|willing|happy|going) to)? (?:let (?:that|it|this)(?: one)? "
    r"go|drop(?:ped)? (?:that|it|this)(?: one)?|g[ai]ve? (?:that|it|this)(?: one)? up|giv(?:e|ing) up on "
    r"(?:that|it|this)|mov(?:e|ed|ing) (?:on from|past|beyond) (?:that|it|this)|walk(?:ed)? away from "
    r"(?:that|it|this)|forget (?:about )?(?:that|it|this)|stop(?:ped)? asking for (?:that|it|this)|"
    r"strike (?:it|that|this)(?: one)?(?: out| from)?|take (?:it|that|this) out|delete (?:it|that|this))\b"
    r"|\blet's (?:drop|strike|delete|forget|give up on|move past|move on from) (?:it|that|this)\b"
)
# "... we don't need it in writing": not needing the position lets it go, negation and all.
_NEEDS_IT_NOT = re.compile(
    r"\b(?:we|i) (?:don't|do not|no longer) need (?:that|it|this)(?: one)?\b"
)
# ... and, after the other side's refusal, saying it is fine: "They won't give a pledge. Fine by us."
_FINE_BY_US = re.compile(
    r"^(?:(?:that's|that is|it's|it is) )?(?:fine|okay|ok|all right|acceptable)(?: (?:by|with) "
    r"(?:us|me))?[.!]|^fair enough\b|^so be it\b|\b(?:we|i) can live with (?:that|it|this)\b"
)


# "... was a condition of our signature. It no longer is.": the position named is given up.
_NO_LONGER_SO = re.compile(
    r"^(?:but |and )?(?:it|that|this) (?:no longer is|is no longer(?: the case| so| true| a condition)?|"
    r"isn't any (?:more|longer)|is not any (?:more|longer))[.!]*$"
)


def _dropped_after(reading: TurnReading, sentence: tx.Span, clause: tx.Span, refusal: bool) -> bool:
    """The own side lets go of what `clause` named, later in its sentence or in the next two
    sentences, with no negation of its own. After the other side's refusal (`refusal`), saying
    it is fine lets it go too."""
    pieces = [reading.norm[clause.end : sentence.end], *_sentences_after(reading, sentence, 2)]
    for i, piece in enumerate(pieces):
        piece = piece.strip(" ,;:-")
        if not refusal and i > 0 and _NO_LONGER_SO.match(piece):
            return True
        if _NEEDS_IT_NOT.search(piece):
            return True
        found = _DROPS_IT.search(piece) or (refusal and i > 0 and _FINE_BY_US.search(piece))
        if found and tx.negation_count(piece[: found.end()]) == 0:
            return True
    return False


@functools.cache  # one compiled pattern per side's "other" references
def _other_asks(other: re.Pattern[str]) -> re.Pattern[str]:
    """A sentence opening on the other side's ask: "Xi wants ...", "Washington has asked that"."""
    return re.compile(
        r"^(?:[\w,.'-]+\s+){0,3}?(?:" + other.pattern + r")(?:'s|'re|'ve|'d)?\s+"
        r"(?:[\w'-]+\s+){0,3}?(?:" + tx.REPORT_VERB + r"|like)\b"
        # the object of the ask is no subject: "the Americans want our delegation to ..."
        r"(?:\s+(?:[\w']+\s+){0,2}?to\b)?"
    )


def _unasserted(
    reading: TurnReading, own: re.Pattern[str], other: re.Pattern[str]
) -> list[tx.Span]:
    """The sentences of a turn that commit the speaker's side to no act."""
    norm, sents, disclaimed = reading.norm, reading.sentences, reading.disclaimed
    out = []
    for i, sentence in enumerate(sents):
        sent = norm[sentence.start : sentence.end].strip()
        core = _FILLER.sub("", sent)
        nxt = norm[sents[i + 1].start : sents[i + 1].end].strip() if i + 1 < len(sents) else ""
        if disclaimed:
            out.append(sentence)
            continue
        # "Would a panel meet your concern? We are prepared to sign that.", "X wants Y. Fine,
        # let them.": what the own side then accepts is offered, however it was introduced.
        if _ACCEPTS.search(sent) or _ACCEPTS.search(nxt):
            continue
        asks = _other_asks(other).match(core)
        if asks and tx.CONDITIONAL.search(core[: asks.end()]):
            asks = None  # "if they want the tariffs gone, ..." supposes; it reports nothing
        if (
            sent.endswith("?")
            or bool(tx.MUSING.match(core))
            or bool(re.match(r"(?:even if|even though|suppose|whether)\b", core))
            or bool(asks and _named_side(core[asks.end() :], own, other) != "own")
            or bool(_other_doc(other).match(core))
            or bool(tx.REPORT_FRAME.match(core) or _REPORTER.match(core))
            or bool(nxt and (tx.REJECTION.search(nxt) and not re.match(r"(?:we|i)\b", nxt)))
            or bool(nxt and tx.ANSWER_NO.match(nxt))
        ):
            out.append(sentence)
    return out


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
    reading.disclaimed = bool(tx.DISCLAIMER.search(norm))
    reading.unasserted = _unasserted(reading, rules.own[side], rules.other[side])
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
