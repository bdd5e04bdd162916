"""File and text commands of the emulated machine (coreutils, sed, grep, test, sh builtins).

Each command takes the running Process and its argv and returns an exit status, writing to the
process's streams with the wording GNU coreutils uses in the C locale.
"""

from __future__ import annotations

import base64
import posixpath
import re
import stat as stat_module
from collections.abc import Callable

from pytest_interop.reference.machines.filesystem import DEVICE, DIR, NULL, FsError, Inode
from pytest_interop.reference.machines.image import account_by_uid, find_account, group_id
from pytest_interop.reference.machines.image import group_name as name_of_group
from pytest_interop.reference.machines.shell import (
    LineInput,
    Process,
    ShellExit,
    StringInput,
    run_argv,
    run_script,
)

Command = Callable[[Process, list[str]], int]
COMMANDS: dict[str, Command] = {}


def command(*names: str) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        for name in names:
            COMMANDS[name] = function
        return function

    return register


def parse_options(
    args: list[str], with_value: str = "", long_with_value: tuple[str, ...] = ()
) -> tuple[dict[str, str | bool], list[str]]:
    """getopt-like: combined short flags (-rf), values (-n 5, -n5), long flags, `--`."""
    flags: dict[str, str | bool] = {}
    operands: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            operands.extend(args[index:])
            break
        if arg.startswith("--"):
            name, sep, value = arg.partition("=")
            if not sep and name in long_with_value and index < len(args):
                value, index = args[index], index + 1
            flags[name] = value if (sep or name in long_with_value) else True
            continue
        if arg.startswith("-") and len(arg) > 1:
            position = 1
            while position < len(arg):
                flag = arg[position]
                if flag in with_value:
                    value = arg[position + 1 :]
                    if not value and index < len(args):
                        value, index = args[index], index + 1
                    flags[flag] = value
                    break
                flags[flag] = True
                position += 1
            continue
        operands.append(arg)
    return flags, operands


def _reason(error: FsError) -> str:
    return error.reason


# --- shell builtins -------------------------------------------------------------------------


@command("true", ":")
def builtin_true(process: Process, argv: list[str]) -> int:
    return 0


@command("sync")
def sync(process: Process, argv: list[str]) -> int:
    return 0  # every write already reached the disk a snapshot copies


@command("false")
def builtin_false(process: Process, argv: list[str]) -> int:
    return 1


@command("exit")
def builtin_exit(process: Process, argv: list[str]) -> int:
    status = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else process.last_status
    raise ShellExit(status & 0xFF)


