"""Operator commands that act on a deployed endpoint-updater with the caller's AWS credentials."""
