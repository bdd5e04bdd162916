"""System commands of the emulated machine: identity, sudo, services, hardware facts."""

from __future__ import annotations

import datetime
import posixpath
import re

from pytest_interop.reference.machines.commands import command, parse_options
from pytest_interop.reference.machines.image import (
    Account,
    account_by_uid,
    cred_for,
    find_account,
    group_name,
    groups_of,
    hash_password,
)
from pytest_interop.reference.machines.shell import Process, environment_for, run_argv, run_script


@command("whoami")
def cmd_whoami(process: Process, argv: list[str]) -> int:
    account = account_by_uid(process.fs, process.cred.uid)
    process.stdout.write((account.name if account else str(process.cred.uid)) + "\n")
    return 0


@command("id")
def cmd_id(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    if names:
        account = find_account(process.fs, names[0])
        if account is None:
            process.error(f"id: '{names[0]}': no such user")
            return 1
        uid, gid = account.uid, account.gid
        memberships = groups_of(process.fs, account)
    else:
        uid, gid = process.cred.uid, process.cred.gid
        account = account_by_uid(process.fs, uid)
        memberships = groups_of(process.fs, account) if account else [(str(gid), gid)]
    user_name = account.name if account else str(uid)
    by_name = bool(flags.get("n"))
    if flags.get("u"):
        process.stdout.write(f"{user_name if by_name else uid}\n")
    elif flags.get("g"):
        process.stdout.write(f"{group_name(process.fs, gid) if by_name else gid}\n")
    elif flags.get("G"):
        shown = [name if by_name else str(number) for name, number in memberships]
        process.stdout.write(" ".join(shown) + "\n")
    else:
        listed = ",".join(f"{number}({name})" for name, number in memberships)
        process.stdout.write(
            f"uid={uid}({user_name}) gid={gid}({group_name(process.fs, gid)}) groups={listed}\n"
        )
    return 0


# --- sudo ---------------------------------------------------------------------------------------


def _sudoers_lines(process: Process) -> list[str]:
    lines: list[str] = []
    pending = ["/etc/sudoers"]
    while pending:
        text = process.fs.raw_read(pending.pop(0)) or ""
        for raw in text.splitlines():
            line = raw.strip()
            included = re.match(r"[@#]includedir\s+(\S+)", line)
            if included:
                directory = included.group(1)
                prefix = directory.rstrip("/") + "/"
                pending.extend(
                    path
                    for path in process.fs.all_paths()
                    if path.startswith(prefix)
                    and "/" not in path[len(prefix) :]
                    and "." not in posixpath.basename(path)
                    and not path.endswith("~")
                )
                continue
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def _sudo_rule(process: Process, account: Account, target: Account) -> tuple[bool, bool] | None:
    """(allowed, needs_password) for running as target, or None when no rule matches."""
    member_of = {name for name, _ in groups_of(process.fs, account)}
    verdict = None
    for line in _sudoers_lines(process):
        if line.startswith("Defaults"):
            continue
        match = re.match(r"(\S+)\s+\S+\s*=\s*(?:\(([^)]*)\))?\s*(NOPASSWD:|PASSWD:)?\s*(.+)", line)
        if match is None:
            continue
        who, runas, tag, _commands = match.groups()
        if not (who == account.name or (who.startswith("%") and who[1:] in member_of)):
            continue
        runas_users = (runas or "root").split(":")[0].split(",")
        if not any(u.strip() in ("ALL", target.name) for u in runas_users):
            continue
        verdict = (True, tag != "NOPASSWD:")  # sudoers: the last matching rule wins
    return verdict


def _requires_tty(process: Process, account: Account) -> bool:
    required = False
    for line in _sudoers_lines(process):
        match = re.match(r"Defaults(:(\S+))?\s+(!?)requiretty\b", line)
        if match and (match.group(2) in (None, account.name)):
            required = match.group(3) != "!"
    return required


@command("sudo")
def cmd_sudo(process: Process, argv: list[str]) -> int:
    args = argv[1:]
    target_name = "root"
    non_interactive = login_shell = shell = False
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option == "--":
            break
        if option in ("-u", "--user") and args:
            target_name = args.pop(0)
        elif option.startswith("-u") and len(option) > 2:
            target_name = option[2:]
        else:
            non_interactive = non_interactive or "n" in option
            login_shell = login_shell or "i" in option
            shell = shell or "s" in option
    account = account_by_uid(process.fs, process.cred.uid)
    if account is None:
        process.error("sudo: you do not exist in the passwd database")
        return 1
    if _requires_tty(process, account) and not process.has_pty:
        process.error("sudo: sorry, you must have a tty to run sudo")
        return 1
    target = find_account(process.fs, target_name.lstrip("#"))
    if target is None:
        process.error(f"sudo: unknown user {target_name}")
        return 1
    if process.cred.uid != 0:
        rule = _sudo_rule(process, account, target)
        if rule is None or rule[1]:
            if not non_interactive and not process.has_pty:
                process.error(
                    "sudo: a terminal is required to read the password; either use the -S "
                    "option to read from standard input or configure an askpass helper"
                )
            process.error("sudo: a password is required")
            return 1
    if not args and not (login_shell or shell):
        process.error("usage: sudo -h | -K | -k | -V")
        return 1
    environment = environment_for(target)
    runner = process.child(
        account=target,
        cred=cred_for(process.fs, target),
        env=environment,
        cwd=target.home if login_shell else process.cwd,
    )
    if login_shell or shell:
        script = " ".join(re.sub(r"([^\w@%+=:,./-])", r"\\\1", a) for a in args)
        return run_script(runner, script or process.stdin.read())
    from pytest_interop.reference.machines.commands import COMMANDS

    name = args[0]
    if posixpath.basename(name) not in COMMANDS:
        process.error(f"sudo: {name}: command not found")
        return 1
    return run_argv(runner, args)


@command("su")
def cmd_su(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:], with_value="c")
    target = find_account(process.fs, names[0] if names else "root")
    if target is None or process.cred.uid != 0:
        process.error("su: Authentication failure")
        return 1
    runner = process.child(
        account=target, cred=cred_for(process.fs, target), env=environment_for(target)
    )
    return run_script(runner, str(flags.get("c", "")) or process.stdin.read())


