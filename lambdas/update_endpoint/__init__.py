"""Lambda function `update_endpoint` of the endpoint update workflow."""
