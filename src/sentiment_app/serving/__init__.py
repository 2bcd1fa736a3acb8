"""Serving: the model container (``app``), its process (``server``) and local endpoints (``lifecycle``).

Kept free of heavy imports so the CLI can manage endpoints without loading torch.
"""

IDLE_SHUTDOWN_LINE = "No invocation within the idle timeout; shutting down."
"""Logged by the server before an idle shutdown; the lifecycle reads it to tell idle from crashed."""
