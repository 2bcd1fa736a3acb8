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
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
NEGATORS = frozenset({"not", "n't", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot",
                      "without", "nowhere", "hardly"})
SCOPE_ENDS = frozenset(".,!?;:()\"-") | {"but"}
NEGATED = "NOT_"


def clean_text(review: str) -> str:
    """The review as the text channel stores it: HTML stripped, whitespace on one line."""
    return " ".join(strip_html(review).split())


def tokenize(review: str) -> list[str]:
    """Lower-cased tokens of a (raw or cleaned) review; the curly apostrophe counts as "'"."""
    return _TOKEN.findall(strip_html(review).lower().replace("\u2019", "'").replace("n't", " n't"))


def mark_negation(tokens: list[str]) -> list[str]:
    """Prefix every token in a negation's scope (after a negator, up to a mark or "but") with
    ``NOT_``, so "not good" and "good" are different features (Das & Chen 2001; Pang et al. 2002)."""
    marked, scope = [], False
    for token in tokens:
        if token in SCOPE_ENDS:
            scope = False
        marked.append(NEGATED + token if scope else token)
        scope = scope or token in NEGATORS
    return marked


def sentences(review: str) -> list[str]:
    """The review cut into sentences: at line breaks and after ".", "!" or "?"."""
    parts = (" ".join(strip_html(part).split()) for part in _LINE_BREAK.split(review))
    return [sentence for part in parts for sentence in _SENTENCE_END.split(part) if sentence]
