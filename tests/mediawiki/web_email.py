#!/usr/bin/env python3
"""Test helper for tests/mediawiki/run.sh: a user of the wiki sends mail through the web UI.

Logs in through Special:UserLogin (a real browser-like session with cookies), opens
Special:EmailUser/<target>, fills in subject and text, submits the form, and prints one line
of JSON describing the page that came back:

  {"http": 200, "title": "Email sent", "sent": true, "error": "", "text": "<page text>"}

"sent" is true when the page says the mail was sent ("Your email message has been sent.").
"error" is the text of the error box shown on the page, if any. Python standard library only.

  web_email.py --base http://127.0.0.1:PORT --user Alice --password P --target Bob \
      --subject 'Grüße' --text 'Hello'
"""

import argparse
import html
import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

TIMEOUT = 30


class Forms(HTMLParser):
    """Collects each <form>: its action and its <input>/<textarea> names and values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "id": a.get("id", ""),
                          "name": a.get("name", ""), "fields": {}, "types": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and a.get("name"):
            self._form["fields"].setdefault(a["name"], a.get("value", ""))
            self._form["types"][a["name"]] = (a.get("type") or "text").lower()
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""
            self._form["types"][a["name"]] = "textarea"

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, url, data=None):
        if not url.startswith("http"):
            url = self.base + url
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=TIMEOUT) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    @staticmethod
    def form(page, pick):
        p = Forms()
        p.feed(page)
        for f in p.forms:
            if pick(f):
                return f
        raise SystemExit("form not found; page was:\n" + text_of(page)[:2000])


def text_of(page):
    """The visible text of the page's content area (or of the whole page)."""
    m = re.search(r'<div id="mw-content-text".*?>(.*)<div class="printfooter"', page, re.S)
    part = m.group(1) if m else page
    part = re.sub(r"<(script|style)\b.*?</\1>", " ", part, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", part))).strip()


def title_of(page):
    m = re.search(r'<h1 id="firstHeading"[^>]*>(.*?)</h1>', page, re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", m.group(1)))).strip() if m else ""


def error_of(page):
    """Text of the first error message on the page: an OOUI form error (HTMLForm 'ooui', as
    Special:EmailUser uses) or a classic error box."""
    for pattern in (
        r"""class=['"][^'"]*oo-ui-flaggedElement-error[^'"]*['"][^>]*>.*?"""
        r"""<span class=['"]oo-ui-labelElement-label['"]>(.*?)</span>""",
        r"""<div[^>]*class=['"][^'"]*(?:errorbox|mw-message-box-error)[^'"]*['"][^>]*>(.*?)</div>""",
    ):
        m = re.search(pattern, page, re.S)
        if m:
            return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", m.group(1)))).strip()
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--subject", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--save", help="write the final page's HTML here")
    a = ap.parse_args()

    c = Client(a.base)
    status, page = c.request("/index.php?title=Special:UserLogin")
    f = c.form(page, lambda f: "wpName" in f["fields"] and "wpPassword" in f["fields"])
    fields = dict(f["fields"])
    fields.update(wpName=a.user, wpPassword=a.password)
    fields.pop("wpRemember", None)
    status, page = c.request(html.unescape(f["action"]) or "/index.php?title=Special:UserLogin",
                             fields)
    if '"wgUserName":"%s"' % a.user not in page:
        raise SystemExit("login as %s failed (HTTP %s): %s" % (a.user, status, text_of(page)[:1000]))

    status, page = c.request("/index.php?title=Special:EmailUser/" + urllib.parse.quote(a.target))
    f = c.form(page, lambda f: "wpText" in f["fields"])
    fields = {k: v for k, v in f["fields"].items() if f["types"].get(k) != "checkbox"}
    fields.update(wpSubject=a.subject, wpText=a.text)
    status, page = c.request(html.unescape(f["action"]), fields)
    if a.save:
        with open(a.save, "w", encoding="utf-8") as out:
            out.write(page)
    content = text_of(page)
    print(json.dumps({
        "http": status,
        "title": title_of(page),
        "sent": "Your email message has been sent." in content,
        "error": error_of(page),
        "text": content[:3000],
    }, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
