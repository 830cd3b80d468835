"""The package itself: what it exports, its stubs, and that the tests exercise every public name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import dpgcert
import dpgcert._dpgcert as native

HERE = Path(__file__).parent
PACKAGE = Path(dpgcert.__file__).parent


def test_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", dpgcert.__version__)
    assert dpgcert.__version__ == native.__version__


def test_all_lists_exactly_the_public_names():
    public = {name for name in vars(dpgcert) if not name.startswith("_")}
    assert len(set(dpgcert.__all__)) == len(dpgcert.__all__)
    assert set(dpgcert.__all__) == public
    for name in dpgcert.__all__:
        assert getattr(dpgcert, name) is getattr(native, name)


def test_check_ids_are_the_report_order():
    assert dpgcert.CHECK_IDS == (
        "pkcs12_opened",
        "key_matches_certificate",
        "pkcs12_profile",
        "chain",
        "validity",
        "revocation",
        "signature_algorithm",
        "key_strength",
        "key_usage",
        "certificate_type",
        "environment",
        "cvr",
    )


def test_package_is_typed():
    assert (PACKAGE / "py.typed").is_file()
    assert (PACKAGE / "_dpgcert.pyi").is_file()


def _stub_tree() -> ast.Module:
    return ast.parse((PACKAGE / "_dpgcert.pyi").read_text(encoding="utf-8"))


def _stub_classes() -> dict[str, set[str]]:
    """Classes in the stub with their public members."""
    classes: dict[str, set[str]] = {}
    for node in _stub_tree().body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = {m for m in members if not m.startswith("_") or m == "__init__"}
    return classes


def test_stubs_describe_the_module():
    tree = _stub_tree()
    definitions = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    constants = {
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is None
    }
    runtime = {name for name in vars(native) if not name.startswith("_")}
    # Classes and functions both ways; constants (CHECK_IDS, __version__) from the stub exist.
    assert definitions == runtime - constants
    assert constants - {"__version__"} <= runtime
    assert set(dpgcert.__all__) <= definitions | constants
    # Every member the stub promises exists at run time, and every public member is stubbed.
    for cls_name, members in _stub_classes().items():
        cls = getattr(native, cls_name)
        for member in members - {"__init__"}:
            # Error.code is set on each raised instance (and on every subclass), not on the base.
            probe = dpgcert.MalformedError if cls is dpgcert.Error else cls
            assert hasattr(probe, member), f"{cls_name}.{member} is in the stub but not the module"
        if issubclass(cls, BaseException):
            continue
        real = {m for m in dir(cls) if not m.startswith("_")}
        assert real <= members, f"{cls_name}: {sorted(real - members)} are not in the stub"


def _test_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(HERE.glob("test_*.py")) if p.name != Path(__file__).name)


def test_every_public_name_is_exercised():
    """Each name in dpgcert.__all__ is used as dpgcert.<name> by some other test module, and each
    public member of each class is used as .<member> somewhere in them."""
    sources = _test_sources()
    for name in dpgcert.__all__:
        assert re.search(rf"\bdpgcert\.{re.escape(name)}\b", sources), f"no test uses dpgcert.{name}"
    for cls_name, members in _stub_classes().items():
        for member in members - {"__init__", "code"}:
            assert re.search(rf"\.{re.escape(member)}\b", sources), f"no test uses {cls_name}.{member}"


def test_package_metadata():
    """importlib.metadata knows the package, at the module's version."""
    import importlib.metadata

    assert importlib.metadata.version("dpgcert") == dpgcert.__version__
    assert importlib.metadata.metadata("dpgcert")["Name"] == "dpgcert"
