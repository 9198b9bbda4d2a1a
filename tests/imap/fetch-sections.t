# BODY[section]<partial> (RFC 9051 6.4.5): the whole message, HEADER,
# HEADER.FIELDS(.NOT), TEXT, MIME, part numbers into multiparts and
# message/rfc822, parts that do not exist (NIL), substrings, RFC822,
# RFC822.HEADER and RFC822.TEXT, and \Seen set by non-PEEK fetches only.
% user alice
% deliver alice
| From: Alice <alice@example.org>
| To: Bob <bob@example.org>
| Subject: Hello world
| Date: Tue, 1 Feb 1994 23:30:00 -0800
| Message-ID: <m1@example.org>
|
| Hello Bob.
| Second line.
% deliver alice
| From: Carol <carol@example.org>
| To: bob@example.org
| Subject: parts
| MIME-Version: 1.0
| Content-Type: multipart/mixed; boundary="xyz"
|
| preamble
| --xyz
| Content-Type: text/plain; charset=utf-8
|
| first part
| --xyz
| Content-Type: message/rfc822
|
| From: inner@example.org
| Subject: inner
|
| inner body
| --xyz--

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: a2 OK ...
C: a3 SELECT INBOX
S~: a3 OK [READ-WRITE] SELECT completed
C: a4 FETCH 1 BODY.PEEK[HEADER]
S: * 1 FETCH (BODY[HEADER] {152}
S: From: Alice <alice@example.org>
S: To: Bob <bob@example.org>
S: Subject: Hello world
S: Date: Tue, 1 Feb 1994 23:30:00 -0800
S: Message-ID: <m1@example.org>
S: 
S: )
S: a4 OK FETCH completed
C: a5 FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject FROM)] BODY.PEEK[HEADER.FIELDS.NOT (From To Date Message-ID)])
S: * 1 FETCH (BODY[HEADER.FIELDS (subject FROM)] {57}
S: From: Alice <alice@example.org>
S: Subject: Hello world
S: 
S:  BODY[HEADER.FIELDS.NOT (From To Date Message-ID)] {24}
S: Subject: Hello world
S: 
S: )
S: a5 OK FETCH completed
C: a6 FETCH 1 (BODY.PEEK[TEXT] BODY.PEEK[]<6.5> BODY.PEEK[TEXT]<6.100> BODY.PEEK[]<178.1>)
S: * 1 FETCH (BODY[TEXT] {26}
S: Hello Bob.
S: Second line.
S:  BODY[]<6> {5}
S: Alice BODY[TEXT]<6> {20}
S: Bob.
S: Second line.
S:  BODY[]<178> {0}
S: )
S: a6 OK FETCH completed
C: a7 FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]<9.5>
S: * 1 FETCH (BODY[HEADER.FIELDS (Subject)]<9> {5}
S: Hello)
S: a7 OK FETCH completed
# Part 1 of a single-part message is its body.
C: a8 FETCH 1 BODY.PEEK[1]
S: * 1 FETCH (BODY[1] {26}
S: Hello Bob.
S: Second line.
S: )
S: a8 OK FETCH completed
C: a9 FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2.MIME])
S: * 2 FETCH (BODY[1] {10}
S: first part BODY[1.MIME] {43}
S: Content-Type: text/plain; charset=utf-8
S: 
S:  BODY[2.MIME] {32}
S: Content-Type: message/rfc822
S: 
S: )
S: a9 OK FETCH completed
C: a10 FETCH 2 (BODY.PEEK[2] BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1])
S: * 2 FETCH (BODY[2] {53}
S: From: inner@example.org
S: Subject: inner
S: 
S: inner body BODY[2.HEADER] {43}
S: From: inner@example.org
S: Subject: inner
S: 
S:  BODY[2.TEXT] {10}
S: inner body BODY[2.1] {10}
S: inner body)
S: a10 OK FETCH completed
C: a11 FETCH 2 (BODY.PEEK[3] BODY.PEEK[1.TEXT] BODY.PEEK[2.1.1.1]<0.5>)
S: * 2 FETCH (BODY[3] NIL BODY[1.TEXT] NIL BODY[2.1.1.1]<0> NIL)
S: a11 OK FETCH completed
C: a12 FETCH 1:2 FLAGS
S: * 1 FETCH (FLAGS ())
S: * 2 FETCH (FLAGS ())
S: a12 OK FETCH completed
# Without PEEK the message becomes \Seen, and FLAGS comes along.
C: a13 FETCH 2 BODY[1]
S: * 2 FETCH (FLAGS (\Seen) BODY[1] {10}
S: first part)
S: a13 OK FETCH completed
C: a14 FETCH 2 BODY[1]
S: * 2 FETCH (BODY[1] {10}
S: first part)
S: a14 OK FETCH completed
C: a15 FETCH 1 RFC822.HEADER
S: * 1 FETCH (RFC822.HEADER {152}
S~: )
S: a15 OK FETCH completed
C: a16 FETCH 1 FLAGS
S: * 1 FETCH (FLAGS ())
S: a16 OK FETCH completed
C: a17 UID FETCH 1 RFC822.TEXT
S: * 1 FETCH (UID 1 FLAGS (\Seen) RFC822.TEXT {26}
S: Hello Bob.
S: Second line.
S: )
S: a17 OK UID FETCH completed
C: a18 STORE 1 -FLAGS.SILENT (\Seen)
S: a18 OK STORE completed
C: a19 FETCH 1 RFC822
S: * 1 FETCH (FLAGS (\Seen) RFC822 {178}
S~: Second line.
S: )
S: a19 OK FETCH completed
# Another session hears of the new flags once, by its next command.
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 EXAMINE INBOX
S2~: b2 OK [READ-ONLY] EXAMINE completed
C2: b3 FETCH 1:2 FLAGS
S2: * 1 FETCH (FLAGS (\Seen))
S2: * 2 FETCH (FLAGS (\Seen))
S2: b3 OK FETCH completed
# EXAMINE: no \Seen from BODY[].
C: a20 STORE 1:2 FLAGS.SILENT ()
S: a20 OK STORE completed
# (Changes by others come after the command's own responses.)
C2: b4 FETCH 1 BODY[TEXT]
S2: * 1 FETCH (BODY[TEXT] {26}
S2: Hello Bob.
S2: Second line.
S2: )
S2: * 1 FETCH (UID 1 FLAGS ())
S2: * 2 FETCH (UID 2 FLAGS ())
S2: b4 OK FETCH completed
C2: b5 FETCH 1 FLAGS
S2: * 1 FETCH (FLAGS ())
S2: b5 OK FETCH completed