@command("cd")
def builtin_cd(process: Process, argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else process.env.get("HOME", "/")
    path = process.path(target)
    try:
        inode = process.fs.lookup(path, process.cred)
    except FsError as error:
        reason = "can't cd to" if error.reason else ""
        process.error(f"sh: 1: cd: {reason} {target}")
        return 2
    if inode.kind != DIR:
        process.error(f"sh: 1: cd: can't cd to {target}")
        return 2
    process.cwd = path
    return 0


@command("pwd")
def builtin_pwd(process: Process, argv: list[str]) -> int:
    process.stdout.write(process.cwd + "\n")
    return 0


@command("export")
def builtin_export(process: Process, argv: list[str]) -> int:
    for arg in argv[1:]:
        name, sep, value = arg.partition("=")
        if sep:
            process.env[name] = value
    return 0


@command("unset")
def builtin_unset(process: Process, argv: list[str]) -> int:
    for name in argv[1:]:
        process.env.pop(name, None)
    return 0


@command("set")
def builtin_set(process: Process, argv: list[str]) -> int:
    return 0  # options such as -e/-x are accepted and not emulated


@command("sh", "bash", "dash")
def builtin_sh(process: Process, argv: list[str]) -> int:
    flags, operands = parse_options(argv[1:], with_value="c")
    if "c" in flags:
        script = str(flags["c"])
        positional = operands if operands else [argv[0]]
        inner = process.child(positional=positional, depth=process.depth + 1)
        return run_script(inner, script)
    if operands:
        try:
            script = process.fs.read(process.path(operands[0]), process.cred)
        except FsError:
            process.error(f"{argv[0]}: 0: cannot open {operands[0]}: No such file")
            return 2
        return run_script(process.child(positional=operands, depth=process.depth + 1), script)
    script = process.stdin.read()
    return run_script(process.child(stdin=StringInput(""), depth=process.depth + 1), script)


@command("command", "which")
def builtin_command_v(process: Process, argv: list[str]) -> int:
    names = [a for a in argv[1:] if not a.startswith("-")]
    if argv[0] == "command" and "-v" not in argv:
        return run_argv(process, names) if names else 0
    status = 0
    for name in names:
        if name in COMMANDS:
            process.stdout.write(f"/usr/bin/{name}\n")
        else:
            status = 1
    return status


@command("read")
def builtin_read(process: Process, argv: list[str]) -> int:
    """`read [-r] NAME...`: one line of stdin into variables; status 1 at end of input."""
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    stdin = process.stdin
    if not isinstance(stdin, LineInput):
        stdin = LineInput(stdin.read())
        process.stdin = stdin
    line = stdin.readline()
    if line is None:
        return 1
    fields = line.split(None, len(names) - 1)
    for index, name in enumerate(names):
        process.env[name] = fields[index] if index < len(fields) else ""
    return 0


@command("sleep")
def builtin_sleep(process: Process, argv: list[str]) -> int:
    try:
        seconds = float(argv[1].rstrip("s")) if len(argv) > 1 else 0.0
    except ValueError:
        process.error(f"sleep: invalid time interval '{argv[1]}'")
        return 1
    process.machine.sleep(seconds)
    return 0


@command("env", "printenv")
def builtin_env(process: Process, argv: list[str]) -> int:
    if argv[0] == "printenv" and len(argv) > 1:
        value = process.env.get(argv[1])
        if value is None:
            return 1
        process.stdout.write(value + "\n")
        return 0
    for name, value in sorted(process.env.items()):
        process.stdout.write(f"{name}={value}\n")
    return 0


# --- output ---------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "r": "\r", "0": "\0", '"': '"'}


def _unescape(text: str, *, stop_at_c: bool = True) -> tuple[str, bool]:
    """Backslash escapes as printf and echo -e read them; True when \\c asks to stop
    (dash and bash honour \\c in echo -e and %b, but print it as is in a printf format)."""
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            follower = text[index + 1]
            if follower == "c" and stop_at_c:
                return "".join(out), True
            if follower == "0" and index + 2 < len(text) and text[index + 2].isdigit():
                digits = re.match(r"[0-7]{1,3}", text[index + 2 :])
                assert digits is not None
                out.append(chr(int(digits.group(), 8)))
                index += 2 + len(digits.group())
                continue
            if follower in _ESCAPES:
                out.append(_ESCAPES[follower])
                index += 2
                continue
        out.append(char)
        index += 1
    return "".join(out), False


@command("echo")
def cmd_echo(process: Process, argv: list[str]) -> int:
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        newline = newline and not stop
    process.stdout.write(text + ("\n" if newline else ""))
    return 0


_FORMAT = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+))?([sdibcxXoufeg%])")


@command("printf")
def cmd_printf(process: Process, argv: list[str]) -> int:
    if len(argv) < 2:
        process.error("printf: usage: printf format [arguments]")
        return 2
    fmt, args = argv[1], list(argv[2:])
    status = 0
    stop = False

    def convert(match: re.Match[str]) -> str:
        """One conversion. Its argument is data: only %b reads escapes in it."""
        nonlocal status, stop
        flags, width, precision, kind = match.groups()
        if kind == "%":
            return "%"
        value = args.pop(0) if args else ""
        spec = "%" + flags + (width or "") + (f".{precision}" if precision else "")
        if kind == "b":
            text, stop = _unescape(value)
            return (spec + "s") % text
        if kind in "dixXouc":
            if kind == "c":
                return (spec + "s") % value[:1]
            try:
                number = int(value or "0", 0)
            except ValueError:
                process.error(f"printf: {value}: invalid number")
                status = 1
                number = 0
            return (spec + ("d" if kind in "iu" else kind)) % number
        if kind in "feg":
            return (spec + kind) % float(value or "0")
        return (spec + "s") % value

    conversions = [m for m in _FORMAT.finditer(fmt) if m.group(4) != "%"]
    while True:
        # escapes are read in the format's own text, never in what a %s puts there
        pieces: list[str] = []
        position = 0
        for match in _FORMAT.finditer(fmt):
            pieces.append(_unescape(fmt[position : match.start()], stop_at_c=False)[0])
            pieces.append(convert(match))
            if stop:
                break
            position = match.end()
        else:
            pieces.append(_unescape(fmt[position:], stop_at_c=False)[0])
        process.stdout.write("".join(pieces))
        # the format is reused while arguments remain, as in dash and bash
        if stop or not args or not conversions:
            break
    return status


# --- files ----------------------------------------------------------------------------------


@command("cat")
def cmd_cat(process: Process, argv: list[str]) -> int:
    _, names = parse_options(argv[1:])
    status = 0
    for name in names or ["-"]:
        if name == "-":
            process.stdout.write(process.stdin.read())
            continue
        try:
            process.stdout.write(process.fs.read(process.path(name), process.cred))
        except FsError as error:
            process.error(f"cat: {name}: {_reason(error)}")
            status = 1
    return status