# --- passwords ----------------------------------------------------------------------------------


def _set_shadow(process: Process, name: str, change) -> bool:
    text = process.fs.read("/etc/shadow", process.cred)
    lines, found = [], False
    for line in text.splitlines():
        fields = line.split(":")
        if fields and fields[0] == name and len(fields) > 1:
            fields[1] = change(fields[1])
            found = True
        lines.append(":".join(fields))
    process.fs.write("/etc/shadow", "".join(line + "\n" for line in lines), process.cred)
    return found


@command("chpasswd")
def cmd_chpasswd(process: Process, argv: list[str]) -> int:
    if process.cred.uid != 0:
        process.error("chpasswd: Permission denied.")
        return 1
    for line in process.stdin.read().splitlines():
        name, _, password = line.partition(":")
        if not _set_shadow(process, name, lambda _old, pw=password: hash_password(pw)):
            process.error(f"chpasswd: line 1: user '{name}' does not exist")
            return 1
    return 0


@command("passwd", "usermod")
def cmd_passwd(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    if process.cred.uid != 0 or not names:
        process.error(f"{argv[0]}: Permission denied.")
        return 1
    if flags.get("l") or flags.get("L"):
        change = lambda old: old if old.startswith("!") else "!" + old  # noqa: E731
    elif flags.get("d"):
        change = lambda old: ""  # noqa: E731
    elif flags.get("U") or flags.get("u"):
        change = lambda old: old.lstrip("!") or "!"  # noqa: E731
    else:
        process.error(f"{argv[0]}: only -l, -u and -d are emulated")
        return 1
    if not _set_shadow(process, names[0], change):
        process.error(f"{argv[0]}: user '{names[0]}' does not exist")
        return 1
    if argv[0] == "passwd":
        process.stdout.write("passwd: password changed.\n")
    return 0


# --- services -----------------------------------------------------------------------------------


def _unit(name: str) -> str:
    return name[: -len(".service")] if name.endswith(".service") else name


@command("systemctl")
def cmd_systemctl(process: Process, argv: list[str]) -> int:
    flags, operands = parse_options(argv[1:])
    if not operands:
        process.error("systemctl: too few arguments")
        return 1
    verb, units = operands[0], [_unit(u) for u in operands[1:]]
    machine = process.machine
    ssh_units = machine.distro.ssh_units
    if verb in POWER_VERBS:
        return cmd_power(process, [verb])
    if verb == "daemon-reload":
        return 0 if process.cred.uid == 0 else _denied(process, verb, "daemon")
    status = 0
    for unit in units:
        if unit not in ssh_units:
            if verb in ("is-active", "is-enabled"):
                process.stdout.write("inactive\n" if verb == "is-active" else "not-found\n")
                status = 4 if verb == "is-active" else 1
                continue
            process.error(f"Failed to {verb} {unit}.service: Unit {unit}.service not found.")
            status = 5
            continue
        if verb in ("is-active", "is-enabled"):
            if not flags.get("q") and not flags.get("--quiet"):
                process.stdout.write("active\n" if verb == "is-active" else "enabled\n")
            continue
        if verb == "status":
            process.stdout.write(
                f"● {ssh_units[0]}.service - OpenBSD Secure Shell server\n"
                f"     Loaded: loaded (/lib/systemd/system/{ssh_units[0]}.service; enabled)\n"
                "     Active: active (running)\n"
            )
            continue
        if verb in (
            "reload",
            "restart",
            "reload-or-restart",
            "try-restart",
            "try-reload-or-restart",
            "start",
            "enable",
        ):
            if process.cred.uid != 0:
                status = _denied(process, verb, unit)
                continue
            if verb in ("start", "enable"):
                continue
            problem = machine.reload_sshd()
            if problem is not None:
                process.error(
                    f"Job for {ssh_units[0]}.service failed because the control process exited "
                    f'with error code.\nSee "systemctl status {ssh_units[0]}.service" and '
                    f'"journalctl -xeu {ssh_units[0]}.service" for details.'
                )
                status = 1
            continue
        if verb in ("stop", "disable", "mask"):
            process.error(f"Failed to {verb} {unit}.service: refused by the reference machine")
            status = 1
            continue
        process.error(f"Unknown command verb {verb}.")
        return 1
    return status


POWER_VERBS = {"reboot": "reboot", "poweroff": "poweroff", "halt": "poweroff"}


@command("reboot", "poweroff", "halt", "shutdown")
def cmd_power(process: Process, argv: list[str]) -> int:
    """The guest asks to restart or stop; the session sees its exit status, then the drop."""
    name = argv[0]
    if name == "shutdown":
        flags, _ = parse_options(argv[1:])
        action = "reboot" if flags.get("r") else "poweroff"
    else:
        action = POWER_VERBS[name]
    if process.cred.uid != 0:
        process.error(f"Call to {action.capitalize()} failed: Interactive authentication required.")
        return 1
    process.machine.request_power_action(action)
    return 0


def _denied(process: Process, verb: str, unit: str) -> int:
    process.error(
        f"Failed to {verb} {unit}.service: Interactive authentication required.\n"
        f"See system logs and 'systemctl status {unit}.service' for details."
    )
    return 1


@command("service")
def cmd_service(process: Process, argv: list[str]) -> int:
    if len(argv) < 3:
        process.error("Usage: service < option > | --status-all | [ service_name [ command ] ]")
        return 1
    return cmd_systemctl(process, ["systemctl", argv[2], argv[1]])


@command("cloud-init")
def cmd_cloud_init(process: Process, argv: list[str]) -> int:
    if "status" in argv:
        process.stdout.write("status: done\n")
        return 0
    if "--version" in argv or "-v" in argv:
        process.stdout.write("/usr/bin/cloud-init 23.4.4\n")
        return 0
    process.error("cloud-init: only `status` is emulated")
    return 1


# --- hardware and kernel ------------------------------------------------------------------------


@command("hostname")
def cmd_hostname(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:])
    machine = process.machine
    if names:
        if process.cred.uid != 0:
            process.error("hostname: you must be root to change the host name")
            return 1
        machine.hostname = names[0]
        return 0
    if flags.get("I") or flags.get("i"):
        process.stdout.write(" ".join(machine.listen_ips()) + " \n")
    elif flags.get("s"):
        process.stdout.write(machine.hostname.split(".")[0] + "\n")
    else:
        process.stdout.write(machine.hostname + "\n")
    return 0


