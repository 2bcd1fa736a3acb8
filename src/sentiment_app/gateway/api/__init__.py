"""The local API Gateway: proxy events in and out, the Starlette app, readiness, and the local
stand-ins for the AWS side of ``serve``."""
