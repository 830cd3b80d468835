"""Keys on a PKCS#11 token (SoftHSM2) from Python: a stored certificate's key put on the token, the
current certificate's key reference instead of the key, signing (checked by the openssl CLI against
the certificate) and decrypting through it, and the errors. Skips when softhsm2 is absent."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import dpgcert
from conftest import AT, PASSWORD

PIN = "py-test-pin"
MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")

pytestmark = pytest.mark.skipif(
    not MODULE.exists() or shutil.which("softhsm2-util") is None,
    reason="softhsm2 is not installed (apt-get install softhsm2)",
)


@pytest.fixture(scope="module")
def token_label(tmp_path_factory) -> str:
    """A fresh token in a SoftHSM2 configuration of this process (SoftHSM reads it once)."""
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n", encoding="utf-8")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "py-token", "--so-pin", "12345678", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    return "py-token"


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def test_token_keys(tmp_path, data_dir, token_label):
    uri = f"pkcs11:token={token_label}"
    # A wrong PIN first (PKCS#11 logins are per process: later sessions share the first login).
    with pytest.raises(dpgcert.BadPasswordError):
        dpgcert.Token.open(uri, "wrong")
    with pytest.raises(dpgcert.NotFoundError):
        dpgcert.Token.open("pkcs11:token=no-such-token", PIN)
    with pytest.raises(dpgcert.InvalidArgumentError):
        dpgcert.Token.open(uri + "?pin-value=1234", PIN)
    token = dpgcert.Token.open(uri, PIN.encode())
    assert token.label == token_label
    assert token.serial and token.uri.startswith("pkcs11:")
    assert repr(token).startswith("<Token label='py-token'")

    store = dpgcert.Store.create(tmp_path / "store.db", key_file=tmp_path / "store.key", now=AT)
    trust = dpgcert.load_certificates((data_dir / "oces2-prod/root.crt.pem").read_bytes())
    result = store.import_pkcs12(
        (data_dir / "oces2-prod/foces.p12").read_bytes(), PASSWORD, mailbox="sikkerpost@testfirma.dk",
        organisation_cvr="12345674", trust=trust, at=AT,
    )
    fp = result.fingerprint
    assert store.current_key_uri("sikkerpost@testfirma.dk") is None

    put = store.import_to_token(fp, token)
    assert put["created"] == 3
    assert put["fingerprint"] == fp
    assert store.import_to_token(fp, token)["created"] == 0
    key_uri = store.current_key_uri("sikkerpost@testfirma.dk")
    assert key_uri == put["key"]
    assert "type=private" in key_uri
    bundle = store.current_bundle("sikkerpost@testfirma.dk")
    assert bundle is not None and bundle.has_private_key is False
    assert bundle.leaf is not None and bundle.leaf.fingerprint_sha256 == fp

    # Signed in the token, verified by openssl against the certificate's public key.
    pub = tmp_path / "pub.pem"
    pub.write_bytes(openssl("x509", "-in", str(data_dir / "oces2-prod/foces.crt.pem"), "-pubkey", "-noout"))
    message = tmp_path / "message"
    message.write_bytes(b"S/MIME content")
    for scheme, extra in (("pkcs1v15-sha256", []), ("pss-sha256", ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"])):
        sig = tmp_path / f"{scheme}.sig"
        sig.write_bytes(token.sign(key_uri, message.read_bytes(), scheme))
        out = openssl("dgst", "-sha256", "-verify", str(pub), *extra, "-signature", str(sig), str(message))
        assert b"Verified OK" in out

    # An S/MIME-style OAEP key transport (openssl's default OAEP: SHA-1) decrypted in the token.
    cek = b"0123456789abcdef0123456789abcdef"
    ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-pkeyopt", "rsa_padding_mode:oaep", data=cek)
    assert token.decrypt(key_uri, ct, "oaep-sha1") == cek
    with pytest.raises(dpgcert.BadPasswordError):
        token.decrypt(key_uri, ct, "pkcs1v15")
    with pytest.raises(dpgcert.InvalidArgumentError, match="scheme"):
        token.decrypt(key_uri, ct, "rot13")
    with pytest.raises(dpgcert.InvalidArgumentError, match="scheme"):
        token.sign(key_uri, b"x", "md5")
    with pytest.raises(dpgcert.NotFoundError):
        token.sign(f"pkcs11:token={token_label};id=%99", b"x")
    with pytest.raises(TypeError):
        token.sign(key_uri, "text is not bytes")
    with pytest.raises(dpgcert.NotFoundError):
        store.current_key_uri("nobody@testfirma.dk")
    store.close()
