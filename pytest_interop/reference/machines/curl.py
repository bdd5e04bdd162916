"""``curl`` in the guest: what a template's user data runs to signal a wait condition.

Real HTTP, from the guest to the reference cloud's API, loopback only (the guest's world is
the cloud it runs in). Options: ``-X``, ``-H``, ``-d``/``--data``/``--data-binary``
(``@file`` reads a guest file), ``-i``, ``-s``, ``-S``, ``-f``/``--fail``, ``-k``, ``-L``,
``-o FILE``, ``--retry N``, ``-w '%{http_code}'``.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from urllib.parse import urlparse

from pytest_interop.reference.machines.commands import command
from pytest_interop.reference.machines.filesystem import FsError
from pytest_interop.reference.machines.shell import Process

VALUE_FLAGS = "XHdowm"
LONG_VALUES = {
    "--request": "X",
    "--header": "H",
    "--data": "d",
    "--data-binary": "d",
    "--data-raw": "d",
    "--output": "o",
    "--write-out": "w",
    "--max-time": "m",
    "--retry": "",
    "--connect-timeout": "m",
}
TIMEOUT_SECONDS = 30.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _parse(argv: list[str]) -> tuple[dict[str, list[str]], set[str], list[str]]:
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    urls: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        name, sep, inline = arg.partition("=")
        if arg.startswith("--") and name in LONG_VALUES:
            value = inline if sep else (argv[index] if index < len(argv) else "")
            index += 0 if sep else 1
            values.setdefault(LONG_VALUES[name] or name, []).append(value)
        elif arg.startswith("--"):
            flags.add(arg)
        elif arg.startswith("-") and len(arg) > 1:
            position = 1
            while position < len(arg):
                flag = arg[position]
                if flag in VALUE_FLAGS:
                    value = arg[position + 1 :] or (argv[index] if index < len(argv) else "")
                    if not arg[position + 1 :]:
                        index += 1
                    values.setdefault(flag, []).append(value)
                    break
                flags.add(flag)
                position += 1
        else:
            urls.append(arg)
    return values, flags, urls


def _loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@command("curl")
def cmd_curl(process: Process, argv: list[str]) -> int:
    values, flags, urls = _parse(argv[1:])
    quiet = "s" in flags or "--silent" in flags
    show_errors = "S" in flags or "--show-error" in flags
    if not urls:
        process.error("curl: no URL specified!")
        return 2
    url = urls[0]
    if urlparse(url).scheme not in ("http", "https") or not _loopback(url):
        if not quiet or show_errors:
            process.error(f"curl: (6) Could not resolve host: {urlparse(url).hostname or url}")
        return 6
    data = None
    if "d" in values:
        parts = []
        for raw in values["d"]:
            if raw.startswith("@"):
                try:
                    raw = process.fs.read(process.path(raw[1:]), process.cred)
                except FsError as error:
                    process.error(f"curl: Failed to open {raw[1:]}: {error.reason}")
                    return 26
            parts.append(raw)
        data = "&".join(parts).encode()
    method = (values.get("X") or ["POST" if data is not None else "GET"])[-1]
    request = urllib.request.Request(url, data=data, method=method)
    has_type = False
    for header in values.get("H", []):
        key, _, value = header.partition(":")
        if key.strip():
            request.add_header(key.strip(), value.strip())
            has_type = has_type or key.strip().lower() == "content-type"
    if data is not None and not has_type:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    handlers = [] if ("L" in flags or "--location" in flags) else [_NoRedirect()]
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
            status, reason, headers, body = (
                answer.status,
                answer.reason,
                answer.headers,
                answer.read(),
            )
    except urllib.error.HTTPError as error:
        status, reason, headers, body = error.code, error.reason, error.headers, error.read()
    except (urllib.error.URLError, OSError) as error:
        if not quiet or show_errors:
            process.error(f"curl: (7) Failed to connect: {error}")
        return 7
    fail = "f" in flags or "--fail" in flags
    if fail and status >= 400:
        if not quiet or show_errors:
            process.error(f"curl: (22) The requested URL returned error: {status}")
        return 22
    text = ""
    if "i" in flags or "--include" in flags:
        text += f"HTTP/1.1 {status} {reason}\r\n"
        text += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    text += body.decode("utf-8", "replace")
    if "o" in values:
        try:
            process.fs.write(process.path(values["o"][-1]), text, process.cred)
        except FsError as error:
            process.error(f"curl: (23) Failure writing output: {error.reason}")
            return 23
    else:
        process.stdout.write(text)
    if "w" in values:
        process.stdout.write(values["w"][-1].replace("%{http_code}", str(status)))
    return 0
