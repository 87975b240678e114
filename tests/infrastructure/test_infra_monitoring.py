"""The state machine logs every event and traces with X-Ray; failed, timed-out and aborted executions alarm, and
so do the functions EventBridge invokes when they fail, and events the rules could not deliver."""

from __future__ import annotations

import json
from typing import Any

from synthesized import (
    Template,
    as_list,
    functions_by_folder,
    referenced_id,
    resources_of_type,
    role_statements,
    state_machine,
)


def _topic_id(template: Template) -> str:
    topics = resources_of_type(template, "AWS::SNS::Topic")
    assert len(topics) == 1, sorted(topics)
    return next(iter(topics))


def test_the_state_machine_logs_all_events_with_execution_data_to_a_retained_log_group(template: Template) -> None:
    # Given the state machine and the template's log groups
    _, machine = state_machine(template)
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")

    # When its logging configuration is read
    logging = machine["Properties"]["LoggingConfiguration"]
    destinations = logging["Destinations"]

    # Then every event, with its input and output, goes to one log group of this stack that has a retention
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    assert len(destinations) == 1
    group_id = referenced_id(destinations[0]["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert log_groups[group_id]["Properties"]["RetentionInDays"] > 0
    assert log_groups[group_id]["DeletionPolicy"] == "Retain"


def test_the_state_machine_traces_with_x_ray(template: Template) -> None:
    # Given the state machine
    _, machine = state_machine(template)

    # When its tracing configuration is read
    # Then X-Ray tracing is on
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_failed_timed_out_and_aborted_executions_alarm_to_the_topic(template: Template) -> None:
    # Given the template's alarms, the state machine and the topic
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    machine_id, _ = state_machine(template)
    topic_id = _topic_id(template)

    # When the alarms on the state machine's metrics are read by metric
    by_metric = {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in alarms.values()
                 if alarm["Properties"].get("Namespace") == "AWS/States"}

    # Then there is one per outcome that needs a person, each on the state machine's AWS/States metric,
    # firing on the first such execution within five minutes and notifying the topic
    assert set(by_metric) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for metric, alarm in by_metric.items():
        assert alarm["Namespace"] == "AWS/States", metric
        assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}], metric
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1), metric
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1), metric
        assert alarm["TreatMissingData"] == "notBreaching", metric
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], metric
        assert alarm["AlarmDescription"], metric


