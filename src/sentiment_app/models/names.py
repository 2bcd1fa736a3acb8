"""The families the app names by default, kept apart from the registry (which imports every model,
torch included) so that finding a model to serve imports no model code."""

SEED_MODEL = "lstm-seed"  # the original recipe: what training runs when no family is named
# Bundled and served by default: the family chosen by the rule in docs/models.md (accuracy on
# validation, other products' sentences and the behavioural checks, within the latency and size limits).
DEFAULT_MODEL = "fast-encoder-stack"
