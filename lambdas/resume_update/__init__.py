"""Lambda function `resume_update`: SageMaker's endpoint events resume the waiting execution."""
