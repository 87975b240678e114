"""Alarms on the workflow's executions, sent to the notification topic.

A Catch never runs when an execution is stopped or reaches the state machine's own timeout, so aborted
and timed-out executions may leave an endpoint deregistered: they alarm as loudly as failures.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

# Step Functions metric name -> what the alarm says (AWS/States metrics of a state machine).
EXECUTION_ALARMS: dict[str, str] = {
    "ExecutionsFailed": "An endpoint update failed. The execution's error and cause say what happened and "
    "whether the scaling was restored.",
    "ExecutionsTimedOut": "An endpoint update reached the state machine's own timeout: the scaling was NOT "
    "restored by the workflow; restore it from the ValidateAndSnapshot output.",
    "ExecutionsAborted": "An endpoint update was stopped: the scaling was NOT restored by the workflow; restore "
    "it from the ValidateAndSnapshot output.",
}
PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """One alarm per execution outcome that needs a person, each notifying the topic."""

    def __init__(
        self, scope: Construct, construct_id: str, *, state_machine: sfn.IStateMachine, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for metric_name, description in EXECUTION_ALARMS.items():
            alarm = cloudwatch.Alarm(
                self,
                metric_name,
                alarm_description=description,
                metric=state_machine.metric(metric_name, statistic=cloudwatch.Stats.SUM, period=PERIOD),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                # No executions means nothing went wrong.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(topic))
            self.alarms[metric_name] = alarm
