"""Read, without running it, every AWS operation a Lambda handler's code can call.

The code is parsed (ast) from the handler module and followed into the lambdas/ modules it reaches,
function by function: a handler is charged only with the functions it can reach (called, or passed on as
a value), not with every function of every module it imports. Calls are recognised in the shapes the
project's adapters allow (endpoint_updater/core/aws.py):

    client("sagemaker").describe_endpoint(...)        boto3.client("sns").publish(...)
    sagemaker = client("sagemaker"); sagemaker.create_endpoint_config(...)
    paginate("sagemaker", "list_tags", ...)           client("x").get_paginator("list_y")

where the service may be a string constant of the module (or imported from another one). An operation
called on a client whose service cannot be resolved, `getattr` on a client, and `boto3.resource` are
refused with an error naming the place: such a call would escape the permission tests.

Operation names are mapped to IAM actions with botocore's service model (operation name, as the API
names it) and IAM_PREFIX (botocore client name -> IAM service prefix). A DynamoDB transaction is authorized as
its items' kinds (infra.permissions.authorized_as): its `TransactItems` must be a literal list of one-key dicts
(`{"Update": {...}}`), whose keys are read; any other shape is refused.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
from botocore import xform_name

from infra.permissions import TRANSACTION, authorized_as

CLIENT_FACTORIES = frozenset({"endpoint_updater.core.aws.client", "boto3.client"})
# Adapters taking (service, operation) as their first two arguments.
OPERATION_ADAPTERS = frozenset({"endpoint_updater.core.aws.paginate"})
REFUSED = frozenset({"boto3.resource", "boto3.Session", "boto3.session.Session"})
# botocore client name -> IAM service prefix, where they differ or to be explicit about the ones in use.
IAM_PREFIX = {
    "application-autoscaling": "application-autoscaling",
    "sagemaker": "sagemaker",
    "cloudwatch": "cloudwatch",
    "sns": "sns",
    "dynamodb": "dynamodb",
    "stepfunctions": "states",
    "events": "events",
    "logs": "logs",
    "iam": "iam",
    "sts": "sts",
}
# Operations whose IAM action is not named like the operation (Service Authorization Reference).
ACTION_OF_OPERATION = {("s3", "ListObjectsV2"): "s3:ListBucket", ("s3", "HeadObject"): "s3:GetObject"}


class UnreadableCall(AssertionError):
    """The code calls AWS in a way this reader cannot attribute to a service and operation."""


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    """The API's operation name, e.g. DescribeEndpoint."""
    where: str
    items: frozenset[str] = frozenset()
    """For a transaction, the kinds of its items (Put, Update, Delete, ConditionCheck)."""

    @property
    def actions(self) -> set[str]:
        """The IAM actions the call is authorized as."""
        return authorized_as(self.action, self.items)

    @property
    def action(self) -> str:
        if (self.service, self.operation) in ACTION_OF_OPERATION:
            return ACTION_OF_OPERATION[(self.service, self.operation)]
        if self.service not in IAM_PREFIX:
            raise UnreadableCall(
                f"{self.where}: no IAM prefix known for service {self.service!r}; add it to IAM_PREFIX")
        return f"{IAM_PREFIX[self.service]}:{self.operation}"


