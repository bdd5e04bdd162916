"""Everything one reference cloud knows, behind one lock, and the hooks between services."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from pytest_interop.reference.compute.machines_glue import MachineGlue
from pytest_interop.reference.compute.models import ComputeModel
from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.counters import Counters
from pytest_interop.reference.dns.models import DnsModel
from pytest_interop.reference.faults import FaultInjector, FaultSettings
from pytest_interop.reference.identity.models import IdentityModel, Project
from pytest_interop.reference.image.models import ImageModel
from pytest_interop.reference.network.models import KINDS, NetworkModel
from pytest_interop.reference.object.models import ObjectModel
from pytest_interop.reference.orchestration.models import OrchestrationModel
from pytest_interop.reference.profiles import Profile
from pytest_interop.reference.scheduler import Scheduler
from pytest_interop.reference.volume.models import VolumeModel


@dataclass(frozen=True)
class CatalogService:
    """One catalog entry; Cinder and Swift add theirs here."""

    id: str
    type: str
    name: str
    path: str  # appended to the cloud's base URL


CATALOG = (
    CatalogService("c0a1", "identity", "keystone", "/identity"),
    CatalogService("c0a2", "compute", "nova", "/compute/v2.1"),
    CatalogService("c0a3", "image", "glance", "/image"),
    CatalogService("c0a4", "network", "neutron", "/network"),
    CatalogService("c0a5", "block-storage", "cinder", "/volume/v3"),
    CatalogService("c0a7", "volumev3", "cinderv3", "/volume/v3"),
    CatalogService("c0a8", "volumev2", "cinderv2", "/volume/v2"),
    CatalogService("c0a6", "object-store", "swift", "/object/v1/AUTH_{project_id}"),
    CatalogService("c0a9", "orchestration", "heat", "/orchestration/v1/{project_id}"),
)
# Designate: listed only where its name server can run (see DnsModel.unavailable)
DNS_SERVICE = CatalogService("c0aa", "dns", "designate", "/dns")


class CloudState:
    """The models of every service; one re-entrant lock guards all of them."""

    region = "RegionOne"

    def __init__(self, profile: Profile, faults: FaultSettings, machines: MachineGlue) -> None:
        self.lock = threading.RLock()
        self.profile = profile
        self.faults = FaultInjector(faults)
        self.counters = Counters()
        self.scheduler = Scheduler()
        self.machines = machines
        self.base_url = ""
        self.catalog: list[CatalogService] = list(CATALOG)
        self.identity = IdentityModel(self)
        self.image = ImageModel(self)
        self.network = NetworkModel(self)
        self.compute = ComputeModel(self)
        self.volume = VolumeModel(self)
        self.object = ObjectModel(self)
        self.dns = DnsModel(self)
        if self.dns.unavailable is None:
            self.catalog.append(DNS_SERVICE)
        self.orchestration = OrchestrationModel(self)
        self._bootstrapped = False

    def catalog_services(self) -> list[CatalogService]:
        return list(self.catalog)

    def admin_context(self, project: Project) -> RequestContext:
        return RequestContext(
            base_url=self.base_url,
            project_id=project.id,
            project_name=project.name,
            roles=("admin",),
        )

    def bootstrap(self, admin_project: Project) -> None:
        """The profile's shared networks, images and flavors, owned by the admin project."""
        with self.lock:
            admin = self.admin_context(admin_project)
            for spec in self.profile.networks:
                if not spec.per_project:
                    self.network.provision(admin, spec)
            for image in self.profile.images:
                self.image.provision(admin, image)
            for flavor in self.profile.flavors:
                self.compute.add_flavor(flavor)
            self._bootstrapped = True
            for project in list(self.identity.projects.values()):
                self._provision_project(project)

    def on_project_created(self, project: Project) -> None:
        if self._bootstrapped:
            self._provision_project(project)

    def _provision_project(self, project: Project) -> None:
        per_project = [spec for spec in self.profile.networks if spec.per_project]
        if self.network.default_security_group(project.id) is None:
            self.network.provision_project(project, per_project)

    def on_floating_ip_moved(
        self, address: str, old_port: str | None, new_port: str | None
    ) -> None:
        self.compute.floating_ip_moved(address, old_port, new_port)

    def counters_snapshot(self) -> dict[str, Any]:
        snapshot = self.counters.snapshot()
        with self.lock:
            live = self.compute.live_counts()
            for kind in KINDS:
                per_project: dict[str, int] = {}
                for resource in self.network.store[kind].values():
                    owner = resource.get("project_id", "")
                    per_project[owner] = per_project.get(owner, 0) + 1
                live[kind.replace("-", "_")] = per_project
            images: dict[str, int] = {}
            for image in self.image.images.values():
                images[image["owner"]] = images.get(image["owner"], 0) + 1
            live["images"] = images
            live.update(self.volume.live_counts())
            live.update(self.object.live_counts())
            live.update(self.dns.live_counts())
            live.update(self.orchestration.live_counts())
            live["tokens"] = {"all": len(self.identity.tokens)}
            names = {pid: project.name for pid, project in self.identity.projects.items()}
        snapshot["live"] = live
        snapshot["projects"] = names
        return snapshot

    def close(self) -> None:
        self.orchestration.close()  # first: a stack operation still running uses the others
        self.dns.close()
        self.scheduler.stop()
        self.machines.close()
        self.network.release_all()
