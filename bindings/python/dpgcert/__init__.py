"""dpgcert: Danish OCES organisation and function certificates for secure-mail gateways.

Read what customers hand over (PKCS#12, PEM, DER), know what it is (OCES generation, type, CVR),
validate it as an onboarding checklist, and keep it in an inventory store with its password
sealed. A thin layer over the dpgcert C++ library: every decision is the library's.

    import dpgcert
    from datetime import datetime, timezone

    bundle = dpgcert.load_pkcs12(open("kunde.p12", "rb").read(), password)
    print(bundle.leaf.oces.summary, bundle.leaf.not_valid_after_utc)
    report = dpgcert.validate(bundle, at=datetime.now(timezone.utc), environment="production")
    print(report.to_text())

Errors are dpgcert.Error subclasses with a stable ``code``; a failed validation is a report.
See docs/python.md for the whole API.
"""

from dpgcert._dpgcert import (
    CHECK_IDS,
    BadPasswordError,
    Certificate,
    CertificateSummary,
    Change,
    BulkImportResult,
    ChangeListener,
    Check,
    CheckResult,
    ConflictError,
    Contact,
    Error,
    Event,
    Identity,
    ImportResult,
    InputOutputError,
    InternalError,
    LockedError,
    InvalidArgumentError,
    LimitExceededError,
    Mailbox,
    MalformedError,
    NotFoundError,
    Organisation,
    Pkcs12Bundle,
    RemovalResult,
    Store,
    Token,
    UnsupportedError,
    ValidationReport,
    load_certificates,
    load_pkcs12,
    validate,
)
from dpgcert._dpgcert import __version__ as __version__

__all__ = [
    "CHECK_IDS",
    "BadPasswordError",
    "Certificate",
    "CertificateSummary",
    "Change",
    "BulkImportResult",
    "ChangeListener",
    "Check",
    "CheckResult",
    "ConflictError",
    "Contact",
    "Error",
    "Event",
    "Identity",
    "ImportResult",
    "InputOutputError",
    "InternalError",
    "LockedError",
    "InvalidArgumentError",
    "LimitExceededError",
    "Mailbox",
    "MalformedError",
    "NotFoundError",
    "Organisation",
    "Pkcs12Bundle",
    "RemovalResult",
    "Store",
    "Token",
    "UnsupportedError",
    "ValidationReport",
    "load_certificates",
    "load_pkcs12",
    "validate",
]
