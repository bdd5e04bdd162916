"""The DNS facet of the AWS adapter: Route 53 hosted zones and record sets through boto3.

Route 53 has no record set ids: one is named here ``<name>|<type>``. A change is live when
``GetChange`` says INSYNC. The zone's comment carries the run's tag. Route 53's SOA serial
stays 1 whatever changes (``serials_move`` is False), and a zone has no e-mail or default
TTL of its own to update. Through a custom endpoint (moto) the listed name servers are AWS's
names, served by nobody here: resolving there is not applicable.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.clouds.dns import (
    DEFAULT_WAIT,
    EMAIL,
    RECORD_KIND,
    ZONE_KIND,
    DnsFacet,
    DnsRecordSet,
    DnsRefused,
    DnsZone,
    wait_for,
)
from pytest_interop.errors import NotApplicable
from pytest_interop.resources import NAME_PREFIX, TAG_KEY

if TYPE_CHECKING:
    from pytest_interop.clouds.aws import AwsCloud
    from pytest_interop.resources import LedgerRecord

_NOT_FOUND = ("NoSuchHostedZone", "NoSuchChange")
_REFUSED = ("InvalidChangeBatch", "HostedZoneAlreadyExists", "InvalidInput", "InvalidDomainName")
_DEFAULT_TTL = 300


def _short(zone_id: str) -> str:
    return zone_id.rsplit("/", 1)[-1]


def _tags(comment: str | None) -> dict[str, str]:
    from pytest_interop.clouds.openstack import _parse_tag_text

    return _parse_tag_text(comment)


class Route53Dns(DnsFacet):
    serials_move = False

    def __init__(self, cloud: AwsCloud) -> None:
        import botocore.config

        super().__init__(cloud)
        self.aws = cloud
        config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
        self.client = cloud._session.client(
            "route53", endpoint_url=cloud.endpoint_url, config=config
        )

    def _call(self, call: str, fn: Any) -> Any:
        from pytest_interop.clouds.aws import _classify, _error_code

        try:
            return self.aws._retry.call(
                f"route53.{call}", fn, classify=_classify, secrets=self.aws._secrets
            )
        except Exception as exc:
            code = _error_code(exc)
            if code in _NOT_FOUND:
                raise ResourceNotFound(f"route53.{call}: {code}") from None
            if code in _REFUSED:
                raise DnsRefused(f"route53.{call}: {code}: {exc}") from None
            raise

    def _wait_change(self, change: dict[str, Any], what: str) -> None:
        change_id = change["ChangeInfo"]["Id"]

        def insync() -> bool:
            info = self._call("get_change", lambda: self.client.get_change(Id=change_id))
            return info["ChangeInfo"]["Status"] == "INSYNC"

        wait_for(insync, what, DEFAULT_WAIT, interval=1.0)

    # -- zones ------------------------------------------------------------------------------
    def _zone(self, item: dict[str, Any]) -> DnsZone:
        config = item.get("Config") or {}
        return DnsZone(
            id=_short(item["Id"]),
            name=item["Name"],
            status="ACTIVE",
            description=config.get("Comment"),
        )

    def create_zone(
        self,
        name: str | None = None,
        *,
        email: str = EMAIL,
        ttl: int | None = None,
        description: str | None = None,
        wait: bool = True,
    ) -> DnsZone:
        name = name or self.new_zone_name()
        record = self.aws.track_intent(ZONE_KIND, name)
        tag = ""
        if self.aws.ledger is not None:
            from pytest_interop.clouds.openstack import _tag_text

            tag = _tag_text(self.aws.ledger.run_id)
        comment = " ".join(filter(None, [description, tag]))
        answer = self._call(
            "create_hosted_zone",
            lambda: self.client.create_hosted_zone(
                Name=name,
                CallerReference=str(uuid.uuid4()),
                HostedZoneConfig={"Comment": comment},
            ),
        )
        zone = self._zone(answer["HostedZone"])
        self.aws.track_created(record, zone.id)
        if wait:
            self._wait_change(answer, f"hosted zone {name}")
        return zone

    def get_zone(self, zone_id: str) -> DnsZone:
        answer = self._call("get_hosted_zone", lambda: self.client.get_hosted_zone(Id=zone_id))
        return self._zone(answer["HostedZone"])

    def list_zones(self) -> list[DnsZone]:
        pages = self._call(
            "list_hosted_zones",
            lambda: list(self.client.get_paginator("list_hosted_zones").paginate()),
        )
        return [self._zone(item) for page in pages for item in page["HostedZones"]]

    def update_zone(
        self,
        zone_id: str,
        *,
        email: str | None = None,
        ttl: int | None = None,
        description: str | None = None,
        wait: bool = True,
    ) -> DnsZone:
        if email is not None or ttl is not None:
            raise NotApplicable("a Route 53 hosted zone has no e-mail or default TTL to update")
        current = self.get_zone(zone_id)
        tags = _tags(current.description)
        kept = " ".join(f"{k}={v}" for k, v in tags.items())
        comment = " ".join(filter(None, [description, kept]))
        self._call(
            "update_hosted_zone_comment",
            lambda: self.client.update_hosted_zone_comment(Id=zone_id, Comment=comment),
        )
        return self.get_zone(zone_id)

    def delete_zone(self, zone_id: str, *, wait: bool = True) -> None:
        zone = self.get_zone(zone_id)
        for recordset in self._raw_recordsets(zone_id):
            if recordset["Type"] in ("SOA", "NS") and recordset["Name"] == zone.name:
                continue  # Route 53's own: they go with the zone
            self._change(zone_id, "DELETE", recordset, wait=False)
        answer = self._call(
            "delete_hosted_zone", lambda: self.client.delete_hosted_zone(Id=zone_id)
        )
        if wait:
            self._wait_change(answer, f"hosted zone {zone_id} deletion")
        self.aws.track_deleted(ZONE_KIND, zone_id)

    def name_servers(self, zone_id: str) -> list[str]:
        answer = self._call("get_hosted_zone", lambda: self.client.get_hosted_zone(Id=zone_id))
        names = (answer.get("DelegationSet") or {}).get("NameServers") or []
        return [n if n.endswith(".") else f"{n}." for n in names]

    def server_addresses(self, zone_id: str) -> list[tuple[str, int]]:
        if self.aws.endpoint_url:
            listed = ", ".join(self.name_servers(zone_id)[:2])
            raise NotApplicable(
                f"Route 53 at {self.aws.endpoint_url} answers no DNS queries: the name servers "
                f"it lists ({listed}, ...) are AWS's and do not serve this endpoint's zones"
            )
        return super().server_addresses(zone_id)

    # -- record sets -----------------------------------------------------------------------
    def _raw_recordsets(self, zone_id: str) -> list[dict[str, Any]]:
        pages = self._call(
            "list_resource_record_sets",
            lambda: list(
                self.client.get_paginator("list_resource_record_sets").paginate(
                    HostedZoneId=zone_id
                )
            ),
        )
        return [item for page in pages for item in page["ResourceRecordSets"]]

    def _recordset(self, zone_id: str, item: dict[str, Any]) -> DnsRecordSet:
        return DnsRecordSet(
            id=f"{item['Name']}|{item['Type']}",
            zone_id=zone_id,
            name=item["Name"],
            type=item["Type"],
            records=tuple(r["Value"] for r in item.get("ResourceRecords", [])),
            ttl=item.get("TTL"),
            status="ACTIVE",
        )

    def _change(
        self, zone_id: str, action: str, recordset: dict[str, Any], *, wait: bool = True
    ) -> None:
        answer = self._call(
            "change_resource_record_sets",
            lambda: self.client.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": recordset}]},
            ),
        )
        if wait:
            self._wait_change(answer, f"{action} {recordset['Name']} {recordset['Type']}")

    def create_recordset(
        self,
        zone_id: str,
        name: str,
        rdtype: str,
        records: Sequence[str],
        *,
        ttl: int | None = None,
        wait: bool = True,
    ) -> DnsRecordSet:
        if any(
            item["Name"] == name and item["Type"] == rdtype
            for item in self._raw_recordsets(zone_id)
        ):
            raise DnsRefused(f"route53: {name} {rdtype} exists already")
        record = self.aws.track_intent(RECORD_KIND, f"{name} {rdtype}", zone_id=zone_id)
        body = {
            "Name": name,
            "Type": rdtype,
            "TTL": ttl if ttl is not None else _DEFAULT_TTL,
            "ResourceRecords": [{"Value": value} for value in records],
        }
        self._change(zone_id, "CREATE", body, wait=wait)
        self.aws.track_created(record, f"{zone_id}/{name}|{rdtype}")
        return self._recordset(zone_id, body)

    def get_recordset(self, zone_id: str, recordset_id: str) -> DnsRecordSet:
        name, _, rdtype = recordset_id.partition("|")
        for item in self._raw_recordsets(zone_id):
            if item["Name"] == name and item["Type"] == rdtype:
                return self._recordset(zone_id, item)
        raise ResourceNotFound(f"route53: no record set {name} {rdtype}")

    def list_recordsets(self, zone_id: str) -> list[DnsRecordSet]:
        return [self._recordset(zone_id, item) for item in self._raw_recordsets(zone_id)]

    def update_recordset(
        self,
        zone_id: str,
        recordset_id: str,
        *,
        records: Sequence[str] | None = None,
        ttl: int | None = None,
        wait: bool = True,
    ) -> DnsRecordSet:
        current = self.get_recordset(zone_id, recordset_id)
        body = {
            "Name": current.name,
            "Type": current.type,
            "TTL": ttl if ttl is not None else current.ttl,
            "ResourceRecords": [
                {"Value": value} for value in (records if records is not None else current.records)
            ],
        }
        self._change(zone_id, "UPSERT", body, wait=wait)
        return self._recordset(zone_id, body)

    def delete_recordset(self, zone_id: str, recordset_id: str, *, wait: bool = True) -> None:
        current = self.get_recordset(zone_id, recordset_id)
        body = {
            "Name": current.name,
            "Type": current.type,
            "TTL": current.ttl,
            "ResourceRecords": [{"Value": value} for value in current.records],
        }
        self._change(zone_id, "DELETE", body, wait=wait)
        self.aws.track_deleted(RECORD_KIND, f"{zone_id}/{recordset_id}")

    # -- clean-up ---------------------------------------------------------------------------
    def leftovers(self, ours: Any, attempt: Any) -> None:
        for zone in self.list_zones():
            tags = _tags(zone.description)
            if zone.name.startswith(NAME_PREFIX) and TAG_KEY in tags and ours(tags, None, None):
                attempt(
                    f"{ZONE_KIND} {zone.name} ({zone.id})",
                    lambda z=zone.id: self.delete_ledger_record(_zone_record(z)),
                )


def _zone_record(zone_id: str) -> LedgerRecord:
    from pytest_interop.resources import LedgerRecord

    return LedgerRecord(seq=0, kind=ZONE_KIND, name=None, resource_id=zone_id)
