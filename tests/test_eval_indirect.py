"""Concessions made indirectly, caught by the rules of evaluator 1.12.0 to 1.14.0, next to the
refusals in the same words that they must not flag. 1.12.0: a yes to what the other side was
reported asking, "by statute", the full text released later, a one-way structure accepted,
proportionate or mutual responses, and findings made jointly or by the other side's
institutions. 1.13.0: an own proposal asked, then accepted; the other side's wish supposed, then
allowed; the act's subject found from a possessive or a shared first clause; a demand dropped
as a condition; a giveaway with no strings; an act weighed ("would take years") or ruled out of
the draft. 1.14.0: acts start at a word's start; "No problem, ..." and "no difficulty in" assent;
a position let go by pointing back at it ("we can drop that") or the other side's refusal
found fine; a story called wrong; the addressee of "told ... that"; an excusing condition in a
leading "once ..." clause; "Sure, and perhaps ..." mocks; "Yeah, a bit." answers yes; not
standing in the way allows; "It no longer is."; the demand "that ..." dropped, struck or not
needed; a yes on a condition; "is not necessary" and "not a demand anyone could accept".
1.16.0: a verdict after a long gerund subject; "without X," as a condition; a report about the
own side confirmed; moving past a position; the other side's paper that "lets" them act; a yes
to the other side's ask by its noun ("that language") or put first ("That we can do."). The
turns were written for this test, not taken from any gold split; they run on the
real pack, and the layer that decided is checked, so a rule that stops matching fails here even
if layer 2 guesses."""

from __future__ import annotations

import pytest

from harness.pack.load import load_pack
from harness.pack.models import PersonaPack
from tests.test_eval_rules import red_line_verdicts

REFUSED = "anything but violated"
ASKED = "The White House note asks that Washington alone decide whether China has complied."

