"""A review cut into sentences, as places in the text: each gets its own verdict on request.

A mixed review ("The acting was superb. The plot made no sense.") has one overall verdict that
hides both; the page shows each sentence's under it. Sentences end after ".", "!" or "?" followed
by a space, and at line breaks (``<br />`` in IMDB's text); spans are Python string indices into
the review as sent, so the page can quote each one. The work is bounded: at most ``MAX_SENTENCES``
of the review's first ``MAX_CHARS`` characters.
"""

from __future__ import annotations

import re

MAX_SENTENCES = 50
MAX_CHARS = 10_000

_LINE_BREAK = re.compile(r"<br\s*/?>|\n", re.IGNORECASE)
_END = re.compile(r"[.!?]+(?=\s)")


def sentence_spans(review: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence with a letter or digit in it, stripped of spaces."""
    window = review[:MAX_CHARS]
    cuts = [0, *(i for m in _LINE_BREAK.finditer(window) for i in m.span()), len(window)]
    spans = []
    for line_start, line_end in zip(cuts[::2], cuts[1::2]):
        ends = [m.end() for m in _END.finditer(window, line_start, line_end)]
        for start, end in zip([line_start, *ends], [*ends, line_end]):
            text = window[start:end]
            start, end = start + len(text) - len(text.lstrip()), end - (len(text) - len(text.rstrip()))
            if any(c.isalnum() for c in window[start:end]):
                spans.append((start, end))
    return spans[:MAX_SENTENCES]
