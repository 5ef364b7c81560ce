"""docs/deploying.md's files at work: the nginx site in front of the real furet-serve (HTTP
and HTTPS, Debian's nginx), and the systemd unit as systemd reads it.

The nginx site is deploy/nginx.conf as shipped, with only its ports, certificate and
upstream moved to free ones; readers connect from different loopback addresses
(127.0.0.2, 127.0.0.3…), so nginx sees them as different clients.
"""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.servers import free_port, read_log, stop_group, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def _docs_block(language: str, after: str) -> str:
    text = (ROOT / "docs" / "deploying.md").read_text("utf-8")
    return text.split(after, 1)[1].split(f"```{language}\n", 1)[1].split("```", 1)[0]


def test_the_docs_show_the_shipped_nginx_site():
    shipped = (DEPLOY / "nginx.conf").read_text("utf-8")
    shown = _docs_block("nginx", "## Behind nginx")
    bare = [line.strip() for line in shipped.splitlines()
            if line.strip() and not line.strip().startswith("#")]
    assert [line.strip() for line in shown.splitlines() if line.strip()] == bare


def test_the_systemd_unit_is_valid(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found (Debian's systemd package)")
    unit = (DEPLOY / "furet.service").read_text("utf-8")
    script = Path(sys.executable).with_name("furet-serve")
    assert "/srv/furet/.venv/bin/furet-serve" in unit and "ExecReload=/bin/kill -HUP" in unit
    copy = tmp_path / "furet.service"
    copy.write_text(unit.replace("/srv/furet/.venv/bin/furet-serve", str(script)), "utf-8")
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "furet.service" in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


# ---------------------------------------------------------------- nginx in front


def _site(https_port: int, http_port: int, upstream: int, certificate: Path, key: Path) -> str:
    """deploy/nginx.conf with its ports, certificate and upstream moved; each change is
    checked to apply, so the test follows the file."""
    site = (DEPLOY / "nginx.conf").read_text("utf-8")
    for shipped, here in (
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
            ("/etc/letsencrypt/live/recherche.example.org/fullchain.pem", str(certificate)),
            ("/etc/letsencrypt/live/recherche.example.org/privkey.pem", str(key)),
            ("proxy_pass http://127.0.0.1:8000;", f"proxy_pass http://127.0.0.1:{upstream};")):
        assert site.count(shipped) >= 1, shipped
        site = site.replace(shipped, here)
    return site


def _main_config(folder: Path, site: str) -> str:
    """What /etc/nginx/nginx.conf gives a site, every file inside `folder`."""
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 1;\ndaemon off;\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n{site}\n}}\n")


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not found: the HTTPS test needs a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def nginx(tmp_path, certificate):
    """Start nginx with the shipped site in front of a given port; stopped afterwards."""
    if NGINX is None:
        pytest.skip("nginx not found: install Debian's nginx package (scripts/test does, as "
                    "root or with a sudo that asks no password)")
    started = []

    def start(upstream: int) -> tuple[str, str]:
        folder = tmp_path / f"nginx-{upstream}"
        folder.mkdir()
        http_port, https_port = free_port(), free_port()
        config = folder / "nginx.conf"
        config.write_text(_main_config(folder, _site(https_port, http_port, upstream,
                                                     *certificate)), "utf-8")
        process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(folder)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        started.append(process)
        http_url, https_url = f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}"
        wait_until_answering(http_url + "/api/v1/health", process,
                             lambda: read_log(folder / "error.log"))
        return http_url, https_url

    yield start
    for process in started:
        stop_group(process)


