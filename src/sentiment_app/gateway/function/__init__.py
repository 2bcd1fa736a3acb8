"""The deployable Lambda function and its zip: ``lambda_function`` imports only the standard library
and boto3, so it can be zipped alone."""
