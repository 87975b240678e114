"""endpoint-updater: safely update a SageMaker endpoint that uses Application Auto Scaling.

`core` is the workflow's shared code (deployed with every Lambda function, with `names`); `cli` is the
`endpoint-updater` command; `offline` runs the workflow on this machine against an emulated AWS.
"""
