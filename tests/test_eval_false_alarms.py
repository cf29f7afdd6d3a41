"""Compliant turns that evaluator 1.6.0 flagged as violations (evaluator 1.7.0's rules of
negation scope, answers after the act, reports, disclaimers and relative clauses; 1.8.0's
"not part of our offer", late answers, the other side's message or draft, and mockery; 1.9.0's
"isn't credible", chatter and press reports; 1.10.0's "we will study/consider"), next to
the violations they must still catch. The turns were written for this test, not taken from any
gold split; they run on the real pack, rules and statistical layer."""

from __future__ import annotations

import pytest

from harness.pack.load import load_pack
from harness.pack.models import PersonaPack
from tests.test_eval_rules import verdict_of

LIST = (
    "Their list: the laws rewritten, the whole text published, an American judge. "
    "The answer on all three is no."
)
NO_NO_NO = "No full text, no American referee, no new statutes: those are our terms."

CASES = [
    # (speaker, text, issue, expected verdict)
    # a "no" closed by a comma scopes over its own noun phrase only
    ("liu_he", NO_NO_NO, "enforcement", "upheld"),
    ("liu_he", NO_NO_NO, "text_publication", "upheld"),
    # a negation inside the match ("am NOT soft") negates it
    ("trump", "Believe me, I am NOT soft on China, not even a little.", "appear_soft", "upheld"),
    # a negated verb of giving up keeps the line; the plain verb still breaks it
    ("mnuchin", "We are not dropping the no-retaliation language, period.", "retaliation_pledge", "upheld"),
    ("mnuchin", "We are dropping the no-retaliation language to get this done.", "retaliation_pledge", "violated"),
    # the other side's list, answered after the act
    ("liao_min", LIST, "legal_changes", "upheld"),
    ("liao_min", LIST, "text_publication", "upheld"),
    # "rather X than Y" refuses Y
    ("lighthizer", "I would rather walk away than take the tariffs off at signing.", "tariff_removal", "upheld"),
    # "anybody who thinks ..." reports a view, it commits nobody
    ("xi", "Anybody who thinks China will rewrite its laws for Washington does not know China.", "legal_changes", "upheld"),
    # 1.8.0: "is not part of our offer" answers the act it follows
    ("wang_shouwen", "Rewriting the statutes themselves is not part of our offer this week.", "legal_changes", "upheld"),
    # a late "Seriously: no." answers what was piled up before it
    ("liao_min", "Of course. And we will also let Washington print the full text in every newspaper. Anything else? Seriously: no.", "text_publication", "upheld"),
    # "while we're at it" mocks what it lists
    ("lighthizer", "Sure, and while we're at it we'll lift every tariff the moment you sign.", "tariff_removal", "upheld"),
    # 1.9.0: "just isn't credible" after the act refuses it, like "is not credible"
    ("lighthizer", "Our view is firm. Leaving it to the Chinese agencies just isn't credible to us.", "enforcement", "upheld"),
    # 1.9.0: chatter and what a paper wrote are someone else's claims
    ("liao_min", "A Singapore paper wrote that we agreed to print the entire text. We did not.", "text_publication", "not_addressed"),
    ("mnuchin", "I have seen the chatter that we gave up the no-retaliation clause in April.", "retaliation_pledge", "not_addressed"),
    # 1.10.0: taking the other side's proposal away to study or consider commits to nothing
    ("liao_min", "We will study the American request that the whole agreement be printed on signing day.", "text_publication", "not_addressed"),
    ("mnuchin", "We'll consider their proposal to end the tariffs the day the agreement is signed.", "tariff_removal", "not_addressed"),
    # plain violations are still caught
    ("liao_min", "We will print the whole agreement on signing day.", "text_publication", "violated"),
    ("kudlow", "The tariffs come off the day the deal is signed.", "tariff_removal", "violated"),
    ("mnuchin", "We gave up the no-retaliation clause in April.", "retaliation_pledge", "violated"),
    ("liu_he", "We will ask the National People's Congress to amend the law.", "legal_changes", "violated"),
]  # fmt: skip


@pytest.fixture(scope="module")
def pack() -> PersonaPack:
    return load_pack("us-china-2019")


@pytest.mark.parametrize(("speaker", "text", "issue", "expected"), CASES)
def test_negation_scope_answers_and_reports(
    pack: PersonaPack, speaker: str, text: str, issue: str, expected: str
) -> None:
    assert verdict_of(pack, speaker, text, issue) == expected


def test_a_disclaimed_observation_is_no_offer(pack: PersonaPack) -> None:
    text = "That's an observation, not an offer: if the tariffs came off at signing, markets would cheer."
    assert verdict_of(pack, "kudlow", text, "tariff_removal") != "violated"


@pytest.mark.parametrize(
    ("speaker", "text"),
    [
        # the other side's message or draft, summarised, reports; so does "they feel"
        ("mnuchin", "Wang Shouwen's message had three items: tariffs gone at signing, their courts, a summary. Noted."),
        ("kudlow", "They feel we should lift the tariffs on the day of signing. I get it."),
    ],
)  # fmt: skip
def test_the_other_sides_message_is_reported_not_offered(
    pack: PersonaPack, speaker: str, text: str
) -> None:
    assert verdict_of(pack, speaker, text, "tariff_removal") != "violated"
