#!/usr/bin/env python3
"""Writes the generated messages of the MIME corpus and their expected
outputs. The expected values come from how each message is built (which
bytes form each body), not from the parser: a body is the bytes between its
header's blank line and the line break before the next boundary line
(RFC 2046 5.1.1); lines count line feeds plus a last line without one.

Run from anywhere: python3 gen-corpus.py (rewrites the gen-*.eml files)."""
import base64
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(9051)


def lines(b):
    return b.count(b"\n") + (1 if b and not b.endswith(b"\n") else 0)


def text_body(nlines, size, eol=b"\r\n"):
    """nlines lines, each ending in eol, size bytes in all."""
    content = size - nlines * len(eol)
    per = content // nlines
    out = []
    for i in range(nlines):
        n = per if i < nlines - 1 else content - per * (nlines - 1)
        words = b""
        while len(words) < n:
            words += rng.choice([b"minutes ", b"IMAP ", b"summary ", b"of ", b"the ", b"meeting "])
        out.append(words[:n] + eol)
    body = b"".join(out)
    assert len(body) == size and lines(body) == nlines
    return body


def write(name, msg, expected):
    with open(os.path.join(HERE, name + ".eml"), "wb") as f:
        f.write(msg)
    with open(os.path.join(HERE, name + ".expected"), "w") as f:
        f.write(expected)


RFC_HEADER = (b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
              b"From: Terry Gray <gray@cac.washington.edu>\r\n"
              b"Subject: IMAP4rev2 WG mtg summary and minutes\r\n"
              b"To: imap@cac.washington.edu\r\n"
              b"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
              b"Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
              b"MIME-Version: 1.0\r\n")
RFC_ENVELOPE = ('("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" '
                '(("Terry Gray" NIL "gray" "cac.washington.edu")) '
                '(("Terry Gray" NIL "gray" "cac.washington.edu")) '
                '(("Terry Gray" NIL "gray" "cac.washington.edu")) '
                '((NIL NIL "imap" "cac.washington.edu")) '
                '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) '
                'NIL NIL "<B27397-0100000@cac.washington.edu>")')


def rfc_fetch_full():
    """RFC 9051 section 8 (and RFC 3501 8): "a003 fetch 12 full" and
    "a004 fetch 12 body[header]" {342}. The header below is the one the
    RFC prints, 342 octets with CRLF; the body is any 3028 octets in 92
    lines. The RFC wraps the ENVELOPE over lines for print; the grammar
    (env-to = "(" 1*address ")") puts no space between addresses."""
    hdr = RFC_HEADER + b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n"
    assert len(hdr) == 342
    body = text_body(92, 3028)
    exp = ("# RFC 9051 section 8 sample session, message 12 (see gen-corpus.py)\n"
           "ENVELOPE\t" + RFC_ENVELOPE + "\n"
           'BODY\t("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)\n'
           'BODYSTRUCTURE\t("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL)\n'
           "SECTION-LEN\tHEADER\t342\n"
           "SECTION-LEN\tTEXT\t3028\n"
           "SECTION-LEN\t1\t3028\n"
           "SECTION-LEN\t1.MIME\t342\n"
           "SECTION-LEN\t\t3370\n"
           "SECTION\t2\tNOENT\n"
           "SECTION\t1.1\tNOENT\n"
           "SECTION\t1.HEADER\tNOENT\n"
           "SECTION\tHEADER.FIELDS (From To)\tFrom: Terry Gray <gray@cac.washington.edu>\\r\\nTo: imap@cac.washington.edu\\r\\n\\r\\n\n"
           "SECTION\tHEADER.FIELDS (CC \"message-id\")\tcc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\\r\\nMessage-Id: <B27397-0100000@cac.washington.edu>\\r\\n\\r\\n\n"
           "SECTION\tHEADER.FIELDS.NOT (Date From Subject To Cc Message-Id)\tMIME-Version: 1.0\\r\\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\\r\\n\\r\\n\n")
    write("gen-rfc9051-fetch-full", hdr + body, exp)


