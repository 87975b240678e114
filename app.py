#!/usr/bin/env python3
"""The CDK app: `python app.py` (or `cdk synth`) writes the cloud assembly, with no AWS credentials needed.

The account and region come from CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION when set (the CDK command line
sets them from the current profile); otherwise the stack is environment-agnostic.
"""

from __future__ import annotations

import os

import aws_cdk as cdk

from infra import settings
from infra.stack import EndpointUpdaterStack


def main() -> None:
    # The CDK command line passes cdk.json's context and its output directory (CDK_OUTDIR) to the app; a
    # direct `python app.py` gets the same context here, and writes to cdk.out rather than a temporary
    # directory.
    outdir = os.environ.get("CDK_OUTDIR") or str(settings.DEFAULT_OUTDIR)
    app = cdk.App(outdir=outdir, context=settings.context_defaults())
    EndpointUpdaterStack(
        app,
        settings.STACK_ID,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    app.synth()


if __name__ == "__main__":
    main()
