"""The CDK side of endpoint-updater: the stack, its workflow construct, names and sizes, and IAM grants."""
