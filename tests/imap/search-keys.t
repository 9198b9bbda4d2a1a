# SEARCH keys of RFC 9051 6.4.4 and RFC 3501 6.4.4 against three messages:
# flags, keywords, \Recent (IMAP4rev1), addresses and subjects with encoded
# words and Unicode simple case folding, HEADER (an empty string matches
# any message with the field), BODY and TEXT (decoded; non-text parts are
# not searched), sent and internal dates, sizes, sets, NOT, OR, groups.
% user alice
% deliver alice --flag \Seen --flag \Flagged
| From: Alice Smith <alice@example.org>
| To: Bob <bob@example.org>
| Cc: carol@example.org
| Subject: Quarterly report
| Date: Tue, 1 Feb 1994 23:30:00 -0800
| X-Priority: 1
|
| The numbers for Q1.
% deliver alice --flag $Work
| From: =?UTF-8?Q?J=C3=BCrgen?= <jurgen@example.de>
| To: alice@example.org
| Bcc: hidden@example.org
| Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=
| Date: Mon, 15 Mar 2021 10:00:00 +0100
| Content-Type: text/plain; charset=utf-8
| Content-Transfer-Encoding: quoted-printable
|
| Sch=C3=B6ne Gr=C3=BC=C3=9Fe aus K=C3=B6ln
% deliver alice
| From: bob@example.org
| To: alice@example.org
| Subject: Re: Quarterly report
| Date: Wed, 2 Feb 1994 08:00:00 +0000
| X-Empty:
| MIME-Version: 1.0
| Content-Type: multipart/mixed; boundary=zz
|
| --zz
| Content-Type: text/plain
|
| see attachment
| --zz
| Content-Type: application/octet-stream
|
| secretword
| --zz--

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C: f1 SEARCH ALL
S: * SEARCH 1 2 3
S: f1 OK SEARCH completed
C: f2 SEARCH SEEN
S: * SEARCH 1
S: f2 OK SEARCH completed
C: f3 SEARCH UNSEEN
S: * SEARCH 2 3
S: f3 OK SEARCH completed
C: f4 SEARCH FLAGGED
S: * SEARCH 1
S: f4 OK SEARCH completed
C: f5 SEARCH UNFLAGGED UNANSWERED UNDELETED UNDRAFT
S: * SEARCH 2 3
S: f5 OK SEARCH completed
C: f6 SEARCH ANSWERED
S: * SEARCH
S: f6 OK SEARCH completed
C: f7 SEARCH OR DELETED DRAFT
S: * SEARCH
S: f7 OK SEARCH completed
C: f8 SEARCH KEYWORD $work
S: * SEARCH 2
S: f8 OK SEARCH completed
C: f9 SEARCH UNKEYWORD $Work
S: * SEARCH 1 3
S: f9 OK SEARCH completed
C: f10 SEARCH KEYWORD NeverUsed
S: * SEARCH
S: f10 OK SEARCH completed
C: f11 SEARCH RECENT
S: * SEARCH 1 2 3
S: f11 OK SEARCH completed
C: f12 SEARCH NEW
S: * SEARCH 2 3
S: f12 OK SEARCH completed
C: f13 SEARCH OLD
S: * SEARCH
S: f13 OK SEARCH completed
C: h1 SEARCH FROM smith
S: * SEARCH 1
S: h1 OK SEARCH completed
C: h2 SEARCH CHARSET UTF-8 FROM {7+}
C: JÜRGEN
S: * SEARCH 2
S: h2 OK SEARCH completed
C: h3 SEARCH TO alice
S: * SEARCH 2 3
S: h3 OK SEARCH completed
C: h4 SEARCH CC CAROL
S: * SEARCH 1
S: h4 OK SEARCH completed
C: h5 SEARCH BCC hidden
S: * SEARCH 2
S: h5 OK SEARCH completed
C: h6 SEARCH SUBJECT quarterly
S: * SEARCH 1 3
S: h6 OK SEARCH completed
C: h7 SEARCH SUBJECT "re: QUARTERLY"
S: * SEARCH 3
S: h7 OK SEARCH completed
C: h8 SEARCH SUBJECT "grüße"
S: * SEARCH 2
S: h8 OK SEARCH completed
C: h9 SEARCH HEADER X-Priority 1
S: * SEARCH 1
S: h9 OK SEARCH completed
C: h10 SEARCH HEADER x-empty ""
S: * SEARCH 3
S: h10 OK SEARCH completed
C: h11 SEARCH HEADER X-Missing ""
S: * SEARCH
S: h11 OK SEARCH completed
C: h12 SEARCH FROM bob
S: * SEARCH 3
S: h12 OK SEARCH completed
C: t1 SEARCH BODY köln
S: * SEARCH 2
S: t1 OK SEARCH completed
C: t2 SEARCH BODY secretword
S: * SEARCH
S: t2 OK SEARCH completed
C: t3 SEARCH BODY quarterly
S: * SEARCH
S: t3 OK SEARCH completed
C: t4 SEARCH TEXT quarterly
S: * SEARCH 1 3
S: t4 OK SEARCH completed
C: t5 SEARCH TEXT "NUMBERS FOR"
S: * SEARCH 1
S: t5 OK SEARCH completed
C: t6 SEARCH TEXT "see attachment"
S: * SEARCH 3
S: t6 OK SEARCH completed
C: d1 SEARCH SENTBEFORE 2-Feb-1994
S: * SEARCH 1
S: d1 OK SEARCH completed
C: d2 SEARCH SENTON 2-Feb-1994
S: * SEARCH 3
S: d2 OK SEARCH completed
C: d3 SEARCH SENTON 1-Feb-1994
S: * SEARCH 1
S: d3 OK SEARCH completed
C: d4 SEARCH SENTSINCE "1-Jan-2000"
S: * SEARCH 2
S: d4 OK SEARCH completed
C: d5 SEARCH SINCE 1-Jan-2020
S: * SEARCH 1 2 3
S: d5 OK SEARCH completed
C: d6 SEARCH OR BEFORE 1-Jan-2020 ON 1-Jan-2000
S: * SEARCH
S: d6 OK SEARCH completed
C: z1 SEARCH LARGER 300
S: * SEARCH 2 3
S: z1 OK SEARCH completed
C: z2 SEARCH SMALLER 307
S: * SEARCH 1 2
S: z2 OK SEARCH completed
C: z3 SEARCH LARGER 306
S: * SEARCH 3
S: z3 OK SEARCH completed
C: s1 SEARCH 2:*
S: * SEARCH 2 3
S: s1 OK SEARCH completed
C: s2 SEARCH UID 1,3
S: * SEARCH 1 3
S: s2 OK SEARCH completed
C: s3 SEARCH 1:2 UID 2:*
S: * SEARCH 2
S: s3 OK SEARCH completed
C: s4 UID SEARCH *
S: * SEARCH 3
S: s4 OK UID SEARCH completed
C: l1 SEARCH NOT SEEN
S: * SEARCH 2 3
S: l1 OK SEARCH completed
C: l2 SEARCH OR SEEN KEYWORD $Work
S: * SEARCH 1 2
S: l2 OK SEARCH completed
C: l3 SEARCH (FLAGGED SEEN) SUBJECT report
S: * SEARCH 1
S: l3 OK SEARCH completed
C: l4 SEARCH NOT (OR SEEN FLAGGED)
S: * SEARCH 2 3
S: l4 OK SEARCH completed
C: l5 SEARCH OR OR SUBJECT grüße FROM smith NOT ALL
S: * SEARCH 1 2
S: l5 OK SEARCH completed
# After an expunge by another session, numbers stay as the client knows them.
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 SELECT INBOX
S2~: b2 OK [READ-WRITE] SELECT completed
C2: b3 STORE 1 +FLAGS.SILENT (\Deleted)
S2: b3 OK STORE completed
C2: b4 EXPUNGE
S2: * 1 EXPUNGE
S2: b4 OK EXPUNGE completed
C: e1 SEARCH SUBJECT quarterly
S: * SEARCH 1 3
S~: e1 OK SEARCH completed
C: e2 UID SEARCH SUBJECT quarterly
S: * SEARCH 1 3
S: * 1 EXPUNGE
S: e2 OK UID SEARCH completed
C: e3 SEARCH SUBJECT quarterly
S: * SEARCH 2
S: e3 OK SEARCH completed
# Errors.
C: x1 SEARCH
S: x1 BAD Missing search criteria
C: x2 SEARCH FROB
S: x2 BAD Unknown search key
C: x3 SEARCH SENTON 1-Foo-1994
S: x3 BAD Expected a date like 1-Feb-1994
C: x4 SEARCH LARGER big
S: x4 BAD Expected a number
C: x5 SEARCH OR SEEN
S: x5 BAD Missing search criteria
C: x6 SEARCH CHARSET KOI8-R SUBJECT x
S: x6 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset
C: x7 SEARCH 1:0
S: x7 BAD Invalid sequence set
