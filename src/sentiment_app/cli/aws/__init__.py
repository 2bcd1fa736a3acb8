"""The ``sentiment-app aws`` group; AWS errors surface as one line (via ``SentimentAppError``)."""

from __future__ import annotations

from typing import Any

import click

from sentiment_app.aws.session import aws_errors
from sentiment_app.cli.aws.costs import cleanup_command, status_command
from sentiment_app.cli.aws.endpoints import delete_command, deploy_command, invoke_command, update_weights_command
from sentiment_app.cli.aws.jobs import train_command, transform_command, upload_command
from sentiment_app.cli.aws.models import register_command
from sentiment_app.cli.aws.smoke import smoke_command
from sentiment_app.cli.aws.web import lambda_package, web_site


class AwsGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        with aws_errors():
            return super().invoke(ctx)


@click.group("aws", cls=AwsGroup)
def aws() -> None:
    """SageMaker from the command line: upload, train, transform, deploy, invoke, update-weights,
    register, status, delete, cleanup; smoke checks an account end to end and removes what it made;
    lambda-package and web-site build the API's function and the static page. Every call honours AWS_ENDPOINT_URL (e.g. a local AWS-API server); every resource is
    tagged sentiment-app:project=sentiment-app so status and cleanup find it."""


for command in (upload_command, train_command, transform_command, deploy_command, invoke_command,
                update_weights_command, register_command, status_command, delete_command, cleanup_command,
                smoke_command, lambda_package, web_site):
    aws.add_command(command)
