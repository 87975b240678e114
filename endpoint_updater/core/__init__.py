"""Code shared by the workflow's Lambda functions: errors, AWS adapters, the request, scaling snapshots."""
