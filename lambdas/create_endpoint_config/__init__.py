"""Lambda function `create_endpoint_config` of the endpoint update workflow."""
