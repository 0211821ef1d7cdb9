"""Translations: Qt's own system (tr(), .ts sources in assets/i18n, .qm compiled).

Each application has its own domain (``console_zh_CN.ts``, ``agent_zh_CN.ts``,
``common_zh_CN.ts`` for shared widgets), so two people can translate at once.
The .ts files are the sources kept in git; the .qm files are build output, so
they are compiled with PySide6's lrelease into a per-user cache the first time
a language is used (and again whenever its .ts changes). The language follows
the system locale unless the user picked one in the Language menu.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QSettings, QStandardPaths, QTranslator

log = logging.getLogger(__name__)

ASSETS_I18N = Path(__file__).resolve().parents[2] / "assets" / "i18n"
#: language code -> name shown in the Language menu (in that language)
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
SETTINGS_KEY = "ui/language"

_installed: list[QTranslator] = []


def _lrelease() -> list[str] | None:
    exe = Path(sys.executable).with_name("pyside6-lrelease")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("pyside6-lrelease") or shutil.which("lrelease")
    return [found] if found else None


DOMAINS = ("common", "console", "agent")


def compiled_qm(lang: str, domain: str) -> Path | None:
    """The .qm for ``lang``, compiling its .ts into the cache if needed."""
    ts = ASSETS_I18N / f"{domain}_{lang}.ts"
    if not ts.exists():
        return None
    digest = hashlib.sha256(ts.read_bytes()).hexdigest()[:12]
    cache = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
                 or os.path.join(os.path.expanduser("~"), ".cache", "grabdesk")) / "i18n"
    qm = cache / f"{domain}_{lang}.{digest}.qm"
    if qm.exists():
        return qm
    tool = _lrelease()
    if tool is None:
        log.warning("no lrelease found; the UI stays in English")
        return None
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([*tool, "-silent", str(ts), "-qm", str(qm)], capture_output=True, text=True)
    if result.returncode != 0 or not qm.exists():
        log.warning("lrelease failed for %s: %s", ts, result.stderr.strip())
        return None
    return qm


def chosen_language() -> str:
    saved = QSettings().value(SETTINGS_KEY, "", type=str)
    if saved in LANGUAGES:
        return saved
    return "zh_CN" if QLocale.system().name().startswith("zh") else "en"


def install(lang: str | None = None) -> str:
    """Load the translation for ``lang`` (default: saved choice or system locale)."""
    app = QCoreApplication.instance()
    lang = lang or chosen_language()
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    if lang != "en":
        for domain in DOMAINS:
            qm = compiled_qm(lang, domain)
            if qm is None:
                continue
            translator = QTranslator(app)
            if translator.load(str(qm)):
                app.installTranslator(translator)
                _installed.append(translator)
    return lang


def remember(lang: str) -> None:
    QSettings().setValue(SETTINGS_KEY, lang)


def switch(lang: str) -> None:
    """Change the UI language now (the translators send LanguageChange) and for the next start."""
    install(lang)
    remember(lang)
