"""The guard on a real server: token, Host, Origin, body size; the per-user token file; ``serve`` refusing the network."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import httpx
import pytest
from api_helpers import TOKEN
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from orchestrator_gui.api import security
from orchestrator_gui.api.server import RemoteRefused, check_host


def _no_secrets(response: httpx.Response) -> None:
    text = response.text
    assert TOKEN not in text and "Traceback" not in text and 'File "' not in text


def test_no_token_is_401_on_every_face(served):
    for method, path in (("GET", "/status"), ("GET", "/todo"), ("GET", "/openapi.json"), ("GET", "/docs"),
                         ("POST", "/undo"), ("POST", "/mcp")):
        r = httpx.request(method, served.url + path)
        assert r.status_code == 401, path
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"].startswith("Bearer")
        _no_secrets(r)
    wrong = httpx.get(served.url + "/status", headers={"Authorization": "Bearer " + TOKEN[:-1] + "y"})
    assert wrong.status_code == 401
    assert served.client.get("/status").status_code == 200


def test_websocket_needs_the_token(served):
    with pytest.raises(InvalidStatus) as err:
        connect(served.ws_url, open_timeout=10).close()
    assert err.value.response.status_code == 401
    with connect(served.ws_url, additional_headers={"Authorization": f"Bearer {TOKEN}"}, open_timeout=10) as ws:
        assert '"hello"' in ws.recv(timeout=10)


def test_wrong_host_is_403_even_with_the_token(served):
    # What a DNS-rebinding page sends: its own name as Host, to a server on 127.0.0.1.
    r = served.client.get("/status", headers={"Host": "evil.example:80"})
    assert r.status_code == 403
    _no_secrets(r)
    assert served.client.get("/status", headers={"Host": "localhost"}).status_code == 200


def test_cross_origin_browser_requests_are_refused(served):
    r = served.client.post("/undo", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    port = served.url.rsplit(":", 1)[1]
    same = served.client.get("/status", headers={"Origin": f"http://127.0.0.1:{port}"})
    assert same.status_code == 200
    assert "access-control-allow-origin" not in {k.lower() for k in same.headers}  # no CORS unless configured


def test_large_bodies_are_refused(served):
    big = b'{"text": "' + b"a" * (security.MAX_BODY + 10) + b'"}'
    r = served.client.post("/todo", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413

    def chunks():
        for _ in range(20):
            yield b"a" * (security.MAX_BODY // 10)

    r = served.client.post("/todo", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    before = (served.root / "TODO.md").read_bytes()
    assert (served.root / "TODO.md").read_bytes() == before


def test_token_is_generated_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv(security.TOKEN_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    token, source = security.load_token()
    path = security.token_path()
    assert source == str(path) and path.read_text().strip() == token and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert security.load_token() == (token, source)
    os.chmod(path, 0o644)  # made readable by others: made private again before use
    assert security.load_token()[0] == token and stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv(security.TOKEN_ENV, "from-env")
    assert security.load_token() == ("from-env", "environment")


def test_show_token_prints_it_and_exits(tmp_path):
    env = {**os.environ, security.TOKEN_ENV: "abc-123", "XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "orchestrator_gui", "serve", "--show-token"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "abc-123"


def test_listening_beyond_loopback_needs_a_strong_token(tmp_path, workspace):
    assert check_host("127.0.0.1", "short") == []
    with pytest.raises(RemoteRefused):
        check_host("0.0.0.0", "short")
    assert check_host("0.0.0.0", "x" * 43)[0].startswith("warning:")
    env = {**os.environ, security.TOKEN_ENV: "tok-SECRET-1", "XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "orchestrator_gui", "serve", "-w", str(workspace), "--host",
                          "0.0.0.0", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "refusing to listen on 0.0.0.0" in out.stderr
    assert "tok-SECRET-1" not in out.stderr + out.stdout
    assert not (workspace / ".orchestrator").exists()  # refused before anything was opened


def test_docs_page_takes_the_token_once_then_a_same_origin_cookie(served):
    first = httpx.get(served.url + "/docs", params={"token": TOKEN}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/docs"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    jar = {security.COOKIE: TOKEN}
    assert httpx.get(served.url + "/openapi.json", cookies=jar).status_code == 200
    assert httpx.get(served.url + "/docs", cookies=jar).status_code == 200
    # A page of another port on this machine is the same site (the cookie goes along), not the same origin.
    other = httpx.get(served.url + "/status", cookies=jar, headers={"Sec-Fetch-Site": "same-site"})
    assert other.status_code == 401
    assert httpx.get(served.url + "/docs", params={"token": "wrong"}).status_code == 401


def test_docs_page_and_its_assets_come_from_the_server_itself(served):
    """/docs works offline: every script, style sheet and icon it names is served here, behind the token."""
    import re

    jar = {security.COOKIE: TOKEN}
    page = httpx.get(served.url + "/docs", cookies=jar)
    assert page.status_code == 200
    html = page.text
    assert "cdn." not in html and not re.search(r"""(?:src|href|url)\s*[=:(]\s*['"]?(?:https?:)?//""", html)
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    kinds = {a.rsplit(".", 1)[-1] for a in assets}
    assert {"js", "css", "png"} <= kinds, assets
    types = {"js": "javascript", "css": "text/css", "png": "image/png"}
    for asset in assets:
        assert asset.startswith("/"), asset  # on this server, not another host
        got = httpx.get(served.url + asset, cookies=jar)  # the browser's same-origin request with the cookie
        assert got.status_code == 200, asset
        assert types[asset.rsplit(".", 1)[-1]] in got.headers["content-type"]
        assert len(got.content) > 500
        assert httpx.get(served.url + asset).status_code == 401  # no token, no file
    js = next(a for a in assets if a.endswith(".js"))
    assert b"SwaggerUIBundle" in httpx.get(served.url + js, cookies=jar).content
    # The page's own set-up names the spec on this server.
    assert "url: '/openapi.json'" in html or '"/openapi.json"' in html or "'/openapi.json'" in html
