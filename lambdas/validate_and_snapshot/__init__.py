"""Lambda function `validate_and_snapshot` of the endpoint update workflow."""
