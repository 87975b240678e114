"""`endpoint-updater`: start, plan, follow and restore endpoint updates from a terminal or a pipeline.

The command line validates and plans with the workflow's own code (endpoint_updater.core), so what it
accepts is what the first state accepts.
"""
