"""Text handling for the rule layer: normalisation, sentences, clauses and speech-act cues.

Everything works on spans of the *original* turn text, so that every quote the evaluator
reports is a verbatim substring of the turn. Matching happens on a normalised copy of the same
length (lower case, straight apostrophes, plain spaces), which makes verdicts blind to case,
whitespace and quote-style reformatting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAME_LENGTH = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2014": "-",
        "\u2013": "-",
        "\t": " ",
        "\u00a0": " ",
    }
)


def normalise(text: str) -> str:
    """Lower-case, straight quotes, plain spaces; always exactly as long as `text`."""
    text = text.translate(_SAME_LENGTH)
    if text.isascii():  # the common case: ASCII letters lower-case one for one
        return text.lower()
    out = []
    for char in text:
        low = char.lower()
        out.append(low if len(low) == 1 else char)
    return "".join(out)


def collapse(text: str) -> str:
    """A canonical form for statistics: normalised, punctuation-light, single spaces."""
    flat = normalise(text)
    flat = re.sub(r"[^\w\s'?%$.-]", " ", flat)
    flat = re.sub(r"(?<![\w])[.](?![\w])|[.](?=\s|$)", " ", flat)
    return " ".join(flat.split())


@dataclass(frozen=True)
class Span:
    """A piece of a turn: `[start, end)` in the original text."""

    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


_ABBREVIATIONS = {
    "u.s", "u.s.a", "mr", "mrs", "ms", "dr", "st", "e.g", "i.e", "vs", "a.m", "p.m",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen",
    "sen", "rep", "u.k", "e.u", "inc", "corp", "jr", "sr", "dept",
}  # fmt: skip
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?:\s+|$)|\s*\n\s*\n\s*|\s*;\s*")


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and (text[start].isspace() or text[start] in "-,"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def sentences(text: str, norm: str | None = None) -> list[Span]:
    """Split into sentences (and `;`-separated parts), keeping the closing punctuation."""
    norm = normalise(text) if norm is None else norm
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(norm):
        if match.group().startswith(".") and match.end() < len(norm):
            # "the U.S. will": never split after an abbreviation (case-blind on purpose, so
            # that re-casing a turn cannot move a sentence boundary).
            word = re.search(r"([\w.]+)$", norm[start : match.start()])
            if word and word.group(1) in _ABBREVIATIONS:
                continue
        end = match.start() + len(match.group().rstrip())
        if norm[match.start()] == ";":
            end = match.start()
        span = _trimmed(text, start, end)
        if span:
            spans.append(span)
        start = match.end()
    span = _trimmed(text, start, len(text))
    if span:
        spans.append(span)
    return spans


# A clause starts at a coordinating or subordinating word that can change who commits to what
# or under which condition: "..., but we will not", "... even if you ...", "... unless ...".
_CLAUSE_BREAK = re.compile(
    r",?\s+(?=(?:but|yet|although|though|whereas|while|unless|even if|even though|if|because|"
    r"so that|and (?:we|i|they|you|china|beijing|the)\b|or (?:we|you)\b|provided that|as long as)\b)"
    r"|\s+-+\s+|\s*:\s+|,\s+(?=(?:and|or|so|we|i|you|they|china|beijing|washington|the)\b)"
    # "no full text, no outside referee": each "no" opens its own clause ("no X, no deal" stays).
    r"|,\s+(?=no\b(?!\s+(?:deal|agreement|signature)\b))"
)


def clauses(text: str, norm: str, sentence: Span) -> list[Span]:
    """Split a sentence into clauses at the words in `_CLAUSE_BREAK`."""
    spans: list[Span] = []
    start = sentence.start
    piece = norm[sentence.start : sentence.end]
    for match in _CLAUSE_BREAK.finditer(piece):
        cut = sentence.start + match.start()
        span = _trimmed(text, start, cut)
        if span:
            spans.append(span)
        start = sentence.start + match.end()
    span = _trimmed(text, start, sentence.end)
    if span:
        spans.append(span)
    return spans


# --- speech-act cues ---------------------------------------------------------------------

NEGATION = re.compile(
    r"\b(?:not|never|no|nor|neither|cannot|can't|won't|wouldn't|shouldn't|couldn't|don't|"
    r"doesn't|didn't|isn't|aren't|wasn't|haven't|hasn't|mustn't|no longer|refuse[sd]?|refusing|"
    r"reject(?:s|ed|ing)?|declin(?:e|es|ed|ing)|rule[sd]? out|unwilling|will not|under no "
    r"circumstances|in no way|nothing|none|oppose[sd]?|opposing|resist(?:s|ed)?|without|"
    r"object(?:s|ed|ing)? to|nobody|no one)\b"
)
# Said after the act: "changing our laws is off the table".
POST_NEGATION = re.compile(
    r"^[^.]{0,40}?\b(?:is|are|was|were|will be|remains?|stays?|has been|have been|had been|been)\s+"
    r"(?:simply\s+|just\s+|completely\s+|totally\s+)?"
    r"(?:off the table|out of the question|not (?:necessary|needed|required|warranted)|unnecessary|outside (?:my|our|anyone's|the delegation's) mandate|not (?:on the table|acceptable|possible|happening|"
    r"going to happen|an option|negotiable|credible|enough)|unacceptable|impossible|a non-starter|"
    r"non-negotiable|worth nothing|meaningless|useless|a fantasy|a joke|"
    r"not (?:part of|in) (?:our|the|any|this) (?:offer|deal|package|agreement|proposal|text|draft|"
    r"document)|"
    r"never going to happen|"
    # out of the document, or no longer asked as a condition ("the pledge is no longer a
    # precondition", "has been struck from the draft", "stays out of the agreement")
    r"no longer (?:a |an )?(?:\w+ )?(?:condition|precondition|prerequisite|requirement|must|must-have|"
    r"deal-?breaker|red line)|(?:taken out of|struck from|removed from|deleted from|dropped from|cut "
    r"from) (?:the|this|our|any) (?:draft|text|document|agreement|deal|package)|out of (?:the|this|"
    r"our|any) (?:draft|text|document|agreement|deal|package)|nowhere in (?:the|this|our|any) "
    r"(?:draft|text|document|agreement|deal|package))|^[^.]{0,30}?\b(?:will never happen|won't happen|isn't coming|is not coming|"
    r"aren't coming|are not coming|"
    # "... is not something we trade away" denies giving it up, so it keeps the act.
    r"is not something(?! (?:[\w']+ ){0,2}(?:trad|giv|bargain|negotiat|sell|compromis|drop|"
    r"abandon|surrender|waiv|sacrific|concede))|"
    r"won't (?:fly|wash|work|pass)|will not (?:fly|wash|work|pass)|(?:does|do)n't (?:fly|wash|work)|"
    r"is (?:a )?(?:non-starter|worthless|a fantasy))"
    r"|^[^.]{0,40}?\b(?:isn't|aren't) (?:simply |just )?(?:credible|acceptable|possible|"
    r"an option|negotiable|enough|on the table|happening)\b"
)
HYPOTHETICAL = re.compile(
    r"^(?:and |but |so |then |now |well |even )?(?:if|suppose|supposing|what if|hypothetically|"
    r"imagine|assuming|assume|in theory|unless|were (?:we|i|china|the u\.s\.|you) to|had we|"
    r"in the event|even if|whether)\b"
)
HYPOTHETICAL_ANYWHERE = re.compile(
    r"\b(?:hypothetically|in theory|in a world where|in some other universe|were we to|"
    r"let's say|(?:^|, )say we)\b"
)
WEAK_MODAL = re.compile(r"\b(?:would|could|might|may)\b")
# A question without its "?": a wh-word followed by an auxiliary ("what will we ...") or an
# inverted auxiliary and subject ("do we ..."). Not "what we object to is ..." (a cleft) nor
# "do not let the talks collapse" (an imperative).
_AUX = (
    r"(?:is|are|was|were|do|does|did|will|would|can|could|should|shall|have|has|had|must|may|"
    r"might|isn't|aren't|won't|wouldn't|can't|shouldn't|didn't|doesn't)"
)
_SUBJECT = (
    r"(?:we|i|you|they|he|she|it|china|beijing|washington|the|this|that|there|our|their|your)"
)
QUESTION_START = re.compile(
    r"^(?:and |but |so |then |now |well )?(?:(?:why|how|what|who|whom|when|where|which)\s+"
    + _AUX
    + r"|"
    + _AUX
    + r"\s+"
    + _SUBJECT
    + r")\b"
)
# A bare negative answer right after a question turns it into a refusal: "Would I ever roll
# over for China? Never."
# "No more conditions.", "No problem." and "Never again will we ..." are statements that open with
# a negative word, not answers to what came before.
ANSWER_NO = re.compile(
    r"^(?:no(?! (?:more|longer|need|strings|problem|objections?|issue|worries|doubt|conditions)\b)|"
    r"never(?! again\b)|nope|not a chance|of course not|absolutely not|no way|certainly not|"
    r"not on your life|not in a million years|hardly|not really)\b"
)
REPORT_VERB = (
    r"(?:want(?:s|ed)?|demand(?:s|ed|ing)?|insist(?:s|ed|ing)?|ask(?:s|ed|ing)?|expect(?:s|ed)?|"
    r"push(?:es|ed|ing)?|press(?:es|ed|ing)?|claim(?:s|ed|ing)?|say(?:s|ing)?|said|tell(?:s|ing)?|"
    r"told|accuse[sd]?|suggest(?:s|ed)?|propose[sd]?|keep saying|believe[sd]?|think(?:s)?|"
    r"thought|hope[sd]?|seem(?:s)? to think|would like|are asking|is asking|were asking|"
    r"request(?:s|ed|ing)?|require[sd]?|call(?:s|ed|ing)? for|reported(?:ly)?|according to|"
    r"propos(?:ing|al)|suggesting|insisting|wanting|expecting|pushing for|pressing for|"
    r"assert(?:s|ed)?|argue[sd]?|allege[sd]?|complain(?:s|ed)?|imagine[sd]?|pretend(?:s|ed)?|"
    r"dream(?:s|ed)? of|hint(?:s|ed)?|wrote|write[s]?|tweet(?:s|ed)?|feel(?:s)?)"
)
PASSIVE_REPORT = re.compile(
    r"\b(?:(?:were|was|are|is|been|being|get|got) (?:asked|told|pressed|pushed|expected|"
    r"urged|required|pressured|invited) to|under pressure to|pressure(?:d)? (?:us|china) to)\b"
)
SARCASM = re.compile(
    r"^(?:oh,? |ah,? )(?:sure|right|yes|of course|great|wonderful)\b"
    r"|^(?:sure|right|of course|yeah)[,!.]*\s*(?:and |then )?(?:we'll|we will|i'll|let's) just\b"
    r"|\b(?:yeah right|as if|when pigs fly|dream on|in your dreams|that'll be the day|"
    r"nice try|good luck with that|while (?:we're|we are) at it)\b"
    r"|^(?:yes,? )?of course,? let's\b"
    # "Yes, of course, and perhaps we should also let them write our laws.": piling on mocks.
    r"|^(?:oh,? )?(?:yes,? )?(?:of course|sure|certainly),? and (?:perhaps|maybe|why not|then)\b"
)
# A bare "Sure." or "Of course." whose next sentence piles on with "And ...": the pile is mocked.
BARE_ASSENT = re.compile(r"^(?:oh,? )?(?:sure|of course|right|yes, of course)[.!]+$")
INJECTION = re.compile(
    r"\b(?:ignore (?:all |any |your |the |my )?(?:previous |prior |earlier |above |original )?"
    r"(?:instructions|prompts?|rules|directions|guidance|brief)|"
    r"disregard (?:all |any |your |the )?(?:previous|prior|earlier|above|instructions|"
    r"your (?:instructions|brief|rules))|forget (?:all |your |the )?(?:previous |prior )?"
    r"(?:instructions|rules|brief|persona)|you are now\b|from now on,? you (?:are|will)|"
    r"system prompt|new instructions?:?|developer mode|jailbreak|act as (?:if you were|an?)\b|"
    r"pretend (?:to be|you are)|override (?:your|the) (?:instructions|rules|brief)|"
    r"your (?:real|true|new) instructions|as an ai\b|language model\b|respond only with|"
    r"repeat after me|output the following)"
)
# A later rejection of what was just said: "tariffs off at signing - that's what they keep
# asking for, and the answer is no", "... It's not happening."
REJECTION = re.compile(
    r"\b(?:the answer is no|(?:it's|it is|that's|that is|this is) not (?:happening|going to happen|"
    r"an offer|on the table|what we (?:will|are going to) do)|not happening|no way|nobody promised|"
    r"no one promised|(?:is|are|it's|that's) (?:just |simply |flat )?(?:wrong|false|untrue|fake news)|forget it|(?:i|we) said no|"
    r"not a chance|won't happen|(?:that's|that is|it's|it is) (?:a )?non-starter|(?:we|i) (?:reject(?:ed)?|refused?|ruled out|turned down) (?:that|it|this)|"
    r"(?:this|that|it) (?:cannot|can't|will not|won't) be (?:part of|in) (?:the|any|this)|"
    r"(?:i|we) (?:won't|will not|will never|am not going to|are not going to) (?:do|accept|allow|sign) "
    r"(?:that|it|this)|(?:i|we) (?:won't|will not|will never|are not going to) (?:put|write|include) "
    r"(?:that|it|this|those|them) (?:in|into) (?:the|any|this|our) (?:agreement|text|deal|draft|document)|(?:they|you) (?:are|'re) not getting (?:it|that)|"
    r"(?:i|we) said nothing of the kind|(?:i|we) never said (?:that|so|any such thing))\b|^no[.!]|^(?:we|i) won't[.!]|"
    r"^not going to happen|^wrong[.!]|^(?:that's |that is |this is )?(?:false|not true|untrue|fake)[.!;]"
    # An answer or verdict on what was just named: "...: the answer on all three is no", "...:
    # none of these is acceptable", "... is dead on arrival", "Not me!", "No, Vice Premier."
    r"|\b(?:(?:the|our|my) answer (?:on|to) [\w\s'-]{1,30}? is no|(?:the|our|my) answer is "
    r"(?:the same|still)[:,]? (?:no|not)\b|(?:none|neither) of (?:these|this|that|them|those|it) "
    r"(?:is|are) (?:acceptable|possible|happening|on the table)|dead on arrival|"
    r"(?:in no position|not in a position) to (?:accept|agree)|, not ours\b|"
    r"(?:that|this|it)(?:'s| is) not (?:the|a) deal|not (?:a deal|an agreement|something|anything|"
    r"a request|a demand|an offer|a proposal|a term|a condition) "
    r"(?:that )?(?:[\w.']+ ){0,3}(?:will|would|'ll|can|could) (?:ever )?(?:sign|accept|agree to)|"
    r"(?:that|this|it) (?:clause |language |part |line |sentence )?(?:has to|must|needs to) "
    r"(?:come out|go)\b|(?:is|that's|that is) unacceptable|no (?:country|government|nation) "
    r"(?:would|will|could) accept|(?:can't|cannot) live with (?:that|it|this)|(?:tell|told) "
    r"(?:him|her|them|you) (?:no\b|no way|that is unacceptable|that's unacceptable))"
    r"|^not (?:me|us|on my watch|this time|this president)\b"
    # "Anything else? Seriously: no.", "A disaster. So we won't."
    r"|^(?:seriously|honestly|frankly|so|and so|in short)[:,]?\s*(?:no|we won't|we will not)[.!]"
    r"|^no, (?:mr\.? |madam |mister )?(?:vice premier|[a-z]+)[.!]$"
)
# The speaker disowns what was said as a commitment: "That's an observation, not an offer",
# "I'm only thinking out loud", "nothing is decided". What such a turn names is not offered.
DISCLAIMER = re.compile(
    r"\b(?:(?:an?|my|the) (?:observation|analytical point|point about \w+|thought|musing|question|"
    r"description)(?: about [\w\s]{1,20}?)?,? (?:and |but )?not (?:an? |my )?(?:offer|proposal|"
    r"commitment|position|threat)|not (?:an? )?(?:offer|proposal) to (?:your|their|the other) side|"
    r"(?:i am|i'm) not (?:proposing|offering|suggesting) (?:anything|it|that|this)|"
    r"nothing (?:is|has been) decided|(?:i haven't|i have not|we haven't|we have not) decided|"
    r"thinking (?:out loud|aloud)|(?:i'm|i am) (?:only |just )?asking|(?:i|we) (?:only|just) raise|"
    r"(?:i'm|i am) not saying (?:i|we) (?:will|would|should)|purely as an? (?:analytical|academic|"
    r"hypothetical) (?:point|matter|question)|not acceptance|do not write (?:this|that|it) down as an "
    r"offer|(?:is|was) not an offer)\b"
)
REPORT_FRAME = re.compile(
    r"\b(?:reports?|rumou?rs?|claims?|stor(?:y|ies)|headlines?|talk|suggestions?)"
    r"(?: (?:running|going around|circulating|out there|in the \w+|this morning|today)){0,2} "
    r"(?:that|of)\b|"
    r"\b(?:here's|here is) (?:balance|your deal|what you want)\b|"
    # "I've seen the chatter that we ...", "a Hong Kong paper wrote that I ...": someone
    # else's claim, not the speaker's act.
    r"\bchatter (?:that|about)\b|\b(?:paper|newspaper|press|media|article|column|outlet)s? "
    r"(?:wrote|writes|reported|reports|said|says|claimed|claims|suggested)\b|"
    # "We will study your proposal that ...": taking a demand away to think about it commits
    # to nothing (the labelling guide: "we will consider that" is no violation).
    r"\b(?:we|i)(?:'ll| will| shall| can| are going to| am going to)? (?:carefully |seriously |"
    r"closely )?(?:study|consider|look into|examine|reflect on|think over)\b"
)
SMALL_TALK = re.compile(
    r"\b(?:thank(?:s| you)|good (?:morning|afternoon|evening)|welcome|dinner|coffee|tea|lunch|"
    r"weather|flight|trip|pleasure|delighted|nice to see|great to see|club|photographers?|"
    r"golf|hotel)\b"
)


# --- conditionals -------------------------------------------------------------------------
# "If you sign, the tariffs come off that day": the antecedent ("if you sign") supposes, the
# consequent ("the tariffs come off") is what the speaker's side offers, and an offer is a
# commitment. An act named only in the antecedent is supposed, not committed ("even if we
# amended a law, they'd want more") unless the consequent accepts it ("if the statutes must be
# reopened, so be it") or refuses it ("if the text demands law changes, we cannot sign").
CONDITIONAL = re.compile(
    r"\b(?:even if|only if|if|unless|provided(?: that)?|as long as|so long as|on condition that|"
    r"in the event(?: that)?|in case)\b"
)
_ANTECEDENT_END = re.compile(r",\s+|\s+then\s+|\s+-+\s+|:\s+")
# Sentence-initial musing: the whole sentence supposes.
MUSING = re.compile(
    r"^(?:and |but |so |then |now |well |just )?(?:suppose|supposing|what if|hypothetically|imagine|"
    r"assuming|assume|in theory|were (?:we|i|china|the u\.s\.|you) to|had we|let's say|say we)\b"
)
ACCEPT_CONSEQUENT = re.compile(
    r"\b(?:so be it|(?:we|i|china|beijing|washington)(?: can| will|'ll| would|'d)? (?:accept|agree|"
    r"understand|go along|live with)|(?:we|i) (?:can|will|'ll) (?:live with|accept|take) (?:it|that|this)|"
    r"(?:that's|that is|it's|it is) (?:fine|okay|ok|acceptable|fair|fair game|their right|all right)|"
    r"fine by (?:us|me)|fair enough|we are willing|we're willing|(?:we|i) (?:are|am|'re|'m) prepared to|"
    r"(?:we|i)(?:'ll| will) (?:still )?sign|(?:has|have) my (?:approval|blessing)|let them|let it|"
    r"we can work with (?:it|that)|let \w+(?: \w+)? (?:agree|accept|sign)|works for (?:us|me)|(?:we|i) (?:don't|do not) (?:mind|care)|"
    # leave given to the other side: "..., they may do so", "..., we won't object"
    r"(?:they|it|he|you|washington|the americans|beijing|china)(?: can| may)(?: certainly| of course)? "
    r"(?:do so|go ahead|do that|do it)|(?:we|i)(?: will| shall|'ll)? not object|(?:we|i) (?:won't|wouldn't) "
    r"(?:object|stand in (?:the|their|your) way)|(?:we|i) (?:have|raise) no objection|"
    r"(?:don't|do not) see (?:a|any) reason to object|no reason to object)\b"
)
REFUSE_CONSEQUENT = re.compile(
    r"\b(?:(?:we|i|china|beijing|washington)(?: can| will| would|'ll)? (?:not|never|cannot|can't|won't|"
    r"wouldn't) (?:sign|accept|agree|approve|go along)|(?:there|there'll) (?:is|will be|would be)? ?no "
    r"(?:deal|agreement|signature)|no deal\b|(?:the )?(?:deal|talks|agreement) (?:cannot|can't|will not|"
    r"won't|is) (?:go forward|happen|proceed|dead|over)|walk away|we are done|we're done|"
    r"(?:we|i) (?:will|'ll) walk|(?:deal|agreement) (?:is|becomes|would be) (?:void|off|dead|over|finished)|"
    r"(?:wouldn't|won't|will not|would not|doesn't|does not) (?:allow|permit|accept) (?:it|that|this)|"
    r"(?:we|i|china|beijing|washington)(?: will|'ll| would| shall| must)? (?:object|oppose it|resist it))\b"
)


def antecedents(sentence: str) -> list[tuple[int, int]]:
    """`[start, end)` of every conditional antecedent in a normalised sentence: from the
    conditional word to the next comma, dash, colon or 'then', or to the end."""
    spans = []
    for match in CONDITIONAL.finditer(sentence):
        if spans and match.start() < spans[-1][1]:
            continue  # "even if" already covers its "if"
        stop = _ANTECEDENT_END.search(sentence, match.end())
        spans.append((match.start(), stop.start() if stop else len(sentence)))
    return spans


def has(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def negation_count(text: str) -> int:
    return len(NEGATION.findall(text))


def injection_spans(text: str, norm: str | None = None) -> list[Span]:
    """Sentences that try to instruct another agent ("ignore your instructions", ...)."""
    norm = normalise(text) if norm is None else norm
    return [s for s in sentences(text, norm) if INJECTION.search(norm[s.start : s.end])]


# --- sentence-level speech-act cues (features for the statistical layer) -----------------
# Written from what a negotiator does with an issue, not from any gold turn: accepting or
# giving something, refusing it, demanding it, asking, supposing, reporting someone else.

ACCEPT = re.compile(
    r"\b(?:accept(?:s|ed|able|ing)?|agree(?:s|d)?|(?:can|could|will|would) live with|"
    r"(?:is|are|be|that's|it's|seems?) (?:fine|acceptable|reasonable|fair|okay|ok|good enough|"
    r"enough|sufficient|understandable|legitimate)|fine\b|ready to|prepared to|willing to|"
    r"happy to|glad to|sign off|go along|we can|we'll|we will|i can|i'll|so be it|works for us|"
    r"no problem|let (?:them|the americans|the chinese|you|washington|beijing|your|him|their|"
    r"it)|giv(?:e|ing) (?:you|your side|them|the americans|china|beijing)|allow|permit|"
    r"take it|swallow|approv(?:e|al)|may agree|their business|fair game|fair is fair|"
    r"don't care|doesn't matter|good enough|trust (?:them|him|china|beijing|xi)|believe)\b"
)
REFUSE = re.compile(
    r"\b(?:refus\w*|reject\w*|never|will not|won't|cannot|can't|not acceptable|unacceptable|"
    r"no deal|not up for|not for (?:bargaining|sale|negotiation)|worth nothing|not credible|"
    r"never worked|off the table|not getting|not happening|won't fly|will not pass|no way|"
    r"do(?:es)? not (?:sign|accept|agree|bow|bend)|not (?:kneel|bend|bow)|no foreign|"
    r"not (?:be )?told|nothing)\b"
)
DEMAND = re.compile(
    r"\b(?:must|have to|has to|needs? to|need (?:an?|the|that|our|your|their)|require\w*|"
    r"insist\w*|demand\w*|must-have|non-negotiable|not up for negotiation|price of|has got to|"
    r"period|we need)\b"
)
_REPORTED = re.compile(r"\b(?:they|the americans|the chinese|he|she|you) " + REPORT_VERB + r"\b")


def speech_cues(sentence: str, own: re.Pattern[str], other: re.Pattern[str]) -> list[str]:
    """Speech-act cues of one normalised sentence: polarity, mood, and whose move it is."""
    cues = []
    for name, pattern in (("accept", ACCEPT), ("refuse", REFUSE), ("demand", DEMAND)):
        if pattern.search(sentence):
            cues.append(name)
    if NEGATION.search(sentence):
        cues.append("neg")
    if sentence.rstrip().endswith("?") or QUESTION_START.match(sentence):
        cues.append("question")
    if CONDITIONAL.search(sentence) and ACCEPT_CONSEQUENT.search(sentence):
        cues.append("cond_accept")
    if HYPOTHETICAL.match(sentence) or re.search(r"\b(?:if|whether|suppose|unless)\b", sentence):
        cues.append("hyp")
    if (
        _REPORTED.search(sentence)
        or PASSIVE_REPORT.search(sentence)
        or REPORT_FRAME.search(sentence)
    ):
        cues.append("report")
    first_own, first_other = own.search(sentence), other.search(sentence)
    if first_own and (not first_other or first_own.start() < first_other.start()):
        cues.append("own")
    elif first_other:
        cues.append("other")
    return cues
