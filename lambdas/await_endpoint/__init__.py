"""Lambda function `await_endpoint` of the endpoint update workflow."""
