"""HTTP plumbing shared by the endpoint and the gateway: request bodies, request logs and metrics, OpenAPI."""
