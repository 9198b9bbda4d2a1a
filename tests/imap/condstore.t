# CONDSTORE (RFC 7162 3.1) as the manual has it: HIGHESTMODSEQ only once
# enabled; MODSEQ in FETCH, CHANGEDSINCE, STORE UNCHANGEDSINCE with
# MODIFIED (sequence numbers, or UIDs for UID STORE), SEARCH MODSEQ with
# the highest MODSEQ of the hits; messages changed by one command share one
# MODSEQ; a STORE that changes nothing takes none; other sessions' changes
# arrive with MODSEQ.
% user alice
% deliver alice
| Subject: m1
|
| body 1
% deliver alice
| Subject: m2
|
| body 2
% deliver alice
| Subject: m3
|
| body 3
% deliver alice
| Subject: m4
|
| body 4

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted
S: * 4 EXISTS
S: * 4 RECENT
S: * OK [UNSEEN 1] First unseen
S: * OK [UIDVALIDITY {{uv:\d+}}] UIDs valid
S: * OK [UIDNEXT 5] Predicted next UID
S: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S: a2 OK [READ-WRITE] SELECT completed
C: a3 STORE 1 +FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Seen \Recent))
S: a3 OK STORE completed
C: a4 ENABLE CONDSTORE
S: a4 BAD ENABLE is not valid in this state
C: a5 FETCH 1 (FLAGS MODSEQ)
S: * OK [HIGHESTMODSEQ {{m0:\d+}}] Highest
S: * 1 FETCH (FLAGS (\Seen \Recent) MODSEQ (${m0}))
S: a5 OK FETCH completed
# One command, one MODSEQ for every message it changed.
C: a6 STORE 2:3 +FLAGS ($Work)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted
S: * 2 FETCH (FLAGS (\Recent $Work) MODSEQ ({{m1:\d+}}))
S: * 3 FETCH (FLAGS (\Recent $Work) MODSEQ (${m1}))
S: a6 OK STORE completed
# Nothing changes, nothing gets a new MODSEQ.
C: a7 STORE 2 -FLAGS (\Draft)
S: * 2 FETCH (FLAGS (\Recent $Work) MODSEQ (${m1}))
S: a7 OK STORE completed
C: a8 FETCH 1:* (UID) (CHANGEDSINCE ${m0})
S: * 2 FETCH (UID 2 MODSEQ (${m1}))
S: * 3 FETCH (UID 3 MODSEQ (${m1}))
S: a8 OK FETCH completed
# RFC 7162 3.1.3: message 2 changed since m0, so it is left alone.
C: a9 STORE 1:3 (UNCHANGEDSINCE ${m0}) +FLAGS.SILENT (\Deleted)
S: * 1 FETCH (MODSEQ ({{m2:\d+}}))
S: a9 OK [MODIFIED 2:3] Conditional STORE failed
# UID STORE: MODIFIED names UIDs; the others answer with their flags.
C: b1 UID STORE 1:4 (UNCHANGEDSINCE ${m1}) -FLAGS (\Deleted)
S: * 2 FETCH (UID 2 FLAGS (\Recent $Work) MODSEQ (${m1}))
S: * 3 FETCH (UID 3 FLAGS (\Recent $Work) MODSEQ (${m1}))
S: * 4 FETCH (UID 4 FLAGS (\Recent) MODSEQ ({{\d+}}))
S: b1 OK [MODIFIED 1] Conditional STORE failed
# UNCHANGEDSINCE 0 refuses every message.
C: b2 STORE 2:4 (UNCHANGEDSINCE 0) +FLAGS (\Answered)
S: b2 OK [MODIFIED 2:4] Conditional STORE failed
# SEARCH MODSEQ: the hits and the highest MODSEQ among them (RFC 7162 3.1.5).
C: b3 SEARCH MODSEQ ${m1}
S: * SEARCH 1 2 3 (MODSEQ ${m2})
S: b3 OK SEARCH completed
C: b4 SEARCH MODSEQ "/flags/\\deleted" all ${m2}
S: * SEARCH 1 (MODSEQ ${m2})
S: b4 OK SEARCH completed
C: b5 UID SEARCH RETURN (MIN MAX COUNT) MODSEQ ${m1}
S: * ESEARCH (TAG "b5") UID MIN 1 MAX 3 COUNT 3 MODSEQ ${m2}
S: b5 OK UID SEARCH completed
C: b6 STATUS INBOX (HIGHESTMODSEQ)
S: * STATUS INBOX (HIGHESTMODSEQ ${m2})
S: b6 OK STATUS completed
# Another session's change arrives with its MODSEQ.
C2: c1 LOGIN alice secret
S2: * OK ...
S2: c1 OK ...
C2: c2 SELECT INBOX
S2~: c2 OK [READ-WRITE] SELECT completed
C2: c3 STORE 4 +FLAGS.SILENT (\Flagged)
S2: c3 OK STORE completed
C: b7 NOOP
S: * 4 FETCH (UID 4 FLAGS (\Flagged \Recent) MODSEQ ({{m4:\d+}}))
S: b7 OK NOOP completed
C: b8 FETCH 1:4 (UID) (CHANGEDSINCE ${m2})
S: * 4 FETCH (UID 4 MODSEQ (${m4}))
S: b8 OK FETCH completed
# Expunging moves HIGHESTMODSEQ on, and the expunged MODSEQ is new.
C: b9 EXPUNGE
S: * 1 EXPUNGE
S: b9 OK [HIGHESTMODSEQ {{m5:\d+}}] EXPUNGE completed
C: d1 FETCH 1 (MODSEQ) (CHANGEDSINCE ${m4})
S: d1 OK FETCH completed
C: d2 STATUS INBOX (HIGHESTMODSEQ)
S: * STATUS INBOX (HIGHESTMODSEQ ${m5})
S: d2 OK STATUS completed
