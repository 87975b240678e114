"""The state machine logs every event and traces with X-Ray; failed, timed-out and aborted executions alarm."""

from __future__ import annotations

from synthesized import Template, referenced_id, resources_of_type, state_machine


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

    # When the alarms are read by metric
    by_metric = {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in alarms.values()}

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
