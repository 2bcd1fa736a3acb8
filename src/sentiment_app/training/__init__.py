"""Training: the SageMaker script-mode entry point and the local training job that runs it."""
