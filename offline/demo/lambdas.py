"""The blueprint's functions, run in this process as Lambda runs them: the handler the function
names, its environment (with the emulator's ids), its role's credentials and a context with its
timeout and memory.

A function stays "warm" between consecutive invocations, as a Lambda container does: its
handler module's cached clients and connections are kept until another function runs. What a
deployed function gets from its layers is played: the reporting database is a SQLite file
(DATABASE_URL in place of the SQL Server secret and host) and `drivers` swaps a handler
module's attributes (the extractor's ODBC connector) while that function runs. Function logs go
to a file, not the terminal.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import boto3
from aws_lambda_powertools import Logger

from offline.demo.blueprint import Function
from offline.demo.emulator import Emulator

# The SQL Server the deployment points at, replaced by DATABASE_URL.
SQL_SERVER_VARIABLES = ("DATABASE_SECRET_ARN", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME")
# What only the functions' layers provide (the ODBC driver registry, the RDS certificates).
LAYER_VARIABLES = ("SSL_CERT_FILE", "ODBCSYSINI")


def played_environment(
    environment: Mapping[str, str], emulator: Emulator, database_url: str
) -> dict[str, str]:
    """A deployed environment as the demo runs it: the emulator's ids, the SQLite reporting
    database in place of SQL Server, nothing from the layers."""
    played = {name: emulator.translate(value) for name, value in environment.items()}
    if any(name in played for name in SQL_SERVER_VARIABLES):
        for name in SQL_SERVER_VARIABLES:
            played.pop(name, None)
        played["DATABASE_URL"] = database_url
    for name in LAYER_VARIABLES:
        played.pop(name, None)
    return played


@dataclass
class LambdaContext:
    """What the handlers and powertools read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    remaining_millis: int

    def get_remaining_time_in_millis(self) -> int:
        """The whole timeout: the demo never runs a function near it."""
        return self.remaining_millis


@dataclass
class Lambdas:
    """Invokes the blueprint's functions by name or ARN."""

    emulator: Emulator
    work_dir: Path
    database_url: str
    log: IO[str]
    # Handler module -> attribute -> what it is while that module's function runs.
    drivers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    invocations: Counter[str] = field(default_factory=Counter, init=False)
    # The warm function, and what puts back the drivers and log streams it changed.
    _active: Function | None = field(default=None, init=False)
    _undo: list[Callable[[], object]] = field(default_factory=list, init=False)
    # The environment between functions: the emulator's, without any function's variables.
    _base_environment: dict[str, str] = field(default_factory=lambda: dict(os.environ), init=False)

    def environment(self, function: Function) -> dict[str, str]:
        """The function's environment as the demo runs it, with its catalog file."""
        environment = played_environment(function.environment, self.emulator, self.database_url)
        if function.catalog is not None:
            catalogs = self.work_dir / "catalogs"
            catalogs.mkdir(parents=True, exist_ok=True)
            path = catalogs / f"{function.name}.json"
            path.write_text(function.catalog, encoding="utf-8")
            environment["CATALOG_FILE"] = str(path)
        return environment

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Runs the function's handler on `event`; its error propagates."""
        function = self.emulator.blueprint.function(name)
        handler = self._activate(function)
        context = LambdaContext(
            function_name=function.name,
            memory_limit_in_mb=function.memory_mb,
            invoked_function_arn=function.arn,
            aws_request_id=str(uuid.uuid4()),
            remaining_millis=function.timeout_seconds * 1000,
        )
        self.invocations[function.name] += 1
        return handler(event, context)

    def close(self) -> None:
        """Ends the warm function: its clients and connections are dropped."""
        self._deactivate()

    def _activate(self, function: Function) -> Any:
        module_name, attribute = function.handler.rsplit(".", 1)
        module = importlib.import_module(module_name)
        if self._active is not function:
            self._deactivate()
            os.environ.update(self.environment(function))
            credentials = self.emulator.credentials(function.role_arn)
            os.environ.update(
                {
                    "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
                    "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
                    "AWS_SESSION_TOKEN": credentials["aws_session_token"],
                    "AWS_REGION": self.emulator.region,
                    "AWS_DEFAULT_REGION": self.emulator.region,
                    "AWS_LAMBDA_FUNCTION_NAME": function.name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                }
            )
            # Handlers make their clients from boto3's default session, which keeps the
            # credentials it first found.
            boto3.DEFAULT_SESSION = None
            for name, value in self.drivers.get(module_name, {}).items():
                self._undo.append(partial(setattr, module, name, getattr(module, name)))
                setattr(module, name, value)
            for logger in _loggers(module):
                handler = logger.registered_handler
                previous = handler.setStream(self.log)
                if previous is not None:
                    self._undo.append(partial(handler.setStream, previous))
            _clear_caches(module)
            self._active = function
        return getattr(module, attribute)

    def _deactivate(self) -> None:
        if self._active is None:
            return
        module_name = self._active.handler.rsplit(".", 1)[0]
        _clear_caches(importlib.import_module(module_name))
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        os.environ.clear()
        os.environ.update(self._base_environment)
        boto3.DEFAULT_SESSION = None
        self._active = None


def _loggers(module: ModuleType) -> list[Logger]:
    return [value for value in vars(module).values() if isinstance(value, Logger)]


def _clear_caches(module: ModuleType) -> None:
    """Drops the handler module's cached settings, clients and connections (`functools.cache`
    factories): a function starts cold, and leaves nothing behind."""
    for value in vars(module).values():
        clear = getattr(value, "cache_clear", None)
        if callable(clear) and getattr(value, "__module__", None) == module.__name__:
            clear()
