"""Layer 2: a small statistical model over (turn, ledger entry) pairs, trained on our own data.

One logistic regression predicts `violated`, `upheld` or `none` for an entry given the clauses
of the turn that touch it. Features: word 1-2-grams (shared, and crossed with the entry id so
each entry can learn its own vocabulary), word stems (the same, with common suffixes cut),
character 3-5-grams for paraphrase and morphology, and the rule layer's facts (negation,
own-side act, question, hypothetical, report, ...) as tokens, alone and in pairs. It trains on
the ledger's `complies`/`violates` examples plus every gold training split (`TRAINING_SPLITS`),
never on `dev` or `holdout`; training takes a few seconds and is memoized per pack, ruleset,
feature code and training file. Everything is deterministic (fixed `random_state`, sorted
inputs).
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from itertools import combinations, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from harness.eval import text as tx
from harness.eval.gold import TRAINING_SPLITS, GoldTurn, file_digest, gold_path, read_gold
from harness.eval.rules import EntryReading, TurnReading, read_turn
from harness.eval.ruleset import Ruleset
from harness.files import atomic_write_bytes
from harness.llm.paths import cache_dir
from harness.pack.models import PersonaPack

if TYPE_CHECKING:  # scikit-learn and scipy load only when a model is trained (CLI start-up)
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier

Label = Literal["violated", "upheld", "none"]
LABELS: tuple[Label, ...] = ("none", "upheld", "violated")
RANDOM_STATE = 0
CHAR_WEIGHT = 0.5  # character n-grams help with paraphrase but should not outvote the words
REGULARISATION_C = 4.0  # inverse regularisation strength of the logistic regression
# A crude suffix stripper for one more view of the words: "removing", "removed" and "removal"
# share "remov", so a turn that inflects a word differently from the training data still meets
# its weight. 1.11, 5-fold CV over 4,170 training turns: F1 0.8148 -> 0.8222, false alarms
# 132 -> 127; stem bigrams and negation-scoped stems added nothing.
_SUFFIX = re.compile(r"(ing|ed|es|s|al|ly|ment|ation|ions|ion)$")
STEM_MIN_LENGTH = 6  # shorter words keep their ending ("laws", "text", "sign")
_PAIR_FLAGS = ("hit_violate", "hit_uphold", "negated", "own", "other", "question",
               "hypothetical", "reported", "weak", "sarcasm")  # fmt: skip


@dataclass(frozen=True)
class Instance:
    entry_id: str
    focus: str
    flags: tuple[tuple[str, float], ...]
    concepts: tuple[str, ...] = ()


def instance(reading: TurnReading, entry_id: str) -> Instance:
    """The (turn, entry) pair as the model sees it: touching clauses, or the whole turn."""
    er = reading.entries.get(entry_id) or EntryReading(entry_id)
    spans = er.touched or reading.sentences
    focus = " ".join(s.of(reading.text) for s in spans) or reading.text
    return Instance(
        entry_id, tx.collapse(focus), tuple(sorted(er.flags().items())), tuple(er.concepts)
    )


def _stem(word: str) -> str:
    word = word.lower().strip(".,;:!?\"'()")
    return _SUFFIX.sub("", word) if len(word) >= STEM_MIN_LENGTH else word


def _doc_tokens(inst: Instance) -> list[str]:
    words = inst.focus.split()
    grams = words + [f"{a} {b}" for a, b in pairwise(words)]
    tokens = grams + [f"{inst.entry_id}|{g}" for g in grams]
    stems = [f"S:{_stem(w)}" for w in words]
    tokens += stems + [f"{inst.entry_id}|{s}" for s in stems]
    on = [name for name, value in inst.flags if value]
    tokens += [f"F:{n}" for n in on] + [f"{inst.entry_id}|F:{n}" for n in on]
    paired = [n for n in on if n in _PAIR_FLAGS]
    tokens += [f"F:{a}&{b}" for a, b in combinations(paired, 2)]
    tokens += [f"{inst.entry_id}|C:{c}" for c in inst.concepts]
    tokens.append(f"E:{inst.entry_id}")
    return tokens


@dataclass
class StatModel:
    """A trained layer-2 model; `predict` gives P(label) per instance."""

    words: TfidfVectorizer
    chars: TfidfVectorizer
    clf: OneVsRestClassifier
    digest: str
    n_train: int

    def _matrix(self, items: Sequence[Instance]) -> sparse.csr_matrix:
        from scipy import sparse

        chars = self.chars.transform([i.focus for i in items]) * CHAR_WEIGHT
        return sparse.hstack([self.words.transform(items), chars]).tocsr()

    def predict_reference(self, items: Sequence[Instance]) -> list[dict[Label, float]]:
        """`predict` through scikit-learn's own transform and predict_proba (slow per call)."""
        if not items:
            return []
        probs = self.clf.predict_proba(self._matrix(items))
        classes = list(self.clf.classes_)
        return [{lab: float(row[classes.index(lab)]) for lab in LABELS} for row in probs]

    def predict(self, items: Sequence[Instance]) -> list[dict[Label, float]]:
        return self._arithmetic.probabilities(items)

    @functools.cached_property
    def _arithmetic(self) -> _Arithmetic:
        return _Arithmetic.of(self)

    def __getstate__(self) -> dict[str, object]:
        # The cache file keeps the fitted model only; the arithmetic is rebuilt on first use.
        return {k: v for k, v in self.__dict__.items() if k != "_arithmetic"}


