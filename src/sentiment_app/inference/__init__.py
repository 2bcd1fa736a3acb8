"""Inference: the loaded model, SageMaker's handler functions, and batch transform."""
