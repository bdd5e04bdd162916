"""Servers of the reference cloud that you can log into over real SSH (paramiko's server side).

`MachineHost(ssh_port)` holds the machines of one reference cloud; all listen on that port, each
on its own loopback address. Each `Machine` is a small emulated Linux with its own host keys
(ECDSA, ED25519), accounts, sshd configuration (enforced: keys from authorized_keys with
StrictModes, PasswordAuthentication and PermitRootLogin as last reloaded), sudo rules (including
`Defaults requiretty`), a POSIX-sh-like command interpreter, an SFTP subsystem and a cloud-init
console log carrying the host key fingerprints.

    host = MachineHost(ssh_port)
    m = host.create(server_id, hostname=..., login_user=..., authorized_keys=[...], vcpus=...,
                    ram_mb=..., disk_gb=..., image_name=..., root_login="prohibit-password",
                    sudo_requires_tty=False, password=None, disable_root_keys=False)
    m.listen(ip); m.unlisten(ip); m.console_log(); m.boot_id
    m.power_off(); m.power_on(); m.reboot(); m.resize(vcpus, ram_mb, disk_gb)
    m.suspend()  # SSH closes; the next power_on resumes the same boot (boot id, /tmp)
    m.rebuild(image_name, login_user, authorized_keys, password=None)
    m.attach_disk(device, size_gb, read_only=False); m.detach_disk(device)
    m.destroy(); host.close()

The image name picks the distribution family: names with centos/rhel/rocky/alma/fedora or
amazon/amzn/al2023 behave like RHEL (unit `sshd` only, group `wheel`), debian like Debian,
anything else like Ubuntu 22.04 (units `ssh` and its alias `sshd`).
"""

from pytest_interop.reference.machines.host import MachineHost
from pytest_interop.reference.machines.machine import Machine

__all__ = ["Machine", "MachineHost"]
