"""The tokenizer of the newer models: words as written, negations and "!"/"?" kept.

Unlike the original ``review_to_words`` nothing is dropped or stemmed: "not", "no" and the
"n't" of "didn't" (split off as its own token, as the Penn Treebank does) are the words that flip
a review, and "!" and "?" carry tone. HTML is stripped the same way as for the original features.
"""

from __future__ import annotations

import re

from sentiment_app.features.text import strip_html

# "didn't" -> "did", "n't"; other words are runs of letters/digits; "!" and "?" stand alone.
_TOKEN = re.compile(r"[a-z0-9]+(?=n't)|n't|[a-z0-9]+|[!?]")


def clean_text(review: str) -> str:
    """The review as the text channel stores it: HTML stripped, whitespace on one line."""
    return " ".join(strip_html(review).split())


def tokenize(review: str) -> list[str]:
    """Lower-cased tokens of a (raw or cleaned) review; the curly apostrophe counts as "'"."""
    return _TOKEN.findall(strip_html(review).lower().replace("\u2019", "'"))