def rfc_multipart():
    """RFC 9051 7.5.2, the BODYSTRUCTURE example: two TEXT/PLAIN parts, the
    second in BASE64 with a name, an id and a description. The example
    shows no extension data, which is what BODY gives. Part 2's body holds
    73 lines of base64 ending in CRLF, so the line break before the close
    delimiter is the one that belongs to the delimiter."""
    b = b"=-=-=_imap"
    hdr = RFC_HEADER + b'Content-Type: MULTIPART/MIXED; BOUNDARY="' + b + b'"\r\n\r\n'
    p1h = b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n"
    p1b = text_body(23, 1152)
    raw = bytes(rng.randrange(256) for _ in range(3306))
    enc = base64.b64encode(raw)
    assert len(enc) == 4408
    rows = [enc[i * 60:(i + 1) * 60] for i in range(72)] + [enc[72 * 60:]]
    p2b = b"".join(r + b"\r\n" for r in rows)
    assert len(p2b) == 4554 and lines(p2b) == 73
    p2h = (b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
           b"Content-ID: <960723163407.20117h@cac.washington.edu>\r\n"
           b"Content-Description: Compiler diff\r\n"
           b"Content-Transfer-Encoding: BASE64\r\n\r\n")
    body = (b"This is a multipart message.\r\n--" + b + b"\r\n" + p1h + p1b + b"\r\n--" + b +
            b"\r\n" + p2h + p2b + b"\r\n--" + b + b"--\r\n")
    msg = hdr + body
    with open(os.path.join(HERE, "gen-rfc9051-multipart.bin"), "wb") as f:
        f.write(raw)
    exp = ("# RFC 9051 7.5.2 BODYSTRUCTURE example (see gen-corpus.py)\n"
           'BODY\t(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)'
           '("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") '
           '"<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")\n'
           'BODYSTRUCTURE\t(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL)'
           '("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") '
           '"<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73 NIL NIL NIL NIL) '
           '"MIXED" ("BOUNDARY" "=-=-=_imap") NIL NIL NIL)\n'
           "ENVELOPE\t" + RFC_ENVELOPE + "\n"
           "SECTION-LEN\t1\t1152\n"
           "SECTION-LEN\t2\t4554\n"
           "SECTION-LEN\t2.MIME\t%d\n"
           "SECTION-LEN\tTEXT\t%d\n"
           "SECTION\t1.MIME\tContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\\r\\n\\r\\n\n"
           "SECTION\t3\tNOENT\n"
           "SECTION\t2.TEXT\tNOENT\n"
           "DECODED\t2\tgen-rfc9051-multipart.bin\n" % (len(p2h), len(body)))
    write("gen-rfc9051-multipart", msg, exp)


