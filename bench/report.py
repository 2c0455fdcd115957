"""docs/benchmarks.md holds one section per benchmark; each benchmark rewrites only its own."""

from __future__ import annotations

from pathlib import Path

TITLE = "# Benchmarks"


def write_section(path: Path, heading: str, body: str) -> str:
    """Replace the ``## heading`` section of ``path`` with ``body`` (or append it); returns the file's text."""
    text = path.read_text() if path.exists() else TITLE + "\n"
    lines = text.rstrip("\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line == heading), None)
    section = [heading, "", *body.rstrip("\n").split("\n")]
    if start is None:
        lines += ["", *section]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = [*section, ""] if end < len(lines) else section
    out = "\n".join(lines) + "\n"
    path.write_text(out)
    return out
