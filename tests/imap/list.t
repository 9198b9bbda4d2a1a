# LIST (RFC 9051 6.3.9), LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154),
# CHILDREN (RFC 3348), LIST-STATUS (RFC 5819), LSUB (RFC 3501 6.3.9), XLIST.
% user alice

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
# RFC 9051 6.3.9: the empty pattern asks for the delimiter.
C: A101 LIST "" ""
S: * LIST (\Noselect) "/" ""
S: A101 OK LIST completed
C: a2 LIST "" *
S: * LIST (\HasNoChildren \Archive) "/" Archive
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * LIST (\Noinferiors) "/" INBOX
S: * LIST (\HasNoChildren \Sent) "/" Sent
S: * LIST (\HasNoChildren \Junk) "/" Spam
S: * LIST (\HasNoChildren \Trash) "/" Trash
S: a2 OK LIST completed
C: a3 CREATE Work/Projects/2024
S: a3 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: a4 CREATE "Work/Tom & Jerry"
S: a4 NO [CANNOT] Mailbox name is not valid modified UTF-7
C: a4 CREATE "Work/Tom &- Jerry"
S: a4 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: a5 CREATE Work/&ZeVnLIqe-
S: a5 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
# '%' stops at the delimiter, '*' does not; the reference is a prefix.
C: b1 LIST "" %
S: * LIST (\HasNoChildren \Archive) "/" Archive
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * LIST (\Noinferiors) "/" INBOX
S: * LIST (\HasNoChildren \Sent) "/" Sent
S: * LIST (\HasNoChildren \Junk) "/" Spam
S: * LIST (\HasNoChildren \Trash) "/" Trash
S: * LIST (\HasChildren) "/" Work
S: b1 OK LIST completed
C: b2 LIST Work/ %
S: * LIST (\HasChildren) "/" Work/Projects
S: * LIST (\HasNoChildren) "/" "Work/Tom &- Jerry"
S: * LIST (\HasNoChildren) "/" Work/&ZeVnLIqe-
S: b2 OK LIST completed
C: b3 LIST "" Work*
S: * LIST (\HasChildren) "/" Work
S: * LIST (\HasChildren) "/" Work/Projects
S: * LIST (\HasNoChildren) "/" Work/Projects/2024
S: * LIST (\HasNoChildren) "/" "Work/Tom &- Jerry"
S: * LIST (\HasNoChildren) "/" Work/&ZeVnLIqe-
S: b3 OK LIST completed
C: b4 LIST "" Work/%/%
S: * LIST (\HasNoChildren) "/" Work/Projects/2024
S: b4 OK LIST completed
# INBOX in any case; other names are case-sensitive.
C: b5 LIST "" inbox
S: * LIST (\Noinferiors) "/" INBOX
S: b5 OK LIST completed
C: b6 LIST "" work
S: b6 OK LIST completed
C: b7 LIST "" /Work//Projects
S: * LIST (\HasChildren) "/" Work/Projects
S: b7 OK LIST completed
C: b8 LIST "" nosuch*
S: b8 OK LIST completed
# LIST-EXTENDED: several patterns, selection and return options.
C: c1 LIST "" (INBOX Drafts "Work/Tom &- Jerry")
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * LIST (\Noinferiors) "/" INBOX
S: * LIST (\HasNoChildren) "/" "Work/Tom &- Jerry"
S: c1 OK LIST completed
C: c2 LIST (SPECIAL-USE) "" *
S: * LIST (\HasNoChildren \Archive) "/" Archive
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * LIST (\HasNoChildren \Sent) "/" Sent
S: * LIST (\HasNoChildren \Junk) "/" Spam
S: * LIST (\HasNoChildren \Trash) "/" Trash
S: c2 OK LIST completed
C: c3 LIST "" % RETURN (SUBSCRIBED CHILDREN)
S: * LIST (\HasNoChildren \Subscribed \Archive) "/" Archive
S: * LIST (\HasNoChildren \Subscribed \Drafts) "/" Drafts
S: * LIST (\Noinferiors \Subscribed) "/" INBOX
S: * LIST (\HasNoChildren \Subscribed \Sent) "/" Sent
S: * LIST (\HasNoChildren \Subscribed \Junk) "/" Spam
S: * LIST (\HasNoChildren \Subscribed \Trash) "/" Trash
S: * LIST (\HasChildren) "/" Work
S: c3 OK LIST completed
C: c4 SUBSCRIBE Work/Projects/2024
S: c4 OK SUBSCRIBE completed
C: c5 SUBSCRIBE Gone/Away
S: c5 OK SUBSCRIBE completed
C: c6 LIST (SUBSCRIBED) "" Work*
S: * LIST (\HasNoChildren \Subscribed) "/" Work/Projects/2024
S: c6 OK LIST completed
# RFC 5258 example style: a parent with a subscribed child, and a
# subscribed name that is no mailbox (\NonExistent) under a missing parent.
C: c7 LIST (SUBSCRIBED RECURSIVEMATCH) "" %
S: * LIST (\HasNoChildren \Subscribed \Archive) "/" Archive
S: * LIST (\HasNoChildren \Subscribed \Drafts) "/" Drafts
S: * LIST (\NonExistent) "/" Gone ("CHILDINFO" ("SUBSCRIBED"))
S: * LIST (\Noinferiors \Subscribed) "/" INBOX
S: * LIST (\HasNoChildren \Subscribed \Sent) "/" Sent
S: * LIST (\HasNoChildren \Subscribed \Junk) "/" Spam
S: * LIST (\HasNoChildren \Subscribed \Trash) "/" Trash
S: * LIST (\HasChildren) "/" Work ("CHILDINFO" ("SUBSCRIBED"))
S: c7 OK LIST completed
C: c8 LIST (SUBSCRIBED) "" Gone/*
S: * LIST (\NonExistent \Subscribed) "/" Gone/Away
S: c8 OK LIST completed
C: c9 LIST (RECURSIVEMATCH) "" %
S: c9 BAD Usage: LIST [(options)] reference pattern [RETURN (options)]
C: c10 LIST (BOGUS) "" %
S: c10 BAD ...
C: c11 LIST "" % RETURN (BOGUS)
S: c11 BAD ...
C: c12 LIST "" % RETURN
S: c12 BAD ...
# LIST-STATUS: a STATUS after each selectable mailbox.
C: d1 LIST "" (INBOX Work) RETURN (STATUS (MESSAGES UIDNEXT SIZE))
S: * LIST (\Noinferiors) "/" INBOX
S: * STATUS INBOX (MESSAGES 0 UIDNEXT 1 SIZE 0)
S: * LIST (\HasChildren) "/" Work
S: * STATUS Work (MESSAGES 0 UIDNEXT 1 SIZE 0)
S: d1 OK LIST completed
C: d2 LIST "" INBOX RETURN (STATUS (BOGUS))
S: d2 BAD ...
# LSUB (IMAP4rev1): '%' shows an unsubscribed parent as \Noselect.
C: e1 LSUB "" Work/%
S: * LSUB (\Noselect) "/" Work/Projects
S: e1 OK LSUB completed
C: e2 LSUB "" Work/*
S: * LSUB () "/" Work/Projects/2024
S: e2 OK LSUB completed
C: e3 LSUB "" Gone*
S: * LSUB (\Noselect) "/" Gone/Away
S: e3 OK LSUB completed
# XLIST: Gmail's names for the special uses, and \Inbox.
C: f1 XLIST "" %
S: * XLIST (\HasNoChildren \Archive) "/" Archive
S: * XLIST (\HasNoChildren \Drafts) "/" Drafts
S: * XLIST (\Noinferiors \Inbox) "/" INBOX
S: * XLIST (\HasNoChildren \Sent) "/" Sent
S: * XLIST (\HasNoChildren \Spam) "/" Spam
S: * XLIST (\HasNoChildren \Trash) "/" Trash
S: * XLIST (\HasChildren) "/" Work
S: f1 OK XLIST completed
# Bad syntax.
C: g1 LIST
S: g1 BAD ...
C: g2 LIST ""
S: g2 BAD ...
C: g3 LIST "" % extra
S: g3 BAD ...
# With UTF-8 enabled, names go out as UTF-8 and '&' is plain.
C: h1 ENABLE UTF8=ACCEPT
S: * ENABLED UTF8=ACCEPT
S: h1 OK ENABLE completed
C: h2 LIST "" Work/%
S: * LIST (\HasChildren) "/" Work/Projects
S: * LIST (\HasNoChildren) "/" "Work/Tom & Jerry"
S: * LIST (\HasNoChildren) "/" "Work/日本語"
S: h2 OK LIST completed
C: h3 LIST "" "Work/日*"
S: * LIST (\HasNoChildren) "/" "Work/日本語"
S: h3 OK LIST completed
# IMAP4rev2 clients have no LSUB.
C: h4 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: h4 OK ENABLE completed
C: h5 LSUB "" *
S: h5 BAD LSUB is not part of IMAP4rev2; use LIST
