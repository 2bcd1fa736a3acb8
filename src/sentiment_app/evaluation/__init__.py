"""Evaluation: metrics of a model's test-set predictions and a readable report with plots."""
