"""API keys and usage plans: the key store and the checks the gateway applies to each request."""
