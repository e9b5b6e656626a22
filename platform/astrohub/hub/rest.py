"""A small synchronous client for the hub's REST API and a user server's kernels.

Used by ``astrohub up`` (readiness), the tests and the benchmarks; an admin can
use it from a notebook or a script too.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import requests
import websocket


class HubAPIError(RuntimeError):
    """The hub answered a REST call with an error status."""

    def __init__(self, status: int, message: str):
        super().__init__(f"hub API error {status}: {message}")
        self.status = status
        self.message = message


@dataclass
class Hub:
    """A JupyterHub reached at ``url`` with an API ``token``."""

    url: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def api(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        """Call ``/hub/api/<path>``; raise :class:`HubAPIError` on a 4xx/5xx."""
        headers = {"Authorization": f"token {token or self.token}"}
        r = self.session.request(method, f"{self.url}/hub/api/{path}", headers=headers, timeout=60, **kw)
        if r.status_code >= 400:
            try:
                msg = r.json().get("message", r.text)
            except ValueError:
                msg = r.text
            raise HubAPIError(r.status_code, msg)
        return r

    def ready(self) -> bool:
        try:
            return self.session.get(f"{self.url}/hub/api/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"JupyterHub at {self.url} did not answer within {timeout:.0f} s")
            time.sleep(0.2)

    def ensure_user(self, name: str) -> dict:
        try:
            return self.api("GET", f"users/{name}").json()
        except HubAPIError as e:
            if e.status != 404:
                raise
            return self.api("POST", f"users/{name}").json()

    def user_token(self, name: str, note: str = "astrohub", scopes: list[str] | None = None) -> str:
        body = {"note": note, "expires_in": 3600}
        if scopes:
            body["scopes"] = scopes
        return self.api("POST", f"users/{name}/tokens", json=body).json()["token"]

    def spawn(self, name: str, timeout: float = 120) -> str:
        """Start ``name``'s default server and wait until it is ready; return its URL."""
        self.ensure_user(name)
        model = self.api("GET", f"users/{name}").json()
        if not model.get("servers", {}).get("", {}).get("ready"):
            try:
                self.api("POST", f"users/{name}/server")
            except HubAPIError as e:
                if e.status != 400 or "already running" not in e.message:
                    raise
        deadline = time.monotonic() + timeout
        while True:
            server = self.api("GET", f"users/{name}").json().get("servers", {}).get("")
            if server and server.get("ready"):
                return self.url + server["url"].rstrip("/")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server of {name} not ready within {timeout:.0f} s")
            time.sleep(0.3)

    def stop_server(self, name: str, timeout: float = 60) -> None:
        try:
            self.api("DELETE", f"users/{name}/server")
        except HubAPIError as e:
            if e.status not in (400, 404):
                raise
        deadline = time.monotonic() + timeout
        while self.api("GET", f"users/{name}").json().get("servers", {}).get(""):
            if time.monotonic() > deadline:
                raise TimeoutError(f"server of {name} did not stop within {timeout:.0f} s")
            time.sleep(0.3)


@dataclass
class KernelResult:
    stdout: str
    stderr: str
    error: str | None
    display_types: list[str]


class Kernel:
    """A kernel on a Jupyter server, driven over the websocket protocol."""

    def __init__(self, server_url: str, token: str, kernel_name: str | None = None):
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.headers = {"Authorization": f"token {token}"}
        body = {"name": kernel_name} if kernel_name else {}
        r = requests.post(f"{self.server_url}/api/kernels", json=body, headers=self.headers, timeout=60)
        if r.status_code >= 400:
            raise HubAPIError(r.status_code, r.text[:300])
        self.model = r.json()
        self.id = self.model["id"]
        ws_url = self.server_url.replace("http", "ws", 1) + f"/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=120)
        self.session = uuid.uuid4().hex

    @property
    def name(self) -> str:
        return self.model["name"]

    def execute(self, code: str, timeout: float = 120) -> KernelResult:
        """Run ``code``; return what it printed, its error and the display MIME types."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "astrohub", "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, err, error, displays = [], [], None, []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind in ("display_data", "execute_result"):
                displays.extend(content["data"].keys())
            elif kind == "status" and content["execution_state"] == "idle":
                return KernelResult("".join(out), "".join(err), error, displays)
        raise TimeoutError(f"kernel did not finish within {timeout:.0f} s")

    def shutdown(self) -> None:
        try:
            self.ws.close()
        finally:
            requests.delete(f"{self.server_url}/api/kernels/{self.id}", headers=self.headers, timeout=30)