def nested():
    """Nesting with bare LF line ends: mixed > (text, alternative > (text,
    html), message/rfc822 > mixed > (text, image base64), pdf attachment).
    Every size below is len() of the bytes placed between a blank line and
    the LF before the next delimiter."""
    t1 = b"Hello,\nsee below.\n"
    a1 = b"plain alternative"
    a2 = b"<p>html alternative</p>\n"
    inner_text = b"inner text\nline two"
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))) + b"\n"
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
    alt = (b"--alt\nContent-Type: text/plain; charset=utf-8\n\n" + a1 + b"\n--alt\n"
           b"Content-Type: text/html; charset=utf-8\n\n" + a2 + b"\n--alt--\n")
    inner_hdr = (b"From: Inner Sender <inner@example.org>\nTo: a@example.org\n"
                 b"Subject: inner\nDate: 1 Jan 2020 00:00:00 +0000\n"
                 b"Message-ID: <inner@example.org>\nMIME-Version: 1.0\n"
                 b"Content-Type: multipart/mixed; boundary=in\n\n")
    inner_body = (b"--in\nContent-Type: text/plain\n\n" + inner_text + b"\n--in\n"
                  b"Content-Type: image/png; name=dot.png\nContent-Transfer-Encoding: base64\n"
                  b"Content-Disposition: inline; filename=dot.png\n\n" + png + b"\n--in--\n")
    inner = inner_hdr + inner_body
    body = (b"preamble\n--out\nContent-Type: text/plain; charset=us-ascii\n\n" + t1 +
            b"\n--out\nContent-Type: multipart/alternative; boundary=alt\n\n" + alt +
            b"\n--out\nContent-Type: message/rfc822\nContent-Description: forwarded\n\n" + inner +
            b"\n--out\nContent-Type: application/pdf; name=\"a b.pdf\"\n"
            b"Content-Disposition: attachment; filename=\"a b.pdf\"; size=30\n"
            b"Content-Language: en, de\nContent-Location: http://example.org/a.pdf\n"
            b"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\nContent-Transfer-Encoding: 8bit\n\n" + pdf +
            b"\n--out--\nepilogue\n")
    hdr = (b"From: Outer <outer@example.org>\nTo: b@example.org\nSubject: nested\n"
           b"Date: Thu, 2 Jan 2020 10:00:00 +0100\nMessage-ID: <outer@example.org>\n"
           b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"out\"\n\n")
    inner_env = ('("1 Jan 2020 00:00:00 +0000" "inner" (("Inner Sender" NIL "inner" "example.org")) '
                 '(("Inner Sender" NIL "inner" "example.org")) (("Inner Sender" NIL "inner" "example.org")) '
                 '((NIL NIL "a" "example.org")) NIL NIL NIL "<inner@example.org>")')
    inner_bs = ('(("text" "plain" NIL NIL NIL "7BIT" %d %d NIL NIL NIL NIL)'
                '("image" "png" ("NAME" "dot.png") NIL NIL "BASE64" %d NIL ("INLINE" ("FILENAME" "dot.png")) NIL NIL) '
                '"mixed" ("BOUNDARY" "in") NIL NIL NIL)'
                % (len(inner_text), lines(inner_text), len(png)))
    bs = ('(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" %d %d NIL NIL NIL NIL)'
          '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" %d %d NIL NIL NIL NIL)'
          '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" %d %d NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL)'
          '("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" %d %s %s %d NIL NIL NIL NIL)'
          '("APPLICATION" "PDF" ("NAME" "a b.pdf") NIL NIL "8BIT" %d "Q2hlY2sgSW50ZWdyaXR5IQ==" '
          '("ATTACHMENT" ("FILENAME" "a b.pdf" "SIZE" "30")) ("en" "de") "http://example.org/a.pdf") '
          '"MIXED" ("BOUNDARY" "out") NIL NIL NIL)'
          % (len(t1), lines(t1), len(a1), lines(a1), len(a2), lines(a2), len(inner), inner_env,
             inner_bs.replace('"text" "plain"', '"TEXT" "PLAIN"').replace('"image" "png"', '"IMAGE" "PNG"')
             .replace('"mixed"', '"MIXED"'), lines(inner), len(pdf)))
    exp = ("# Nested multiparts and an enclosed message, LF line ends (see gen-corpus.py).\n"
           "# Types, subtypes, parameter names and encodings are upper-cased tokens;\n"
           "# text/plain without charset keeps NIL parameters (no default added when\n"
           "# a Content-Type is given); the image has no line count (not text).\n"
           "BODYSTRUCTURE\t" + bs + "\n"
           "SECTION\t1\t" + t1.decode().replace("\n", "\\n") + "\n"
           "SECTION\t2.2\t" + a2.decode().replace("\n", "\\n") + "\n"
           "SECTION-LEN\t3\t%d\n" % len(inner) +
           "SECTION\t3.1\t" + inner_text.decode().replace("\n", "\\n") + "\n"
           "SECTION\t3.HEADER.FIELDS (subject)\tSubject: inner\\n\\n\n"
           "SECTION-LEN\t3.HEADER\t%d\n" % len(inner_hdr) +
           "SECTION-LEN\t3.TEXT\t%d\n" % len(inner_body) +
           "SECTION\t3.2.MIME\tContent-Type: image/png; name=dot.png\\nContent-Transfer-Encoding: base64\\nContent-Disposition: inline; filename=dot.png\\n\\n\n"
           "SECTION\t3.3\tNOENT\n"
           "SECTION\t4.1\tNOENT\n"
           "SECTION\t5\tNOENT\n")
    write("gen-nested", hdr + body, exp)


