"""The workflow's Lambda functions: one folder per state, each a thin handler over endpoint_updater.core."""