@functools.cache
def operations(service: str) -> dict[str, str]:
    """snake_case method name -> API operation name, from botocore's bundled service model."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


@dataclass
class _Module:
    name: str
    tree: ast.Module
    path: Path
    symbols: dict[str, str] = field(default_factory=dict)
    """Local name -> qualified name (`endpoint_updater.core.aws.client`; `endpoint_updater.core.scaling`
    for a module)."""
    constants: dict[str, str] = field(default_factory=dict)
    functions: dict[str, ast.AST] = field(default_factory=dict)


class CodeReader:
    """Parses the modules of the functions' code under `root` (the repository: lambdas/ and endpoint_updater/)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: dict[str, _Module | None] = {}

    def module(self, name: str) -> _Module | None:
        """The parsed module, or None for a module outside the project (boto3, powertools...)."""
        if name not in self._modules:
            self._modules[name] = self._parse(name)
        return self._modules[name]

    def _parse(self, name: str) -> _Module | None:
        base = self.root.joinpath(*name.split("."))
        path = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if not path.is_file():
            return None
        module = _Module(name, ast.parse(path.read_text(encoding="utf-8"), str(path)), path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in module.tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.symbols[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                        alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:
                    source = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], source])
                    source = source.strip(".")
                for alias in node.names:
                    module.symbols[alias.asname or alias.name] = f"{source}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.functions[node.name] = node
                module.symbols[node.name] = f"{name}.{node.name}"
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    for target in targets:
                        if isinstance(target, ast.Name):
                            module.constants[target.id] = value.value
        return module

    def _split(self, qualified: str) -> tuple[_Module, str] | None:
        """The module that defines `qualified` and the name inside it, when it is project code."""
        module_name, _, attribute = qualified.rpartition(".")
        while module_name:
            module = self.module(module_name)
            if module is not None:
                return module, attribute
            module_name, _, rest = module_name.rpartition(".")
            attribute = f"{rest}.{attribute}"
        return None

    def resolve(self, module: _Module, node: ast.expr) -> str | None:
        """The qualified name an expression refers to (a function, a module, a constant), if static."""
        if isinstance(node, ast.Name):
            if node.id in module.symbols:
                return module.symbols[node.id]
            if node.id in module.constants:
                return f"{module.name}.{node.id}"
            return node.id  # a builtin or a local variable
        if isinstance(node, ast.Attribute):
            base = self.resolve(module, node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def constant(self, module: _Module, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        qualified = self.resolve(module, node)
        if qualified is None:
            return None
        found = self._split(qualified)
        if found is None:
            return None
        owner, name = found
        if name in owner.constants:
            return owner.constants[name]
        if name in owner.symbols and owner.symbols[name] != qualified:
            return self.constant(owner, ast.Name(id=name))
        return None

    def definition(self, qualified: str) -> tuple[_Module, str] | None:
        """The module and the function or class name that `qualified` names, following re-exports."""
        found = self._split(qualified)
        if found is None:
            return None
        owner, name = found
        if name in owner.functions:
            return owner, name
        if name in owner.symbols and owner.symbols[name] != qualified:
            return self.definition(owner.symbols[name])
        return None

    # -- reachability -----------------------------------------------------------------------------------

    def calls_of_handler(self, handler: str) -> set[Call]:
        """Every AWS call reachable from the module of `handler` ("lambdas.<folder>.handler.handler")."""
        module_name = handler.rpartition(".")[0]
        root = self.module(module_name)
        if root is None:
            raise UnreadableCall(f"handler module {module_name} not found under {self.root}")
        found: set[Call] = set()
        seen: set[tuple[str, str]] = set()
        pending: list[tuple[_Module, str]] = [(root, "")]  # "" is the module's top-level code
        while pending:
            module, name = pending.pop()
            if (module.name, name) in seen:
                continue
            seen.add((module.name, name))
            if name == "":
                body: list[ast.AST] = [n for n in module.tree.body
                                       if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
            else:
                body = [module.functions[name]]
                pending.append((module, ""))
            for node in body:
                calls, references = self._scan(module, node, name or "<module>")
                found |= calls
                for qualified in references:
                    target = self.definition(qualified)
                    if target is not None:
                        pending.append(target)
        return found

    def _scan(self, module: _Module, tree: ast.AST, scope: str) -> tuple[set[Call], set[str]]:
        calls: set[Call] = set()
        references: set[str] = set()
        clients: dict[str, str] = {}  # local variable -> service
        nodes = list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                service = self._client_service(module, node.value, scope)
                if service:
                    clients[node.targets[0].id] = service
        for node in nodes:
            where = f"{module.path}:{getattr(node, 'lineno', '?')} ({scope})"
            if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                qualified = self.resolve(module, node)
                if qualified:
                    references.add(qualified)
                    if qualified in REFUSED:
                        raise UnreadableCall(f"{where}: {qualified} is not read by the permission tests; use "
                                             "endpoint_updater.core.aws.client")
            if isinstance(node, ast.Call):
                func = self.resolve(module, node.func)
                if func == "getattr" and node.args and self._is_client(module, node.args[0], clients, scope):
                    raise UnreadableCall(f"{where}: getattr on an AWS client hides the operation")
                if func in OPERATION_ADAPTERS:
                    service = self.constant(module, node.args[0]) if node.args else None
                    operation = self.constant(module, node.args[1]) if len(node.args) > 1 else None
                    if not service or not operation:
                        raise UnreadableCall(f"{where}: {func} with a service or operation that is not a constant")
                    calls.add(self._call(service, operation, where))
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                service = self._receiver_service(module, node.value, clients, scope)
                if service is None:
                    continue
                if service == "?":
                    if _looks_like_operation(node.attr):
                        raise UnreadableCall(f"{where}: .{node.attr}() on a client whose service is not a constant")
                    continue
                if node.attr in operations(service):
                    parent = next((n for n in nodes if isinstance(n, ast.Call) and n.func is node), None)
                    calls.add(self._call(service, node.attr, where, self._transaction_items(parent, where)))
                elif node.attr == "get_paginator":
                    parent = next((n for n in nodes if isinstance(n, ast.Call) and n.func is node), None)
                    name = self.constant(module, parent.args[0]) if parent is not None and parent.args else None
                    if not name:
                        raise UnreadableCall(f"{where}: get_paginator with an operation that is not a constant")
                    calls.add(self._call(service, name, where))
        return calls, references

    def _call(self, service: str, operation: str, where: str, items: frozenset[str] = frozenset()) -> Call:
        names = operations(service)
        if operation not in names and operation not in names.values():
            raise UnreadableCall(f"{where}: {service} has no operation {operation!r}")
        call = Call(service, names.get(operation, operation), where, items)
        if call.action == TRANSACTION and not items:
            raise UnreadableCall(f"{where}: a transaction whose items are not read (call it with a literal "
                                 "TransactItems list)")
        return call

    @staticmethod
    def _transaction_items(call: ast.Call | None, where: str) -> frozenset[str]:
        """The item kinds of a `transact_write_items(TransactItems=[{"Update": ...}, ...])` call; empty for
        another call."""
        if call is None or not isinstance(call.func, ast.Attribute) or call.func.attr != "transact_write_items":
            return frozenset()
        listed = next((keyword.value for keyword in call.keywords if keyword.arg == "TransactItems"), None)
        kinds = []
        for item in listed.elts if isinstance(listed, ast.List) else [None]:
            key = item.keys[0] if isinstance(item, ast.Dict) and len(item.keys) == 1 else None
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise UnreadableCall(f"{where}: transact_write_items whose TransactItems is not a literal list of "
                                     "one-key dicts: its items' IAM actions cannot be read")
            kinds.append(key.value)
        return frozenset(kinds)

    def _client_service(self, module: _Module, node: ast.expr, scope: str) -> str | None:
        """The service of `client("svc")`, "?" when the service is not static, None if not a client."""
        if not isinstance(node, ast.Call) or self.resolve(module, node.func) not in CLIENT_FACTORIES:
            return None
        service = self.constant(module, node.args[0]) if node.args else None
        return service or "?"

    def _receiver_service(self, module: _Module, node: ast.expr, clients: dict[str, str], scope: str) -> str | None:
        if isinstance(node, ast.Name) and node.id in clients:
            return clients[node.id]
        return self._client_service(module, node, scope)

    def _is_client(self, module: _Module, node: ast.expr, clients: dict[str, str], scope: str) -> bool:
        return self._receiver_service(module, node, clients, scope) is not None


def _looks_like_operation(attribute: str) -> bool:
    return attribute not in {"meta", "exceptions", "get_paginator", "get_waiter", "can_paginate", "close"}
