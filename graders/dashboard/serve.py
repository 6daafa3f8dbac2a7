"""`python -m graders serve`: the dashboard live, read-only, behind a token.

Standard library only (ThreadingHTTPServer).  GET and HEAD of `/` (the page) and
`/grades.csv` (the export); every other method is refused with 405.  Every request
must carry the token, as `?token=...` or `Authorization: token ...` (or `Bearer ...`),
compared in constant time; otherwise 403.  Each request reads the gradebook (a few
SELECTs); the page is rendered again only when what it shows changed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import pickle
import secrets
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import DashboardError
from .report import CSP

TOKEN_ENV = "DLCOURSE_DASHBOARD_TOKEN"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",           # the token may be in the URL
    "X-Frame-Options": "DENY",
    # no inline script but our own (named by its hash, report.py): student bytes in the page never run
    "Content-Security-Policy": f"{CSP}; frame-ancestors 'none'",
}


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, cfg, token: str, lang: str | None = None, quiet: bool = False):
        if not token:
            raise DashboardError("an empty token would let anyone in. Fix: give --token a value, or leave it out "
                                 "for a random one")
        from .data import open_engine
        self.cfg, self.token, self.lang, self.quiet = cfg, token.encode(), lang or cfg.language, quiet
        self.engine = open_engine(cfg.db_url)
        self._lock = threading.Lock()
        self._cache: dict[tuple, bytes] = {}
        self.builds = 0                     # pages rendered (tests read it)
        if ":" in address[0]:
            import socket
            self.address_family = socket.AF_INET6
        try:
            super().__init__(address, DashboardHandler)
        except OSError as exc:
            self.engine.dispose()
            raise DashboardError(f"cannot listen on {address[0]}:{address[1]}: {exc.strerror or exc}. "
                                 "Fix: choose another --port (0 picks a free one) or --host") from None

    def server_close(self):
        super().server_close()
        self.engine.dispose()

    def authorized(self, handler: "DashboardHandler", query: dict) -> bool:
        given = (query.get("token") or [""])[0]
        auth = handler.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer") and value.strip():
            given = value.strip()
        return hmac.compare_digest(given.encode(), self.token)

    def page(self, lang: str, links: dict) -> bytes:
        """The rendered page; rendered again only when the gradebook's data (or what is past due) changed."""
        from .analysis import build
        from .data import load
        from .report import render
        with self._lock:
            data = load(self.cfg, self.engine)
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            past_due = tuple(a.name for a in data.assignments if a.due is not None and a.due < now)
            key = (lang, tuple(sorted(links.items())), past_due, hashlib.sha256(pickle.dumps(data)).hexdigest())
            if key not in self._cache:
                self._cache = {key: render(build(data, now=now), lang=lang, extra_links=links).encode("utf-8")}
                self.builds += 1
            return self._cache[key]

    def csv(self) -> bytes:
        from .data import load
        from .export import table, to_text
        with self._lock:
            return to_text(table(load(self.cfg, self.engine))).encode("utf-8-sig")


class DashboardHandler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "dlcourse-dashboard"
    sys_version = ""

    def do_GET(self):
        self._respond(body=True)

    def do_HEAD(self):
        self._respond(body=False)

    def _refuse_write(self):
        if not self.server.authorized(self, parse_qs(urlsplit(self.path).query)):
            return self._text(HTTPStatus.FORBIDDEN, "403 토큰이 필요합니다 / token required\n")
        self._text(HTTPStatus.METHOD_NOT_ALLOWED, "405 읽기 전용입니다 / read-only: GET and HEAD only\n",
                   extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_write

    def _respond(self, body: bool):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if not self.server.authorized(self, query):
            return self._text(HTTPStatus.FORBIDDEN, "403 토큰이 필요합니다 / token required: "
                                                    "?token=... or 'Authorization: token ...'\n", body=body)
        try:
            if url.path in ("/", "/index.html"):
                lang = (query.get("lang") or [self.server.lang])[0]
                if lang not in ("ko", "en"):
                    return self._text(HTTPStatus.BAD_REQUEST, "400 lang: ko | en\n", body=body)
                links = {}
                if "token" in query:            # the browser authenticated by URL: keep that for the CSV link
                    from urllib.parse import quote
                    links[f"grades.csv?token={quote(query['token'][0])}"] = ("CSV 내보내기", "CSV export")
                return self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page(lang, links), body)
            if url.path == "/grades.csv":
                return self._send(HTTPStatus.OK, "text/csv; charset=utf-8", self.server.csv(), body,
                                  extra={"Content-Disposition": 'attachment; filename="grades.csv"'})
        except DashboardError as exc:
            return self._text(HTTPStatus.INTERNAL_SERVER_ERROR, f"500 대시보드를 만들 수 없습니다 / "
                                                                f"cannot build the dashboard: {exc}\n", body=body)
        return self._text(HTTPStatus.NOT_FOUND, "404 없는 페이지 / not found: / or /grades.csv\n", body=body)

    def _text(self, status, text: str, body: bool = True, extra: dict | None = None):
        self._send(status, "text/plain; charset=utf-8", text.encode("utf-8"), body, extra)

    def _send(self, status, ctype: str, payload: bytes, body: bool, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, fmt, *args):       # never log the query string: it may hold the token
        if self.server.quiet:
            return
        path = urlsplit(self.path).path if hasattr(self, "path") else "-"
        status = args[1] if len(args) > 1 and fmt.startswith('"%s"') else ""
        sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} "
                         f"{getattr(self, 'command', '-')} {path} {status}\n")

    def log_error(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {fmt % args}\n")


def make_server(cfg, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
                lang: str | None = None, quiet: bool = False) -> DashboardServer:
    """A server ready to serve_forever(); the token is random when none is given."""
    from .data import load
    load(cfg)                                 # a wrong DB_URL fails here, before anyone connects
    return DashboardServer((host, port), cfg, token if token is not None else secrets.token_urlsafe(24),
                           lang=lang, quiet=quiet)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(cfg, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, lang: str | None = None,
          out=print) -> int:
    server = make_server(cfg, host, port, token, lang)
    real_host, real_port = server.server_address[:2]
    shown = f"[{real_host}]" if ":" in str(real_host) else real_host
    out(f"대시보드 / dashboard: http://{shown}:{real_port}/?token={server.token.decode()}")
    out("읽기 전용, 요청마다 성적부를 읽습니다. Ctrl+C로 멈춥니다 / read-only, reads the gradebook on each "
        "request; Ctrl+C stops")
    if not _is_loopback(str(real_host)):
        out(f"주의 / warning: listening on {real_host}, not loopback: anyone who can reach it and has the token "
            "sees every grade, and the token crosses the network unencrypted. Put it behind HTTPS.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
