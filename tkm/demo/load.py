"""The demo data set beyond users (training centres, programmes, groups, ...)."""

from __future__ import annotations


def load_demo(scale: int = 0) -> str:
    return "Demo users are ready."
