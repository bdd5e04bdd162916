"""What a freshly booted cloud image looks like on disk: accounts, sshd and sudo configuration.

Also reads the account databases back (/etc/passwd, /etc/group, /etc/shadow), so that what a
test changes over SSH is what the SSH server and `sudo` then obey.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from pytest_interop.reference.machines.filesystem import NULL, Cred, Filesystem, Inode

CLOUD_INIT_VERSION = "23.4.4"


@dataclass(frozen=True)
class Distro:
    """The few facts of a distribution family that change what a login sees."""

    family: str  # "debian" or "rhel"
    pretty_name: str
    os_release: str
    admin_group: str
    admin_gid: int
    ssh_units: tuple[str, ...]  # systemd unit names that resolve to the SSH daemon
    kernel: str


_UBUNTU = Distro(
    "debian",
    "Ubuntu 22.04.4 LTS",
    'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
    'VERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\n'
    'ID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\n',
    "sudo",
    27,
    ("ssh", "sshd"),
    "5.15.0-105-generic",
)
_DEBIAN = Distro(
    "debian",
    "Debian GNU/Linux 12 (bookworm)",
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    "sudo",
    27,
    ("ssh", "sshd"),
    "6.1.0-21-cloud-amd64",
)
_CENTOS = Distro(
    "rhel",
    "CentOS Stream 9",
    'NAME="CentOS Stream"\nVERSION="9"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n'
    'PRETTY_NAME="CentOS Stream 9"\n',
    "wheel",
    10,
    ("sshd",),
    "5.14.0-437.el9.x86_64",
)
_RHEL = Distro(
    "rhel",
    "Red Hat Enterprise Linux 9.4 (Plow)",
    'NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nID_LIKE="fedora"\n'
    'VERSION_ID="9.4"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n',
    "wheel",
    10,
    ("sshd",),
    "5.14.0-427.13.1.el9_4.x86_64",
)
_AMAZON = Distro(
    "rhel",
    "Amazon Linux 2023",
    'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
    'PRETTY_NAME="Amazon Linux 2023"\n',
    "wheel",
    10,
    ("sshd",),
    "6.1.90-99.173.amzn2023.x86_64",
)


def distro_for(image_name: str) -> Distro:
    """The family an image name suggests; Ubuntu when nothing matches."""
    name = image_name.lower()
    if "rhel" in name or "red hat" in name:
        return _RHEL
    if any(word in name for word in ("centos", "rocky", "alma", "fedora")):
        return _CENTOS
    if any(word in name for word in ("amazon", "amzn", "al2023")):
        return _AMAZON
    if "debian" in name:
        return _DEBIAN
    return _UBUNTU


LOGIN_UID = 1000


def hash_password(password: str) -> str:
    """A salted hash for /etc/shadow (PBKDF2; the format is ours, the idea is crypt's)."""
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000).hex()
    return f"$pbkdf2-sha256${salt}${digest}"


def password_matches(stored: str, password: str) -> bool:
    parts = stored.split("$")
    if not stored.startswith("$") or len(parts) != 4 or parts[1] != "pbkdf2-sha256":
        return False  # locked ("!", "*") or empty: no password login
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), parts[2].encode(), 1000).hex()
    return hmac.compare_digest(digest, parts[3])


def sshd_config_text(*, password_authentication: bool, permit_root_login: str) -> str:
    yes_no = "yes" if password_authentication else "no"
    return (
        "# This is the sshd server system-wide configuration file.  See\n"
        "# sshd_config(5) for more information.\n\n"
        "Include /etc/ssh/sshd_config.d/*.conf\n\n"
        "#Port 22\n#ListenAddress 0.0.0.0\n\n"
        "#HostKey /etc/ssh/ssh_host_ecdsa_key\n#HostKey /etc/ssh/ssh_host_ed25519_key\n\n"
        "# Authentication:\n\n"
        "#LoginGraceTime 2m\n"
        f"PermitRootLogin {permit_root_login}\n"
        "#StrictModes yes\n#MaxAuthTries 6\n\n"
        "#PubkeyAuthentication yes\n\n"
        "#AuthorizedKeysFile\t.ssh/authorized_keys .ssh/authorized_keys2\n\n"
        "# To disable tunneled clear text passwords, change to no here!\n"
        f"PasswordAuthentication {yes_no}\n"
        "#PermitEmptyPasswords no\n\n"
        "KbdInteractiveAuthentication no\n\n"
        "UsePAM yes\n\n"
        "X11Forwarding yes\nPrintMotd no\n\n"
        "AcceptEnv LANG LC_*\n\n"
        "Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n"
    )