@command("tee")
def cmd_tee(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    append = bool(flags.get("a") or flags.get("--append"))
    data = process.stdin.read()
    status = 0
    for name in names:
        try:
            process.fs.write(process.path(name), data, process.cred, append=append)
        except FsError as error:
            process.error(f"tee: {name}: {_reason(error)}")
            status = 1
    process.stdout.write(data)
    return status


@command("touch")
def cmd_touch(process: Process, argv: list[str]) -> int:
    _, names = parse_options(argv[1:])
    status = 0
    for name in names:
        try:
            process.fs.write(process.path(name), "", process.cred, append=True)
        except FsError as error:
            process.error(f"touch: cannot touch '{name}': {_reason(error)}")
            status = 1
    return status


def _parse_mode(text: str, current: int, is_dir: bool) -> int | None:
    if re.fullmatch(r"[0-7]{1,4}", text):
        return int(text, 8)
    mode = current
    for clause in text.split(","):
        match = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if match is None:
            return None
        who, op, perms = match.groups()
        who = who or "a"
        bits = 0
        for perm in perms:
            for person in "ugo" if "a" in who else who:
                shift = {"u": 6, "g": 3, "o": 0}[person]
                if perm == "r":
                    bits |= 4 << shift
                elif perm == "w":
                    bits |= 2 << shift
                elif perm == "x" or (perm == "X" and (is_dir or current & 0o111)):
                    bits |= 1 << shift
                elif perm == "s":
                    bits |= {"u": 0o4000, "g": 0o2000, "o": 0}[person]
                elif perm == "t":
                    bits |= 0o1000
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for person in "ugo" if "a" in who else who:
                mask |= 7 << {"u": 6, "g": 3, "o": 0}[person]
            mode = (mode & ~mask) | bits
    return mode


def _walk(process: Process, path: str, recursive: bool) -> list[str]:
    paths = [path]
    if recursive and process.fs.raw(path) is not None and process.fs.raw(path).kind == DIR:
        prefix = path.rstrip("/") + "/"
        paths += [p for p in process.fs.all_paths() if p.startswith(prefix)]
    return paths


@command("chmod")
def cmd_chmod(process: Process, argv: list[str]) -> int:
    args = [a for a in argv[1:] if a not in ("-R", "--recursive", "-v", "-f")]
    recursive = len(args) != len(argv) - 1 and ("-R" in argv or "--recursive" in argv)
    if len(args) < 2:
        process.error("chmod: missing operand")
        return 1
    mode_text, names = args[0], args[1:]
    status = 0
    for name in names:
        for path in _walk(process, process.path(name), recursive):
            try:
                inode = process.fs.lookup(path, process.cred)
                mode = _parse_mode(mode_text, inode.mode, inode.kind == DIR)
                if mode is None:
                    process.error(f"chmod: invalid mode: '{mode_text}'")
                    return 1
                process.fs.chmod(path, mode, process.cred)
            except FsError as error:
                if error.reason.startswith("No such"):
                    process.error(f"chmod: cannot access '{name}': {error.reason}")
                else:
                    process.error(f"chmod: changing permissions of '{name}': {error.reason}")
                status = 1
    return status


@command("chown", "chgrp")
def cmd_chown(process: Process, argv: list[str]) -> int:
    flags, args = parse_options(argv[1:])
    if len(args) < 2:
        process.error(f"{argv[0]}: missing operand")
        return 1
    owner, names = args[0], args[1:]
    if argv[0] == "chgrp":
        user_text, group_text = "", owner
    else:
        user_text, _, group_text = owner.replace(".", ":").partition(":")
    uid = gid = None
    if user_text:
        account = find_account(process.fs, user_text)
        if account is None and not user_text.isdigit():
            process.error(f"{argv[0]}: invalid user: '{owner}'")
            return 1
        uid = account.uid if account else int(user_text)
        if owner.endswith(":") and account is not None:
            gid = account.gid
    if group_text:
        gid = group_id(process.fs, group_text)
        if gid is None:
            process.error(f"{argv[0]}: invalid group: '{owner}'")
            return 1
    status = 0
    for name in names:
        for path in _walk(process, process.path(name), bool(flags.get("R"))):
            try:
                process.fs.chown(path, uid, gid, process.cred)
            except FsError as error:
                if error.reason.startswith("No such"):
                    process.error(f"{argv[0]}: cannot access '{name}': {error.reason}")
                else:
                    process.error(f"{argv[0]}: changing ownership of '{name}': {error.reason}")
                status = 1
    return status


@command("mkdir")
def cmd_mkdir(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:], with_value="m")
    mode = _parse_mode(str(flags["m"]), 0o755, True) if "m" in flags else 0o755
    if mode is None:
        process.error(f"mkdir: invalid mode '{flags['m']}'")
        return 1
    status = 0
    for name in names:
        try:
            process.fs.mkdir(
                process.path(name), process.cred, parents=bool(flags.get("p")), mode=mode
            )
        except FsError as error:
            process.error(f"mkdir: cannot create directory '{name}': {error.reason}")
            status = 1
    return status


