"""`make` calls this before run/test: are the system libraries there? One clear line per problem."""

from __future__ import annotations

import sys


def main() -> int:
    problems = []
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except OSError as exc:
        problems.append(
            "WeasyPrint cannot load Pango/HarfBuzz ("
            + str(exc).splitlines()[0]
            + "). On Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
        )
    if problems:
        for line in problems:
            print(f"tkm: {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
