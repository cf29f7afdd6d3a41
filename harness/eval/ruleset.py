"""Per-pack trigger patterns of the rule layer, read from `evals/rules/<pack-id>.yaml`.

Patterns are data, not code, so a pack author can extend them without touching the evaluator.
The file is validated like every file impasse reads (unknown fields are errors, a bad regex
names the entry and the pattern). Entries of the pack that the file does not cover get topic
words derived from their ledger examples, and the statistical layer decides them.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import EvalError
from harness.eval.text import NEGATION
from harness.pack.models import LedgerEntry, PersonaPack, Side

RULES_DIR = Path(__file__).resolve().parents[2] / "evals" / "rules"

# {w}: up to N words that are not negations, so "change, not rewrite, laws" never spans a "not".
_GAP = r"(?:(?!(?:not|never|no|nor|without)\b|\S*n't\b)[\w'$%./-]+,?\s+){0,N}?"
_MACROS = {"{w}": _GAP.replace("N", "4"), "{w8}": _GAP.replace("N", "8")}


class PatternSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    re: str
    agent: Literal["own", "any"] = "own"
    needs: str | None = None
    unless: str | None = None
    polar: bool = True


class EntryRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: list[str] = Field(min_length=1)
    concepts: dict[str, str] = Field(
        default_factory=dict,
        description="Named lexicons of the entry's meaning. Two of them in one sentence touch "
        "the entry even without topic words; each gives the statistical layer concept x "
        "speech-act features, so paraphrases with none of the ledger's words still land.",
    )
    violate: list[str | PatternSpec] = Field(default_factory=list)
    uphold: list[str | PatternSpec] = Field(default_factory=list)


class SideRefs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    own: list[str] = Field(min_length=1)
    other: list[str] = Field(min_length=1)


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pack: str
    version: int = 1
    sides: dict[Side, SideRefs]
    entries: dict[str, EntryRules] = Field(default_factory=dict)


@dataclass(frozen=True)
class Act:
    """A compiled act pattern: what the speaker's side does, and which way it cuts."""

    pattern: re.Pattern[str]
    direction: Literal["violate", "uphold"]
    agent: Literal["own", "any"]
    needs: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    polar: bool = True
    # The pattern spells a negation itself ("don't need a pledge"): a negation inside its match
    # is part of the act. Otherwise one that a free word gap let in ("am NOT soft") negates it.
    spells_negation: bool = False


def _spells_negation(pattern: str) -> bool:
    return bool(NEGATION.search(re.sub(r"\\[a-zA-Z]|[\\()?:|*+{}\[\]^$]", " ", pattern)))


@dataclass(frozen=True)
class CompiledEntry:
    entry_id: str
    topic: re.Pattern[str]
    acts: tuple[Act, ...]
    derived: bool = False
    concepts: tuple[tuple[str, re.Pattern[str]], ...] = ()


@dataclass(frozen=True)
class Ruleset:
    pack_id: str
    version: int
    digest: str
    own: dict[Side, re.Pattern[str]]
    other: dict[Side, re.Pattern[str]]
    entries: dict[str, CompiledEntry]


# An act starts at a word's start: "end" must not match inside "intend" or "extend", nor
# "cut" inside "execute".
WORD_START = r"(?<!\w)(?:{})"


def _compile(pattern: str, where: str, path: Path) -> re.Pattern[str]:
    text = pattern
    for macro, value in _MACROS.items():
        text = text.replace(macro, value)
    try:
        return re.compile(text)
    except re.error as error:
        raise EvalError(f"bad regex ({error})", location=path, field=where) from None


def _refs(words: list[str], where: str, path: Path) -> re.Pattern[str]:
    ordered = sorted(words, key=len, reverse=True)
    return _compile(r"(?<![\w'])(?:" + "|".join(ordered) + r")(?![\w])", where, path)


_STOP = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "at",
    "by",
    "from",
    "we",
    "our",
    "us",
    "you",
    "your",
    "they",
    "their",
    "it",
    "its",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "will",
    "would",
    "shall",
    "should",
    "can",
    "could",
    "may",
    "might",
    "must",
    "not",
    "no",
    "never",
    "this",
    "that",
    "these",
    "those",
    "as",
    "if",
    "so",
    "than",
    "then",
    "there",
    "here",
    "what",
    "which",
    "who",
    "whom",
    "how",
    "why",
    "when",
    "where",
    "all",
    "any",
    "each",
    "more",
    "most",
    "some",
    "such",
    "only",
    "own",
    "same",
    "too",
    "very",
    "just",
    "also",
    "i",
    "me",
    "my",
    "he",
    "she",
    "his",
    "her",
    "them",
    "do",
    "does",
    "did",
    "done",
    "have",
    "has",
    "had",
    "having",
    "into",
    "over",
    "under",
    "again",
    "further",
    "once",
    "china",
    "chinese",
    "u.s",
    "american",
    "americans",
    "united",
    "states",
    "beijing",
    "washington",
    "side",
    "deal",
    "agreement",
    "talks",
}


