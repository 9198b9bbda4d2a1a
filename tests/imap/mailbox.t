# CREATE (RFC 9051 6.3.4, CREATE-SPECIAL-USE RFC 6154 3), DELETE (6.3.5),
# RENAME (6.3.6), SUBSCRIBE (6.3.7), UNSUBSCRIBE (6.3.8); name rules from
# the manual ("Mailboxes") and RFC 5530 codes.
% user alice

S: * OK ...
C: a0 CREATE x
S: a0 BAD CREATE is not valid in this state
C: a1 LOGIN alice secret
S: a1 OK ...
# RFC 9051 6.3.4 example: a trailing delimiter only declares the intent.
C: A003 CREATE owatagusiam/
S: A003 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: A004 CREATE owatagusiam/blurdybloop
S: A004 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: b1 CREATE owatagusiam
S: b1 NO [ALREADYEXISTS] Mailbox already exists
C: b2 CREATE inbox
S: b2 NO [ALREADYEXISTS] INBOX always exists
C: b3 CREATE INBOX/child
S: b3 NO [CANNOT] ...
C: b4 CREATE .hidden
S: b4 NO [CANNOT] ...
C: b5 CREATE "#news"
S: b5 NO [CANNOT] ...
C: b6 CREATE "a%b"
S: b6 NO [CANNOT] ...
C: b7 CREATE "a*b"
S: b7 NO [CANNOT] ...
C: b8 CREATE "a\\b"
S: b8 NO [CANNOT] ...
C: b9 CREATE ""
S: b9 NO [CANNOT] Empty mailbox name
C: b10 CREATE "/"
S: b10 NO [CANNOT] Empty mailbox name
C: b11 CREATE
S: b11 BAD ...
C: b12 CREATE "&Jjo"
S: b12 NO [CANNOT] Mailbox name is not valid modified UTF-7
# Leading and doubled delimiters are ignored; the parent is made too.
C: b13 CREATE //Deep//Down/
S: b13 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: b14 LIST "" Deep*
S: * LIST (\HasChildren) "/" Deep
S: * LIST (\HasNoChildren) "/" Deep/Down
S: b14 OK LIST completed
# CREATE-SPECIAL-USE: one known use; \All is not offered.
C: c1 CREATE Receipts (USE (\Archive))
S: c1 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: c2 LIST "" Receipts
S: * LIST (\HasNoChildren \Archive) "/" Receipts
S: c2 OK LIST completed
C: c3 CREATE Everything (USE (\All))
S: c3 NO [USEATTR] Unsupported special use
C: c4 CREATE Two (USE (\Sent \Drafts))
S: c4 NO [USEATTR] Unsupported special use
C: c5 CREATE Odd (USE (\Bogus))
S: c5 NO [USEATTR] Unsupported special use
C: c6 CREATE Odd (FOO (\Sent))
S: c6 BAD ...
C: c7 LIST "" Everything
S: c7 OK LIST completed
# RFC 9051 6.3.5 example: a mailbox with children becomes \Noselect; then
# deleting it again is refused.
C: d0 CREATE blurdybloop
S: d0 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: d1 CREATE foo/bar
S: d1 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: A683 DELETE blurdybloop
S: A683 OK DELETE completed
C: A684 DELETE foo
S: A684 OK DELETE completed
C: d2 LIST "" foo*
S: * LIST (\Noselect \HasChildren) "/" foo
S: * LIST (\HasNoChildren) "/" foo/bar
S: d2 OK LIST completed
C: d3 DELETE foo
S: d3 NO [HASCHILDREN] Mailbox has children
C: d4 DELETE foo/bar
S: d4 OK DELETE completed
C: d5 DELETE foo
S: d5 OK DELETE completed
C: d6 DELETE foo
S: d6 NO [NONEXISTENT] No such mailbox
C: d7 DELETE INBOX
S: d7 NO [CANNOT] INBOX cannot be deleted
C: d8 DELETE
S: d8 BAD Usage: DELETE mailbox
C: d10 DELETE .hidden
S: d10 NO [NONEXISTENT] No such mailbox
C: d9 SELECT foo
S: d9 NO [NONEXISTENT] No such mailbox
# RFC 9051 6.3.6: RENAME moves the children along.
C: r0 CREATE zoo/bar
S: r0 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: r1 RENAME zoo zowie
S: r1 OK RENAME completed
C: r2 LIST "" zo*
S: * LIST (\HasChildren) "/" zowie
S: * LIST (\HasNoChildren) "/" zowie/bar
S: r2 OK LIST completed
C: r3 RENAME nosuch other
S: r3 NO [NONEXISTENT] No such mailbox
C: r4 RENAME zowie Receipts
S: r4 NO [ALREADYEXISTS] Mailbox already exists
C: r5 RENAME zowie zowie/inside
S: r5 NO [CANNOT] ...
C: r6 RENAME zowie INBOX/x
S: r6 NO [CANNOT] ...
C: r7 RENAME zowie INBOX
S: r7 NO [ALREADYEXISTS] Mailbox already exists
C: r8 RENAME zowie ""
S: r8 NO [CANNOT] Empty mailbox name
C: r9 RENAME zowie
S: r9 BAD Usage: RENAME from to
C: r10 RENAME zowie/bar a/b/c
S: r10 OK RENAME completed
C: r11 LIST "" a*
S: * LIST (\HasChildren) "/" a
S: * LIST (\HasChildren) "/" a/b
S: * LIST (\HasNoChildren) "/" a/b/c
S: r11 OK LIST completed
# Renaming INBOX moves its messages into a new mailbox; INBOX stays.
C: r12 RENAME inbox "Old Inbox"
S: r12 OK RENAME completed
C: r13 LIST "" *nbox
S: * LIST (\Noinferiors) "/" INBOX
S: * LIST (\HasNoChildren) "/" "Old Inbox"
S: r13 OK LIST completed
# Subscriptions are names, whether or not the mailbox exists.
C: s1 SUBSCRIBE a/b/c
S: s1 OK SUBSCRIBE completed
C: s2 SUBSCRIBE never/made
S: s2 OK SUBSCRIBE completed
C: s3 LSUB "" *
S: * LSUB () "/" Archive
S: * LSUB () "/" Drafts
S: * LSUB () "/" INBOX
S: * LSUB () "/" Sent
S: * LSUB () "/" Spam
S: * LSUB () "/" Trash
S: * LSUB () "/" a/b/c
S: * LSUB (\Noselect) "/" never/made
S: s3 OK LSUB completed
C: s4 UNSUBSCRIBE never/made
S: s4 OK UNSUBSCRIBE completed
C: s5 UNSUBSCRIBE never/made
S: s5 OK UNSUBSCRIBE completed
C: s6 SUBSCRIBE ".bad"
S: s6 NO [CANNOT] ...
C: s7 SUBSCRIBE
S: s7 BAD Usage: SUBSCRIBE mailbox
C: s8 UNSUBSCRIBE a b
S: s8 BAD Usage: UNSUBSCRIBE mailbox
C: s9 LSUB "" a*
S: * LSUB () "/" a/b/c
S: s9 OK LSUB completed
