"""/api/v1/offices/{code}/certificate: the certificate an office signs its letters with (admin)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, get, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, MultipartBody

from tkm.auth.guards import provide_user, roles
from tkm.auth.roles import CurrentUser, Role
from tkm.core.errors import FieldError, ValidationProblem
from tkm.core.i18n import _
from tkm.core.schemas import out
from tkm.documents import certificates
from tkm.documents.schemas import OfficeCertificateOut


@dataclass
class CertificateUpload:
    file: UploadFile | None = None
    password: str = ""


class OfficeCertificateController(Controller):
    path = "/api/v1/offices/{code:str}/certificate"
    tags = ["documents"]
    dependencies = {"user": Provide(provide_user)}
    guards = [roles(Role.admin)]

    @get("/", summary="The certificate an office signs with (admin)")
    async def show(self, user: NamedDependency[CurrentUser], code: FromPath[str]) -> OfficeCertificateOut:
        return out(OfficeCertificateOut, await certificates.certificate(code))

    @put(
        "/",
        summary="Load an office's own signing certificate: PKCS#12 (multipart file) and its password (admin)",
        opt={"problems": (422,)},
    )
    async def load(
        self, user: NamedDependency[CurrentUser], code: FromPath[str], data: MultipartBody[CertificateUpload]
    ) -> OfficeCertificateOut:
        if not isinstance(data.file, UploadFile):
            raise ValidationProblem([FieldError("file", _("Choose the PKCS#12 certificate file (.p12 or .pfx)."))])
        content = await data.file.read()
        return out(OfficeCertificateOut, await certificates.load_certificate(user, code, content, data.password))
