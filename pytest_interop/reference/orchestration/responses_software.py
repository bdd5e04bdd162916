"""Heat API v1: software configs and deployments (what a server's agent reads and reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    isotime,
    json_body,
    json_response,
)
from pytest_interop.reference.orchestration import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState


def _time(moment: Any) -> str | None:
    return isotime(moment) if moment else None


class SoftwareResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.orchestration

    # software configs and deployments ----------------------------------------------------
    @staticmethod
    def _config(config, *, with_content: bool = True) -> dict[str, Any]:
        body = {
            "id": config.id,
            "name": config.name,
            "group": config.group,
            "creation_time": _time(config.created),
            "project": config.project_id,
        }
        if with_content:
            body.update(
                config=config.config,
                inputs=config.inputs,
                outputs=config.outputs,
                options=config.options,
            )
        return body

    @staticmethod
    def _deployment(deployment) -> dict[str, Any]:
        return {
            "id": deployment.id,
            "config_id": deployment.config_id,
            "server_id": deployment.server_id,
            "action": deployment.action,
            "status": deployment.status,
            "status_reason": deployment.status_reason,
            "input_values": deployment.input_values,
            "output_values": deployment.output_values,
            "creation_time": _time(deployment.created),
            "updated_time": _time(deployment.updated),
        }

    def create_config(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        config = self.model.create_software_config(ctx, body)
        return json_response({"software_config": self._config(config)})

    def list_configs(self, ctx: RequestContext, request: Request) -> Response:
        with self.state.lock:
            configs = [
                c for c in self.model.software_configs.values() if c.project_id == ctx.project_id
            ]
        views = [self._config(c, with_content=False) for c in configs]
        return json_response({"software_configs": views})

    def show_config(self, ctx: RequestContext, request: Request, config_id: str) -> Response:
        return json_response(
            {"software_config": self._config(self.model.software_config(ctx, config_id))}
        )

    def delete_config(self, ctx: RequestContext, request: Request, config_id: str) -> Response:
        config = self.model.software_config(ctx, config_id)
        with self.state.lock:
            self.model.software_configs.pop(config.id, None)
        return empty_response(204)

    def create_deployment(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        deployment = self.model.create_deployment(ctx, body)
        return json_response({"software_deployment": self._deployment(deployment)})

    def list_deployments(self, ctx: RequestContext, request: Request) -> Response:
        server = request.args.get("server_id")
        with self.state.lock:
            found = [
                d
                for d in self.model.software_deployments.values()
                if d.project_id == ctx.project_id and (not server or d.server_id == server)
            ]
        return json_response({"software_deployments": [self._deployment(d) for d in found]})

    def show_deployment(
        self, ctx: RequestContext, request: Request, deployment_id: str
    ) -> Response:
        deployment = self.model.deployment(ctx, deployment_id)
        return json_response({"software_deployment": self._deployment(deployment)})

    def update_deployment(
        self, ctx: RequestContext, request: Request, deployment_id: str
    ) -> Response:
        body = json_body(request, exceptions.bad_request)
        deployment = self.model.update_deployment(ctx, deployment_id, body)
        return json_response({"software_deployment": self._deployment(deployment)})

    def delete_deployment(
        self, ctx: RequestContext, request: Request, deployment_id: str
    ) -> Response:
        deployment = self.model.deployment(ctx, deployment_id)
        with self.state.lock:
            self.model.software_deployments.pop(deployment.id, None)
        return empty_response(204)

    def deployment_metadata(
        self, ctx: RequestContext, request: Request, server_id: str
    ) -> Response:
        found = self.model.server_metadata(ctx, server_id)
        for item in found:
            item["creation_time"] = _time(item["creation_time"])
            item["updated_time"] = _time(item["updated_time"])
        return json_response({"metadata": found})
