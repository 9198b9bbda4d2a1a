# APPEND (RFC 9051 6.3.12), MULTIAPPEND (RFC 3502), APPENDUID (RFC 4315):
# synchronizing and LITERAL+ literals, flags and internal date kept, a
# missing mailbox is [TRYCREATE] before any data is asked for, bad
# arguments are BAD and a literal the client sends anyway is swallowed,
# MULTIAPPEND is all or nothing, and another session hears of new mail.
% user alice

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 ENABLE IMAP4rev2
S2: * ENABLED IMAP4rev2
S2: b2 OK ...
C2: b3 SELECT INBOX
S2~: b3 OK [READ-WRITE] SELECT completed
C: a3 APPEND INBOX (\Seen $Work \Recent) "17-Jul-1996 02:44:25 -0700" {21}
S: + Ready for literal data
C: Subject: hello
C:
C: hi!
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted
S: * 1 EXISTS
S: * 1 RECENT
S: a3 OK [APPENDUID {{uv:\d+}} 1] APPEND completed
C: a4 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])
S: * 1 FETCH (FLAGS (\Seen \Recent $Work) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 21 BODY[] {21}
S: Subject: hello
S:
S: hi!)
S: a4 OK FETCH completed
C2: b4 NOOP
S2: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S2: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted
S2: * 1 EXISTS
S2: b4 OK NOOP completed
# LITERAL+: no continuation request; a day of one digit and no date at all.
C: a5 APPEND INBOX {5+}
C: hello
S: * 2 EXISTS
S: * 2 RECENT
S: a5 OK [APPENDUID ${uv} 2] APPEND completed
C: a6 APPEND INBOX () " 1-Feb-2001 23:59:60 +1400" {5+}
C: hello
S: * 3 EXISTS
S: * 3 RECENT
S: a6 OK [APPENDUID ${uv} 3] APPEND completed
C: a7 FETCH 3 INTERNALDATE
S: * 3 FETCH (INTERNALDATE " 2-Feb-2001 00:00:00 +1400")
S: a7 OK FETCH completed
# Refused before the data: no "+", the client sends nothing more.
C: a8 APPEND Nowhere {5}
S: a8 NO [TRYCREATE] No such mailbox
C: a9 APPEND INBOX "31-Feb-2020 00:00:00 +0000" {5}
S: a9 BAD Invalid date-time (expected "17-Jul-1996 02:44:25 -0700")
C: a10 APPEND INBOX {0}
S: a10 NO [CANNOT] Empty messages are not stored
C: a11 APPEND INBOX {67108865}
S: a11 NO [TOOBIG] Message over the APPENDLIMIT
C: a12 APPEND INBOX (\Bogus) {5}
S: a12 BAD Unknown system flag
C: a13 APPEND INBOX (\Seen) "17-Jul-1996 02:44:25 -0700" extra {5}
S: a13 BAD Usage: APPEND mailbox [(flags)] ["date-time"] {size}
C: a14 APPEND
S: a14 BAD Usage: APPEND mailbox [(flags)] ["date-time"] {size}
C: a15 APPEND INBOX
S: a15 BAD Usage: APPEND mailbox [(flags)] ["date-time"] {size}
# Refused, but LITERAL+ data comes anyway: swallowed, the next command runs.
C: a16 APPEND Nowhere (\Seen) {12+}
C: a17 NOOP abc
S: a16 NO [TRYCREATE] No such mailbox
C: a18 APPEND INBOX (\Bogus) {5+}
C: hello {3+}
C: abc
S: a18 BAD Unknown system flag
C: a19 NOOP
S: a19 OK NOOP completed
# MULTIAPPEND: one transaction, consecutive UIDs.
C: a20 APPEND INBOX {3}
S: + Ready for literal data
C: one (\Flagged) {3}
S: + Ready for literal data
C: two
S: * 5 EXISTS
S: * 5 RECENT
S: a20 OK [APPENDUID ${uv} 4:5] APPEND completed
C: a21 APPEND INBOX {3+}
C: one (\Bogus) {3+}
C: two
S: a21 BAD Unknown system flag
C: a22 APPEND INBOX {3+}
C: one {3+}
C: two junk
S: a22 BAD {{.*}}
C: a23 FETCH 4:* (UID FLAGS)
S: * 4 FETCH (UID 4 FLAGS (\Recent))
S: * 5 FETCH (UID 5 FLAGS (\Flagged \Recent))
S: a23 OK FETCH completed
C: a24 STATUS Archive (MESSAGES UIDNEXT)
S: * STATUS Archive (MESSAGES 0 UIDNEXT 1)
S: a24 OK STATUS completed
C: a25 APPEND Archive {7+}
C: archive
S: a25 OK [APPENDUID {{auv:\d+}} 1] APPEND completed
C2: b5 NOOP
S2: * 5 EXISTS
S2: b5 OK NOOP completed
