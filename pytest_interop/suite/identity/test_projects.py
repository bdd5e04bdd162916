"""identity-v3-list-projects (advisory): a user can list the projects it may work in.

Automation that switches projects reads this list; the project the cloud configuration
scopes to must be in it, under the name the configuration uses.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.idempotent_id("d8e860e7-32d1-4122-9438-3c08bbf108ad")
def test_user_projects_contain_the_current_project(os_conn: Any) -> None:
    user_id = os_conn.current_user_id
    project_id = os_conn.current_project_id
    projects = list(os_conn.identity.user_projects(user_id))
    ids = [project.id for project in projects]
    assert project_id in ids, "the user's projects do not include the project it is scoped to"
    current = next(project for project in projects if project.id == project_id)
    configured = (os_conn.config.config.get("auth") or {}).get("project_name")
    if configured:
        assert current.name == configured
    assert current.is_enabled is not False, "the current project is listed as disabled"


@pytest.mark.idempotent_id("17dd9132-ed24-4386-9d59-23611b7bbf1a")
def test_auth_projects_contain_the_current_project(os_conn: Any) -> None:
    """``GET /v3/auth/projects``: the projects the token can be scoped to."""
    answer = os_conn.identity.get("/auth/projects", raise_exc=False)
    assert answer.status_code == 200, f"/v3/auth/projects answered {answer.status_code}"
    ids = [project["id"] for project in answer.json().get("projects", [])]
    assert os_conn.current_project_id in ids
