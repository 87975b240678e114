"""Lambda function `restore_scaling` of the endpoint update workflow."""