@dataclass(frozen=True)
class _Block:
    """One fitted vectorizer's columns: its analyzer, vocabulary and idf, where its columns
    start in the feature matrix, and the weight its block gets there."""

    analyze: Callable[[object], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    scale: float

    def decision(self, doc: object, weights: np.ndarray) -> np.ndarray:
        """This block's share of each label's decision value for `doc`."""
        counts = Counter(c for t in self.analyze(doc) if (c := self.vocabulary.get(t)) is not None)
        if not counts:
            return np.zeros(weights.shape[0])
        cols = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * self.idf[cols]
        values *= self.scale / np.sqrt(values @ values)
        return weights[:, cols + self.offset] @ values


@dataclass(frozen=True)
class _Arithmetic:
    """The fitted model's arithmetic, one instance at a time, without scikit-learn's per-call
    input checks (which took 80% of the time of scoring a turn): TF-IDF with sublinear term
    frequency and an L2 norm per vectorizer, the character block scaled by CHAR_WEIGHT, one
    logistic regression per label, normalised over the labels as one-vs-rest does.
    `test_statistical_arithmetic_matches_scikit_learn` holds it to `predict_reference`."""

    words: _Block
    chars: _Block
    weights: np.ndarray  # (labels, features)
    bias: np.ndarray  # (labels,)
    labels: tuple[Label, ...]

    @classmethod
    def of(cls, model: StatModel) -> _Arithmetic:
        w, c = model.words, model.chars
        return cls(
            words=_Block(w.build_analyzer(), w.vocabulary_, w.idf_, 0, 1.0),
            chars=_Block(
                c.build_analyzer(), c.vocabulary_, c.idf_, len(w.vocabulary_), CHAR_WEIGHT
            ),
            weights=np.vstack([e.coef_ for e in model.clf.estimators_]),
            bias=np.concatenate([e.intercept_ for e in model.clf.estimators_]),
            labels=tuple(model.clf.classes_),
        )

    def probabilities(self, items: Sequence[Instance]) -> list[dict[Label, float]]:
        out = []
        chars_of: dict[str, np.ndarray] = {}  # a turn's entries often share one clause
        for item in items:
            chars = chars_of.get(item.focus)
            if chars is None:
                chars = chars_of[item.focus] = self.chars.decision(item.focus, self.weights)
            words = self.words.decision(item, self.weights)
            p = 1.0 / (1.0 + np.exp(-(self.bias + words + chars)))
            found = dict(zip(self.labels, (p / p.sum()).tolist(), strict=True))
            out.append({lab: found[lab] for lab in LABELS})
        return out


def fit(instances: Sequence[Instance], labels: Sequence[Label], digest: str = "") -> StatModel:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    words = TfidfVectorizer(analyzer=_doc_tokens, sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
    xw = words.fit_transform(instances)
    xc = chars.fit_transform([i.focus for i in instances])
    x = sparse.hstack([xw, xc * CHAR_WEIGHT]).tocsr()
    # liblinear, one-vs-rest, fits this small, wide problem in well under a second; the
    # multinomial lbfgs solver took several seconds here.
    clf = OneVsRestClassifier(
        LogisticRegression(
            C=REGULARISATION_C,
            solver="liblinear",
            class_weight="balanced",
            random_state=RANDOM_STATE,
        )
    )
    clf.fit(x, np.asarray(labels))
    return StatModel(words, chars, clf, digest, len(instances))


def training_set(
    pack: PersonaPack, rules: Ruleset, gold: Sequence[GoldTurn]
) -> tuple[list[Instance], list[Label]]:
    """Instances from the ledger's examples and the gold rows, with their labels."""
    items: list[Instance] = []
    labels: list[Label] = []
    red_lines = [e for e in pack.ledger if e.kind == "red_line"]
    for entry in pack.ledger:
        if entry.id not in rules.entries:
            continue
        side = pack.side_of(entry.holder)
        principal = (
            entry.holder in pack.personas and pack.personas[entry.holder].role == "principal"
        )
        for examples, label in ((entry.complies, "upheld"), (entry.violates, "violated")):
            for sentence in examples:
                reading = read_turn(
                    sentence, side, [rules.entries[entry.id]], rules, principal=principal
                )
                items.append(instance(reading, entry.id))
                labels.append(label)  # type: ignore[arg-type]
    for row in gold:
        if row.speaker not in pack.personas:
            continue
        bound = {e.id for e in pack.entries_for(row.speaker)}
        entries = [e for e in red_lines if e.id in bound and e.id in rules.entries]
        persona = pack.personas[row.speaker]
        reading = read_turn(
            row.text,
            persona.side,
            [rules.entries[e.id] for e in entries],
            rules,
            principal=persona.role == "principal",
        )
        for entry in entries:
            label: Label = (
                "violated"
                if entry.issue in row.violated
                else "upheld"
                if entry.issue in row.upheld
                else "none"
            )
            items.append(instance(reading, entry.id))
            labels.append(label)
    return items, labels


_MODELS: dict[tuple[str, ...], StatModel] = {}
# The modules that turn a turn into features: a change to any of them makes a cached model's
# features stale even when the pack, rules file and training data are unchanged.
FEATURE_MODULES = ("text.py", "ruleset.py", "rules.py", "statistical.py")


@functools.cache
def feature_code_digest() -> str:
    here = Path(__file__).resolve().parent
    return hashlib.sha256(b"".join((here / m).read_bytes() for m in FEATURE_MODULES)).hexdigest()


def model_for(
    pack: PersonaPack, rules: Ruleset, train_paths: Sequence[Path] | None = None
) -> StatModel:
    """The memoized model for this pack, ruleset and training files (trained on first use).

    By default it learns from every training split (`TRAINING_SPLITS`), never from `dev` or
    `holdout`. A trained model is also kept in the cache folder, so a new process (each
    `impasse eval`) loads it instead of training again; any change to the pack, the rules, the
    feature code, the training files or scikit-learn gives a new key.
    """
    paths = (
        list(train_paths) if train_paths is not None else [gold_path(s) for s in TRAINING_SPLITS]
    )
    key = (
        pack.id,
        pack.content_hash,
        rules.digest,
        f"features {feature_code_digest()}",
        f"scikit-learn {version('scikit-learn')}",
        *(f"{p.name}:{file_digest(p)}" for p in paths),
    )
    if key not in _MODELS:
        digest = hashlib.sha256("|".join(key).encode()).hexdigest()[:16]
        model = _load(digest)
        if model is None:
            gold = [row for p in paths if p.exists() for row in read_gold(p)]
            model = fit(*training_set(pack, rules, gold), digest=digest)
            _store(model)
        _MODELS[key] = model
    return _MODELS[key]


def _model_file(digest: str) -> Path:
    return cache_dir() / "eval" / f"statistical-{digest}.pkl"


def _load(digest: str) -> StatModel | None:
    """The cached model with this digest; None when absent or unreadable (then retrain)."""
    try:
        model = pickle.loads(_model_file(digest).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None
    return model if isinstance(model, StatModel) and model.digest == digest else None


def _store(model: StatModel) -> None:
    try:
        atomic_write_bytes(_model_file(model.digest), pickle.dumps(model), durable=False)
    except OSError:  # a read-only cache folder costs a retrain next time, nothing more
        pass
