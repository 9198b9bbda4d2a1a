# OBJECTID (RFC 8474) and SAVEDATE (RFC 8514) as the manual has them:
# MAILBOXID "I..." for INBOX and "M..." for others, in CREATE, SELECT,
# STATUS and LIST-STATUS, kept by RENAME; EMAILID "E...", the same for a
# copy; THREADID always NIL; SAVEDATE in FETCH and in SEARCH;
# CREATE-SPECIAL-USE with \Important (RFC 8457), \All refused.
% user alice
% deliver alice
| Subject: one
|
| 1

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 CREATE Projects (USE (\Important))
S: a2 OK [MAILBOXID ({{pid:M[0-9a-f]+}})] CREATE completed
C: a3 CREATE Everything (USE (\All))
S: a3 NO [USEATTR] Unsupported special use
C: a4 STATUS Projects (MAILBOXID MESSAGES)
S: * STATUS Projects (MESSAGES 0 MAILBOXID (${pid}))
S: a4 OK STATUS completed
C: a5 RENAME Projects Work
S: a5 OK RENAME completed
C: a6 LIST "" "Work" RETURN (SPECIAL-USE STATUS (MAILBOXID))
S: * LIST (\HasNoChildren \Important) "/" Work
S: * STATUS Work (MAILBOXID (${pid}))
S: a6 OK LIST completed
C: a7 SELECT INBOX
S~: * OK [MAILBOXID ({{iid:I[0-9a-f]+}})] Mailbox id
S: a7 OK [READ-WRITE] SELECT completed
C: a8 FETCH 1 (EMAILID THREADID SAVEDATE)
S: * 1 FETCH (EMAILID ({{eid:E[0-9a-f]+}}) THREADID NIL SAVEDATE "{{[ 0-9][0-9]-[A-Z][a-z][a-z]-20[0-9][0-9] [0-9:]+ [-+][0-9]+}}")
S: a8 OK FETCH completed
C: b1 STATUS Work (UIDVALIDITY)
S: * STATUS Work (UIDVALIDITY {{wuv:\d+}})
S: b1 OK STATUS completed
C: a9 COPY 1 Work
S: a9 OK [COPYUID ${wuv} 1 1] COPY completed
C: b2 EXAMINE Work
S~: * OK [MAILBOXID (${pid})] Mailbox id
S: b2 OK [READ-ONLY] EXAMINE completed
C: b3 FETCH 1 (EMAILID)
S: * 1 FETCH (EMAILID (${eid}))
S: b3 OK FETCH completed
C: b4 SEARCH SAVEDATESUPPORTED SAVEDSINCE 1-Jan-2000
S: * SEARCH 1
S: b4 OK SEARCH completed
C: b5 SEARCH SAVEDBEFORE 1-Jan-2000
S: * SEARCH
S: b5 OK SEARCH completed
C: b6 SEARCH EMAILID ${eid}
S: * SEARCH 1
S: b6 OK SEARCH completed
C: b7 SEARCH THREADID T1
S: * SEARCH
S: b7 OK SEARCH completed