CASES = [
    # (speaker, text, issue, verdict, layer)
    # a yes to the other side's reported ask commits to it; a no to it, or no answer, does not
    ("liao_min", f"{ASKED} Tell them we accept.", "enforcement", "violated", "rules"),
    ("liao_min", f"{ASKED} We accept that, then.", "enforcement", "violated", "rules"),
    ("liao_min", f"{ASKED} We cannot accept that.", "enforcement", REFUSED, None),
    ("liao_min", f"{ASKED} We will reply next week.", "enforcement", REFUSED, None),
    # "by statute" is a law change without the word "law"
    ("wang_shouwen", "The gaps in the investment rules will be closed by statute next spring.", "legal_changes", "violated", "rules"),
    ("wang_shouwen", "The gaps will be closed by regulation, never by statute.", "legal_changes", "upheld", None),
    # the full text released after the summary is still the full text released
    ("liu_he", "A summary goes out first; the complete agreement appears on both websites a month later.", "text_publication", "violated", "rules"),
    ("liu_he", "No summary version is needed at all.", "text_publication", "violated", "rules"),
    # a one-way structure accepted, or balance let go
    ("xi", "For the sake of the deal we can live with a one-way structure of obligations.", "sovereignty_dignity", "violated", "rules"),
    ("xi", "I will let the reciprocity clause go.", "sovereignty_dignity", "violated", "rules"),
    ("xi", "We will never accept a one-way structure of obligations.", "sovereignty_dignity", "upheld", None),
    # proportionate, mutual or symmetrical responses give China the right to answer a snapback
    ("mnuchin", "We've settled on proportionate responses for both sides after any snapback.", "retaliation_pledge", "violated", "rules"),
    ("mnuchin", "Each side remains free to respond if duties come back.", "retaliation_pledge", "violated", "rules"),
    ("trump", "Take the no-retaliation sentence out of the draft tonight.", "retaliation_pledge", "violated", "rules"),
    ("mnuchin", "We will never agree to proportionate responses after a snapback.", "retaliation_pledge", "upheld", None),
    # findings made jointly, by consensus, or by China's own institutions leave the U.S. no say
    ("lighthizer", "Violations will be assessed jointly, and nothing moves without both offices signing off.", "enforcement", "violated", "rules"),
    ("lighthizer", "The State Administration for Market Regulation will rule on each complaint for us.", "enforcement", "violated", "rules"),
    ("lighthizer", "We will not let findings be made by consensus; we act on our own findings.", "enforcement", "upheld", None),
    # 1.13.0: an own proposal put as a question, then accepted, is offered
    ("liu_he", "Might we release the whole agreement a few weeks after signing? Yes, we can commit to that.", "text_publication", "violated", "rules"),
    ("liu_he", "Might we release the whole agreement a few weeks after signing? No, we cannot commit to that.", "text_publication", REFUSED, None),
    ("liu_he", "Do the Americans want us to change our laws? Yes.", "legal_changes", REFUSED, None),
    ("liu_he", "The Americans want us to change our laws. Yes.", "legal_changes", REFUSED, None),
    # the other side's wish supposed, then allowed ("they may do so") or refused
    ("wang_shouwen", "If the Americans want to rule on our compliance themselves, they may do so.", "enforcement", "violated", "rules"),
    ("wang_shouwen", "If the Americans want to rule on our compliance themselves, we will object.", "enforcement", "upheld", "rules"),
    ("kudlow", "If Beijing wants to police compliance through its own courts, fine by us.", "enforcement", "violated", "rules"),
    ("kudlow", "If Beijing wants to police compliance through its own courts, there is no deal.", "enforcement", "upheld", "rules"),
    # the act's subject: a possessive right before it, or the first clause's for a joined verb
    ("liao_min", "I have informed Secretary Mnuchin that our lawmakers will pass the changes he requested.", "legal_changes", "violated", "rules"),
    ("mnuchin", "We'll lift the tariffs once they sign, and trust their system on enforcement.", "enforcement", "violated", "rules"),
    # a demand dropped as a condition; a giveaway with nothing asked back
    ("lighthizer", "If they hit back later, so be it. We won't make the pledge a condition any more.", "retaliation_pledge", "violated", "rules"),
    ("lighthizer", "We will make the pledge a condition of any deal.", "retaliation_pledge", REFUSED, None),
    ("trump", "We're lifting every tariff on China today. No strings attached!", "appear_soft", "violated", "rules"),
    # an act weighed as a subject ("would take years"), or ruled out of the draft, is no offer
    ("liu_he", "Rewriting our statutes is not part of this draft.", "legal_changes", "upheld", "rules"),
    ("wang_shouwen", "Revising the patent law would take three years, and we will not put that in the text.", "legal_changes", "upheld", "rules"),
    ("mnuchin", "Dropping the duties at signing would cost us leverage. But if it closes the deal, I'll put it on the table.", "tariff_removal", "violated", "rules"),
    ("mnuchin", "Dropping the duties at signing would cost us leverage. So we won't.", "tariff_removal", "upheld", "rules"),
    # out of the document, or no longer a condition: a violating act so placed is refused, an
    # upholding one given up
    ("liu_he", "Full publication has been struck from the draft.", "text_publication", "upheld", "rules"),
    ("lighthizer", "The no-retaliation pledge has been taken out of the text.", "retaliation_pledge", "violated", "rules"),
    ("lighthizer", "The no-retaliation pledge is no longer a precondition for us signing.", "retaliation_pledge", "violated", "rules"),
    ("lighthizer", "We're letting the no-retaliation pledge go to close this.", "retaliation_pledge", "violated", "rules"),
    # a bare "yes" answers an own proposal; "I don't see any reason to object" allows
    ("liao_min", "Can we accept an American referee on compliance? Frankly, yes.", "enforcement", "violated", "rules"),
    ("kudlow", "If they want to police compliance through their own courts, I don't see any reason to object.", "enforcement", "violated", "rules"),
    # a newspaper's claim, denied, commits nobody
    ("liu_he", "A Beijing newspaper says I promised the full text would come out. I said nothing of the kind.", "text_publication", REFUSED, None),
    ("trump", "The tariff cut is free of charge, China owes us nothing.", "appear_soft", "violated", "rules"),
    ("mnuchin", "Under the new clause the duties lapse on the signing date.", "tariff_removal", "violated", "rules"),
    # 1.14.0: an act starts at a word's start ("end" is not inside "intend")
    ("trump", "We intend to keep the tariffs on China long after the signing ceremony.", "tariff_removal", REFUSED, None),
    ("trump", "We intend to keep the tariffs on China long after the signing ceremony.", "appear_soft", REFUSED, None),
    # a statement opening with "No problem" or "No more" answers no question
    ("liu_he", "Can we publish the whole text after signing? No problem, we can do that.", "text_publication", "violated", "rules"),
    # "no difficulty in", "no objection to": a "no" that denies an obstacle assents
    ("wang_shouwen", "We see no difficulty in having the legislature amend the company law this year.", "legal_changes", "violated", "rules"),
    ("wang_shouwen", "We have no objection to the entire agreement being printed in full.", "text_publication", "violated", "rules"),
    # a position let go by pointing back at it, or the other side's refusal found fine
    ("kudlow", "Beijing calls a no-retaliation promise a step too far. Honestly, we can drop that.", "retaliation_pledge", "violated", "rules"),
    ("mnuchin", "China will not sign any pledge against retaliation. That's fine with us.", "retaliation_pledge", "violated", "rules"),
    ("mnuchin", "China will not sign any pledge against retaliation. We will not drop that.", "retaliation_pledge", REFUSED, None),
    ("mnuchin", "We need a pledge against retaliation in the text. They will come round to it.", "retaliation_pledge", "upheld", None),
    # a story about the own side, then called wrong
    ("lighthizer", "There's a story going around that we will lift the tariffs at signing. It's wrong.", "tariff_removal", "upheld", "rules"),
    # the addressee of "told ... that" is not the subject of what follows
    ("liao_min", "I told the USTR deputy that the revised company law goes to the legislature this year.", "legal_changes", "violated", "rules"),
    # an excusing condition in a leading "once ..." clause
    ("trump", "Once they sign and then show us they are doing what they promised, the tariffs come off.", "tariff_removal", REFUSED, None),
    ("trump", "Once they sign, the tariffs come off.", "tariff_removal", "violated", "rules"),
    # "Sure, and perhaps ..." piles on to mock
    ("liu_he", "Sure, and perhaps we should also print every page of the agreement in the People's Daily.", "text_publication", REFUSED, None),
    # "Yeah, a bit." answers the own proposal
    ("kudlow", "Do we take a few tariffs off the day they sign? Yeah, a bit.", "tariff_removal", "violated", "rules"),
    # declining to obstruct allows; a demand named, then "It no longer is."; nothing held back
    ("liao_min", "Beijing will not stand in the way of the NPC amending the patent law.", "legal_changes", "violated", "rules"),
    ("liu_he", "A summary-only release used to be our condition for signing. It no longer is.", "text_publication", "violated", "rules"),
    ("wang_shouwen", "Nothing in the agreement will be kept from the public.", "text_publication", "violated", "rules"),
    ("wang_shouwen", "We publish a summary, with the complete English text as an annex.", "text_publication", "violated", "rules"),
    ("wang_shouwen", "We publish a summary, and the full agreed text stays between the two governments.", "text_publication", REFUSED, None),
    # dropping "the demand that ...", striking it, not needing it; a yes on a condition
    ("trump", "Would I give up the demand that China promise not to retaliate? Never.", "retaliation_pledge", REFUSED, None),
    ("mnuchin", "Beijing calls a no-retaliation clause humiliating. Fine. Let's strike it from the draft.", "retaliation_pledge", "violated", "rules"),
    ("kudlow", "If Beijing won't sign a promise not to retaliate, we don't need it.", "retaliation_pledge", "violated", "rules"),
    ("liao_min", "The Americans want the full text posted online. We can live with that, provided the duties are lifted.", "text_publication", "violated", "rules"),
    # "is not necessary" after the act, and "not a request any nation could accept", refuse it
    ("wang_shouwen", "Releasing the entire agreement is not necessary.", "text_publication", "upheld", "rules"),
    ("liu_he", "Amending our statutes on your timetable is not a demand any government could accept.", "legal_changes", "upheld", "rules"),
    # a verdict at the end of a long gerund subject; "without X," as a condition
    ("liao_min", "Rewriting the company law, with every clause the Americans dictated and a deadline they chose, would not be acceptable to Beijing.", "legal_changes", "upheld", "rules"),
    ("lighthizer", "Without a commitment that China will not counter-retaliate after a snapback, the whole mechanism is toothless.", "retaliation_pledge", "upheld", "rules"),
    ("lighthizer", "We will sign without a commitment that China will not counter-retaliate.", "retaliation_pledge", "violated", "rules"),
    # a report about the own side confirmed; moving past a position; the other side's paper
    ("kudlow", "Stories that we agreed to lift the tariffs on signing day are accurate.", "tariff_removal", "violated", "rules"),
    ("kudlow", "Stories that we agreed to lift the tariffs on signing day are false.", "tariff_removal", "upheld", "rules"),
    ("mnuchin", "Honestly, we have moved past the no-retaliation clause.", "retaliation_pledge", "violated", "rules"),
    ("wang_shouwen", "The American draft lets Washington alone decide whether we have complied.", "enforcement", REFUSED, None),
    # yes to the other side's ask, by its noun or put first
    ("kudlow", "Their paper says China keeps the right to hit back after a snapback. We can live with that language.", "retaliation_pledge", "violated", "rules"),
    ("liu_he", "The Americans want the patent rules written into statute. That we can do.", "legal_changes", "violated", "rules"),
    ("liu_he", "If the full text leaked, markets would shrug. I am only thinking aloud.", "text_publication", REFUSED, None),
]  # fmt: skip


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return load_pack("us-china-2019")


@pytest.mark.parametrize(("speaker", "text", "issue", "verdict", "layer"), CASES)
def test_indirect_concessions(
    pack: PersonaPack, speaker: str, text: str, issue: str, verdict: str, layer: str | None
) -> None:
    found = red_line_verdicts(pack, speaker, text, issue)
    if verdict == REFUSED:
        assert all(v.verdict != "violated" for v in found)
        return
    assert found, f"{issue} not touched"
    assert found[0].verdict == verdict
    if layer is not None:
        assert found[0].layer == layer
