# STORE and UID STORE (RFC 9051 6.4.6): +FLAGS, -FLAGS, FLAGS, .SILENT,
# keywords with or without a list and new keywords announced with FLAGS
# first (RFC 9051 7.3.5); \Recent cannot be stored; read-only mailboxes
# refuse; the storing session is not told twice, others are told once.
% user alice
% deliver alice
| Subject: one
|
| 1
% deliver alice
| Subject: two
|
| 2
% deliver alice
| Subject: three
|
| 3

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: a2 OK ...
C: a3 SELECT INBOX
S~: a3 OK [READ-WRITE] SELECT completed
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 ENABLE IMAP4rev2
S2: * ENABLED IMAP4rev2
S2: b2 OK ...
C2: b3 SELECT INBOX
S2~: b3 OK [READ-WRITE] SELECT completed
C: a4 STORE 1 +FLAGS (\Flagged)
S: * 1 FETCH (FLAGS (\Flagged))
S: a4 OK STORE completed
C: a5 STORE 1:3 +FLAGS (\Seen $Work)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted
S: * 1 FETCH (FLAGS (\Flagged \Seen $Work))
S: * 2 FETCH (FLAGS (\Seen $Work))
S: * 3 FETCH (FLAGS (\Seen $Work))
S: a5 OK STORE completed
C: a6 STORE 2 -FLAGS ($work)
S: * 2 FETCH (FLAGS (\Seen))
S: a6 OK STORE completed
C: a7 store 3 flags (\answered \DRAFT)
S: * 3 FETCH (FLAGS (\Answered \Draft))
S: a7 OK STORE completed
C: a8 STORE 1:3 +FLAGS.SILENT (\Deleted)
S: a8 OK STORE completed
C: a9 NOOP
S: a9 OK NOOP completed
C: a10 FETCH 1:3 FLAGS
S: * 1 FETCH (FLAGS (\Flagged \Deleted \Seen $Work))
S: * 2 FETCH (FLAGS (\Deleted \Seen))
S: * 3 FETCH (FLAGS (\Answered \Deleted \Draft))
S: a10 OK FETCH completed
C: a11 UID STORE 2:3 -FLAGS.SILENT \Deleted
S: a11 OK UID STORE completed
C: a12 UID STORE 1:* -FLAGS \Deleted
S: * 1 FETCH (UID 1 FLAGS (\Flagged \Seen $Work))
S: * 2 FETCH (UID 2 FLAGS (\Seen))
S: * 3 FETCH (UID 3 FLAGS (\Answered \Draft))
S: a12 OK UID STORE completed
# Keywords need no list; there is no limit to them.
C: a13 STORE 2 +FLAGS k1 k2 K1 k3
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work k1 k2 k3)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work k1 k2 k3 \*)] Flags permitted
S: * 2 FETCH (FLAGS (\Seen k1 k2 k3))
S: a13 OK STORE completed
C: a14 STORE 2 FLAGS ()
S: * 2 FETCH (FLAGS ())
S: a14 OK STORE completed
# The other session hears of each message's flags once, as they are now.
C2: b4 NOOP
S2~: * 1 FETCH (UID 1 FLAGS (\Flagged \Seen $Work))
S2: * 2 FETCH (UID 2 FLAGS ())
S2: * 3 FETCH (UID 3 FLAGS (\Answered \Draft))
S2: b4 OK NOOP completed
C2: b5 NOOP
S2: b5 OK NOOP completed
# Errors.
C: a15 STORE 1 +FLAGS (\Recent)
S: a15 BAD \Recent cannot be stored
C: a16 STORE 1 +FLAGS (\Bogus)
S: a16 BAD Unknown system flag
C: a17 STORE 1 +FLAGS (\*)
S: a17 BAD Unknown system flag
C: a18 STORE 4 +FLAGS (x)
S: a18 BAD Invalid message sequence number
C: a19 STORE 1 FLAG (x)
S: a19 BAD Expected FLAGS, +FLAGS or -FLAGS, optionally .SILENT
C: a20 STORE 1 +FLAGS
S: a20 BAD Usage: STORE sequence-set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags
C: a21 STORE 1 +FLAGS ("x")
S: a21 BAD Flags are atoms
C: a22 STORE 1 +FLAGS (a) b
S: a22 BAD Unexpected arguments after the flag list
C: a23 STORE 1 +FLAGS.LOUD (a)
S: a23 BAD Expected FLAGS, +FLAGS or -FLAGS, optionally .SILENT
# UNCHANGEDSINCE turns CONDSTORE on (RFC 7162 3.1): HIGHESTMODSEQ first.
C: a24 STORE 1 (UNCHANGEDSINCE 1) +FLAGS (x)
S: * OK [HIGHESTMODSEQ {{\d+}}] Highest
S: a24 OK [MODIFIED 1] Conditional STORE failed
C: a25 UID STORE 99 +FLAGS (x)
S: a25 OK UID STORE completed
C: a26 FETCH 1:3 FLAGS
S: * 1 FETCH (FLAGS (\Flagged \Seen $Work))
S: * 2 FETCH (FLAGS ())
S: * 3 FETCH (FLAGS (\Answered \Draft))
S: a26 OK FETCH completed
# EXAMINE is read-only.
C2: b6 EXAMINE INBOX
S2~: b6 OK [READ-ONLY] EXAMINE completed
C2: b7 STORE 1 +FLAGS (\Deleted)
S2: b7 NO [CANNOT] Mailbox is read-only
C2: b8 UID STORE 1 +FLAGS (\Deleted)
S2: b8 NO [CANNOT] Mailbox is read-only
