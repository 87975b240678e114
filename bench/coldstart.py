"""Cold start: each handler imported and initialised in a fresh interpreter, against a bare boto3 handler.

"Initialised" means what the first invocation would do before its first AWS call: import the handler
module (Powertools, the shared package, botocore's models) and create every boto3 client the function
uses. The bare handler imports boto3 and creates one client. Both run as the Lambda runtime would: the
function's environment, no bytecode written (the package ships no .pyc files), one process per sample.
The measurements are interleaved so that a busy moment on the machine hits every function alike.

The functions import boto3 and botocore from the stack's SDK layer (infra/sdk_layer.py), unpacked as Lambda
unpacks it and placed on the path after the function's code, as Lambda orders /var/task and /opt/python; the
bare handler imports the SDK installed here, as a handler without the layer gets the runtime's. When the layer
carries bytecode (compiled for the runtime's Python), the bench's interpreter gets its own bytecode beside it,
so that both sides import compiled code, as they would in Lambda.
"""

from __future__ import annotations

import compileall
import json
import os
import py_compile
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from endpoint_updater.offline.runner import FUNCTION_ENVIRONMENT
from infra.settings import REPO_ROOT

REGION = "us-east-1"
BARE = "bare boto3 handler"

_PROBE = """
import importlib, sys, time
started, cpu = time.perf_counter(), time.process_time()
folder, clients = sys.argv[1], sys.argv[2].split(",")
if folder == "-":
    import boto3
    boto3.client(clients[0])
else:
    importlib.import_module("lambdas." + folder + ".handler")
    from endpoint_updater.core import aws
    for service in clients:
        aws.client(service)
wall, used = time.perf_counter() - started, time.process_time() - cpu
if len(sys.argv) > 3:
    import boto3, botocore
    assert all(m.__file__.startswith(sys.argv[3]) for m in (boto3, botocore)), (boto3.__file__, botocore.__file__)
print(wall, used)
"""


@dataclass(frozen=True)
class ColdStart:
    function: str
    clients: list[str]
    median_seconds: float
    samples: list[float]
    ratio_to_bare: float
    median_cpu_seconds: float
    """Process CPU time: less disturbed than wall time when other work shares the machine."""
    cpu_ratio_to_bare: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(FUNCTION_ENVIRONMENT)
    env.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": str(REPO_ROOT)})
    return env


def sdk_layer_path() -> Path:
    """The python/ folder of the SDK layer as Lambda extracts it, with bytecode for this interpreter when the
    layer carries bytecode for the runtime's."""
    from infra import sdk_layer

    python = sdk_layer.unpacked(sdk_layer.build()) / "python"
    runtime_tag = "cpython-" + sdk_layer.runtime_version().replace(".", "")
    if any(python.glob(f"botocore/__pycache__/*.{runtime_tag}.pyc")):
        compileall.compile_dir(python, quiet=1, workers=0,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return python


def _sample(folder: str, clients: list[str], env: dict[str, str], sdk: Path | None = None) -> tuple[float, float]:
    args = [sys.executable, "-c", _PROBE, folder, ",".join(clients)]
    if sdk is not None:
        env = {**env, "PYTHONPATH": os.pathsep.join([env["PYTHONPATH"], str(sdk)])}
        args.append(str(sdk))
    out = subprocess.run(args, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def measure(clients_by_function: dict[str, set[str]], runs: int = 15, sdk: Path | None = None) -> list[ColdStart]:
    """`sdk`: the functions import the SDK from there (the layer's python/ folder); the bare handler never."""
    env = _environment()
    subjects: list[tuple[str, list[str]]] = [("-", ["sagemaker"])]
    subjects += [(folder, sorted(clients)) for folder, clients in sorted(clients_by_function.items())]
    samples: dict[str, list[float]] = {folder: [] for folder, _ in subjects}
    cpu: dict[str, list[float]] = {folder: [] for folder, _ in subjects}
    for _ in range(runs):
        for folder, clients in subjects:
            wall, used = _sample(folder, clients, env, None if folder == "-" else sdk)
            samples[folder].append(wall)
            cpu[folder].append(used)
    bare, bare_cpu = statistics.median(samples["-"]), statistics.median(cpu["-"])
    return [
        ColdStart(function=BARE if folder == "-" else folder, clients=clients,
                  median_seconds=statistics.median(samples[folder]), samples=samples[folder],
                  ratio_to_bare=statistics.median(samples[folder]) / bare,
                  median_cpu_seconds=statistics.median(cpu[folder]),
                  cpu_ratio_to_bare=statistics.median(cpu[folder]) / bare_cpu)
        for folder, clients in subjects
    ]


if __name__ == "__main__":  # a quick look without the rest of the bench
    print(json.dumps([c.to_dict() for c in measure({"check_endpoint": {"sagemaker"}}, runs=3, sdk=sdk_layer_path())],
                     indent=1))
