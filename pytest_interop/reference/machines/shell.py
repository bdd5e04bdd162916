"""Runs sh command lines on an emulated machine: expansion, pipes, lists, redirections.

Commands themselves live in `commands.py` and `system.py`; this module is the shell around them.
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import posixpath
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_interop.reference.machines import shparse
from pytest_interop.reference.machines.filesystem import DIR, Cred, FsError, normalize
from pytest_interop.reference.machines.image import Account, find_account

MAX_SUBSTITUTION_DEPTH = 20
MAX_LOOP_ITERATIONS = 10_000  # a runaway loop ends rather than holding a session thread


class ShellExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Input:
    def read(self) -> str:
        return ""


class StringInput(Input):
    def __init__(self, text: str) -> None:
        self._text = text

    def read(self) -> str:
        text, self._text = self._text, ""
        return text


class LineInput(Input):
    """stdin that `read` consumes a line at a time (what is left stays for the next reader)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def readline(self) -> str | None:
        if not self._text:
            return None
        line, newline, rest = self._text.partition("\n")
        self._text = rest
        return line if newline or line else None

    def read(self) -> str:
        text, self._text = self._text, ""
        return text


class StreamInput(Input):
    """stdin from the SSH channel, read up to end of file only when a command asks for it."""

    def __init__(self, receive: Callable[[], bytes]) -> None:
        self._receive = receive
        self._lock = threading.Lock()
        self._done = False

    def read(self) -> str:
        with self._lock:
            if self._done:
                return ""
            chunks = []
            while True:
                chunk = self._receive()
                if not chunk:
                    break
                chunks.append(chunk)
            self._done = True
            return b"".join(chunks).decode("utf-8", "surrogateescape")


