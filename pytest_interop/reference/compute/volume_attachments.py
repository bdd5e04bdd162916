"""Nova's ``/servers/{id}/os-volume_attachments``: Cinder volumes become the server's disks.

Nova asks Cinder to reserve the volume, the disk appears in the server's machine (``lsblk``)
and Cinder records the attachment; a detach reverses the three. The volume rules live in
``reference.volume.models``; this module holds the server side and the wire format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.compute import exceptions
from pytest_interop.reference.compute.machines_glue import VolumeFiles
from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    json_body,
    json_response,
)

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

ATTACHABLE_STATES = ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED")


def _as_nova_error(error: ApiError) -> exceptions.NovaError:
    """Cinder's refusals reach the Nova caller in Nova's body format, with their status."""
    return exceptions.NovaError(error.message, error.status)


class VolumeAttachmentResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @staticmethod
    def _view(server_id: str, volume_id: str, device: str) -> dict[str, Any]:
        return {"id": volume_id, "serverId": server_id, "volumeId": volume_id, "device": device}

    def _server(self, ctx: RequestContext, server_id: str) -> Any:
        server = self.state.compute.get_server(ctx, server_id)
        if server.deleted:
            raise exceptions.not_found(f"Instance {server_id} could not be found.")
        return server

    def list_attachments(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        with self.state.lock:
            self._server(ctx, server_id)
            items = [
                self._view(server_id, volume.id, attachment.device)
                for volume, attachment in self.state.volume.attachments_of(server_id)
            ]
        return json_response({"volumeAttachments": items})

    def get_attachment(
        self, ctx: RequestContext, request: Request, server_id: str, volume_id: str
    ) -> Response:
        with self.state.lock:
            self._server(ctx, server_id)
            for volume, attachment in self.state.volume.attachments_of(server_id):
                if volume.id == volume_id:
                    return json_response(
                        {"volumeAttachment": self._view(server_id, volume_id, attachment.device)}
                    )
        raise exceptions.not_found(f"Volume {volume_id} is not attached to {server_id}")

    def attach(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        body = json_body(request, exceptions.bad_request)
        spec = body.get("volumeAttachment")
        if not isinstance(spec, dict) or not isinstance(spec.get("volumeId"), str):
            raise exceptions.bad_request("Invalid input: 'volumeId' is a required property.")
        volume_id = spec["volumeId"]
        with self.state.lock:
            server = self._server(ctx, server_id)
            self.state.compute._check_unlocked(ctx, server)
            if server.status not in ATTACHABLE_STATES or server.task_state is not None:
                raise exceptions.conflict(
                    f"Cannot 'attach_volume' instance {server_id} while it is in vm_state "
                    f"{server.vm_state}"
                )
            try:
                volume, device = self.state.volume.begin_nova_attach(
                    ctx, server_id, volume_id, spec.get("device")
                )
            except ApiError as error:
                raise _as_nova_error(error) from None
            size = volume.size
            read_only = bool(volume.read_only)  # Cinder attaches such a volume in mode "ro"

        def finish() -> None:
            self.state.machines.attach_disk(
                server_id,
                device,
                size,
                read_only=read_only,
                volume=VolumeFiles(self.state, volume_id),
            )
            self.state.volume.finish_nova_attach(volume_id, server_id, device)

        self.state.scheduler.call_later(self.state.faults.settings.action_delay, finish)
        return json_response({"volumeAttachment": self._view(server_id, volume_id, device)})

    def detach(
        self, ctx: RequestContext, request: Request, server_id: str, volume_id: str
    ) -> Response:
        with self.state.lock:
            server = self._server(ctx, server_id)
            self.state.compute._check_unlocked(ctx, server)
            try:
                attachment = self.state.volume.begin_nova_detach(ctx, server_id, volume_id)
            except ApiError as error:
                raise _as_nova_error(error) from None

        def finish() -> None:
            self.state.machines.detach_disk(server_id, attachment.device)
            self.state.volume.finish_nova_detach(volume_id, server_id)

        self.state.scheduler.call_later(self.state.faults.settings.action_delay, finish)
        return empty_response(202)
