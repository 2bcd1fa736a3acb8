"""The tokenizer of the newer models: words as written, negations and punctuation kept.

Unlike the original ``review_to_words`` nothing is dropped or stemmed: "not", "no" and the
"n't" of "didn't" (split off as its own token, as the Penn Treebank does) are the words that flip
a review, and punctuation carries tone and shape ("!", "?", "10/10", ":)"), so every mark is a
token of its own. HTML is stripped the same way as for the original features.
"""

from __future__ import annotations

import re

from sentiment_app.features.text import strip_html

# After "n't" is split off with a space: "n't", runs of word characters, or one mark.
_TOKEN = re.compile(r"n't|\w+|[^\w\s]")


def clean_text(review: str) -> str:
    """The review as the text channel stores it: HTML stripped, whitespace on one line."""
    return " ".join(strip_html(review).split())


def tokenize(review: str) -> list[str]:
    """Lower-cased tokens of a (raw or cleaned) review; the curly apostrophe counts as "'"."""
    return _TOKEN.findall(strip_html(review).lower().replace("\u2019", "'").replace("n't", " n't"))
