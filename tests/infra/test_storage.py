"""Tables and the JWT secret, as wiring and the stack settings ask."""

from __future__ import annotations

from tests.infra.harness import JWT_SECRET, SECRET, SECRET_VERSION, TABLE, secret
from toons.aws import wiring


def test_each_wiring_table_exists_with_its_keys(deployment):
    for declared in wiring.TABLES:
        table = deployment.by_input(TABLE, "name", f"toons-{deployment.stack}-{declared.name}")

        assert table.inputs["hashKey"] == declared.hash_key[0]
        assert table.inputs["rangeKey"] == declared.range_key[0]
        attributes = {(a["name"], a["type"]) for a in table.inputs["attributes"]}
        index_keys = {k for i in declared.indexes for k in (i.hash_key, i.range_key)}
        assert attributes == {declared.hash_key, declared.range_key} | index_keys
    assert len(deployment.of_type(TABLE)) == len(wiring.TABLES)


def test_each_wiring_index_exists_with_its_keys_and_carried_attributes(deployment):
    for declared in wiring.TABLES:
        table = deployment.by_input(TABLE, "name", f"toons-{deployment.stack}-{declared.name}")
        built = {i["name"]: i for i in table.inputs.get("globalSecondaryIndexes", [])}

        assert set(built) == {index.name for index in declared.indexes}
        for index in declared.indexes:
            keys = {k["keyType"]: k["attributeName"] for k in built[index.name]["keySchemas"]}
            assert keys == {"HASH": index.hash_key[0], "RANGE": index.range_key[0]}
            assert built[index.name]["projectionType"] == "INCLUDE"
            assert built[index.name]["nonKeyAttributes"] == list(index.carries)


def test_tables_are_billed_per_request(deployment):
    assert {t.inputs["billingMode"] for t in deployment.of_type(TABLE)} == {"PAY_PER_REQUEST"}


def test_a_table_streams_exactly_when_wiring_gives_it_a_stream_view(deployment):
    for declared in wiring.TABLES:
        table = deployment.by_input(TABLE, "name", f"toons-{deployment.stack}-{declared.name}")

        assert table.inputs["streamEnabled"] is (declared.stream_view is not None)
        assert table.inputs.get("streamViewType") == declared.stream_view
    assert wiring.table("jobs").stream_view == "NEW_AND_OLD_IMAGES"


def test_point_in_time_recovery_is_on_in_prod_only(deployments):
    for stack, deployment in deployments.items():
        enabled = {t.inputs["pointInTimeRecovery"]["enabled"] for t in deployment.of_type(TABLE)}

        assert enabled == {stack == "prod"}


def test_the_jwt_secret_holds_the_configured_key_and_stays_secret(deployment):
    stored = deployment.one(SECRET, "jwt-secret")
    version = deployment.one(SECRET_VERSION, "jwt-secret-value")

    assert stored.inputs["name"] == f"toons-{deployment.stack}-jwt"
    assert version.inputs["secretString"] == secret(JWT_SECRET)
