"""Running the workflow on this machine: AWS emulated with moto, the Lambda tasks run in-process."""