class Output:
    def write(self, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class BufferOutput(Output):
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def value(self) -> str:
        return "".join(self.parts)


class CallbackOutput(Output):
    def __init__(self, send: Callable[[str], None]) -> None:
        self._send = send

    def write(self, text: str) -> None:
        if text:
            self._send(text)


class FileOutput(Output):
    """A redirection target: each write appends, with the permissions of whoever opened it."""

    def __init__(self, process: Process, path: str) -> None:
        self._process = process
        self._path = path

    def write(self, text: str) -> None:
        if text:
            # a file that vanished or changed owner mid-command loses the output, as on Linux
            with contextlib.suppress(FsError):
                self._process.machine.fs.write(self._path, text, self._process.cred, append=True)


@dataclass
class Process:
    """One running shell or command: who, where, with which streams."""

    machine: Any  # the Machine; typed loosely to keep the import graph one-way
    account: Account
    cred: Cred
    cwd: str
    env: dict[str, str]
    stdin: Input
    stdout: Output
    stderr: Output
    has_pty: bool = False
    positional: list[str] = field(default_factory=lambda: ["sh"])
    last_status: int = 0
    depth: int = 0

    @property
    def fs(self) -> Any:
        return self.machine.fs

    def path(self, name: str) -> str:
        return normalize(name if name.startswith("/") else posixpath.join(self.cwd, name))

    def error(self, text: str) -> None:
        self.stderr.write(text.rstrip("\n") + "\n")

    def child(self, **changes: Any) -> Process:
        changes.setdefault("env", dict(self.env))
        return replace(self, **changes)


def environment_for(account: Account) -> dict[str, str]:
    return {
        "HOME": account.home,
        "USER": account.name,
        "LOGNAME": account.name,
        "SHELL": account.shell,
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    }


# ---------------------------------------------------------------------------------------------
# running


def run_script(process: Process, text: str) -> int:
    try:
        tree = shparse.parse(text)
    except shparse.ShellSyntaxError as error:
        process.error(f"sh: 1: {error}")
        return 2
    try:
        return _run_list(process, tree)
    except ShellExit as done:
        return done.status


def _run_list(process: Process, node: shparse.CommandList) -> int:
    status = 0
    for item in node.items:
        status = _run_and_or(process, item)
    return status


def _run_and_or(process: Process, node: shparse.AndOr) -> int:
    status = _run_pipeline(process, node.first)
    for op, pipeline in node.rest:
        if (op == "&&" and status == 0) or (op == "||" and status != 0):
            status = _run_pipeline(process, pipeline)
    return status


def _run_pipeline(process: Process, node: shparse.Pipeline) -> int:
    stdin = process.stdin
    status = 0
    for index, command in enumerate(node.commands):
        last = index == len(node.commands) - 1
        buffer = None if last else BufferOutput()
        stage = process if len(node.commands) == 1 else process.child(stdin=stdin)
        if buffer is not None:
            stage.stdout = buffer
        status = _run_command(stage, command)
        if buffer is not None:
            stdin = StringInput(buffer.value())
    if node.negate:
        status = 0 if status else 1
    process.last_status = status
    return status


def _run_command(process: Process, node: object) -> int:
    if isinstance(node, shparse.Simple):
        return _run_simple(process, node)
    redirected = _apply_redirects(process, getattr(node, "redirects", []))
    if redirected is None:
        return 2
    if isinstance(node, shparse.Group):
        target = redirected.child() if node.subshell else redirected
        try:
            status = _run_list(target, node.body)
        except ShellExit as done:
            if not node.subshell:
                raise
            status = done.status
        if not node.subshell and redirected is not process:
            process.cwd, process.env = redirected.cwd, redirected.env
        return status
    if isinstance(node, shparse.If):
        for condition, body in node.branches:
            if _run_list(redirected, condition) == 0:
                return _run_list(redirected, body)
        return _run_list(redirected, node.otherwise) if node.otherwise else 0
    if isinstance(node, shparse.While):
        status = 0
        for _ in range(MAX_LOOP_ITERATIONS):
            if process.machine.is_stopping():
                raise ShellExit(143)  # SIGTERM at shutdown
            if (_run_list(redirected, node.condition) == 0) == node.until:
                return status
            status = _run_list(redirected, node.body)
        redirected.error("sh: 1: loop stopped after too many iterations")
        return 1
    if isinstance(node, shparse.For):
        values = (
            [v for word in node.values for v in expand_word(redirected, word)]
            if node.values is not None
            else redirected.positional[1:]
        )
        status = 0
        for value in values:
            redirected.env[node.name] = value
            status = _run_list(redirected, node.body)
        return status
    raise TypeError(f"unknown node {node!r}")


def _run_simple(process: Process, node: shparse.Simple) -> int:
    argv: list[str] = []
    for word in node.words:
        argv.extend(expand_word(process, word))
    values = {name: expand_single(process, value) for name, value in node.assignments}
    if not argv:
        process.env.update(values)
        redirected = _apply_redirects(process, node.redirects)
        return 0 if redirected is not None else 2
    target = process.child() if values else process
    target.env.update(values)
    redirected = _apply_redirects(target, node.redirects)
    if redirected is None:
        return 2
    status = run_argv(redirected, argv)
    if redirected is not process and not values:
        process.cwd = redirected.cwd
        process.env = redirected.env
    process.last_status = status
    return status


def run_argv(process: Process, argv: list[str]) -> int:
    """Run one command by name, no shell parsing (what sudo and exec do)."""
    from pytest_interop.reference.machines.commands import COMMANDS

    name = argv[0]
    base = posixpath.basename(name) if "/" in name and name.startswith(("/bin/", "/usr/")) else name
    command = COMMANDS.get(base)
    if command is None:
        process.error(f"sh: 1: {name}: not found")
        return 127
    try:
        return command(process, argv)
    except FsError as error:
        process.error(f"{base}: {error}")
        return 1


def _apply_redirects(process: Process, redirects: list[shparse.Redirect]) -> Process | None:
    if not redirects:
        return process
    result = process.child()
    for redirect in redirects:
        if redirect.op == "<<":
            kind, body = redirect.target.parts[0]
            if kind == shparse.HEREDOC:
                body = "".join(piece for piece, _ in _expand_text(process, body))
            result.stdin = StringInput(body)
            continue
        target = expand_single(process, redirect.target)
        if redirect.op in (">&", "<&"):
            if target == "1":
                stream = result.stdout
            elif target == "2":
                stream = result.stderr
            elif target == "-":
                stream = BufferOutput()
            else:
                process.error("sh: 1: Syntax error: Bad fd number")
                return None
            if redirect.fd == 2:
                result.stderr = stream
            elif redirect.fd == 1:
                result.stdout = stream
            continue
        path = process.path(target)
        if redirect.op == "<":
            try:
                result.stdin = StringInput(process.fs.read(path, process.cred))
            except FsError as error:
                reason = "No such file" if error.reason.startswith("No such") else error.reason
                process.error(f"sh: 1: cannot open {target}: {reason}")
                return None
            continue
        try:
            process.fs.write(path, "", process.cred, append=redirect.op == ">>")
        except FsError as error:
            reason = "Directory nonexistent" if error.reason.startswith("No such") else error.reason
            process.error(f"sh: 1: cannot create {target}: {reason}")
            return None
        output = FileOutput(process, path)
        if redirect.fd == 2:
            result.stderr = output
        else:
            result.stdout = output
    return result


# ---------------------------------------------------------------------------------------------
# expansion

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _parameter(process: Process, name: str) -> str:
    if name == "?":
        return str(process.last_status)
    if name == "$":
        return "4242"
    if name == "#":
        return str(len(process.positional) - 1)
    if name in ("@", "*"):
        return " ".join(process.positional[1:])
    if name.isdigit():
        index = int(name)
        return process.positional[index] if index < len(process.positional) else ""
    if name == "PWD":
        return process.cwd
    return process.env.get(name, "")


_ARITHMETIC_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.FloorDiv,
    ast.Mod,
    ast.USub,
    ast.UAdd,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
)


def _arithmetic(process: Process, expression: str) -> str:
    """$((...)) on integers: + - * / % and comparisons, names read as shell variables."""
    text = re.sub(
        r"\$?([A-Za-z_][A-Za-z0-9_]*)",
        lambda m: process.env.get(m.group(1), "0") or "0",
        expression,
    )
    text = text.replace("/", "//")
    try:
        tree = ast.parse(text.strip(), mode="eval")
        if not all(isinstance(node, _ARITHMETIC_NODES) for node in ast.walk(tree)):
            raise ValueError(expression)
        value = eval(compile(tree, "<arithmetic>", "eval"), {"__builtins__": {}})
    except (SyntaxError, ValueError, ZeroDivisionError):
        process.error(f'sh: 1: arithmetic expression: expecting primary: "{expression}"')
        return ""
    return str(int(value))


