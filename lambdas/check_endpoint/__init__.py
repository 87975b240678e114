"""Lambda function `check_endpoint` of the endpoint update workflow."""
