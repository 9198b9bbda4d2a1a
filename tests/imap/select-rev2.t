# SELECT for an IMAP4rev2 client (RFC 9051 6.3.2): no RECENT, no UNSEEN,
# a LIST response with the name; CLOSE expunging silently (6.4.1).
% user alice
% deliver alice --flag \Deleted
| Subject: one
|
| 1
% deliver alice
| Subject: two
|
| 2

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: a2 OK ENABLE completed
C: A142 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
S: * 2 EXISTS
S: * OK [UIDVALIDITY {{\d+}}] UIDs valid
S: * OK [UIDNEXT 3] Predicted next UID
S: * OK [MAILBOXID ({{[IM][0-9a-f]+}})] Mailbox id
S: * LIST () "/" INBOX
S: A142 OK [READ-WRITE] SELECT completed
C: a3 STATUS INBOX (RECENT)
S: a3 BAD Usage: STATUS mailbox (item ...)
C: a4 CLOSE
S: a4 OK CLOSE completed
C: a5 STATUS INBOX (MESSAGES DELETED)
S: * STATUS INBOX (MESSAGES 1 DELETED 0)
S: a5 OK STATUS completed
C: a6 EXAMINE Spam
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS ()] No permanent flags permitted
S: * 0 EXISTS
S: * OK [UIDVALIDITY {{\d+}}] UIDs valid
S: * OK [UIDNEXT 1] Predicted next UID
S: * OK [MAILBOXID ({{[IM][0-9a-f]+}})] Mailbox id
S: * LIST () "/" Spam
S: a6 OK [READ-ONLY] EXAMINE completed