@command("nproc")
def cmd_nproc(process: Process, argv: list[str]) -> int:
    cpuinfo = process.fs.raw_read("/proc/cpuinfo") or ""
    process.stdout.write(f"{max(1, cpuinfo.count('processor'))}\n")
    return 0


def _meminfo(process: Process) -> dict[str, int]:
    values = {}
    for line in (process.fs.raw_read("/proc/meminfo") or "").splitlines():
        match = re.match(r"(\w+):\s+(\d+)", line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


@command("free")
def cmd_free(process: Process, argv: list[str]) -> int:
    flags, _ = parse_options(argv[1:])
    info = _meminfo(process)
    divisor = 1024 if flags.get("m") else 1024 * 1024 if flags.get("g") else 1
    if flags.get("b"):
        divisor = 1 / 1024  # type: ignore[assignment]
    total, free, available = (
        info.get("MemTotal", 0),
        info.get("MemFree", 0),
        info.get("MemAvailable", 0),
    )
    cache = info.get("Cached", 0) + info.get("Buffers", 0)
    used = total - free - cache

    def shown(kib: int) -> int:
        return int(kib / divisor)

    process.stdout.write(
        f"{'':15}{'total':>12}{'used':>12}{'free':>12}{'shared':>12}{'buff/cache':>12}{'available':>12}\n"
        f"{'Mem:':15}{shown(total):>12}{shown(used):>12}{shown(free):>12}{shown(1024):>12}"
        f"{shown(cache):>12}{shown(available):>12}\n"
        f"{'Swap:':15}{0:>12}{0:>12}{0:>12}\n"
    )
    return 0


def _human(size: int) -> str:
    for unit, factor in (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return f"{size}B"


@command("lsblk")
def cmd_lsblk(process: Process, argv: list[str]) -> int:
    flags, names = parse_options(argv[1:], with_value="o", long_with_value=("--output",))
    columns = str(
        flags.get("o") or flags.get("--output") or "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINTS"
    )
    columns_list = [c.strip().upper() for c in columns.split(",") if c.strip()]
    raw_bytes = bool(flags.get("b") or flags.get("--bytes"))
    rows = []
    for number, disk in enumerate(process.machine.block_devices()):
        name, size, kind, mountpoint, parent, read_only = disk
        if (flags.get("d") or flags.get("--nodeps")) and kind != "disk":
            continue
        if names and not any(posixpath.basename(n) in (name, parent) for n in names):
            continue
        values = {
            "NAME": name if kind == "disk" or flags.get("l") or flags.get("d") else f"└─{name}",
            "KNAME": name,
            "MAJ:MIN": f"252:{number}",
            "RM": "0",
            "SIZE": str(size) if raw_bytes else _human(size),
            "RO": "1" if read_only else "0",
            "TYPE": kind,
            "MOUNTPOINT": mountpoint,
            "MOUNTPOINTS": mountpoint,
            "FSTYPE": "ext4" if kind == "part" else "",  # the root disk's and volumes' partitions
            "PATH": f"/dev/{name}",
        }
        rows.append([values.get(column, "") for column in columns_list])
    if not rows and names:
        process.error(f"lsblk: {names[0]}: not a block device")
        return 32
    table = rows if (flags.get("n") or flags.get("--noheadings")) else [columns_list, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns_list))]
    for row in table:
        cells = [
            cell.rjust(width) if column in ("SIZE", "RM", "RO") else cell.ljust(width)
            for cell, width, column in zip(row, widths, columns_list, strict=True)
        ]
        process.stdout.write(" ".join(cells).rstrip() + "\n")
    return 0


