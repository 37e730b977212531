"""The documents of a WADO-WS request, found in the archive one by one.

A document is a stored instance: its DocumentUniqueId is the SOP Instance UID, in the
study and series its StudyRequest and SeriesRequest name, in the repository whose
unique id is the `repository_unique_id` setting. Whatever goes wrong for one document
becomes its RegistryError; the others are still served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hounsfield.archive.archive import Archive
from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.dicom.uid import validate_uid
from hounsfield.xdsi.messages import DocumentRequest
from hounsfield.xdsi.registry import (
    UNKNOWN_REPOSITORY,
    DocumentError,
    RegistryError,
    registry_error,
)

T = TypeVar("T")


def find_document(archive: Archive, document: DocumentRequest, *, metadata: bool = False,
                  locations: bool = False) -> StoredInstance:
    """The stored instance of `document`; DocumentError or a NotFoundError if none."""
    repository = archive.settings.repository_unique_id
    if document.repository != repository:
        raise DocumentError(UNKNOWN_REPOSITORY, f"RepositoryUniqueId "
                            f"{document.repository[:80]!r} is not this repository "
                            f"({repository})")
    target = Target(validate_uid(document.study, "studyInstanceUID"),
                    validate_uid(document.series, "seriesInstanceUID"),
                    validate_uid(document.document, "DocumentUniqueId"))
    [found] = archive.stored_instances(target, metadata=metadata, locations=locations)
    return found


def each_document(documents: list[DocumentRequest], serve: Callable[[DocumentRequest], T]
                  ) -> tuple[list[tuple[DocumentRequest, T]], list[RegistryError]]:
    """`serve` applied to every document: what it returned, and the errors of the rest."""
    served, errors = [], []
    for document in documents:
        try:
            served.append((document, serve(document)))
        except Exception as exc:  # noqa: BLE001 - each becomes a RegistryError
            errors.append(registry_error(exc, document.document))
    return served, errors