def _substitute(process: Process, script: str) -> str:
    if process.depth >= MAX_SUBSTITUTION_DEPTH:
        process.error("sh: 1: substitution nested too deeply")
        return ""
    capture = BufferOutput()
    inner = process.child(stdout=capture, stdin=StringInput(""), depth=process.depth + 1)
    process.last_status = run_script(inner, script)
    return capture.value().rstrip("\n")


def _expand_text(process: Process, text: str) -> list[tuple[str, bool]]:
    """Pieces of text, each marked True when it came from an expansion (subject to splitting)."""
    pieces: list[tuple[str, bool]] = []
    literal: list[str] = []
    index = 0

    def flush() -> None:
        if literal:
            pieces.append(("".join(literal), False))
            literal.clear()

    while index < len(text):
        char = text[index]
        if text.startswith("$((", index):
            end = shparse.find_closing(text, index + 2)  # the ")" matching "$("
            flush()
            pieces.append((_arithmetic(process, text[index + 3 : end - 1]), True))
            index = end + 1
        elif text.startswith("$(", index):
            end = shparse.find_closing(text, index + 2)
            flush()
            pieces.append((_substitute(process, text[index + 2 : end]), True))
            index = end + 1
        elif char == "`":
            end = text.find("`", index + 1)
            flush()
            pieces.append((_substitute(process, text[index + 1 : end]), True))
            index = end + 1
        elif text.startswith("${", index):
            end = text.find("}", index)
            flush()
            body = text[index + 2 : end]
            if ":-" in body:
                name, default = body.split(":-", 1)
                value = _parameter(process, name) or default
            else:
                value = _parameter(process, body)
            pieces.append((value, True))
            index = end + 1
        elif char == "$" and index + 1 < len(text):
            follower = text[index + 1]
            match = _NAME.match(text, index + 1)
            if match:
                flush()
                pieces.append((_parameter(process, match.group()), True))
                index = match.end()
            elif follower in "?$#@*" or follower.isdigit():
                flush()
                pieces.append((_parameter(process, follower), True))
                index += 2
            else:
                literal.append(char)
                index += 1
        else:
            literal.append(char)
            index += 1
    flush()
    return pieces


def expand_word(process: Process, word: shparse.Word) -> list[str]:
    """Fields of a word after expansion, field splitting, tilde and pathname expansion."""
    fields: list[str] = []
    current: list[str] = []
    started = False
    globbable = False
    for position, (kind, text) in enumerate(word.parts):
        if kind == shparse.LIT:
            current.append(text)
            started = True
            continue
        if kind == shparse.DQ:
            current.extend(piece for piece, _ in _expand_text(process, text))
            started = True
            continue
        if position == 0 and text.startswith("~"):
            text = _tilde(process, text)
        for piece, from_expansion in _expand_text(process, text):
            if not from_expansion:
                current.append(piece)
                started = started or bool(piece)
                globbable = globbable or any(c in piece for c in "*?[")
                continue
            chunks = re.split(r"[ \t\n]+", piece)
            for number, chunk in enumerate(chunks):
                if number > 0 and started:
                    fields.append("".join(current))
                    current, started = [], False
                if chunk:
                    current.append(chunk)
                    started = True
    if started:
        fields.append("".join(current))
    if globbable and len(fields) == 1:
        return _glob(process, fields[0])
    return fields


def expand_single(process: Process, word: shparse.Word) -> str:
    """A word that stays one field (assignments, redirection targets)."""
    parts = []
    for position, (kind, text) in enumerate(word.parts):
        if kind == shparse.LIT:
            parts.append(text)
            continue
        if kind == shparse.BARE and position == 0 and text.startswith("~"):
            text = _tilde(process, text)
        parts.extend(piece for piece, _ in _expand_text(process, text))
    return "".join(parts)


def _tilde(process: Process, text: str) -> str:
    head, sep, rest = text.partition("/")
    if head == "~":
        home = process.env.get("HOME", process.account.home)
    else:
        account = find_account(process.fs, head[1:])
        if account is None:
            return text
        home = account.home
    return home + sep + rest


def _glob(process: Process, pattern: str) -> list[str]:
    absolute = process.path(pattern)
    directory = posixpath.dirname(absolute)
    try:
        names = process.fs.listdir(directory, process.cred)
    except FsError:
        return [pattern]
    base = posixpath.basename(absolute)
    matches = [n for n in names if fnmatch.fnmatchcase(n, base) and not n.startswith(".")]
    if not matches:
        return [pattern]
    prefix = pattern[: len(pattern) - len(posixpath.basename(pattern))]
    return [prefix + name for name in matches]


def is_dir(process: Process, path: str) -> bool:
    inode = process.fs.raw(process.path(path))
    return inode is not None and inode.kind == DIR
