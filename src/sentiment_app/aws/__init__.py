"""The scale-out path on AWS: SageMaker training, batch transform and endpoints driven by boto3.

Every resource the commands create carries the project tag, so ``aws status`` and ``aws cleanup``
can find (and remove) exactly what this project left running.
"""
