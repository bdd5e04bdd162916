"""Designate v2 requests to model calls, model objects to Designate's JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    json_body,
    json_response,
    paginate,
    parse_limit,
    truthy,
)
from pytest_interop.reference.dns import exceptions
from pytest_interop.reference.dns.models import NS_HOSTNAME, POOL_ID, RecordSet, Zone

if TYPE_CHECKING:
    import datetime as dt

    from pytest_interop.reference.state import CloudState

ZONE_FILTERS = ("name", "email", "status", "ttl", "description", "type")
RECORDSET_FILTERS = ("name", "type", "status", "ttl", "description", "data")


def _time(moment: dt.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


class DnsResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.dns

    def _api(self, ctx: RequestContext) -> str:
        return f"{ctx.base_url}/dns/v2"

    # -- versions ---------------------------------------------------------------------------
    def versions(self, ctx: RequestContext, request: Request) -> Response:
        href = f"{ctx.base_url}/dns/v2/"
        docs = {"href": "https://docs.openstack.org/api-ref/dns", "rel": "help"}
        return json_response(
            {
                "versions": [
                    {
                        "id": "v2.0",
                        "status": "SUPPORTED",
                        "links": [{"href": href, "rel": "self"}, docs],
                    },
                    {
                        "id": "v2.1",
                        "status": "CURRENT",
                        "links": [{"href": href, "rel": "self"}, docs],
                    },
                ]
            }
        )

    # -- rendering --------------------------------------------------------------------------
    def zone_doc(self, ctx: RequestContext, zone: Zone) -> dict[str, Any]:
        return {
            "id": zone.id,
            "pool_id": POOL_ID,
            "project_id": zone.project_id,
            "name": zone.name,
            "email": zone.email,
            "ttl": zone.ttl,
            "serial": zone.serial,
            "status": zone.status,
            "action": zone.action,
            "description": zone.description,
            "masters": [],
            "type": "PRIMARY",
            "transferred_at": None,
            "version": zone.version,
            "created_at": _time(zone.created_at),
            "updated_at": _time(zone.updated_at),
            "attributes": {},
            "shared": False,
            "links": {"self": f"{self._api(ctx)}/zones/{zone.id}"},
        }

    def recordset_doc(self, ctx: RequestContext, recordset: RecordSet) -> dict[str, Any]:
        zone = self.model.zones.get(recordset.zone_id)
        return {
            "id": recordset.id,
            "zone_id": recordset.zone_id,
            "project_id": recordset.project_id,
            "name": recordset.name,
            "zone_name": zone.name if zone else None,
            "type": recordset.type,
            "records": list(recordset.records),
            "ttl": recordset.ttl,
            "status": recordset.status,
            "action": recordset.action,
            "description": recordset.description,
            "version": recordset.version,
            "created_at": _time(recordset.created_at),
            "updated_at": _time(recordset.updated_at),
            "links": {
                "self": f"{self._api(ctx)}/zones/{recordset.zone_id}/recordsets/{recordset.id}"
            },
        }

    def _listing(
        self, ctx: RequestContext, request: Request, key: str, items: list[Any], docs: Any
    ) -> Response:
        limit = parse_limit(request, exceptions.invalid)
        page = paginate(
            items,
            limit=limit,
            marker=request.args.get("marker") or None,
            key=lambda item: item.id,
            marker_missing=lambda marker: exceptions.invalid(f"invalid marker {marker}"),
        )
        links = {"self": request.base_url}
        if page.has_more and page.items:
            query = {k: v for k, v in request.args.items() if k != "marker"}
            query["marker"] = page.items[-1].id
            links["next"] = f"{request.base_url}?{urlencode(query)}"
        return json_response(
            {
                key: [docs(ctx, i) for i in page.items],
                "links": links,
                "metadata": {"total_count": len(items)},
            }
        )

    @staticmethod
    def _matches(item: Any, request: Request, names: tuple[str, ...]) -> bool:
        for name in names:
            wanted = request.args.get(name)
            if wanted is None:
                continue
            if name == "data":
                if wanted not in item.records:
                    return False
                continue
            value = getattr(item, name, None)
            if name == "type" and isinstance(item, Zone):
                value = "PRIMARY"
            if str(value if value is not None else "") != wanted:
                return False
        return True

    # -- zones ----------------------------------------------------------------------------
    @staticmethod
    def _all_projects(request: Request) -> bool:
        return truthy(request.headers.get("X-Auth-All-Projects"))

    def list_zones(self, ctx: RequestContext, request: Request) -> Response:
        self.model.require_server()
        with self.state.lock:
            zones = [
                z
                for z in self.model.list_zones(ctx, all_projects=self._all_projects(request))
                if self._matches(z, request, ZONE_FILTERS)
            ]
            return self._listing(ctx, request, "zones", zones, self.zone_doc)

    def create_zone(self, ctx: RequestContext, request: Request) -> Response:
        self.model.require_server()
        body = json_body(request, exceptions.invalid)
        if body.get("type", "PRIMARY") != "PRIMARY":
            raise exceptions.invalid("only PRIMARY zones are served here")
        zone = self.model.create_zone(
            ctx, body.get("name"), body.get("email"), body.get("ttl"), body.get("description")
        )
        with self.state.lock:
            return json_response(self.zone_doc(ctx, zone), 202)

    def get_zone(self, ctx: RequestContext, request: Request, zone_id: str) -> Response:
        self.model.require_server()
        with self.state.lock:
            zone = self.model.visible_zone(ctx, zone_id, all_projects=self._all_projects(request))
            return json_response(self.zone_doc(ctx, zone))

    def update_zone(self, ctx: RequestContext, request: Request, zone_id: str) -> Response:
        self.model.require_server()
        zone = self.model.update_zone(ctx, zone_id, json_body(request, exceptions.invalid))
        with self.state.lock:
            return json_response(self.zone_doc(ctx, zone), 202)

    def delete_zone(self, ctx: RequestContext, request: Request, zone_id: str) -> Response:
        self.model.require_server()
        zone = self.model.delete_zone(ctx, zone_id)
        with self.state.lock:
            return json_response(self.zone_doc(ctx, zone), 202)

    def nameservers(self, ctx: RequestContext, request: Request, zone_id: str) -> Response:
        self.model.require_server()
        with self.state.lock:
            self.model.visible_zone(ctx, zone_id)
        return json_response({"nameservers": [{"hostname": NS_HOSTNAME, "priority": 1}]})

    # -- recordsets -----------------------------------------------------------------------
    def list_recordsets(
        self, ctx: RequestContext, request: Request, zone_id: str | None = None
    ) -> Response:
        self.model.require_server()
        with self.state.lock:
            if zone_id is not None:
                self.model.visible_zone(ctx, zone_id)
                found = self.model.rrsets_of(zone_id)
            else:
                visible = {z.id for z in self.model.list_zones(ctx)}
                found = [r for r in self.model.recordsets.values() if r.zone_id in visible]
            found = [r for r in found if self._matches(r, request, RECORDSET_FILTERS)]
            found.sort(key=lambda r: (r.created_at, r.id))
            return self._listing(ctx, request, "recordsets", found, self.recordset_doc)

    def create_recordset(self, ctx: RequestContext, request: Request, zone_id: str) -> Response:
        self.model.require_server()
        body = json_body(request, exceptions.invalid)
        recordset = self.model.create_recordset(
            ctx,
            zone_id,
            body.get("name"),
            body.get("type"),
            body.get("records"),
            body.get("ttl"),
            body.get("description"),
        )
        with self.state.lock:
            return json_response(self.recordset_doc(ctx, recordset), 202)

    def get_recordset(
        self, ctx: RequestContext, request: Request, zone_id: str, recordset_id: str
    ) -> Response:
        self.model.require_server()
        with self.state.lock:
            recordset = self.model.visible_recordset(ctx, zone_id, recordset_id)
            return json_response(self.recordset_doc(ctx, recordset))

    def update_recordset(
        self, ctx: RequestContext, request: Request, zone_id: str, recordset_id: str
    ) -> Response:
        self.model.require_server()
        body = json_body(request, exceptions.invalid)
        recordset = self.model.update_recordset(ctx, zone_id, recordset_id, body)
        with self.state.lock:
            return json_response(self.recordset_doc(ctx, recordset), 202)

    def delete_recordset(
        self, ctx: RequestContext, request: Request, zone_id: str, recordset_id: str
    ) -> Response:
        self.model.require_server()
        recordset = self.model.delete_recordset(ctx, zone_id, recordset_id)
        with self.state.lock:
            return json_response(self.recordset_doc(ctx, recordset), 202)

    # -- pools, quotas, limits ------------------------------------------------------------
    def _pool_doc(self) -> dict[str, Any]:
        return {
            "id": POOL_ID,
            "name": "default",
            "description": "The reference cloud's BIND 9",
            "project_id": None,
            "attributes": {},
            "ns_records": [{"hostname": NS_HOSTNAME, "priority": 1}],
            "created_at": None,
            "updated_at": None,
        }

    def list_pools(self, ctx: RequestContext, request: Request) -> Response:
        return json_response({"pools": [self._pool_doc()], "links": {"self": request.base_url}})

    def get_pool(self, ctx: RequestContext, request: Request, pool_id: str) -> Response:
        if pool_id != POOL_ID:
            raise exceptions.DesignateError("Could not find Pool", 404, "pool_not_found")
        return json_response(self._pool_doc())

    def _quota_target(self, ctx: RequestContext, project_id: str) -> str:
        if project_id != ctx.project_id and not ctx.is_admin:
            raise exceptions.forbidden("Only an admin may see another project's quotas")
        return project_id

    def get_quotas(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        target = self._quota_target(ctx, project_id)
        with self.state.lock:
            return json_response(self.model.quota(target))

    def update_quotas(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        if not ctx.is_admin:
            raise exceptions.forbidden("Only an admin may set quotas")
        body = json_body(request, exceptions.invalid)
        current = self.model.quota(project_id)
        for key, value in body.items():
            if key not in current:
                raise exceptions.invalid(f"unknown quota {key}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise exceptions.invalid(f"quota {key} must be a non-negative integer")
        with self.state.lock:
            self.model.quotas.setdefault(project_id, {}).update(body)
            return json_response(self.model.quota(project_id))

    def reset_quotas(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        if not ctx.is_admin:
            raise exceptions.forbidden("Only an admin may reset quotas")
        with self.state.lock:
            self.model.quotas.pop(project_id, None)
        return Response(b"", status=204)

    def limits(self, ctx: RequestContext, request: Request) -> Response:
        quota = self.model.quota(ctx.project_id)
        return json_response(
            {
                "max_page_limit": 1000,
                "max_recordset_name_length": 255,
                "max_recordset_records": quota["recordset_records"],
                "max_zone_name_length": 255,
                "max_zone_records": quota["zone_records"],
                "max_zone_recordsets": quota["zone_recordsets"],
                "max_zones": quota["zones"],
                "min_ttl": None,
            }
        )
