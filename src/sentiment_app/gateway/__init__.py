"""The API Gateway + Lambda tier, one subpackage per job: ``function`` (the deployable Lambda function
and its zip), ``runtime`` (Lambda's execution environments run locally: the Runtime API and the pool),
``api`` (the local API Gateway) and ``keys`` (API keys, usage plans).
"""
