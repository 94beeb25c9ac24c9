"""Chinese first, English on request; the Chinese catalog covers every UI string."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "core" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def test_chinese_is_the_default(client):
    page = client.get("/t/jituan/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "用户名" in page and "密码" in page


def test_english_on_request_and_remembered(client, auth):
    response = client.post("/lang", data={"locale": "en", "next": "/t/jituan/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/t/jituan/login"
    page = client.get("/t/jituan/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page
    auth.login()
    assert "Units" in client.get("/t/jituan/").get_data(as_text=True)  # kept across the login


def test_language_switch_ignores_unknown_codes_and_foreign_targets(client):
    client.post("/lang", data={"locale": "fr"})
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)
    for foreign in ("https://evil.example/", "//evil.example/", "/\\evil.example/phish", "/\tevil", "evil"):
        response = client.post("/lang", data={"locale": "en", "next": foreign})
        assert response.headers["Location"] == "/", foreign


def test_catalog_translates_every_ui_string():
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    used: set[str] = set()
    for folder in ("core", "plugins", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, options_map, keywords={"_": None, "gettext": None, "_l": None}):
            used.add(message if isinstance(message, str) else message[0])
    with open(PO, encoding="utf-8") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(used - translated)
    assert not missing, f"untranslated UI strings (run `make extract-messages` and translate): {missing}"
