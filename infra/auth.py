"""The key bearer tokens are signed with, kept in Secrets Manager.

The value comes from the stack's secret config (`pulumi config set --secret
toons:jwtSecret ...`), so it is encrypted in the stack's state and never written in
plain text. The functions receive the secret's *name* (wiring's `JWT_SECRET_ENV`) and
read the value at start-up.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.catalog import Handle, Key
from infra.settings import Settings
from toons.aws import wiring


def declared_secret() -> str:
    """The logical name wiring gives the JWT secret (the one `secret` its functions read)."""
    names = {a.name for fn in wiring.FUNCTIONS for a in fn.access if a.kind == "secret"}
    if len(names) != 1:
        raise ValueError(f"wiring should name exactly one secret, the JWT key; it names {names}")
    return names.pop()


class Auth(pulumi.ComponentResource):
    """The JWT secret and its current value."""

    secret: aws.secretsmanager.Secret

    def __init__(
        self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("toons:infra:Auth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.logical_name = declared_secret()

        self.secret = aws.secretsmanager.Secret(
            "jwt-secret",
            name=settings.physical(self.logical_name),
            description="HS256 key that signs and checks the toon processor's bearer tokens",
            recovery_window_in_days=settings.secret_recovery_window_days,
            opts=child,
        )
        self.version = aws.secretsmanager.SecretVersion(
            "jwt-secret-value",
            secret_id=self.secret.id,
            secret_string=settings.jwt_secret,
            opts=child,
        )
        self.register_outputs({"secretName": self.secret.name})

    def handles(self) -> dict[Key, Handle]:
        """The secret under wiring's `secret` kind; functions get its name.

        The name is handed out only once the value is stored, so no function is created
        that could start before its key exists.
        """
        name = pulumi.Output.all(self.secret.name, self.version.version_id).apply(lambda v: v[0])
        return {("secret", self.logical_name): Handle(self.secret.arn, name)}