def build_image(
    fs: Filesystem,
    *,
    distro: Distro,
    hostname: str,
    login_user: str,
    authorized_keys: list[str],
    password: str | None,
    root_login: str,
    sudo_requires_tty: bool,
    host_public_lines: list[str],
    disable_root_keys: bool = False,
) -> None:
    """Lay down the files cloud-init would leave after first boot."""
    uid = gid = LOGIN_UID
    admin = distro.admin_group
    for directory, mode in (
        ("/bin", 0o755),
        ("/usr/bin", 0o755),
        ("/etc", 0o755),
        ("/etc/ssh", 0o755),
        ("/etc/ssh/sshd_config.d", 0o755),
        ("/etc/sudoers.d", 0o750),
        ("/home", 0o755),
        ("/root", 0o700),
        ("/tmp", 0o1777),
        ("/var", 0o755),
        ("/var/log", 0o755),
        ("/var/tmp", 0o1777),  # FHS: world-writable and, unlike /tmp, kept across reboots
        ("/dev", 0o755),
        ("/proc", 0o555),
        ("/mnt", 0o755),
    ):
        fs.put_dir(directory, mode=mode)
    fs.put_node("/dev/null", Inode(NULL, 0, 0, 0o666))
    fs.put_file(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        f"{login_user}:x:{uid}:{gid}:{login_user}:/home/{login_user}:/bin/bash\n",
    )
    fs.put_file(
        "/etc/group",
        f"root:x:0:\nadm:x:4:{login_user}\n{admin}:x:{distro.admin_gid}:{login_user}\nnogroup:x:65534:\nshadow:x:42:\n{login_user}:x:{gid}:\n",
    )
    login_hash = hash_password(password) if password is not None else "!"
    fs.put_file(
        "/etc/shadow",
        f"root:*:19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\n"
        f"nobody:*:19800:0:99999:7:::\n{login_user}:{login_hash}:19800:0:99999:7:::\n",
        gid=42,
        mode=0o640,
    )
    fs.put_file("/etc/hostname", hostname + "\n")
    fs.put_file("/etc/hosts", f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n")
    fs.put_file("/etc/os-release", distro.os_release)
    fs.put_file(
        "/etc/ssh/sshd_config",
        sshd_config_text(
            password_authentication=password is not None, permit_root_login=root_login
        ),
    )
    for line in host_public_lines:
        kind = "ed25519" if line.startswith("ssh-ed25519") else "ecdsa"
        fs.put_file(f"/etc/ssh/ssh_host_{kind}_key.pub", f"{line} root@{hostname}\n")
    defaults = 'Defaults\tenv_reset\nDefaults\tsecure_path="/usr/sbin:/usr/bin:/sbin:/bin"\n'
    if sudo_requires_tty:
        defaults += "Defaults    requiretty\n"
    fs.put_file(
        "/etc/sudoers",
        f"{defaults}\nroot\tALL=(ALL:ALL) ALL\n%{admin}\tALL=(ALL:ALL) ALL\n\n"
        "@includedir /etc/sudoers.d\n",
        mode=0o440,
    )
    fs.put_file(
        "/etc/sudoers.d/90-cloud-init-users",
        f"# Created by cloud-init v. {CLOUD_INIT_VERSION}\n\n# User rules for {login_user}\n"
        f"{login_user} ALL=(ALL) NOPASSWD:ALL\n",
        mode=0o440,
    )
    fs.put_file("/root/.bashrc", "# ~/.bashrc\n")
    home = f"/home/{login_user}"
    fs.put_dir(home, uid=uid, gid=gid, mode=0o750)
    fs.put_file(f"{home}/.bashrc", "# ~/.bashrc\n", uid=uid, gid=gid)
    fs.put_dir(f"{home}/.ssh", uid=uid, gid=gid, mode=0o700)
    keys_text = "".join(key.strip() + "\n" for key in authorized_keys if key.strip())
    fs.put_file(f"{home}/.ssh/authorized_keys", keys_text, uid=uid, gid=gid, mode=0o600)
    if disable_root_keys:
        fs.put_dir("/root/.ssh", mode=0o700)
        fs.put_file(
            "/root/.ssh/authorized_keys",
            "".join(disable_root_prefix(login_user) + line for line in keys_text.splitlines(True)),
            mode=0o600,
        )


def disable_root_prefix(login_user: str) -> str:
    """The options cloud-init's disable_root puts before each of root's keys (its 10 s pause is
    shortened to 1 s here, to keep test runs quick)."""
    message = f'Please login as the user \\"{login_user}\\" rather than the user \\"root\\".'
    return (
        "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
        f"command=\"echo '{message}';echo;sleep 1;exit 142\" "
    )


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def _passwd(fs: Filesystem) -> list[Account]:
    accounts = []
    for line in (fs.raw_read("/etc/passwd") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2].isdigit() and fields[3].isdigit():
            accounts.append(
                Account(fields[0], int(fields[2]), int(fields[3]), fields[5], fields[6])
            )
    return accounts


def find_account(fs: Filesystem, name: str) -> Account | None:
    return next((a for a in _passwd(fs) if a.name == name), None)


def account_by_uid(fs: Filesystem, uid: int) -> Account | None:
    return next((a for a in _passwd(fs) if a.uid == uid), None)


def groups(fs: Filesystem) -> list[tuple[str, int, list[str]]]:
    found = []
    for line in (fs.raw_read("/etc/group") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit():
            members = [m for m in fields[3].split(",") if m]
            found.append((fields[0], int(fields[2]), members))
    return found


def group_name(fs: Filesystem, gid: int) -> str:
    return next((name for name, number, _ in groups(fs) if number == gid), str(gid))


def group_id(fs: Filesystem, name: str) -> int | None:
    if name.isdigit():
        return int(name)
    return next((number for group, number, _ in groups(fs) if group == name), None)


def groups_of(fs: Filesystem, account: Account) -> list[tuple[str, int]]:
    """Primary group first, then supplementary ones, as `id` lists them."""
    found = [(group_name(fs, account.gid), account.gid)]
    for name, number, members in groups(fs):
        if account.name in members and number != account.gid:
            found.append((name, number))
    return found


def cred_for(fs: Filesystem, account: Account) -> Cred:
    return Cred(account.uid, account.gid, frozenset(g for _, g in groups_of(fs, account)))


def stored_password(fs: Filesystem, name: str) -> str:
    for line in (fs.raw_read("/etc/shadow") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 2 and fields[0] == name:
            return fields[1]
    return "!"
