"""The gettext catalogs: complete in both languages, and compiled from their sources."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
CATALOGS = [
    LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    for language in ("zh_Hans", "en")
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (GNU gettext) is not installed")
    return path


def _msgids(po_text):
    """Return the msgids of the entries in a .po text, the header left out."""
    msgids = []
    for block in re.split(r"\n\s*\n", po_text):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.MULTILINE)
        if match is None:
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        if msgid:
            msgids.append(msgid)
    return msgids


@pytest.mark.parametrize("po", CATALOGS, ids=lambda po: po.parts[-3])
def test_every_message_has_a_chinese_and_an_english_translation(po):
    msgattrib = _tool("msgattrib")
    for option in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            [msgattrib, option, str(po)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert _msgids(result.stdout) == [], f"{po}: {option}"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda po: po.parts[-3])
def test_the_compiled_catalogs_are_up_to_date(po, tmp_path):
    msgfmt = _tool("msgfmt")
    committed = po.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run compilemessages"
    fresh = tmp_path / "django.mo"
    subprocess.run(
        [msgfmt, "--check-format", "-o", str(fresh), str(po)],
        capture_output=True,
        check=True,
    )
    with committed.open("rb") as old, fresh.open("rb") as new:
        assert (
            gettext.GNUTranslations(old)._catalog
            == gettext.GNUTranslations(new)._catalog
        ), f"{committed} is out of date: run compilemessages"


def test_pages_speak_chinese_by_default_and_english_on_request():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("zh-hans"):
        chinese = translation.gettext("Orders")
    with translation.override("en"):
        english = translation.gettext("Orders")
    assert english == "Orders"
    assert chinese != english
    assert CJK.search(chinese)
