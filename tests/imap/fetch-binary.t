# BINARY (RFC 3516, part of IMAP4rev2): content transfer encodings removed,
# literal8 "~{n}" exactly when the bytes returned hold a NUL (manual,
# BINARY), BINARY.SIZE, partial ranges of the decoded bytes, and
# NO [UNKNOWN-CTE] for an encoding the server cannot decode.
% user alice
% deliver alice
| From: d@example.org
| Subject: binary
| MIME-Version: 1.0
| Content-Type: multipart/mixed; boundary=b
|
| --b
| Content-Type: application/octet-stream
| Content-Transfer-Encoding: base64
|
| AAECaGk=
| --b
| Content-Type: text/plain; charset=iso-8859-1
| Content-Transfer-Encoding: quoted-printable
|
| caf=E9 cr=E8me
| --b
| Content-Type: text/plain
| Content-Transfer-Encoding: x-uuencode
|
| begin 644 x
| end
| --b--

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: a2 OK ...
C: a3 SELECT INBOX
S~: a3 OK [READ-WRITE] SELECT completed
C: a4 FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.PEEK[1])
S: * 1 FETCH (BINARY.SIZE[1] 5 BINARY.SIZE[2] 10 BINARY[1] ~{5}
S: {{\x00\x01\x02}}hi)
S: a4 OK FETCH completed
C: a5 FETCH 1 (BINARY.PEEK[1]<3.10> BINARY.PEEK[2] BINARY.PEEK[1]<9.1> BINARY.PEEK[7])
S: * 1 FETCH (BINARY[1]<3> {2}
S: hi BINARY[2] {10}
S: caf{{.}} cr{{.}}me BINARY[1]<9> {0}
S:  BINARY[7] NIL)
S: a5 OK FETCH completed
C: a6 FETCH 1 BINARY.PEEK[3]
S: a6 NO [UNKNOWN-CTE] Cannot decode a part's Content-Transfer-Encoding
C: a7 FETCH 1 BINARY.SIZE[3]
S: a7 NO [UNKNOWN-CTE] ...
C: a8 FETCH 1 BODY.PEEK[3]
S: * 1 FETCH (BODY[3] {16}
S: begin 644 x
S: end)
S: a8 OK FETCH completed
# BINARY[] is the message as it is.
C: a9 FETCH 1 BINARY.PEEK[]<0.21>
S: * 1 FETCH (BINARY[]<0> {21}
S: From: d@example.org
S: )
S: a9 OK FETCH completed
# BINARY without PEEK sets \Seen like BODY[].
C: a10 FETCH 1 BINARY[2]
S: * 1 FETCH (FLAGS (\Seen) BINARY[2] {10}
S: caf{{.}} cr{{.}}me)
S: a10 OK FETCH completed
C: a11 FETCH 1 (BINARY[1.TEXT])
S: a11 BAD BINARY takes only part numbers
C: a12 FETCH 1 BINARY.SIZE[1]<0.2>
S: a12 BAD BINARY.SIZE takes no partial range
