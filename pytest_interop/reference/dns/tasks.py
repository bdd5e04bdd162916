"""Designate's zone export and import tasks: a zone as a master file (``text/dns``), and a
zone made from one.

An export holds the zone as served (ACTIVE record sets only); an import makes the zone and
its record sets through the same model calls as the API, so they reach named alike. Both
tasks complete at once (``COMPLETE``, or ``ERROR`` with the reason in ``message``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import RequestContext, json_response, utc_now
from pytest_interop.reference.dns import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

TEXT_DNS = "text/dns"


def parse_zone_file(text: str) -> tuple[str, str, int, list[tuple[str, str, int, list[str]]]]:
    """(zone name, e-mail, TTL, record sets) of a master file; ValueError when unusable."""
    import dns.rdatatype
    import dns.zone

    try:
        zone = dns.zone.from_text(text, origin=None, relativize=False, check_origin=True)
    except Exception as exc:
        raise ValueError(f"the zone file does not parse: {exc}") from None
    origin = zone.origin.to_text()
    soa = zone.find_rdataset(zone.origin, dns.rdatatype.SOA)
    rname = soa[0].rname.to_text().rstrip(".")
    local, _, domain = rname.replace("\\.", "\0").partition(".")
    email = f"{local.replace(chr(0), '.')}@{domain.replace(chr(0), '.')}"
    records = []
    for name, node in sorted(zone.nodes.items()):
        owner = name.to_text()
        for rdataset in node:
            kind = dns.rdatatype.to_text(rdataset.rdtype)
            if kind == "SOA" or (kind == "NS" and owner == origin):
                continue  # the service's own
            records.append((owner, kind, rdataset.ttl, [r.to_text() for r in rdataset]))
    return origin, email, soa.ttl, records


class ZoneTasks:
    """The HTTP side and the tasks' records (the zones themselves are the model's)."""

    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.exports: dict[str, dict[str, Any]] = {}
        self.imports: dict[str, dict[str, Any]] = {}

    @property
    def model(self):
        return self.state.dns

    def _task(self, ctx: RequestContext, zone_id: str | None) -> dict[str, Any]:
        now = utc_now().strftime("%Y-%m-%dT%H:%M:%S.%f")
        return {
            "id": str(uuid.uuid4()),
            "status": "COMPLETE",
            "message": None,
            "zone_id": zone_id,
            "project_id": ctx.project_id,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }

    def _doc(self, ctx: RequestContext, task: dict[str, Any], kind: str) -> dict[str, Any]:
        base = f"{ctx.base_url}/dns/v2/zones/tasks/{kind}/{task['id']}"
        doc = {k: v for k, v in task.items() if not k.startswith("_")}
        doc["links"] = {"self": base}
        if kind == "exports":
            doc["location"] = f"designate://v2/zones/tasks/exports/{task['id']}/export"
            doc["links"]["export"] = f"{base}/export"
        elif task["zone_id"]:
            doc["links"]["zone"] = f"{ctx.base_url}/dns/v2/zones/{task['zone_id']}"
        return doc

    def _find(self, ctx: RequestContext, tasks: dict[str, Any], task_id: str, kind: str) -> dict:
        task = tasks.get(task_id)
        if task is None or task["project_id"] != ctx.project_id:
            raise exceptions.task_not_found(kind)
        return task

    # exports ----------------------------------------------------------------------------
    def create_export(self, ctx: RequestContext, request: Request, zone_id: str) -> Response:
        self.model.require_server()
        with self.state.lock:
            zone = self.model.visible_zone(ctx, zone_id)
            task = self._task(ctx, zone.id)
            task["_text"] = self.model.zone_text(zone, pending=False)
            self.exports[task["id"]] = task
            return json_response(self._doc(ctx, task, "exports"), 202)

    def list_exports(self, ctx: RequestContext, request: Request) -> Response:
        with self.state.lock:
            mine = [t for t in self.exports.values() if t["project_id"] == ctx.project_id]
            docs = [self._doc(ctx, t, "exports") for t in mine]
        return json_response({"exports": docs, "links": {"self": request.base_url}})

    def get_export(self, ctx: RequestContext, request: Request, task_id: str) -> Response:
        with self.state.lock:
            task = self._find(ctx, self.exports, task_id, "Export")
            return json_response(self._doc(ctx, task, "exports"))

    def export_text(self, ctx: RequestContext, request: Request, task_id: str) -> Response:
        with self.state.lock:
            task = self._find(ctx, self.exports, task_id, "Export")
            return Response(task["_text"], status=200, content_type=TEXT_DNS)

    def delete_export(self, ctx: RequestContext, request: Request, task_id: str) -> Response:
        with self.state.lock:
            self._find(ctx, self.exports, task_id, "Export")
            del self.exports[task_id]
        return Response(b"", status=204)

    # imports ----------------------------------------------------------------------------
    def create_import(self, ctx: RequestContext, request: Request) -> Response:
        self.model.require_server()
        if request.mimetype != TEXT_DNS:
            raise exceptions.DesignateError(
                f"a zone import is a {TEXT_DNS} body, not {request.mimetype or 'none'}", 415
            )
        task = self._task(ctx, None)
        try:
            name, email, ttl, records = parse_zone_file(request.get_data(as_text=True))
            zone = self.model.create_zone(
                ctx, name, email, ttl, "Imported by the zone import task", records
            )
            task["zone_id"] = zone.id
        except (ValueError, exceptions.DesignateError) as exc:
            task["status"] = "ERROR"
            task["message"] = getattr(exc, "message", None) or str(exc)
        with self.state.lock:
            self.imports[task["id"]] = task
            return json_response(self._doc(ctx, task, "imports"), 202)

    def list_imports(self, ctx: RequestContext, request: Request) -> Response:
        with self.state.lock:
            mine = [t for t in self.imports.values() if t["project_id"] == ctx.project_id]
            docs = [self._doc(ctx, t, "imports") for t in mine]
        return json_response({"imports": docs, "links": {"self": request.base_url}})

    def get_import(self, ctx: RequestContext, request: Request, task_id: str) -> Response:
        with self.state.lock:
            task = self._find(ctx, self.imports, task_id, "Import")
            return json_response(self._doc(ctx, task, "imports"))

    def delete_import(self, ctx: RequestContext, request: Request, task_id: str) -> Response:
        with self.state.lock:
            self._find(ctx, self.imports, task_id, "Import")
            del self.imports[task_id]
        return Response(b"", status=204)
