"""veba_sdk.auth as users write it, checked by mypy --strict (tests/auth/test_auth_api.py)."""

from __future__ import annotations

from veba_sdk import Router
from veba_sdk.adapters import aws_lambda, gcf, knative, openfaas
from veba_sdk.auth import (
    Authenticator,
    BasicAuth,
    Denial,
    HMACAuth,
    OIDCAuth,
    Request,
    from_env,
)

router = Router()

oidc = OIDCAuth(
    issuer="https://kubernetes.default.svc.cluster.local",
    audience="veba-fn",
    subjects=["system:serviceaccount:vmware-functions:*"],
)
basic = BasicAuth("veba", "password")
signed = HMACAuth(b"secret", header="X-Signature", algorithm="sha512")
headers: dict[str, str] = signed.sign(b"{}")


class AllowList:
    """A check of one's own: any object with needs_body and check() is an Authenticator."""

    needs_body = False

    def check(self, request: Request) -> Denial | None:
        if request.headers.get("x-forwarded-for", "").startswith("10."):
            return None
        return Denial(403, "not from the cluster network")


checks: list[Authenticator] = [oidc, basic, signed, AllowList()]
configured: Authenticator | None = from_env({"VEBA_AUTH": "none"})

app: knative.ASGIApp = knative.asgi(router, auth=oidc)
wsgi_app: knative.WSGIApp = knative.wsgi(router, auth=basic)
function: knative.FuncFunction = knative.new(router, auth=AllowList())
handle = openfaas.handler(router, auth=signed)
classic = openfaas.classic_handler(router, auth=basic)
gcf_function = gcf.function(router, "handle", auth=basic)
lambda_handler = aws_lambda.handler(router, auth=None)
