"""Turn review text into the original project's features: words → dictionary ids → padded rows."""
