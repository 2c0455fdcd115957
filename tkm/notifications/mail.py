"""Delivering one e-mail: through TKM_SMTP_URL, or as a .eml file in TKM_DATA_DIR/outbox when it is unset."""

from __future__ import annotations

import os
import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tkm.core.settings import Settings

SENDER = "TKM <no-reply@tkm.localhost>"


def build_message(recipient: str, subject: str, body: str, message_key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", "-", message_key)[:60], domain="tkm.localhost")
    msg["X-TKM-Key"] = message_key
    msg.set_content(body)
    return msg


def outbox_path(settings: Settings, message_key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", message_key)
    return settings.data_dir / "outbox" / f"{safe}.eml"


def deliver(settings: Settings, msg: EmailMessage, message_key: str) -> str:
    """Send ``msg``; returns where it went. A file with the same key is replaced, never duplicated."""
    if not settings.smtp_url:
        path = outbox_path(settings, message_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, path)  # atomic: a reader never sees half a message
        return str(path)
    url = urlsplit(settings.smtp_url)
    host, port = url.hostname or "localhost", url.port
    if url.scheme == "smtps":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=20)
    else:
        server = smtplib.SMTP(host, port or 25, timeout=20)
    with server:
        if url.scheme == "smtp+starttls":
            server.starttls()
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        server.send_message(msg)
    return f"smtp://{host}"
