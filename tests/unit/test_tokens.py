"""The newer models' tokens: negation scopes and sentence cuts."""

from __future__ import annotations

from sentiment_app.features.tokens import mark_negation, sentences, tokenize


def test_negation_scope_runs_from_the_negator_to_the_next_mark_or_but() -> None:
    assert mark_negation(tokenize("I didn't like it. Great cast")) == [
        "i", "did", "n't", "NOT_like", "NOT_it", ".", "great", "cast"]
    assert mark_negation(tokenize("not bad, but never boring")) == [
        "not", "NOT_bad", ",", "but", "never", "NOT_boring"]
    assert mark_negation(tokenize("A good film")) == ["a", "good", "film"]


def test_sentences_are_cut_at_line_breaks_and_after_end_marks() -> None:
    review = "Great film.<br /><br />I loved it! Was it long? Yes 10/10"
    assert sentences(review) == ["Great film.", "I loved it!", "Was it long?", "Yes 10/10"]
    assert sentences("<b>no end mark</b>") == ["no end mark"]
    assert sentences("") == []
