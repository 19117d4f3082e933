"""The DynamoDB tables wiring declares, with their keys and streams."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.catalog import Handle, Key
from infra.settings import Settings
from toons.aws import wiring


class Storage(pulumi.ComponentResource):
    """One on-demand table per `wiring.TABLES` entry; streams where wiring asks for one."""

    tables: dict[str, aws.dynamodb.Table]

    def __init__(
        self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("toons:infra:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.tables = {table.name: _table(table, settings, child) for table in wiring.TABLES}
        self.register_outputs({logical: table.name for logical, table in self.tables.items()})

    def handles(self) -> dict[Key, Handle]:
        """Each table by name, and each table stream under the `table-stream` kind."""
        handles = {}
        for declared in wiring.TABLES:
            table = self.tables[declared.name]
            handles[("table", declared.name)] = Handle(table.arn, table.name)
            for index in declared.indexes:
                arn = table.arn.apply(lambda arn, index=index: f"{arn}/index/{index.name}")
                handles[("table-index", f"{declared.name}/{index.name}")] = Handle(arn, table.name)
            if declared.stream_view:
                handles[("table-stream", declared.name)] = Handle(
                    table.stream_arn, table.stream_arn
                )
        return handles


def _index(index: wiring.Index) -> aws.dynamodb.TableGlobalSecondaryIndexArgs:
    """A sparse index as wiring declares it (on-demand tables need no capacity)."""
    return aws.dynamodb.TableGlobalSecondaryIndexArgs(
        name=index.name,
        key_schemas=[
            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=key, key_type=kind)
            for key, kind in ((index.hash_key[0], "HASH"), (index.range_key[0], "RANGE"))
        ],
        projection_type="INCLUDE" if index.carries else "KEYS_ONLY",
        non_key_attributes=list(index.carries) or None,
    )


def _table(
    declared: wiring.Table, settings: Settings, opts: pulumi.ResourceOptions
) -> aws.dynamodb.Table:
    keys = [declared.hash_key, declared.range_key]
    keys += [key for index in declared.indexes for key in (index.hash_key, index.range_key)]
    return aws.dynamodb.Table(
        f"{declared.name}-table",
        name=settings.physical(declared.name),
        billing_mode="PAY_PER_REQUEST",
        hash_key=declared.hash_key[0],
        range_key=declared.range_key[0],
        attributes=[aws.dynamodb.TableAttributeArgs(name=key, type=kind) for key, kind in keys],
        global_secondary_indexes=[_index(index) for index in declared.indexes],
        stream_enabled=declared.stream_view is not None,
        stream_view_type=declared.stream_view,
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
            enabled=settings.point_in_time_recovery
        ),
        opts=opts,
    )
