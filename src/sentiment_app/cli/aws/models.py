"""``aws register``: a model into SageMaker's Model Registry, as a model package with an approval status."""

from __future__ import annotations

import click

from sentiment_app.artifacts.versions import APPROVED, PENDING, REJECTED, find_version
from sentiment_app.aws.endpoints import DEFAULT_INSTANCE_TYPE as REALTIME_INSTANCE_TYPE
from sentiment_app.aws.images import image_uri, processor
from sentiment_app.aws.instance_types import REALTIME, TRANSFORM
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.model_packages import (DEFAULT_GROUP, create_model_package, ensure_group, model_package_request,
                                              version_metadata)
from sentiment_app.aws.names import STAMP_LENGTH, checked_name, stamp
from sentiment_app.aws.serving_model import ModelSource, serving_model_data
from sentiment_app.aws.session import connect
from sentiment_app.aws.transform import DEFAULT_INSTANCE_TYPE as TRANSFORM_INSTANCE_TYPE
from sentiment_app.cli.aws.options import InstanceType, image_option, region_option, with_location, with_model_source
from sentiment_app.cli.options import JSON_OPTION, with_home
from sentiment_app.cli.output import echo_json
from sentiment_app.errors import SentimentAppError
from sentiment_app.settings import Settings


@click.command("register")
@with_home
@with_model_source
@with_location
@region_option
@image_option
@click.option("--group", default=DEFAULT_GROUP, show_default=True, help="Model package group (created if missing).")
@click.option("--approval-status", type=click.Choice([PENDING, APPROVED, REJECTED]), default=PENDING,
              show_default=True)
@click.option("--realtime-instance-type", "realtime_types", type=InstanceType(REALTIME, "endpoints"), multiple=True,
              default=(REALTIME_INSTANCE_TYPE,), show_default=True,
              help="An instance type the package is deployed on behind an endpoint (repeatable).")
@click.option("--transform-instance-type", "transform_types", type=InstanceType(TRANSFORM, "batch transform"),
              multiple=True, default=(TRANSFORM_INSTANCE_TYPE,), show_default=True,
              help="An instance type the package runs on in batch transform (repeatable).")
@JSON_OPTION
def register_command(settings: Settings, source: ModelSource, location: S3Location, region: str | None,
                     image: str | None, group: str, approval_status: str, realtime_types: tuple[str, ...],
                     transform_types: tuple[str, ...], as_json: bool) -> None:
    """Register a model in SageMaker's Model Registry: a model package (serving image, model.tar.gz,
    content types, approval status) in a model package group; a local registry version brings its
    family, fingerprints and metrics along. The instance types are checked against the service's own
    lists (real-time and transform differ); without --image they must all be CPU or all GPU types, as
    the one image they get is."""
    if not image and len({processor(t) for t in (*realtime_types, *transform_types)}) > 1:
        raise SentimentAppError("The instance types mix CPU and GPU ones, and a package has one image: give "
                                "types of one kind, or the image with --image.")
    aws = connect(region)
    checked_name(group, "model package group name", room=STAMP_LENGTH + 1)
    name = f"{group}-{stamp()}"
    model_data = serving_model_data(aws, location, source, name)
    version = find_version(settings, source.model_dir) if source.model_dir else None
    description = (f"{version['family']} model, local registry version {version['version']}" if version
                   else f"sentiment model from {source.training_job or source.model_data or source.model_dir}")
    created = ensure_group(aws, group)
    arn = create_model_package(aws, model_package_request(
        group, image or image_uri(aws.region, "inference", realtime_types[0]), model_data, aws.region, realtime_types,
        transform_types, approval_status, description, version_metadata(version) if version else {}))
    if created:
        click.echo(f"created model package group {group}")
    click.echo(f"model package {arn} ({approval_status}): {model_data}")
    echo_json({"model_package_arn": arn, "group": group, "package_version": int(arn.rpartition("/")[2]),
               "approval_status": approval_status, "model_data": model_data,
               "registry_version": version["version"] if version else None}, as_json)
