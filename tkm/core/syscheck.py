"""`make` calls this before run/test: are the system libraries there? One clear line per problem."""

from __future__ import annotations

import shutil
import subprocess
import sys

#: Letters are set in Liberation Serif (metric-compatible with Times New Roman): without it the tables are
#: measured in another face and may run past the margin.
LETTER_FONTS = ("Liberation Serif", "Liberation Sans", "DejaVu Sans")


def missing_fonts() -> list[str]:
    """The letter fonts fontconfig does not know, or [] (also when fc-list itself is missing: Pango needs it)."""
    if shutil.which("fc-list") is None:
        return list(LETTER_FONTS)
    result = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30, check=False)
    known = {name.strip().lower() for line in result.stdout.splitlines() for name in line.split(",")}
    return [font for font in LETTER_FONTS if font.lower() not in known]


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
    fonts = missing_fonts()
    if fonts:
        problems.append(
            "fonts for letters are missing ("
            + ", ".join(fonts)
            + "); letters would be set in another face and tables may overflow. On Debian/Ubuntu: "
            "sudo apt-get install fonts-liberation fonts-dejavu-core fontconfig"
        )
    if problems:
        for line in problems:
            print(f"tkm: {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
