"""The inventory: organisations, contacts and mailboxes added, read, edited, moved and removed."""

from __future__ import annotations

import pytest

import dpgcert

from conftest import PASSWORD

MAILBOX = "sikkerpost@testfirma.dk"


def test_organisations_and_contacts(store):
    drift = dpgcert.Contact("IT-drift", "drift@testfirma.dk", role="renewals")
    assert drift == dpgcert.Contact("IT-drift", "drift@testfirma.dk", "renewals")
    assert hash(drift) == hash(dpgcert.Contact("IT-drift", "drift@testfirma.dk", "renewals"))
    assert drift.name == "IT-drift" and drift.email == "drift@testfirma.dk" and drift.role == "renewals"
    org = store.add_organisation("12345674", name="Testfirma A/S", contacts=[drift], notes="first")
    assert isinstance(org, dpgcert.Organisation)
    assert (org.cvr, org.name, org.notes) == ("12345674", "Testfirma A/S", "first")
    assert org.contacts == (drift,)
    assert org.created_by == "pytest"
    assert org.created_at.tzinfo is not None and org.updated_at == org.created_at
    assert repr(org) == "<Organisation cvr=12345674 name='Testfirma A/S'>"
    with pytest.raises(dpgcert.ConflictError):
        store.add_organisation("12345674", name="Again")

    renamed = store.edit_organisation("12345674", name="Testfirma Holding A/S")
    assert renamed.name == "Testfirma Holding A/S" and renamed.notes == "first"
    assert store.edit_organisation("12345674", notes="").notes == ""
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.edit_organisation("12345674", name="")
    with pytest.raises(dpgcert.NotFoundError):
        store.edit_organisation("87654321", name="X")

    # The language of the smtp sink's mail: Danish unless set; only da or en.
    assert renamed.language == "da"
    assert store.edit_organisation("12345674", language="en").language == "en"
    assert store.organisation("12345674").language == "en"
    assert store.edit_organisation("12345674", name="Testfirma Holding A/S").language == "en"  # None keeps it
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.edit_organisation("12345674", language="fr")
    assert store.add_organisation("11111111", name="Harbour ApS", language="en").language == "en"
    store.remove_organisation("11111111")
    with pytest.raises(dpgcert.InvalidArgumentError):
        store.add_organisation("22222222", name="X", language="de")

    with_two = store.add_contact("12345674", dpgcert.Contact("Økonomi", "bogholderi@testfirma.dk"))
    assert [c.email for c in with_two.contacts] == ["drift@testfirma.dk", "bogholderi@testfirma.dk"]
    with pytest.raises(dpgcert.ConflictError):
        store.add_contact("12345674", dpgcert.Contact("X", "DRIFT@testfirma.dk"))
    assert store.remove_contact("12345674", "drift@testfirma.dk").contacts[0].email == "bogholderi@testfirma.dk"
    with pytest.raises(dpgcert.NotFoundError):
        store.remove_contact("12345674", "drift@testfirma.dk")
    assert [o.cvr for o in store.organisations()] == ["12345674"]
    assert store.organisation("87654321") is None

    gone = store.remove_organisation("12345674")
    assert isinstance(gone, dpgcert.RemovalResult)
    assert gone.retired == () and gone.detached == 0
    assert store.organisation("12345674") is None


def test_mailboxes_move_and_removal(store, read, oces2_root):
    store.add_organisation("12345674", name="Testfirma A/S")
    store.add_organisation("11111111", name="Søster ApS")
    mb = store.add_mailbox(MAILBOX, organisation_cvr="12345674", ad_group="GG-Sikkerpost")
    assert isinstance(mb, dpgcert.Mailbox)
    assert (mb.address, mb.ad_group, mb.organisation_cvr, mb.created_by) == (MAILBOX, "GG-Sikkerpost", "12345674", "pytest")
    assert mb.created_at.tzinfo is not None
    assert store.edit_mailbox(MAILBOX, ad_group="GG-Ny").ad_group == "GG-Ny"
    with pytest.raises(dpgcert.NotFoundError):
        store.edit_mailbox("ingen@testfirma.dk", ad_group="G")
    result = store.import_pkcs12(read("oces2-prod/foces.p12"), PASSWORD, mailbox=MAILBOX, trust=oces2_root)
    assert result.outcome == "imported"

    moved = store.move_mailbox(MAILBOX.upper(), organisation_cvr="11111111")
    assert moved.organisation_cvr == "11111111"
    assert [m.address for m in store.mailboxes(organisation_cvr="11111111")] == [MAILBOX]
    assert store.mailboxes(organisation_cvr="12345674") == []
    assert store.query(organisation_cvr="11111111")[0].fingerprint == result.fingerprint

    with pytest.raises(dpgcert.ConflictError, match="1 active certificate hangs on mailbox"):
        store.remove_mailbox(MAILBOX)
    with pytest.raises(dpgcert.ConflictError, match="still has 1 mailbox"):
        store.remove_organisation("11111111")
    removed = store.remove_mailbox(MAILBOX, retire_certificates=True, reason="closed")
    assert removed.retired == (result.fingerprint,)
    assert removed.detached == 1
    assert store.mailbox(MAILBOX) is None
    assert [m.address for m in store.mailboxes()] == []
    assert store.query(status="retired")[0].mailbox is None
