"""What travels over the wire, declared once: the API's routes, the labels it answers with, and the
limits on a request, read by the model handler, both servers and the OpenAPI documents.

The standalone Lambda function (``lambda_function.py``, zipped alone) keeps its own copies; a test
fails when they differ from these.
"""

from __future__ import annotations

SENTIMENT_ROUTE = "/api/sentiment"
FEEDBACK_ROUTE = "/api/feedback"
LABELS = ("negative", "positive")  # label 0 and 1
MAX_BODY_BYTES = 6 * 1024 * 1024
"""InvokeEndpoint's and Lambda's synchronous payload limit (6 MB): no larger request can reach the model."""
MAX_REVIEWS = 5000
"""Reviews per request. A batch transform job's ``MultiRecord`` requests (``MaxPayloadInMB`` 1, see
``aws/transform.py``) stay under it while its lines average 210 bytes or more, as reviews do."""
