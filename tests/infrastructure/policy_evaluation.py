"""Evaluating a synthesized template's resource policies for one request, as IAM would, in one account.

Enough of IAM's policy evaluation logic for the stack's resource policies (IAM User Guide, "Policy evaluation
logic" and "IAM JSON policy elements: Condition operators"): an explicit Deny wins, else an Allow is needed.
A statement applies when its principal, action, resource and every condition match. Within a condition,
operators and keys are ANDed and a key's values are ORed; a key missing from the request makes its condition
false (no `...IfExists` operator is used by the stack). An operator this module does not know fails the
evaluation rather than passing silently.

The template's intrinsic functions are resolved for one concrete deployment (`Deployment`): Ref and Fn::GetAtt
of the stack's own resources become the ARNs AWS would give them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from synthesized import Template, as_list

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"


@dataclass(frozen=True)
class Deployment:
    """The account and region the template is deployed to, and the names its resources get there."""

    template: Template
    account: str = "111122223333"
    region: str = "eu-west-1"
    stack_name: str = "EndpointUpdater"
    partition: str = "aws"

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by what CloudFormation would put there."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute != "Arn":
                raise AssertionError(f"cannot resolve attribute {attribute} of {logical_id}")
            return self.arn(logical_id)
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        if set(value) == {"Fn::Sub"}:
            text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(
                self.resolve(variables[m[1]]) if m[1] in variables else self._ref(m[1])), text)
        if any(key.startswith("Fn::") for key in value):
            raise AssertionError(f"cannot resolve {value!r}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::Partition": self.partition,
                  "AWS::StackName": self.stack_name, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        resource_type = self.template["Resources"][name]["Type"]
        # Ref gives a topic's and a queue's ARN/URL, other resources' names (CloudFormation resource reference).
        if resource_type == "AWS::SNS::Topic":
            return self.arn(name)
        return self.name(name)

    def name(self, logical_id: str) -> str:
        """The physical name: the one the template sets, else one CloudFormation generates from the ids."""
        properties = self.template["Resources"][logical_id].get("Properties", {})
        for key in ("AlarmName", "TopicName", "QueueName", "FunctionName", "StateMachineName"):
            if key in properties:
                return str(self.resolve(properties[key]))
        return f"{self.stack_name}-{logical_id}-1A2B3C4D5E6F"

    def arn(self, logical_id: str) -> str:
        resource_type = self.template["Resources"][logical_id]["Type"]
        where = f"{self.region}:{self.account}"
        name = self.name(logical_id)
        formats = {
            "AWS::SNS::Topic": f"sns:{where}:{name}",
            "AWS::CloudWatch::Alarm": f"cloudwatch:{where}:alarm:{name}",
            "AWS::KMS::Key": f"kms:{where}:key/{logical_id.lower()}-0000-0000",
            "AWS::SQS::Queue": f"sqs:{where}:{name}",
            "AWS::Lambda::Function": f"lambda:{where}:function:{name}",
        }
        if resource_type not in formats:
            raise AssertionError(f"no ARN format for {resource_type} ({logical_id})")
        return f"arn:{self.partition}:{formats[resource_type]}"


@dataclass(frozen=True)
class Request:
    """One call as IAM sees it: who, what, on which resource, with which context keys."""

    service_principal: str
    action: str
    resource: str
    context: dict[str, str]


def evaluate(statements: list[dict[str, Any]], request: Request) -> str:
    """ALLOW, DENY (an explicit Deny applies) or IMPLICIT_DENY (no statement allows), for resolved statements."""
    applying = [statement for statement in statements if _applies(statement, request)]
    if any(statement["Effect"] == "Deny" for statement in applying):
        return DENY
    if any(statement["Effect"] == "Allow" for statement in applying):
        return ALLOW
    return IMPLICIT_DENY


def _applies(statement: dict[str, Any], request: Request) -> bool:
    if "NotPrincipal" in statement or "NotAction" in statement or "NotResource" in statement:
        raise AssertionError(f"NotPrincipal/NotAction/NotResource are not evaluated here: {statement}")
    return (_principal_matches(statement["Principal"], request)
            and any(_like(pattern, request.action, ignore_case=True) for pattern in as_list(statement["Action"]))
            and any(_like(pattern, request.resource) for pattern in as_list(statement["Resource"]))
            and all(_condition_holds(operator, tests, request.context)
                    for operator, tests in statement.get("Condition", {}).items()))


def _principal_matches(principal: Any, request: Request) -> bool:
    # "*" and {"AWS": "*"} name every principal, services included; an account or role ARN names no service.
    if principal == "*":
        return True
    return (request.service_principal in as_list(principal.get("Service", []))
            or "*" in as_list(principal.get("AWS", [])))


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: * any run of characters, ? one character."""
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _condition_holds(operator: str, tests: dict[str, Any], context: dict[str, str]) -> bool:
    for key, expected in tests.items():
        if key not in context:
            return False
        actual = context[key]
        values = [str(value) for value in as_list(expected)]
        if operator in ("StringEquals", "ArnEquals"):
            matched = actual in values
        elif operator in ("StringLike", "ArnLike"):
            matched = any(_like(value, actual) for value in values)
        elif operator == "Bool":
            matched = actual.lower() in (value.lower() for value in values)
        else:
            raise AssertionError(f"condition operator {operator} is not evaluated here")
        if not matched:
            return False
    return True
