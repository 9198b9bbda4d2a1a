# IDLE (RFC 9051 6.3.13, RFC 2177): a delivery made by `sealmail deliver`
# while the client idles is reported at once; DONE ends it.
% user alice
% deliver alice
| Subject: first
|
| one

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
S: * 1 EXISTS
S: * 1 RECENT
S: * OK [UNSEEN 1] First unseen
S: * OK [UIDVALIDITY {{uv:\d+}}] UIDs valid
S: * OK [UIDNEXT 2] Predicted next UID
S: * OK [MAILBOXID ({{[IM][0-9a-f]+}})] Mailbox id
S: a2 OK [READ-WRITE] SELECT completed
C: a3 IDLE
S: + idling
! deliver alice
| Subject: second
|
| two
S: * 2 EXISTS
S: * 2 RECENT
! deliver alice
| Subject: third
|
| three
S: * 3 EXISTS
S: * 3 RECENT
C: DONE
S: a3 OK IDLE terminated
# A second session sees the mail but not as \Recent: it was claimed.
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 SELECT INBOX
S2~: * 3 EXISTS
S2: * 0 RECENT
S2~: b2 OK [READ-WRITE] SELECT completed
C2: b3 IDLE
S2: + idling
C: a4 EXPUNGE
S: a4 OK EXPUNGE completed
C2: done
S2: b3 OK IDLE terminated
C: a5 LOGOUT
S: * BYE Logging out
S: a5 OK LOGOUT completed