def derive_topic(entry: LedgerEntry) -> re.Pattern[str] | None:
    """Topic words for an entry the rules file does not cover: frequent content words of its
    statement and examples (at least 5 letters, so that stems like 'tariff' stay specific)."""
    words: Counter[str] = Counter()
    for text in [entry.statement, *entry.complies, *entry.violates]:
        for word in set(re.findall(r"[a-z][a-z'-]{4,}", text.lower())):
            if word not in _STOP:
                words[word] += 1
    top = [w for w, n in words.most_common(12) if n >= 2] or [w for w, _ in words.most_common(4)]
    if not top:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w[:7]) for w in top) + r")")


def rules_path(pack_id: str, rules_dir: Path | None = None) -> Path:
    return (rules_dir or RULES_DIR) / f"{pack_id}.yaml"


@cache
def _load_file(path: Path) -> tuple[RulesFile, str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EvalError(
            "no rules file for this pack", location=path, fix="write one like us-china-2019.yaml"
        ) from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise EvalError(f"invalid YAML: {error}".splitlines()[0], location=path) from None
    try:
        parsed = RulesFile.model_validate(data)
    except ValidationError as error:
        item = error.errors()[0]
        field = ".".join(str(p) for p in item["loc"])
        raise EvalError(item["msg"], location=path, field=field) from None
    return parsed, hashlib.sha256(raw).hexdigest()[:16]


_COMPILED: dict[tuple[str, str, Path], Ruleset] = {}


def load_ruleset(pack: PersonaPack, rules_dir: Path | None = None) -> Ruleset:
    """Compile the pack's rules file (memoized); entries it lacks get derived topics, no acts."""
    path = rules_path(pack.id, rules_dir)
    key = (pack.id, pack.content_hash, path)
    if key not in _COMPILED:
        _COMPILED[key] = _compiled(pack, path)
    return _COMPILED[key]


def _compiled(pack: PersonaPack, path: Path) -> Ruleset:
    spec, digest = _load_file(path)
    own = {s: _refs(r.own, f"sides.{s}.own", path) for s, r in spec.sides.items()}
    other = {s: _refs(r.other, f"sides.{s}.other", path) for s, r in spec.sides.items()}
    entries: dict[str, CompiledEntry] = {}
    for entry_id, rules in spec.entries.items():
        where = f"entries.{entry_id}"
        acts: list[Act] = []
        for direction in ("violate", "uphold"):
            for i, item in enumerate(getattr(rules, direction)):
                item = PatternSpec(re=item) if isinstance(item, str) else item
                at = f"{where}.{direction}[{i}]"
                acts.append(
                    Act(
                        pattern=_compile(WORD_START.format(item.re), at, path),
                        direction=direction,  # type: ignore[arg-type]
                        agent=item.agent,
                        needs=_compile(item.needs, at + ".needs", path) if item.needs else None,
                        unless=_compile(item.unless, at + ".unless", path) if item.unless else None,
                        polar=item.polar,
                        spells_negation=_spells_negation(item.re),
                    )
                )
        concepts = tuple(
            (name, _compile(rf"(?<!\w)(?:{lexicon})", f"{where}.concepts.{name}", path))
            for name, lexicon in sorted(rules.concepts.items())
        )
        topic = _compile("|".join(f"(?:{t})" for t in rules.topic), where + ".topic", path)
        entries[entry_id] = CompiledEntry(entry_id, topic, tuple(acts), concepts=concepts)
    for entry in pack.ledger:
        # Only positions with examples of both kinds: without them layer 2 has nothing to learn.
        if entry.id in entries or entry.kind not in ("position", "red_line"):
            continue
        if not (entry.complies and entry.violates):
            continue
        topic = derive_topic(entry)
        if topic is not None:
            entries[entry.id] = CompiledEntry(entry.id, topic, (), derived=True)
    return Ruleset(spec.pack, spec.version, digest, own, other, entries)
