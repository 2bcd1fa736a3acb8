"""Serving: the model container (``app``), its process (``server``) and local endpoints (``lifecycle``).

Kept free of heavy imports so the CLI can manage endpoints without loading torch.
"""

MAX_INVOKE_BYTES = 6 * 1024 * 1024
"""InvokeEndpoint's body limit (6 MB), which applies whatever the container would accept."""

IDLE_SHUTDOWN_LINE = "No invocation within the idle timeout; shutting down."
"""Logged by the server before an idle shutdown; the lifecycle reads it to tell idle from crashed."""
