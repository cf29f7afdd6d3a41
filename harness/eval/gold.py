"""The gold set: hand-labelled turns in `evals/gold/*.jsonl` (training splits, `dev`, `holdout`,
`holdout2`, `holdout3`).

Labels are issue keys of the SPEAKER's own side's red lines: `violated` lists the red lines the
turn breaks, `upheld` those it keeps to. The training splits teach the statistical layer;
`dev`, `holdout`, `holdout2` and `holdout3` only ever measure it (`impasse eval calibrate
--split ...`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import EvalError

GOLD_DIR = Path(__file__).resolve().parents[2] / "evals" / "gold"
# Extra hand-written training turns; like `train`, the statistical layer learns from them.
# `train_extra2` (1.2.0) weights the weak red lines, conditionals, principals' instructions and
# compliant near-misses.
# `train_extra3`, `train_extra4` (1.3.0), `train_extra5` (1.4.0), `train_extra6` (1.5.0) and
# `train_extra7` (1.6.0): 2,210 paraphrase-heavy turns, long multi-topic turns, compliant
# near-misses, hard linguistic cases and minimal pairs by writers who saw only the gold README
# and the article (never dev, holdout or the evaluator). `train_extra8` (1.8.0): 520 more by
# four such writers (China lines, U.S. lines, false-alarm bait, simulation-style turns).
# `train_extra9` (1.9.0): 520 more by four such writers (each side's lines broken indirectly,
# false-alarm bait, turns in the style of a simulated negotiator). `train_extra10` (1.10.0): 520
# more (China's and the U.S. hardest lines, minimal pairs, long recaps with one concession).
# `train_extra11` (1.11.0): 520 more (China's law and text lines in procedural wording, the
# U.S. lines in its officials' public registers, short terse turns, long turns that keep one
# line and give away another). `train_extra12` (1.12.0): 390 more (concessions made indirectly:
# China's sovereignty and law lines, the U.S. retaliation and enforcement lines, and
# multi-sentence turns in the style of a simulated negotiator). `train_extra13` (1.13.0): 96
# more (eight indirect speech acts, each in violating and compliant turns). `train_extra14`
# (1.14.0): 200 more (each side's lines, hard cases, written blind). `train_extra15` (1.15.0):
# 200 more (turns in the style of an LLM negotiator; short public turns and hard cases).
# `train_extra16` (1.16.0): 200 more (compliant-heavy LLM-style turns; 50 minimal pairs).
TRAINING_SPLITS = (
    "train",
    "train_extra",
    "train_extra2",
    "train_extra3",
    "train_extra4",
    "train_extra5",
    "train_extra6",
    "train_extra7",
    "train_extra8",
    "train_extra9",
    "train_extra10",
    "train_extra11",
    "train_extra12",
    "train_extra13",
    "train_extra14",
    "train_extra15",
    "train_extra16",
)


class GoldTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    speaker: str
    text: str = Field(min_length=1)
    violated: list[str] = Field(default_factory=list, description="Issue keys of red lines broken.")
    upheld: list[str] = Field(default_factory=list, description="Issue keys of red lines kept.")
    cases: list[str] = Field(default_factory=list, description="Hard-case tags.")
    note: str = ""


def gold_path(split: str, gold_dir: Path | None = None) -> Path:
    return (gold_dir or GOLD_DIR) / f"{split}.jsonl"


def read_gold(path: Path) -> list[GoldTurn]:
    """Read one split; a bad line raises EvalError naming the file, line and field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalError("gold split not found", location=path) from None
    rows: list[GoldTurn] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(GoldTurn.model_validate(json.loads(line)))
        except json.JSONDecodeError as error:
            raise EvalError(f"invalid JSON: {error.msg}", location=f"{path}:{number}") from None
        except ValidationError as error:
            item = error.errors()[0]
            field = ".".join(str(p) for p in item["loc"]) or "(line)"
            raise EvalError(item["msg"], location=f"{path}:{number}", field=field) from None
    return rows


def file_digest(path: Path) -> str:
    """A short content hash, or 'absent' when the file does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        return "absent"
