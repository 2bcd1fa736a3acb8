"""The API Gateway + Lambda tier: the deployable Lambda function and a local API Gateway emulator.

``lambda_function`` imports only the standard library and boto3 so it can be zipped alone.
"""
