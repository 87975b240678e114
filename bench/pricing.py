"""List prices used to cost one update, in US East (N. Virginia), as published on the AWS pricing pages.

PRICES_AS_OF says when they were taken; re-check the pricing pages before quoting a bill. Free tiers are
ignored (an account that has them pays less).
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2025 (us-east-1 list prices; Lambda arm64 unchanged since its launch in September 2021)"
# AWS Step Functions pricing: Standard workflows, per state transition (retries count as transitions).
STEP_FUNCTIONS_STANDARD_PER_TRANSITION = 0.025 / 1000
# AWS Lambda pricing: requests, and duration on Arm (the first 7.5 billion GB-seconds a month).
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334
# Since 1 August 2025 the INIT phase of on-demand functions on managed runtimes is billed as duration.
# Updates are rare, so every function is counted as cold once per update.
# Local handlers call an in-process emulator; on AWS each control-plane call takes time. Assumed per call:
AWS_CALL_SECONDS = 0.1


@dataclass(frozen=True)
class Cost:
    step_functions: float
    lambda_requests: float
    lambda_duration: float
    lambda_gb_seconds: float

    @property
    def total(self) -> float:
        return self.step_functions + self.lambda_requests + self.lambda_duration


def cost(transitions: int, invocations: int, billed_seconds: float, memory_mb: int) -> Cost:
    gb_seconds = billed_seconds * memory_mb / 1024
    return Cost(
        step_functions=transitions * STEP_FUNCTIONS_STANDARD_PER_TRANSITION,
        lambda_requests=invocations * LAMBDA_PER_REQUEST,
        lambda_duration=gb_seconds * LAMBDA_ARM64_PER_GB_SECOND,
        lambda_gb_seconds=gb_seconds,
    )
