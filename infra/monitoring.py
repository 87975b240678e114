"""Alarms on the workflow's executions and on what runs around them, sent to the notification topic.

A Catch never runs when an execution is stopped or reaches the state machine's own timeout, so aborted
and timed-out executions alarm as loudly as failures. The functions EventBridge invokes (the recovery, the
start of triggered updates, the end-of-update message, the resume on endpoint events) run asynchronously: when
one still fails after Lambda's retries, its invocation goes to the UndeliveredEvents queue (its on-failure
destination). Each one's errors alarm, and so does a message in that queue, which also holds the events the rules
could not deliver.

Event-driven completion has a dashboard: how soon the workflow learned that an update ended, by the path that
told it (an event, the await function's own look, the safety-net poll, the polling loop), and an alarm when the
safety net does the events' work.

An alarm action publishes as the CloudWatch service principal. The topic's policy allows that principal to
publish only for these alarms of this account (aws:SourceArn and aws:SourceAccount, as the CloudWatch User Guide's
"Confused deputy prevention" shows for SNS alarm actions); the topic's key policy lets it use the key
(infra/notifications.py). Without the topic statement a policy that CDK writes (the TLS deny) replaces SNS's
default one, and the alarm's publish is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from endpoint_updater import names
from endpoint_updater.core import completion
from endpoint_updater.core.errors import SnapshotRefused

# Step Functions metric name -> what the alarm says (AWS/States metrics of a state machine).
EXECUTION_ALARMS: dict[str, str] = {
    "ExecutionsFailed": "An endpoint update failed. The execution's error and cause say what happened and "
    "whether the scaling was restored.",
    "ExecutionsTimedOut": "An endpoint update reached the state machine's own timeout. Its RestoreScaling step "
    "did not run: the recovery function restores the scaling from the updates table (its own alarm fires if "
    "it cannot).",
    "ExecutionsAborted": "An endpoint update was stopped. Its RestoreScaling step did not run: the recovery "
    "function restores the scaling from the updates table (its own alarm fires if it cannot).",
}
# Function folder -> (alarm id, what the alarm says) for the functions EventBridge invokes.
FUNCTION_ALARMS: dict[str, tuple[str, str]] = {
    "recover_scaling": ("RecoveryFailed", "The recovery of an endpoint update that was stopped, timed out or "
                        "failed raised an error (Lambda retries it twice, then keeps the event in the "
                        "UndeliveredEvents queue). Until a recovery succeeds, that endpoint's scaling may be "
                        "deregistered and its next update is refused with ScalingRestorePending. The function's "
                        "log names the endpoint; restore it with endpoint-updater restore --endpoint NAME."),
    "start_update": ("TriggerFailed", "A triggering event (an update requested, a model package approved) "
                     "raised an error in the start function (Lambda retries it twice, then keeps the event in "
                     "the UndeliveredEvents queue): that update may not have started. The function's log says "
                     "why; send the event again or start the update by hand."),
    "notify_update": ("NotificationFailed", "The end-of-update message of an endpoint update could not be "
                      "published (Lambda retries it twice, then keeps the event in the UndeliveredEvents "
                      "queue). The execution's status and the updates table still say how the update ended."),
    "resume_update": ("ResumeFailed", "A SageMaker endpoint event raised an error in the resume function (Lambda "
                      "retries it twice, then keeps the event in the UndeliveredEvents queue). The waiting update is "
                      "not lost: its safety-net poll decides within one SafetyIntervalSeconds. The function's log "
                      "says why; an AccessDeniedException on SendTaskSuccess or SendTaskFailure means the role "
                      "cannot complete the state machine's callbacks (docs/settings-and-permissions.md)."),
}
NAME_CONFLICT = ("TriggerNameConflict", "A triggering event's execution name was taken by an execution with another "
                 "input, so the update it asked for was not started: someone may have started that name first on "
                 "purpose. The start function's log names the event and the execution; compare their inputs, see "
                 "who started it (CloudTrail StartExecution), and start the update by hand if it is wanted.")
UNDELIVERED_EVENTS = ("EventsUndelivered", "An event is in the UndeliveredEvents queue: EventBridge could not "
                      "deliver it to one of the stack's functions, or the function still failed after Lambda's "
                      "retries (the message then holds the event as requestPayload and the error as "
                      "responsePayload). A recovery, a triggered update or a message did not happen. Read the "
                      "message in the queue and act on it.")
# The restore refused a stored snapshot that is not its endpoint's own scaling (endpoint_updater/core/
# snapshot_check.py): counted by the restore and recovery functions (errors.SnapshotRefused.metric).
SNAPSHOT_REFUSED = ("SnapshotRefused", "A restore refused the scaling snapshot stored in the updates table: it "
                    "names another endpoint's resources, an alarm not captured for the endpoint, or differs from "
                    "what the update's first step captured. Nothing was written and the endpoint stays marked "
                    "unrestored. Someone who can write the table may have changed it: find out who, then restore "
                    "the endpoint's scaling by hand. The function's log names the endpoint and the problems.")
PERIOD = Duration.minutes(5)

# How the workflow learned that an update or a capacity raise ended (endpoint_updater/core/completion.py, metric
# CompletionDetectionDelay, dimension Path): an endpoint event, the await function's own look when it stored the
# token, the safety-net poll after a wait timed out, or the polling loop (Completion "polling").
DETECTION_DELAY_METRIC = completion.DETECTION_DELAY_METRIC
COMPLETION_PATHS = (completion.PATH_EVENT, completion.PATH_AWAIT, completion.PATH_SAFETY_NET, completion.PATH_POLLING)
# Events not arriving: in events mode, the safety net found at least this many completions within the window, and
# more than the events did. One lost event is within the contract of best-effort delivery; a rule that delivers
# nothing makes every wait end at its timeout, each update then costs a safety interval and a transition or two
# more per cycle than it should.
SAFETY_NET_WINDOW = Duration.hours(6)
SAFETY_NET_DETECTIONS = 2
EVENTS_MISSING = ("CompletionEventsMissing", "In the last six hours the safety-net poll, not a SageMaker event, "
                  "detected most ends of updates (metric CompletionDetectionDelay, Path safety-net, at least twice "
                  "and more often than Path event). Updates still complete, each about one SafetyIntervalSeconds "
                  "late. Check that the ResumeOnEndpointEvents rule is enabled and matches the endpoint (its "
                  "invocations metric, the resume function's log, the UndeliveredEvents queue); in an account "
                  "that cannot route SageMaker's events to the default bus, send Completion \"polling\".")


class Monitoring(Construct):
    """One alarm per execution outcome that needs a person, each notifying the topic."""

    def __init__(
        self, scope: Construct, construct_id: str, *, state_machine: sfn.IStateMachine, topic: sns.ITopic,
        functions: Mapping[str, lambda_.IFunction] | None = None, undelivered_events: sqs.IQueue | None = None,
    ) -> None:
        """`functions` (by folder, as `EndpointUpdateWorkflow.functions`) and `undelivered_events` (its
        `undelivered_events` queue) add the alarms on what runs around the executions."""
        super().__init__(scope, construct_id)
        self._topic = topic
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        # One statement names every alarm of this construct; each new alarm rewrites its list of sources.
        self._alarms_publish = iam.PolicyStatement(
            sid="CloudWatchAlarmsOfThisStackPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
        )
        topic.add_to_resource_policy(self._alarms_publish)
        for metric_name, description in EXECUTION_ALARMS.items():
            self._alarm(metric_name, description,
                        state_machine.metric(metric_name, statistic=cloudwatch.Stats.SUM, period=PERIOD))
        for folder, function in (functions or {}).items():
            if folder in FUNCTION_ALARMS:
                alarm_id, description = FUNCTION_ALARMS[folder]
                self._alarm(alarm_id, description, function.metric_errors(statistic=cloudwatch.Stats.SUM,
                                                                          period=PERIOD))
        if functions:
            alarm_id, description = SNAPSHOT_REFUSED
            self._alarm(alarm_id, description, cloudwatch.Metric(
                namespace=names.METRICS_NAMESPACE, metric_name=SnapshotRefused.metric or "",
                dimensions_map={"service": names.SERVICE_NAME}, statistic=cloudwatch.Stats.SUM, period=PERIOD))
        if functions is not None and "start_update" in functions:
            # Counted by the start function itself (embedded metric format, the `service` dimension).
            alarm_id, description = NAME_CONFLICT
            self._alarm(alarm_id, description, cloudwatch.Metric(
                namespace=names.METRICS_NAMESPACE, metric_name=names.NAME_CONFLICT_METRIC,
                dimensions_map={"service": names.SERVICE_NAME}, statistic=cloudwatch.Stats.SUM, period=PERIOD))
        if undelivered_events is not None:
            alarm_id, description = UNDELIVERED_EVENTS
            self._alarm(alarm_id, description, undelivered_events.metric_approximate_number_of_messages_visible(
                statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD))
        if functions is not None and "resume_update" in functions:
            self._completion_detection()

    def _completion_detection(self) -> None:
        """The dashboard of how ends of updates are detected, by path, and the alarm for events that do not arrive.

        The functions publish CompletionDetectionDelay with the embedded metric format, dimensions `service` and
        `Path`; a detection is one sample, so SampleCount counts them."""
        def delay(path: str, statistic: str, period: Duration = PERIOD) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=names.METRICS_NAMESPACE, metric_name=DETECTION_DELAY_METRIC,
                dimensions_map={"service": names.SERVICE_NAME, "Path": path}, statistic=statistic, period=period,
                label=path)

        # FILL: a window without a single event detection has no data point for it, and is the case to catch
        # (CloudWatch User Guide, "Metric math syntax and functions": FILL, IF, comparison and logical operators).
        safety_net = {"safetynet": delay(completion.PATH_SAFETY_NET, cloudwatch.Stats.SAMPLE_COUNT, SAFETY_NET_WINDOW),
                      "event": delay(completion.PATH_EVENT, cloudwatch.Stats.SAMPLE_COUNT, SAFETY_NET_WINDOW)}
        alarm_id, description = EVENTS_MISSING
        self._alarm(alarm_id, description, cloudwatch.MathExpression(
            expression=f"IF(FILL(safetynet, 0) >= {SAFETY_NET_DETECTIONS} AND FILL(safetynet, 0) > FILL(event, 0), "
                       "1, 0)",
            using_metrics=safety_net, period=SAFETY_NET_WINDOW,
            label="Safety net detected most ends of updates"))
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Completion detection delay by path (seconds, average)", width=8,
                left=[delay(path, cloudwatch.Stats.AVERAGE) for path in COMPLETION_PATHS]),
            cloudwatch.GraphWidget(
                title="Completion detection delay by path (seconds, p99)", width=8,
                left=[delay(path, cloudwatch.Stats.p(99)) for path in COMPLETION_PATHS]),
            cloudwatch.GraphWidget(
                title="Completions detected by path (count)", width=8, stacked=True,
                left=[delay(path, cloudwatch.Stats.SAMPLE_COUNT) for path in COMPLETION_PATHS]),
        )
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(
            title="Alarms", width=24, alarms=list(self.alarms.values())))

    def _alarm(self, alarm_id: str, description: str, metric: cloudwatch.IMetric) -> None:
        """Fires on the first occurrence within a period, and notifies the topic."""
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No data means nothing happened, so nothing went wrong.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self._topic))
        self.alarms[alarm_id] = alarm
        self._alarms_publish.add_condition(
            "ArnEquals", {"aws:SourceArn": [each.alarm_arn for each in self.alarms.values()]})
