"""What is copied depends on the SDK's model: botocore keeps only the response fields its model knows.

The workflow copies what DescribeEndpointConfig returns, so a field reaches the new config only if the
functions' botocore knows it. The stack ships the pinned botocore (infra/sdk_layer.py); these tests show
that the pinned model knows the recent ProductionVariant fields, and what an older model does with them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import botocore.loaders
import botocore.model
import botocore.parsers

RECENT_FIELDS = {
    "InferenceAmiVersion": "al2-ami-sagemaker-inference-gpu-2",
    "CapacityReservationConfig": {
        "CapacityReservationPreference": "capacity-reservations-only",
        "MlReservationArn": "arn:aws:sagemaker:us-east-1:123456789012:training-plan/churn-plan",
    },
}
ANSWER = {
    "EndpointConfigName": "churn-prod-config-1",
    "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/churn-prod-config-1",
    "CreationTime": 1764460800.0,
    "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "churn-v7", "InitialInstanceCount": 2,
                            "InstanceType": "ml.g5.xlarge", "InitialVariantWeight": 1.0, **RECENT_FIELDS}],
}


def _model(without: set[str] = frozenset()) -> botocore.model.ServiceModel:  # type: ignore[assignment]
    data = copy.deepcopy(botocore.loaders.Loader().load_service_model("sagemaker", "service-2"))
    for field in without:
        del data["shapes"]["ProductionVariant"]["members"][field]
    return botocore.model.ServiceModel(data, "sagemaker")


def _parsed_variant(model: botocore.model.ServiceModel) -> dict[str, Any]:
    """DescribeEndpointConfig's JSON answer, parsed as botocore parses it for a client of `model`."""
    output = model.operation_model("DescribeEndpointConfig").output_shape
    parsed = botocore.parsers.create_parser(model.protocol).parse(
        {"status_code": 200, "headers": {}, "body": json.dumps(ANSWER).encode()}, output)
    return dict(parsed["ProductionVariants"][0])


def test_the_pinned_model_knows_the_recent_production_variant_fields_and_keeps_them() -> None:
    # Given the botocore the project pins (the one the functions' layer ships)
    model = _model()

    # When AWS's answer naming the recent fields is parsed
    variant = _parsed_variant(model)

    # Then the model lists them and the parsed answer carries them, ready to be copied
    assert set(RECENT_FIELDS) <= set(model.shape_for("ProductionVariant").members)
    assert {field: variant.get(field) for field in RECENT_FIELDS} == RECENT_FIELDS


def test_a_model_that_predates_a_field_drops_it_without_a_word() -> None:
    # Given a botocore model from before these fields (the runtime's own SDK can be that old)
    model = _model(without=set(RECENT_FIELDS))

    # When the same answer is parsed
    variant = _parsed_variant(model)

    # Then the fields are simply missing: a copy made from it would deploy the variant without them
    assert set(RECENT_FIELDS).isdisjoint(variant)
    assert variant["ModelName"] == "churn-v7"
