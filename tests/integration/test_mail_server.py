"""The mesh's mail server (Mailpit, started by ./scripts/up): mail sent over SMTP arrives, and a
test reads it back through its API, as the notification tests will."""
import email.message
import json
import smtplib
import urllib.parse
import urllib.request
import uuid

from scripts.mesh.layout import MAIL_HTTP_ADDR, MAIL_SMTP_ADDR


def _found(query: str) -> list[dict]:
    url = f"http://{MAIL_HTTP_ADDR}/api/v1/search?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)["messages"]


def test_mail_sent_over_smtp_is_read_back_through_the_api(mesh):
    subject = f"Заказ подтверждён {uuid.uuid4().hex[:8]}"
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = "Autosalon <no-reply@autosalon.local>", \
        "ivan@example.ru", subject
    message.set_content("Здравствуйте, Иван! Ваш заказ на 2 450 000,00 ₽ подтверждён.")
    host, port = MAIL_SMTP_ADDR.rsplit(":", 1)
    with smtplib.SMTP(host, int(port), timeout=5) as smtp:
        smtp.send_message(message)
    [found] = _found(f'subject:"{subject}"')
    assert found["To"][0]["Address"] == "ivan@example.ru" and found["Subject"] == subject
    with urllib.request.urlopen(f"http://{MAIL_HTTP_ADDR}/api/v1/message/{found['ID']}", timeout=5) as answer:
        assert "2 450 000,00 ₽" in json.load(answer)["Text"]
