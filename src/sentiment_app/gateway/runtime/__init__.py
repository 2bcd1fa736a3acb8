"""Lambda's execution environments run locally: AWS's runtime interface client (``awslambdaric``)
in a child process, served events by a local Lambda Runtime API, and a pool that schedules them as
Lambda does."""