def rfc_sections():
    """RFC 9051 6.4.5: the example of part specifiers for a complex
    message. Every leaf body names its own part number, so each SECTION
    line checks the mapping; HEADER/TEXT of 3 and 4.2 are the enclosed
    messages' header and body; 4.1.MIME is the IMAGE/GIF part's header."""
    def leaf(ctype, name):
        return (b"Content-Type: " + ctype + b"\r\n\r\n", b"body of " + name)

    def multipart(sub, bnd, parts):
        out = b""
        for hdr, body in parts:
            out += b"--" + bnd + b"\r\n" + hdr + body + b"\r\n"
        out += b"--" + bnd + b"--"
        return (b"Content-Type: multipart/" + sub + b"; boundary=" + bnd + b"\r\n\r\n", out)

    def message(hdr_fields, inner):
        ihdr, ibody = inner
        enclosed = hdr_fields + ihdr + ibody
        return (b"Content-Type: message/rfc822\r\n\r\n", enclosed), hdr_fields + ihdr, ibody

    m3, m3_hdr, m3_text = message(b"Subject: three\r\n", multipart(b"mixed", b"b3", [
        leaf(b"text/plain", b"3.1"), leaf(b"application/octet-stream", b"3.2")]))
    m42, m42_hdr, m42_text = message(b"Subject: four two\r\n", multipart(b"mixed", b"b42", [
        leaf(b"text/plain", b"4.2.1"),
        multipart(b"alternative", b"b422", [leaf(b"text/plain", b"4.2.2.1"),
                                            leaf(b"text/richtext", b"4.2.2.2")])]))
    top = multipart(b"mixed", b"top", [
        leaf(b"text/plain", b"1"), leaf(b"application/octet-stream", b"2"), m3,
        multipart(b"mixed", b"b4", [leaf(b"image/gif", b"4.1"), m42])])
    hdr = b"Subject: RFC 9051 6.4.5\r\n" + top[0]
    msg = hdr + top[1] + b"\r\n"

    def esc(b):
        return b.decode().replace("\r", "\\r").replace("\n", "\\n")
    lines = ["# RFC 9051 6.4.5 part specifier example (see gen-corpus.py)"]
    lines.append("SECTION\tHEADER\t" + esc(hdr))
    lines.append("SECTION\tTEXT\t" + esc(top[1] + b"\r\n"))
    for n in ["1", "2", "3.1", "3.2", "4.1", "4.2.1", "4.2.2.1", "4.2.2.2"]:
        lines.append("SECTION\t%s\tbody of %s" % (n, n))
    lines.append("SECTION\t3.HEADER\t" + esc(m3_hdr))
    lines.append("SECTION\t3.TEXT\t" + esc(m3_text))
    lines.append("SECTION\t3\t" + esc(m3[1]))
    lines.append("SECTION\t4.1.MIME\tContent-Type: image/gif\\r\\n\\r\\n")
    lines.append("SECTION\t4.2.HEADER\t" + esc(m42_hdr))
    lines.append("SECTION\t4.2.TEXT\t" + esc(m42_text))
    lines.append("SECTION\t4.2.HEADER.FIELDS (Subject)\tSubject: four two\\r\\n\\r\\n")
    lines.append("SECTION\t4.2.2.2.MIME\tContent-Type: text/richtext\\r\\n\\r\\n")
    for n in ["5", "4.3", "4.2.3", "4.2.2.3", "3.3", "1.1", "4.1.1", "2.HEADER", "4.TEXT"]:
        lines.append("SECTION\t%s\tNOENT" % n)
    write("gen-rfc9051-sections", msg, "\n".join(lines) + "\n")


rfc_fetch_full()
rfc_multipart()
nested()
rfc_sections()
