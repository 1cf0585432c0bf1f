"""A DS dossier's files, fetched and checked before anything is kept.

DS gives each file a signed object-storage URL valid one hour (never sent the DS token), its
size, the base64 MD5 of its bytes and its virus scan. A file is kept only when the scan says
`safe`, the bytes are those DS describes, and the call's rules on attachments pass (the type read
from the content, a name that is not a path, the call's size limit): as an upload in aap.
"""

import base64
import hashlib
import logging
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

import httpx

from services.applications.ds.mapping import DsFile
from shared.contracts.values import Attachment
from shared.kernel.backoff import Backoff
from shared.kernel.blobs import sha256_of
from shared.language.attachments import ACCEPTED, detected_type, name_problem

log = logging.getLogger(__name__)

ATTEMPTS = 3
# Namespace of the ids aap derives from DS's: a rerun lands on the same dossier and files.
DS_NAMESPACE = uuid5(NAMESPACE_URL, "https://www.demarches-simplifiees.fr/aap")


@dataclass(frozen=True)
class FileProblem:
    """Why a file is not kept; `transient`: it may pass at the next run (a scan pending, an
    expired link, DS's storage not answering)."""

    file: DsFile
    kind: str
    reason: str
    transient: bool = False


@dataclass(frozen=True)
class FetchedFile:
    file: DsFile
    content: bytes
    media_type: str
    sha256: str

    def attachment(self, ds_id: str) -> Attachment:
        return Attachment(
            attachment_id=file_id(ds_id, self.file),
            kind=self.file.kind,
            name=self.file.filename.strip(),
            media_type=self.media_type,
            size=len(self.content),
            sha256=self.sha256,
        )


def file_id(ds_id: str, file: DsFile) -> UUID:
    """The same DS file (dossier, champ, checksum) has the same attachment id."""
    return uuid5(DS_NAMESPACE, f"{ds_id}/{file.champ_id}/{file.checksum}")


def precheck(file: DsFile, max_bytes: int) -> FileProblem | None:
    """What DS's description of the file already refuses, before fetching it."""
    if file.virus_scan == "pending":
        return FileProblem(file, "file_scan_pending", "DS has not finished its virus scan", True)
    if file.virus_scan not in (None, "safe"):
        return FileProblem(file, "file_not_safe", f"DS's virus scan says {file.virus_scan}")
    problem = name_problem(file.filename.strip())
    if problem is not None:
        return FileProblem(file, "file_name_invalid", problem)
    if file.byte_size > max_bytes:
        return FileProblem(
            file, "file_too_large", f"{file.byte_size} bytes; this call accepts {max_bytes}"
        )
    return None


def checked(file: DsFile, content: bytes) -> FetchedFile | FileProblem:
    """The bytes are those DS describes, and of a type the call accepts."""
    md5 = base64.b64encode(hashlib.md5(content, usedforsecurity=False).digest()).decode()
    if md5 != file.checksum or len(content) != file.byte_size:
        return FileProblem(
            file,
            "file_checksum_mismatch",
            f"the bytes fetched ({len(content)}, MD5 {md5}) are not those DS describes "
            f"({file.byte_size}, MD5 {file.checksum})",
            transient=True,
        )
    media = detected_type(content)
    if media not in ACCEPTED:
        return FileProblem(
            file,
            "file_type_not_accepted",
            f"its content is {media or 'of no type this call accepts'}: accepted "
            + ", ".join(ACCEPTED.values()),
        )
    return FetchedFile(file, content, media, sha256_of(content))


async def fetch(http: httpx.AsyncClient, file: DsFile, max_bytes: int) -> FetchedFile | FileProblem:
    """The file's bytes from its signed URL, checked; retried when the storage does not answer."""
    refused = precheck(file, max_bytes)
    if refused is not None:
        return refused
    backoff = Backoff(f"DS's file storage ({file.filename})", first=0.2, longest=5.0, logger=log)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = await http.get(file.url)
        except httpx.HTTPError as error:
            if attempt == ATTEMPTS:
                return FileProblem(file, "file_unavailable", f"not fetched: {error!r}", True)
            await backoff.pause(error)
            continue
        if response.status_code in (401, 403, 404, 410):
            return FileProblem(
                file, "file_url_expired", f"its link answered {response.status_code}", True
            )
        if response.status_code >= 500 and attempt < ATTEMPTS:
            await backoff.pause(RuntimeError(f"HTTP {response.status_code}"))
            continue
        if response.status_code != 200:
            return FileProblem(
                file, "file_unavailable", f"its link answered {response.status_code}", True
            )
        return checked(file, response.content)
    raise AssertionError("unreachable")
