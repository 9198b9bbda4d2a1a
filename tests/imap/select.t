# SELECT, EXAMINE (RFC 9051 6.3.2, 6.3.3; RFC 3501 6.3.1 for IMAP4rev1
# clients), CLOSE (6.4.1), UNSELECT (6.4.2), EXPUNGE (6.4.3), UID EXPUNGE
# (6.4.9, RFC 4315), CHECK (RFC 3501 6.4.1), STATUS (6.3.11) with SIZE,
# DELETED, APPENDLIMIT and CONDSTORE's HIGHESTMODSEQ.
% user alice
% deliver alice --flag \Seen
| Subject: one
|
| 1
% deliver alice --flag \Deleted --flag \Seen
| Subject: two
|
| 2
% deliver alice
| Subject: three
|
| 3
% deliver alice --flag \Deleted
| Subject: four
|
| 4
% deliver alice --flag \Deleted
| Subject: five
|
| 5

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 EXPUNGE
S: a2 BAD EXPUNGE is not valid in this state
C: a3 CLOSE
S: a3 BAD CLOSE is not valid in this state
C: a4 STATUS INBOX (MESSAGES UNSEEN DELETED RECENT UIDNEXT UIDVALIDITY SIZE)
S: * STATUS INBOX (MESSAGES 5 UIDNEXT 6 UIDVALIDITY {{uv:\d+}} UNSEEN 3 DELETED 3 SIZE {{\d+}} RECENT 5)
S: a4 OK STATUS completed
C: a5 STATUS INBOX (APPENDLIMIT)
S: * STATUS INBOX (APPENDLIMIT 67108864)
S: a5 OK STATUS completed
C: a6 STATUS INBOX (MAILBOXID)
S: * STATUS INBOX (MAILBOXID ({{inbox_id:I[0-9a-f]+}}))
S: a6 OK STATUS completed
C: a7 STATUS INBOX ()
S: a7 BAD ...
C: a8 STATUS INBOX MESSAGES
S: a8 BAD ...
C: a9 STATUS nosuch (MESSAGES)
S: a9 NO [NONEXISTENT] No such mailbox
# RFC 9051 6.3.11 example (items come back in our fixed order).
C: A041 CREATE blurdybloop
S: A041 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: A042 STATUS blurdybloop (UIDNEXT MESSAGES)
S: * STATUS blurdybloop (MESSAGES 0 UIDNEXT 1)
S: A042 OK STATUS completed
# EXAMINE: read-only, and \Recent is left for a read-write session.
C: b1 EXAMINE INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS ()] No permanent flags permitted
S: * 5 EXISTS
S: * 0 RECENT
S: * OK [UNSEEN 3] First unseen
S: * OK [UIDVALIDITY ${uv}] UIDs valid
S: * OK [UIDNEXT 6] Predicted next UID
S: * OK [MAILBOXID ({{[IM][0-9a-f]+}})] Mailbox id
S: b1 OK [READ-ONLY] EXAMINE completed
C: b2 EXPUNGE
S: b2 NO [CANNOT] Mailbox is read-only
C: b3 CHECK
S: b3 OK CHECK completed
C: b4 CLOSE
S: b4 OK CLOSE completed
C: b5 STATUS INBOX (MESSAGES RECENT)
S: * STATUS INBOX (MESSAGES 5 RECENT 5)
S: b5 OK STATUS completed
# SELECT claims \Recent; the next SELECT of the same mailbox closes the
# first one ([CLOSED]) and sees none left.
C: c1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
S: * 5 EXISTS
S: * 5 RECENT
S: * OK [UNSEEN 3] First unseen
S: * OK [UIDVALIDITY ${uv}] UIDs valid
S: * OK [UIDNEXT 6] Predicted next UID
S: * OK [MAILBOXID ({{[IM][0-9a-f]+}})] Mailbox id
S: c1 OK [READ-WRITE] SELECT completed
C: c2 SELECT INBOX
S: * OK [CLOSED] Previous mailbox closed
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
S: * 5 EXISTS
S: * 0 RECENT
S: * OK [UNSEEN 3] First unseen
S: * OK [UIDVALIDITY ${uv}] UIDs valid
S: * OK [UIDNEXT 6] Predicted next UID
S: * OK [MAILBOXID ({{[IM][0-9a-f]+}})] Mailbox id
S: c2 OK [READ-WRITE] SELECT completed
# STATUS of the selected mailbox is allowed.
C: c3 STATUS INBOX (MESSAGES)
S: * STATUS INBOX (MESSAGES 5)
S: c3 OK STATUS completed
# UID EXPUNGE removes only \Deleted messages inside the set.
C: d1 UID EXPUNGE 1:2
S: * 2 EXPUNGE
S: d1 OK UID EXPUNGE completed
C: d2 UID EXPUNGE 100:200
S: d2 OK UID EXPUNGE completed
C: d3 UID EXPUNGE
S: d3 BAD Usage: UID EXPUNGE uid-set
C: d4 UID EXPUNGE 1:x
S: d4 BAD Invalid sequence set
C: d5 UID FROB 1
S: d5 BAD Unknown command UID FROB
# EXPUNGE: the highest sequence number first, each one still valid.
C: e1 EXPUNGE
S: * 4 EXPUNGE
S: * 3 EXPUNGE
S: e1 OK EXPUNGE completed
C: e2 EXPUNGE now
S: e2 BAD EXPUNGE takes no arguments
C: e3 NOOP
S: e3 OK NOOP completed
C: e4 UNSELECT
S: e4 OK UNSELECT completed
C: e5 UNSELECT
S: e5 BAD UNSELECT is not valid in this state
C: e6 STATUS INBOX (MESSAGES UIDNEXT UNSEEN DELETED)
S: * STATUS INBOX (MESSAGES 2 UIDNEXT 6 UNSEEN 1 DELETED 0)
S: e6 OK STATUS completed
# A failed SELECT leaves no mailbox selected.
C: f1 SELECT INBOX
S~: f1 OK [READ-WRITE] SELECT completed
C: f2 SELECT nosuch
S: * OK [CLOSED] Previous mailbox closed
S: f2 NO [NONEXISTENT] No such mailbox
C: f3 CHECK
S: f3 BAD CHECK is not valid in this state
C: f4 SELECT
S: f4 BAD Usage: SELECT mailbox [(CONDSTORE)] [(QRESYNC (uidvalidity modseq [known-uids]))]
C: f6 SELECT ""
S: f6 NO [NONEXISTENT] No such mailbox
C: f7 EXAMINE "#news"
S: f7 NO [NONEXISTENT] No such mailbox
C: f8 STATUS "a%b" (MESSAGES)
S: f8 NO [NONEXISTENT] No such mailbox
C: f5 SELECT INBOX (QRESYNC (1 2))
S: f5 BAD QRESYNC must be enabled first
# CONDSTORE (RFC 7162 3.1.8): the SELECT parameter turns it on.
C: g1 SELECT INBOX (CONDSTORE)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
S: * 2 EXISTS
S: * 0 RECENT
S: * OK [UNSEEN 2] First unseen
S: * OK [UIDVALIDITY ${uv}] UIDs valid
S: * OK [UIDNEXT 6] Predicted next UID
S: * OK [HIGHESTMODSEQ {{ms:\d+}}] Highest
S: * OK [MAILBOXID (${inbox_id})] Mailbox id
S: g1 OK [READ-WRITE] SELECT completed
C: g2 STATUS INBOX (HIGHESTMODSEQ MESSAGES)
S: * STATUS INBOX (MESSAGES 2 HIGHESTMODSEQ ${ms})
S: g2 OK STATUS completed
C: g3 EXPUNGE
S: g3 OK [HIGHESTMODSEQ ${ms}] EXPUNGE completed
# CLOSE expunges silently (no \Deleted left here, so nothing to see).
C: g4 CLOSE
S: g4 OK CLOSE completed
C: g5 CLOSE
S: g5 BAD CLOSE is not valid in this state
C: z1 LOGOUT
S: * BYE Logging out
S: z1 OK LOGOUT completed
