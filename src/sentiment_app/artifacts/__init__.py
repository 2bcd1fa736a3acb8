"""Model artifacts: the self-describing model folder, its archive, and which model to load."""
