"""A small token server for the registry's ``auth: token:`` mode (the Docker token spec):
it checks Basic credentials or a refresh token and signs RS256 JWTs whose ``x5c`` header
carries a certificate listed in the registry's ``rootcertbundle``."""

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from registry_pki import self_signed

ISSUER = "pydocker-test-issuer"
SERVICE = "pydocker-test-registry"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, users, anonymous_pull=False, expires_in=300):
        self.users = dict(users)
        self.anonymous_pull = anonymous_pull
        self.expires_in = expires_in
        self.signer = self_signed("pydocker test token signer")
        self.refresh_tokens = {}
        self.requests = []  # (method, scopes, account) of every token request
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def realm(self):
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/token"

    def write_bundle(self, path):
        with open(path, "wb") as f:
            f.write(self.signer.cert_pem)
        return path

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def sign(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self.signer.cert_der).decode()]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + self.expires_in,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.signer.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def grant(self, user, scopes):
        access = []
        for scope in scopes:
            for item in scope.split(" "):
                kind, _, rest = item.partition(":")
                name, _, actions = rest.rpartition(":")
                wanted = [a for a in actions.split(",") if a]
                allowed = wanted if user else [a for a in wanted if a == "pull" and self.anonymous_pull]
                if kind == "repository" and allowed:
                    access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _basic_user(self):
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return None, True
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                return user, server.users.get(user) == password

            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                user, ok = self._basic_user()
                scopes = query.get("scope", [])
                server.requests.append(("GET", scopes, query.get("account", [None])[0]))
                if not ok:
                    return self._answer(401, {"details": "incorrect username or password"})
                self._issue(user, scopes, query.get("offline_token") == ["true"])

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                scopes = form.get("scope", [""])[0].split()
                server.requests.append(("POST", scopes, None))
                token = form.get("refresh_token", [""])[0]
                user = server.refresh_tokens.get(token)
                if form.get("grant_type") != ["refresh_token"] or user is None:
                    return self._answer(401, {"error": "invalid_grant",
                                              "error_description": "unknown refresh token"})
                self._issue(user, scopes, False)

            def _issue(self, user, scopes, offline):
                token = server.sign(user or "", server.grant(user, scopes))
                body = {"token": token, "access_token": token, "expires_in": server.expires_in,
                        "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                if offline and user:
                    refresh = secrets.token_hex(16)
                    server.refresh_tokens[refresh] = user
                    body["refresh_token"] = refresh
                self._answer(200, body)

        return Handler
