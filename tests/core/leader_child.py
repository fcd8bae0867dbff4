"""One serving process for `test_leader`: the app on a shared database, driven over stdin.

Prints one JSON line when started (its pid, whether it leads, its running workers), then one per
command: ``{"op": "post", "body": …, "token": …}`` posts a telemetry body, ``{"op": "sweep"}``
says how many rule sweeps its sweeper thread has made, ``{"op": "quit"}`` stops.
"""

from __future__ import annotations

import json
import os
import sys

from fastapi.testclient import TestClient
from pydantic import SecretStr

from anxin.app import create_app
from anxin.core.config import Settings


def main() -> None:
    settings = Settings(
        environment="test",
        database_url=sys.argv[1],
        secret_key=SecretStr(sys.argv[2]),
        workers=True,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        leader = app.state.leader

        def said(**kw: object) -> None:
            sys.stdout.write(json.dumps(kw) + "\n")
            sys.stdout.flush()

        said(
            pid=os.getpid(),
            leading=leader.leading,
            workers=sorted(w.name for w in app.state.workers),
        )
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "post":
                response = client.post(
                    "/api/v1/telemetry",
                    json=command["body"],
                    headers={"Authorization": f"Bearer {command['token']}"},
                )
                said(status=response.status_code, body=response.json())
            elif command["op"] == "quit":
                break
    app.state.context.db.dispose()


if __name__ == "__main__":
    main()