def _get(url: str, path: str, reader: str = "127.0.0.2",
         headers: dict[str, str] | None = None, body: str | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    """GET (POST with a `body`) through nginx from the loopback address `reader`."""
    scheme, _, host_port = url.partition("://")
    host, port = host_port.split(":")
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, int(port), timeout=30, source_address=(reader, 0), context=context)
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=30,
                                                source_address=(reader, 0))
    try:
        connection.request("GET" if body is None else "POST", path, body=body,
                           headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read()
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_behind_nginx_each_reader_has_a_budget_and_health_is_never_limited(
        scheme, nginx, furet_server, samples_index):
    server = furet_server(samples_index, workers=1, env={
        "FURET_RATELIMIT": "2/minute", "FURET_SUGGEST_RATELIMIT": "4/minute"})
    http_url, https_url = nginx(int(server.url.rsplit(":", 1)[1]))
    url = https_url if scheme == "https" else http_url
    assert [_get(url, f"/api/v1/search?q={q}")[0] for q in ("haifa", "gaza", "rafah")] == \
        [200, 200, 429]
    assert _get(url, "/api/v1/search?q=haifa", reader="127.0.0.3")[0] == 200  # another reader
    # The first reader may still type: suggestions have their own budget.
    assert [_get(url, f"/api/v1/suggest?q={quote(p)}")[0] for p in ("ha", "hai", "haï")] == \
        [200, 200, 200]
    for _ in range(10):  # a load balancer's checks, from the reader who used their budget
        assert _get(url, "/api/v1/health")[0] == 200
    # A reader cannot choose the address they are counted for: nginx sets the header.
    status, _, _ = _get(url, "/api/v1/search?q=climat",
                        headers={"X-Forwarded-For": "198.51.100.77"})
    assert status == 429
    log = server.stderr()
    assert '127.0.0.3 - - ' in log and '"GET /api/v1/search?q=haifa' in log  # access log
    assert "Traceback" not in log


@pytest.mark.slow
def test_behind_nginx_a_click_is_counted_but_never_logged_with_an_address(
        nginx, furet_server, samples_index, tmp_path):
    server = furet_server(samples_index, workers=1, env={"FURET_RATELIMIT": ""})
    url, _ = nginx(int(server.url.rsplit(":", 1)[1]))
    assert _get(url, "/api/v1/search?q=haifa", reader="127.0.0.4")[0] == 200
    click = '{"q": "haifa", "id": "haifa-assurances-maritimes", "position": 1}'
    assert _get(url, "/api/v1/clicks", reader="127.0.0.4", body=click,
                headers={"Content-Type": "text/plain"})[0] == 204
    server.stop()
    nginx_log = next(tmp_path.glob("nginx-*/access.log")).read_text("utf-8")
    for log in (nginx_log, server.stderr()):
        assert '"GET /api/v1/search?q=haifa' in log and "127.0.0.4" in log  # logged as usual
        assert "/api/v1/clicks" not in log


@pytest.mark.slow
def test_behind_nginx_links_keep_host_port_and_scheme_and_gzip_revalidates(
        nginx, furet_server, samples_index):
    server = furet_server(samples_index, workers=1, env={"FURET_RATELIMIT": ""})
    http_url, https_url = nginx(int(server.url.rsplit(":", 1)[1]))
    for url in (http_url, https_url):
        status, _, body = _get(url, "/opensearch.xml")
        assert status == 200
        assert f'template="{url}/recherche?q={{searchTerms}}"' in body.decode()
    gzipped = {"Accept-Encoding": "gzip"}
    for path in ("/api/v1/search?q=haifa", "/recherche?q=haifa", "/api/v1/suggest?q=hai"):
        status, headers, body = _get(https_url, path, headers=gzipped)
        assert status == 200 and headers.get("content-encoding") == "gzip", path
        assert headers["etag"].startswith('W/"'), headers["etag"]
        assert gzip.decompress(body)
        again = _get(https_url, path, headers={**gzipped, "If-None-Match": headers["etag"]})
        assert again[0] == 304, path


@pytest.mark.slow
def test_behind_nginx_the_base_url_wins(nginx, furet_server, samples_index):
    server = furet_server(samples_index, workers=1, env={
        "FURET_BASE_URL": "https://recherche.example.org", "FURET_RATELIMIT": ""})
    http_url, _ = nginx(int(server.url.rsplit(":", 1)[1]))
    body = _get(http_url, "/opensearch.xml")[2].decode()
    assert 'template="https://recherche.example.org/recherche?q={searchTerms}"' in body
    feed = _get(http_url, "/recherche.atom?q=haifa")[2].decode()
    assert "https://recherche.example.org/recherche.atom?q=haifa" in feed
