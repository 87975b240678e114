"""Lambda function `deregister_scaling` of the endpoint update workflow."""
