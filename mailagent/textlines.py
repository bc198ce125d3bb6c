"""Text a person reads in a terminal, fitted to 80 columns.

Long lines are wrapped at spaces, continued with a deeper indent; a word longer than the
width (an address, a path, a URL) is kept whole rather than cut, so it can still be copied.
"""

from __future__ import annotations

import textwrap

from rich.console import Console

__all__ = ["WIDTH", "fit", "say"]

WIDTH = 80


def fit(text: str, indent: int = 0, *, width: int = WIDTH) -> list[str]:
    """`text` as lines of at most `width` columns: the first indented by `indent` spaces, the
    rest by two more; each line break in `text` starts a new line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=width,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + 2),
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )
    return lines


def say(console: Console, text: str, indent: int = 0) -> None:
    """Print `text` on `console`, fitted to its width (at most `WIDTH`)."""
    for line in fit(text, indent, width=max(40, min(console.width, WIDTH))):
        console.print(line)
