"""Where the LLM layer keeps files: the cache folder (models, response cache, server state and
log) and the user config file. Both honour environment overrides so tests stay isolated."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$IMPASSE_CACHE_DIR`, else `$XDG_CACHE_HOME/impasse`, else `~/.cache/impasse`."""
    explicit = os.environ.get("IMPASSE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "impasse"


def user_config_file() -> Path:
    """`$XDG_CONFIG_HOME/impasse/impasse.toml`, else `~/.config/impasse/impasse.toml`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "impasse" / "impasse.toml"