def _fires_on_the_first_in_five_minutes_to_the_topic(alarm: dict[str, Any], template: Template) -> None:
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (300, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": _topic_id(template)}]


def test_each_function_eventbridge_invokes_alarms_on_its_errors(template: Template) -> None:
    # Given the functions EventBridge invokes (their failures after Lambda's retries are dropped)
    functions = functions_by_folder(template)
    invoked_by_rules = {"recover_scaling", "start_update", "notify_update", "resume_update"}
    # When the alarms on AWS/Lambda Errors are read by the function they watch
    alarms = [a["Properties"] for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()]
    watched = {}
    for alarm in alarms:
        if alarm.get("Namespace") == "AWS/Lambda":
            assert alarm["MetricName"] == "Errors" and alarm["Statistic"] == "Sum"
            (dimension,) = alarm["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            watched[dimension["Value"]["Ref"]] = alarm
    # Then each of them, and only them, has one, firing on the first error and saying what to do
    assert set(watched) == {functions[folder][0] for folder in invoked_by_rules}
    for alarm in watched.values():
        _fires_on_the_first_in_five_minutes_to_the_topic(alarm, template)
    recovery = watched[functions["recover_scaling"][0]]
    assert "endpoint-updater restore --endpoint" in recovery["AlarmDescription"]
    resume = watched[functions["resume_update"][0]]
    assert "safety-net poll" in resume["AlarmDescription"]


def test_an_event_left_in_the_undelivered_events_queue_alarms(template: Template) -> None:
    # Given the queue the rules send the events they could not deliver
    (queue_id,) = resources_of_type(template, "AWS::SQS::Queue")
    # When the alarms on AWS/SQS are read
    alarms = [a["Properties"] for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("Namespace") == "AWS/SQS"]
    # Then one watches that queue's visible messages
    (alarm,) = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Statistic"] == "Maximum"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    _fires_on_the_first_in_five_minutes_to_the_topic(alarm, template)


def _functions_rules_invoke(template: Template) -> set[str]:
    """Logical ids of the functions some EventBridge rule of the template targets."""
    functions = resources_of_type(template, "AWS::Lambda::Function")
    return {referenced_id(target["Arn"]) for rule in resources_of_type(template, "AWS::Events::Rule").values()
            for target in rule["Properties"]["Targets"] if referenced_id(target["Arn"]) in functions}


def test_every_function_eventbridge_invokes_sends_a_failed_invocation_to_the_alarmed_queue(
        template: Template) -> None:
    # Given the functions the rules invoke (asynchronously), the queue the rules send undeliverable events to,
    # and the alarm on that queue
    invoked = _functions_rules_invoke(template)
    (queue_id,) = resources_of_type(template, "AWS::SQS::Queue")
    queue_alarms = [a["Properties"] for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
                    if a["Properties"].get("Dimensions") == [{"Name": "QueueName",
                                                          "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]]

    # When their asynchronous invocation configurations are read by function
    configs: dict[str, list[dict[str, Any]]] = {}
    for config in resources_of_type(template, "AWS::Lambda::EventInvokeConfig").values():
        configs.setdefault(referenced_id(config["Properties"]["FunctionName"]), []).append(config["Properties"])

    # Then each such function (four at least: recovery, start, notification, resume) has exactly one, on the version
    # EventBridge invokes, whose on-failure destination is that queue: an invocation that still fails after
    # Lambda's retries is kept there, not dropped
    assert len(invoked) >= 4
    assert set(configs) == invoked
    for function_id, (config,) in configs.items():
        assert config["Qualifier"] == "$LATEST", function_id
        assert config["MaximumRetryAttempts"] == 2, function_id
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # And a message in that queue alarms to the topic
    (alarm,) = queue_alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    _fires_on_the_first_in_five_minutes_to_the_topic(alarm, template)


def test_the_role_of_each_function_eventbridge_invokes_may_send_to_its_on_failure_queue_only(
        template: Template) -> None:
    # Given the functions the rules invoke and the on-failure queue
    (queue_id,) = resources_of_type(template, "AWS::SQS::Queue")
    functions = resources_of_type(template, "AWS::Lambda::Function")
    invoked = _functions_rules_invoke(template)

    for function_id, function in functions.items():
        # When the statements of its role that name SQS actions are read
        role_id = referenced_id(function["Properties"]["Role"])
        sqs = [s for s in role_statements(template, role_id)
               if any(action.startswith("sqs:") for action in as_list(s["Action"]))]

        # Then a function EventBridge invokes may send messages to that queue and do nothing else with it
        # (Lambda sends the record with the function's role), and no other function may touch SQS
        if function_id in invoked:
            assert sqs == [{"Action": "sqs:SendMessage", "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}}], function_id
        else:
            assert sqs == [], function_id


def test_a_trigger_name_taken_by_another_input_alarms(template: Template) -> None:
    # Given the alarms on the workflow's own metrics
    alarms = [a["Properties"] for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("Namespace") == "EndpointUpdater"]
    # Then one watches the conflicts the start function counts, as its metrics are published
    (alarm,) = [a for a in alarms if a["MetricName"] == "TriggerNameConflicts"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "endpoint-updater"}]
    assert alarm["Statistic"] == "Sum"
    assert "started that name first" in alarm["AlarmDescription"]
    _fires_on_the_first_in_five_minutes_to_the_topic(alarm, template)


PATHS = ["event", "await", "safety-net", "polling"]


def _detection_metric(path: str) -> dict[str, Any]:
    """CompletionDetectionDelay of one path, as the functions publish it (embedded metric format)."""
    return {"Namespace": "EndpointUpdater", "MetricName": "CompletionDetectionDelay",
            "Dimensions": [{"Name": "Path", "Value": path}, {"Name": "service", "Value": "endpoint-updater"}]}


def test_many_safety_net_detections_alarm_as_events_not_arriving(template: Template) -> None:
    # Given the alarm on how ends of updates are detected
    alarms = {key: a["Properties"] for key, a in resources_of_type(template, "AWS::CloudWatch::Alarm").items()}
    (alarm,) = [a for key, a in alarms.items() if "CompletionEventsMissing" in key]
    # When its metrics are read by id
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    (expression,) = [query for query in alarm["Metrics"] if "Expression" in query]
    # Then it counts, over six hours, the detections of the safety net and those of events
    for query_id, path in (("safetynet", "safety-net"), ("event", "event")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"] == _detection_metric(path)
        assert (stat["Stat"], stat["Period"], queries[query_id]["ReturnData"]) == ("SampleCount", 21600, False)
    # And fires when the safety net found at least two and more than the events did (no event at all counts as 0),
    # once, notifying the topic, saying what to check and that Completion "polling" is the way out
    assert expression["ReturnData"] is True
    assert expression["Expression"] == ("IF(FILL(safetynet, 0) >= 2 AND FILL(safetynet, 0) > FILL(event, 0), 1, 0)")
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"]) == (
        "GreaterThanOrEqualToThreshold", 1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": _topic_id(template)}]
    assert "ResumeOnEndpointEvents" in alarm["AlarmDescription"] and '"polling"' in alarm["AlarmDescription"]


def _dashboard_body(template: Template) -> dict[str, Any]:
    """The dashboard's JSON, its tokens (region, alarm ARNs) written as their logical ids."""
    (dashboard,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(part if isinstance(part, str) else json.dumps(part).replace('"', "'") for part in parts)
    document: dict[str, Any] = json.loads(text)
    return document


def test_the_dashboard_shows_the_detection_delay_and_count_of_every_path(template: Template) -> None:
    # Given the stack's dashboard
    widgets = _dashboard_body(template)["widgets"]
    graphs = {widget["properties"]["title"]: widget["properties"] for widget in widgets if widget["type"] == "metric"}

    # When its graphs are read
    def paths(graph: dict[str, Any], stat: str | None) -> list[str]:
        shown = []
        for namespace, name, *dimensions, options in graph["metrics"]:
            assert (namespace, name) == ("EndpointUpdater", "CompletionDetectionDelay")
            assert dict(zip(dimensions[::2], dimensions[1::2], strict=True))["service"] == "endpoint-updater"
            assert options.get("stat") == stat
            shown.append(dict(zip(dimensions[::2], dimensions[1::2], strict=True))["Path"])
        return shown

    # Then the delay (average, p99) and the number of detections are each shown for every path
    assert paths(graphs["Completion detection delay by path (seconds, average)"], None) == PATHS
    assert paths(graphs["Completion detection delay by path (seconds, p99)"], "p99") == PATHS
    assert paths(graphs["Completions detected by path (count)"], "SampleCount") == PATHS
    # And the state of every alarm of the stack is on it
    (status,) = [widget["properties"] for widget in widgets if widget["type"] == "alarm"]
    alarm_ids = set(resources_of_type(template, "AWS::CloudWatch::Alarm"))
    assert {json.loads(arn.replace("'", '"'))["Fn::GetAtt"][0] for arn in status["alarms"]} == alarm_ids
