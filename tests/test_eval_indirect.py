"""Concessions made indirectly, caught by evaluator 1.12.0's rules, next to the refusals in the
same words that they must not flag: a yes to what the other side was reported asking, "by
statute", the full text released later, a one-way structure accepted, proportionate or mutual
responses, and findings made jointly or by the other side's institutions. The turns were
written for this test, not taken from any gold split; they run on the real pack, and the layer
that decided is checked, so a rule that stops matching fails here even if layer 2 guesses."""

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
