"""Lambda function `raise_capacity` of the endpoint update workflow."""
