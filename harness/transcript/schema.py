"""The transcript's JSON Schema, as published in `docs/transcript.schema.json`.

Regenerate after changing `harness/transcript/model.py`:

    python -m harness.transcript.schema > docs/transcript.schema.json

A test fails while the two differ.
"""

from __future__ import annotations

import json
import sys

from harness.transcript.model import Transcript


def transcript_schema_text() -> str:
    """The schema exactly as stored in docs/ (sorted keys, 2-space indent, final newline)."""
    return json.dumps(Transcript.model_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(transcript_schema_text())