@command("uname")
def cmd_uname(process: Process, argv: list[str]) -> int:
    flags, _ = parse_options(argv[1:])
    machine = process.machine
    parts = {
        "s": "Linux",
        "n": machine.hostname,
        "r": machine.distro.kernel,
        "v": "#1 SMP PREEMPT_DYNAMIC",
        "m": "x86_64",
        "o": "GNU/Linux",
    }
    if flags.get("a"):
        chosen = ["s", "n", "r", "v", "m", "m", "m", "o"]
        process.stdout.write(" ".join(parts[c] for c in chosen) + "\n")
        return 0
    chosen = [c for c in "snrvmo" if flags.get(c)] or ["s"]
    process.stdout.write(" ".join(parts[c] for c in chosen) + "\n")
    return 0


@command("date")
def cmd_date(process: Process, argv: list[str]) -> int:
    now = datetime.datetime.now(datetime.UTC)
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), None)
    process.stdout.write(
        (now.strftime(fmt) if fmt else now.strftime("%a %b %d %H:%M:%S UTC %Y")) + "\n"
    )
    return 0


@command("uptime")
def cmd_uptime(process: Process, argv: list[str]) -> int:
    seconds = process.machine.uptime_seconds()
    if "-s" in argv:
        process.stdout.write(process.machine.boot_time.strftime("%Y-%m-%d %H:%M:%S") + "\n")
    else:
        process.stdout.write(
            f"up {int(seconds // 60)} min,  1 user,  load average: 0.00, 0.00, 0.00\n"
        )
    return 0