@command("rm", "rmdir")
def cmd_rm(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    force = bool(flags.get("f"))
    recursive = bool(flags.get("r") or flags.get("R") or argv[0] == "rmdir")
    status = 0
    for name in names:
        path = process.path(name)
        try:
            if argv[0] == "rmdir" and process.fs.listdir(path, process.cred):
                raise FsError(path, "Directory not empty")
            process.fs.remove(path, process.cred, recursive=recursive)
        except FsError as error:
            if force and error.reason.startswith("No such"):
                continue
            process.error(f"{argv[0]}: cannot remove '{name}': {error.reason}")
            status = 1
    return status


@command("cp")
def cmd_cp(process: Process, argv: list[str]) -> int:
    _, names = parse_options(argv[1:])
    if len(names) < 2:
        process.error("cp: missing destination file operand")
        return 1
    *sources, destination = names
    status = 0
    for source in sources:
        target = process.path(destination)
        inode = process.fs.raw(target)
        if inode is not None and inode.kind == DIR:
            target = posixpath.join(target, posixpath.basename(source))
        try:
            data = process.fs.read(process.path(source), process.cred)
            process.fs.write(target, data, process.cred)
        except FsError as error:
            process.error(f"cp: cannot copy '{source}': {error.reason}")
            status = 1
    return status


@command("mv")
def cmd_mv(process: Process, argv: list[str]) -> int:
    _, names = parse_options(argv[1:])
    if len(names) < 2:
        process.error("mv: missing destination file operand")
        return 1
    *sources, destination = names
    status = 0
    for source in sources:
        try:
            process.fs.rename(process.path(source), process.path(destination), process.cred)
        except FsError as error:
            process.error(f"mv: cannot move '{source}' to '{destination}': {error.reason}")
            status = 1
    return status


def mode_string(inode: Inode) -> str:
    kind = {DIR: "d", DEVICE: "b", NULL: "c"}.get(inode.kind, "-")
    return kind + stat_module.filemode(inode.mode)[1:]


@command("ls")
def cmd_ls(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    status = 0
    for name in names or ["."]:
        path = process.path(name)
        try:
            inode = process.fs.lookup(path, process.cred)
            if inode.kind == DIR and not flags.get("d"):
                entries = process.fs.listdir(path, process.cred)
                if not flags.get("a") and not flags.get("A"):
                    entries = [e for e in entries if not e.startswith(".")]
                listing = [(e, posixpath.join(path, e)) for e in entries]
            else:
                listing = [(name, path)]
        except FsError as error:
            process.error(f"ls: cannot access '{name}': {error.reason}")
            status = 2
            continue
        for shown, full in listing:
            if flags.get("l"):
                node = process.fs.raw(full)
                if node is None:
                    continue
                user = account_by_uid(process.fs, node.uid)
                owner = user.name if user else str(node.uid)
                group = name_of_group(process.fs, node.gid)
                process.stdout.write(
                    f"{mode_string(node)} 1 {owner} {group} {node.byte_size} Jan  1 00:00 {shown}\n"
                )
            else:
                process.stdout.write(shown + "\n")
    return status


@command("stat")
def cmd_stat(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:], with_value="c", long_with_value=("--format",))
    fmt = str(flags.get("c") or flags.get("--format") or "")
    status = 0
    for name in names:
        try:
            inode = process.fs.lookup(process.path(name), process.cred)
        except FsError as error:
            process.error(f"stat: cannot statx '{name}': {error.reason}")
            status = 1
            continue
        user = account_by_uid(process.fs, inode.uid)
        values = {
            "a": f"{inode.mode & 0o7777:o}",
            "A": mode_string(inode),
            "U": user.name if user else "UNKNOWN",
            "u": str(inode.uid),
            "G": name_of_group(process.fs, inode.gid),
            "g": str(inode.gid),
            "s": str(inode.byte_size),
            "n": name,
            "F": {DIR: "directory", DEVICE: "block special file"}.get(
                inode.kind, "regular file" if inode.byte_size else "regular empty file"
            ),
        }
        if fmt:
            line = re.sub(r"%(.)", lambda m, known=values: known.get(m.group(1), m.group(0)), fmt)
        else:
            line = (
                f"  File: {name}\n  Size: {values['s']}\n"
                f"Access: (0{values['a']}/{values['A']})  Uid: ({values['u']}/{values['U']})"
                f"   Gid: ({values['g']}/{values['G']})"
            )
        process.stdout.write(line + "\n")
    return status


def _read_inputs(
    process: Process, names: list[str], command_name: str
) -> tuple[list[tuple[str, str]], int]:
    inputs, status = [], 0
    for name in names or ["-"]:
        if name == "-":
            inputs.append(("(standard input)", process.stdin.read()))
            continue
        try:
            inputs.append((name, process.fs.read(process.path(name), process.cred)))
        except FsError as error:
            process.error(f"{command_name}: {name}: {error.reason}")
            status = 2 if command_name == "grep" else 1
    return inputs, status


def _count_option(flags: dict[str, str | bool], default: int = 10) -> int:
    value = flags.get("n", default)
    try:
        return int(str(value).lstrip("+"))
    except ValueError:
        return default


@command("head", "tail")
def cmd_head_tail(process: Process, argv: list[str]) -> int:
    args = [f"-n{a[1:]}" if re.fullmatch(r"-\d+", a) else a for a in argv[1:]]
    flags, names = parse_options(args, with_value="nc")
    count = _count_option(flags)
    inputs, status = _read_inputs(process, names, argv[0])
    for _, text in inputs:
        lines = text.splitlines(keepends=True)
        chosen = lines[:count] if argv[0] == "head" else lines[-count:] if count else []
        process.stdout.write("".join(chosen))
    return status


@command("cut")
def cmd_cut(process: Process, argv: list[str]) -> int:
    """``cut -d DELIM -f LIST`` and ``cut -c LIST`` (LIST: N, N-M, N-, -M, comma-separated)."""
    flags, names = parse_options(argv[1:], with_value="dfc")
    fields, chars = flags.get("f"), flags.get("c")
    if not isinstance(fields, str) and not isinstance(chars, str):
        process.error("cut: you must specify a list of bytes, characters, or fields")
        return 1
    delimiter = flags.get("d") if isinstance(flags.get("d"), str) else "\t"
    wanted = _cut_ranges(fields if isinstance(fields, str) else str(chars))
    if wanted is None or (isinstance(fields, str) and len(str(delimiter)) != 1):
        process.error("cut: invalid field list or delimiter")
        return 1
    inputs, status = _read_inputs(process, names, "cut")
    for _, text in inputs:
        for line in text.splitlines():
            if isinstance(fields, str):
                parts = line.split(str(delimiter))
                if len(parts) == 1:  # a line without the delimiter is printed whole
                    process.stdout.write(line + "\n")
                    continue
                chosen = [p for i, p in enumerate(parts, 1) if _in_ranges(i, wanted)]
                process.stdout.write(str(delimiter).join(chosen) + "\n")
            else:
                chosen = [c for i, c in enumerate(line, 1) if _in_ranges(i, wanted)]
                process.stdout.write("".join(chosen) + "\n")
    return status


def _cut_ranges(text: str) -> list[tuple[int, int]] | None:
    ranges = []
    for part in text.split(","):
        low, sep, high = part.partition("-")
        try:
            start = int(low) if low else 1
            end = (int(high) if high else 1 << 30) if sep else start
        except ValueError:
            return None
        if start < 1 or end < start:
            return None
        ranges.append((start, end))
    return ranges


def _in_ranges(index: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= index <= end for start, end in ranges)


@command("wc")
def cmd_wc(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    inputs, status = _read_inputs(process, names, "wc")
    for name, text in inputs:
        counts = []
        if flags.get("l") or not (flags.get("w") or flags.get("c")):
            counts.append(text.count("\n"))
        if flags.get("w") or not (flags.get("l") or flags.get("c")):
            counts.append(len(text.split()))
        if flags.get("c") or not (flags.get("l") or flags.get("w")):
            counts.append(len(text.encode()))
        suffix = f" {name}" if names else ""
        process.stdout.write(" ".join(str(c) for c in counts) + suffix + "\n")
    return status


@command("sort")
def cmd_sort(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    inputs, status = _read_inputs(process, names, "sort")
    lines = [line for _, text in inputs for line in text.splitlines()]
    lines.sort(reverse=bool(flags.get("r")))
    if flags.get("u"):
        lines = list(dict.fromkeys(lines))
    process.stdout.write("".join(line + "\n" for line in lines))
    return status


@command("base64")
def cmd_base64(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    inputs, status = _read_inputs(process, names, "base64")
    for _, text in inputs:
        if flags.get("d") or flags.get("--decode"):
            try:
                decoded = base64.b64decode("".join(text.split()), validate=True)
            except ValueError:
                process.error("base64: invalid input")
                return 1
            process.stdout.write(decoded.decode("utf-8", "surrogateescape"))
        else:
            encoded = base64.b64encode(text.encode("utf-8", "surrogateescape")).decode()
            process.stdout.write(
                "".join(encoded[i : i + 76] + "\n" for i in range(0, len(encoded), 76))
            )
    return status


@command("dd")
def cmd_dd(process: Process, argv: list[str]) -> int:
    options = dict(arg.split("=", 1) for arg in argv[1:] if "=" in arg)
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "k": 1000}
    match = re.fullmatch(r"(\d+)([KMGk]?)", options.get("bs", "512"))
    block = int(match.group(1)) * units[match.group(2)] if match else 512
    count = int(options.get("count", "1"))
    try:
        if "if" in options and options["if"] not in ("/dev/zero", "/dev/urandom"):
            process.fs.read(process.path(options["if"]), process.cred)
        if "of" in options:
            path = process.path(options["of"])
            inode = process.fs.raw(path)
            process.fs.write(path, "", process.cred, append=inode is not None)  # the open
            if inode is not None and inode.kind == DEVICE and block * count > inode.size:
                process.error(f"dd: error writing '{options['of']}': No space left on device")
                return 1
    except FsError as error:
        process.error(f"dd: failed to open '{error.path}': {error.reason}")
        return 1
    total = block * count
    process.error(f"{count}+0 records in\n{count}+0 records out\n{total} bytes copied, 0.001 s")
    return 0


# --- sed and grep -----------------------------------------------------------------------------

_CLASSES = {
    "[:space:]": r"\s",
    "[:blank:]": r" \t",
    "[:digit:]": r"0-9",
    "[:alpha:]": r"a-zA-Z",
    "[:alnum:]": r"a-zA-Z0-9",
    "[:upper:]": r"A-Z",
    "[:lower:]": r"a-z",
    "[:punct:]": r"!-/:-@\[-`{-~",
}


def posix_regex(pattern: str, extended: bool) -> str:
    """Translate a POSIX basic or extended regular expression into Python's syntax."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "[":
            end = index + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                if pattern.startswith("[:", end):
                    end = pattern.index(":]", end) + 2
                    continue
                end += 1
            body = pattern[index + 1 : end]
            for name, replacement in _CLASSES.items():
                body = body.replace(name, replacement)
            body = body.replace("\\", "\\\\") if "\\s" not in body else body
            out.append("[" + body + "]")
            index = end + 1
            continue
        if char == "\\" and index + 1 < len(pattern):
            follower = pattern[index + 1]
            if follower in "<>":
                out.append(r"\b")
            elif not extended and follower in "(){}?+|":
                out.append(follower)
            else:
                out.append("\\" + follower)
            index += 2
            continue
        if not extended and char in "(){}?+|":
            out.append("\\" + char)
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _sed_replacement(template: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        out = []
        index = 0
        while index < len(template):
            char = template[index]
            if char == "\\" and index + 1 < len(template):
                follower = template[index + 1]
                if follower.isdigit():
                    out.append(match.group(int(follower)) or "")
                elif follower == "n":
                    out.append("\n")
                elif follower == "t":
                    out.append("\t")
                else:
                    out.append(follower)
                index += 2
                continue
            out.append(match.group(0) if char == "&" else char)
            index += 1
        return "".join(out)

    return replace


class SedError(ValueError):
    pass


def _split_delimited(script: str, index: int, delimiter: str) -> tuple[str, int]:
    out = []
    while index < len(script):
        char = script[index]
        if char == "\\" and index + 1 < len(script):
            follower = script[index + 1]
            out.append(follower if follower == delimiter else char + follower)
            index += 2
            continue
        if char == delimiter:
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise SedError("unterminated `s' command")


def _sed_program(script: str, extended: bool) -> list[tuple[object, str, object]]:
    """[(address, command, argument)]; address is None, a line number, '$' or a regex."""
    program: list[tuple[object, str, object]] = []
    index = 0
    while index < len(script):
        while index < len(script) and script[index] in " \t\n;":
            index += 1
        if index >= len(script):
            break
        address: object = None
        if script[index] == "/":
            pattern, index = _split_delimited(script, index + 1, "/")
            address = re.compile(posix_regex(pattern, extended))
        elif script[index].isdigit():
            digits = re.match(r"\d+", script[index:])
            assert digits is not None
            address = int(digits.group())
            index += len(digits.group())
        elif script[index] == "$":
            address = "$"
            index += 1
        if index >= len(script):
            raise SedError("missing command")
        name = script[index]
        index += 1
        if name == "s":
            delimiter = script[index]
            pattern, index = _split_delimited(script, index + 1, delimiter)
            replacement, index = _split_delimited(script, index, delimiter)
            flag_match = re.match(r"[gIip0-9]*", script[index:])
            flag_text = flag_match.group() if flag_match else ""
            index += len(flag_text)
            regex_flags = re.IGNORECASE if ("I" in flag_text or "i" in flag_text) else 0
            regex = re.compile(posix_regex(pattern, extended), regex_flags)
            count = 0 if "g" in flag_text else 1
            program.append((address, "s", (regex, _sed_replacement(replacement), count)))
        elif name in "dp":
            program.append((address, name, None))
        elif name in "aic":
            rest = script[index:]
            end = rest.find("\n")
            text = rest if end < 0 else rest[:end]
            index += len(text)
            text = text[1:] if text.startswith("\\") else text
            program.append((address, name, text.lstrip().lstrip("\\").lstrip("\n")))
        else:
            raise SedError(f"unknown command: `{name}'")
    return program


def _sed_apply(program: list[tuple[object, str, object]], text: str, quiet: bool) -> str:
    lines = text.splitlines()
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        deleted = False
        after: list[str] = []
        for address, name, argument in program:
            if address is not None:
                if isinstance(address, int) and address != number:
                    continue
                if address == "$" and number != len(lines):
                    continue
                if isinstance(address, re.Pattern) and not address.search(line):
                    continue
            if name == "s":
                regex, replace, count = argument  # type: ignore[misc]
                line = regex.sub(replace, line, count=count)
            elif name == "d":
                deleted = True
                break
            elif name == "p":
                out.append(line)
            elif name == "a":
                after.append(str(argument))
            elif name == "i":
                out.append(str(argument))
            elif name == "c":
                line = str(argument)
        if not deleted and not quiet:
            out.append(line)
        out.extend(after)
    return "".join(line + "\n" for line in out)


@command("sed")
def cmd_sed(process: Process, argv: list[str]) -> int:
    scripts: list[str] = []
    names: list[str] = []
    in_place = extended = quiet = False
    args = argv[1:]
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg.startswith("-i") or arg.startswith("--in-place"):
            in_place = True
        elif arg in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif arg in ("-n", "--quiet", "--silent"):
            quiet = True
        elif arg == "-e" and index < len(args):
            scripts.append(args[index])
            index += 1
        elif arg.startswith("-") and len(arg) > 1 and not arg.startswith("--"):
            in_place = in_place or "i" in arg
            extended = extended or "E" in arg or "r" in arg
            quiet = quiet or "n" in arg
        else:
            names.append(arg)
    if not scripts:
        if not names:
            process.error("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
            return 1
        scripts.append(names.pop(0))
    try:
        program = _sed_program("\n".join(scripts), extended)
    except (SedError, re.error, IndexError) as error:
        process.error(f"sed: -e expression #1: {error}")
        return 1
    if in_place:
        if not names:
            process.error("sed: no input files")
            return 1
        status = 0
        for name in names:
            path = process.path(name)
            with process.fs.lock:
                try:
                    text = process.fs.read(path, process.cred)
                    # sed -i writes a temporary file in the directory and renames it over
                    parent = process.fs.lookup(posixpath.dirname(path), process.cred)
                    if not process.cred.is_root and not _may_write_dir(process, parent):
                        raise FsError(posixpath.dirname(path), "Permission denied")
                    process.fs.write(path, _sed_apply(program, text, quiet), process.cred)
                except FsError as error:
                    if posixpath.dirname(path) == error.path:
                        process.error(
                            f"sed: couldn't open temporary file {error.path}/sedXXXXXX: "
                            f"{error.reason}"
                        )
                    else:
                        process.error(f"sed: can't read {name}: {error.reason}")
                    status = 4
        return status
    inputs, status = _read_inputs(process, names, "sed")
    for _, text in inputs:
        process.stdout.write(_sed_apply(program, text, quiet))
    return 2 if status else 0


def _may_write_dir(process: Process, inode: Inode) -> bool:
    if process.cred.uid == inode.uid:
        return bool(inode.mode & 0o200)
    if inode.gid == process.cred.gid or inode.gid in process.cred.groups:
        return bool(inode.mode & 0o020)
    return bool(inode.mode & 0o002)


@command("grep", "egrep", "fgrep")
def cmd_grep(process: Process, argv: list[str]) -> int:
    flags, operands = parse_options(argv[1:], with_value="em")
    patterns = [str(flags["e"])] if "e" in flags else operands[:1]
    names = operands if "e" in flags else operands[1:]
    if not patterns:
        process.error("Usage: grep [OPTION]... PATTERNS [FILE]...")
        return 2
    extended = bool(flags.get("E")) or argv[0] == "egrep"
    fixed = bool(flags.get("F")) or argv[0] == "fgrep"
    regex_text = "|".join(
        re.escape(p) if fixed else f"(?:{posix_regex(p, extended)})"
        for pattern in patterns
        for p in pattern.split("\n")
    )
    if flags.get("x"):
        regex_text = f"^(?:{regex_text})$"
    elif flags.get("w"):
        regex_text = rf"\b(?:{regex_text})\b"
    try:
        regex = re.compile(regex_text, re.IGNORECASE if flags.get("i") else 0)
    except re.error:
        process.error("grep: Invalid regular expression")
        return 2
    quiet = bool(flags.get("q") or flags.get("--quiet"))
    if flags.get("s"):
        process = process.child(stderr=_Discard())
    inputs, status = _read_inputs(process, names, "grep")
    found = False
    for name, text in inputs:
        count = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if bool(regex.search(line)) == bool(flags.get("v")):
                continue
            found = True
            count += 1
            if quiet:
                return 0
            if flags.get("c") or flags.get("l"):
                continue
            with_names = (len(inputs) > 1 or flags.get("H")) and not flags.get("h")
            prefix = f"{name}:" if with_names else ""
            prefix += f"{number}:" if flags.get("n") else ""
            process.stdout.write(f"{prefix}{line}\n")
        if flags.get("c"):
            process.stdout.write((f"{name}:" if len(inputs) > 1 else "") + f"{count}\n")
        elif flags.get("l") and count:
            process.stdout.write(name + "\n")
    if status and not (quiet and found):
        return 2
    return 0 if found else 1


class _Discard:
    def write(self, text: str) -> None:
        pass


# --- test ---------------------------------------------------------------------------------------


def _test_unary(process: Process, op: str, operand: str) -> bool:
    if op == "-z":
        return operand == ""
    if op == "-n":
        return operand != ""
    try:
        inode = process.fs.lookup(process.path(operand), process.cred)
    except FsError:
        return False
    cred = process.cred
    if op == "-e":
        return True
    if op == "-f":
        return inode.kind not in (DIR, DEVICE, NULL)
    if op == "-d":
        return inode.kind == DIR
    if op == "-b":
        return inode.kind == DEVICE
    if op == "-s":
        return inode.byte_size > 0
    if op in ("-r", "-w", "-x"):
        want = {"-r": 4, "-w": 2, "-x": 1}[op]
        if cred.is_root:
            return want != 1 or inode.kind == DIR or bool(inode.mode & 0o111)
        if cred.uid == inode.uid:
            bits = inode.mode >> 6
        elif inode.gid in cred.groups or inode.gid == cred.gid:
            bits = inode.mode >> 3
        else:
            bits = inode.mode
        return bool(bits & want)
    if op in ("-L", "-h"):
        return False
    raise ValueError(f"{op}: unexpected operator")


def _test_binary(left: str, op: str, right: str) -> bool:
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    numbers = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__}
    numbers.update({"-gt": int.__gt__, "-ge": int.__ge__})
    if op in numbers:
        try:
            return bool(numbers[op](int(left), int(right)))
        except ValueError:
            raise ValueError(
                f"Illegal number: {left if not left.lstrip('-').isdigit() else right}"
            ) from None
    raise ValueError(f"{op}: unexpected operator")


def _test_eval(process: Process, args: list[str]) -> bool:
    if "-o" in args:
        position = args.index("-o")
        return _test_eval(process, args[:position]) or _test_eval(process, args[position + 1 :])
    if "-a" in args[1:]:
        position = args.index("-a", 1)
        return _test_eval(process, args[:position]) and _test_eval(process, args[position + 1 :])
    if args and args[0] == "!":
        return not _test_eval(process, args[1:])
    if len(args) == 0:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        return _test_unary(process, args[0], args[1])
    if len(args) == 3:
        return _test_binary(args[0], args[1], args[2])
    raise ValueError("too many arguments")


@command("test", "[")
def cmd_test(process: Process, argv: list[str]) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            process.error("sh: 1: [: missing ]")
            return 2
        args = args[:-1]
    try:
        return 0 if _test_eval(process, args) else 1
    except ValueError as error:
        process.error(f"sh: 1: {argv[0]}: {error}")
        return 2


# system commands register themselves into COMMANDS on import
from pytest_interop.reference.machines import curl, system, volume_disks  # noqa: E402, F401
