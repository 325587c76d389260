# SUBSCRIBE of a mailbox already subscribed, UNSUBSCRIBE of one that is
# not: the server answers OK and changes nothing (Dovecot's own record
# has no event).  No event when the session knows the state before: from
# LSUB and LIST responses and from its own commands.  When it does not
# know, the OK is reported as a change.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS LIST-EXTENDED] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
# nothing known yet: reported
C: b1 SUBSCRIBE Projects
S: b1 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Projects mailboxID=imap://alice@mail.example.net/Projects
# known from b1 (whatever the form of the name)
C: b2 SUBSCRIBE "Projects"
S: b2 OK Subscribe completed.
E: -
C: b3 UNSUBSCRIBE Projects
S: b3 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Projects mailboxID=imap://alice@mail.example.net/Projects
C: b4 UNSUBSCRIBE {8}
S: + OK
C: Projects
S: b4 OK Unsubscribe completed.
E: -
# refused: no event, nothing learned
C: b5 SUBSCRIBE Ghost
S: b5 NO Mailbox doesn't exist: Ghost
E: -
C: b6 UNSUBSCRIBE Ghost
S: b6 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Ghost mailboxID=imap://alice@mail.example.net/Ghost
# LSUB with "%" (RFC 3501 6.3.9): a \Noselect name may only be the
# parent of subscribed names; the others are subscribed
C: c1 LSUB "" "%"
S: * LSUB (\Noselect) "." Work
S: * LSUB () "." INBOX
S: * LSUB () "." "Old Stuff"
S: c1 OK Lsub completed.
E: -
C: c2 SUBSCRIBE Work
S: c2 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work mailboxID=imap://alice@mail.example.net/Work
C: c3 SUBSCRIBE inbox
S: c3 OK Subscribe completed.
E: -
C: c4 SUBSCRIBE "Old Stuff"
S: c4 OK Subscribe completed.
E: -
# not listed by a partial LSUB: unknown
C: c5 UNSUBSCRIBE Archive
S: c5 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive mailboxID=imap://alice@mail.example.net/Archive
# LSUB "" "*" lists every subscription: a name it leaves out is not
# subscribed
C: d1 LSUB "" "*"
S: * LSUB () "." Work.Sub
S: * LSUB () "." INBOX
S: d1 OK Lsub completed.
E: -
C: d2 UNSUBSCRIBE "Old Stuff"
S: d2 OK Unsubscribe completed.
E: -
C: d3 UNSUBSCRIBE Work.Sub
S: d3 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work.Sub mailboxID=imap://alice@mail.example.net/Work.Sub
C: d4 UNSUBSCRIBE Work.Sub
S: d4 OK Unsubscribe completed.
E: -
C: d5 SUBSCRIBE Trash
S: d5 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash mailboxID=imap://alice@mail.example.net/Trash
C: d6 SUBSCRIBE Trash
S: d6 OK Subscribe completed.
E: -
# INBOX in any case (RFC 9051 5.1)
C: d7 SUBSCRIBE iNbOx
S: d7 OK Subscribe completed.
E: -
# RENAME: the names it touched are unknown again (servers differ on
# whether subscriptions follow), and the listing no longer holds for
# names below the new one; what is known of other names stays
C: e1 RENAME Trash Bin
S: e1 OK Rename completed.
E: MailboxRename user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Bin mailboxID=imap://alice@mail.example.net/Bin oldMailboxID=imap://alice@mail.example.net/Trash
C: e2 SUBSCRIBE Trash
S: e2 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash mailboxID=imap://alice@mail.example.net/Trash
C: e3 UNSUBSCRIBE Nothing
S: e3 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Nothing mailboxID=imap://alice@mail.example.net/Nothing
C: e4 SUBSCRIBE INBOX
S: e4 OK Subscribe completed.
E: -
# DELETE: the name is unknown again
C: e5 DELETE Trash
S: e5 OK Delete completed.
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash mailboxID=imap://alice@mail.example.net/Trash
C: e6 SUBSCRIBE Trash
S: e6 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash mailboxID=imap://alice@mail.example.net/Trash
# LIST with the SUBSCRIBED return option (RFC 5258): each listed name's
# state; a name sent as a literal is not read
C: f1 LIST "" "*" RETURN (SUBSCRIBED)
S: * LIST (\HasNoChildren \Subscribed) "." Sent
S: * LIST (\HasNoChildren) "." Drafts
S: * LIST (\HasNoChildren) "." {4}
S: Junk
S: f1 OK List completed.
E: -
C: f2 SUBSCRIBE Sent
S: f2 OK Subscribe completed.
E: -
C: f3 UNSUBSCRIBE Drafts
S: f3 OK Unsubscribe completed.
E: -
C: f4 UNSUBSCRIBE Junk
S: f4 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Junk mailboxID=imap://alice@mail.example.net/Junk
# a plain LIST says nothing of subscriptions
C: f5 LIST "" "*"
S: * LIST (\HasNoChildren) "." Archive2
S: f5 OK List completed.
C: f6 UNSUBSCRIBE Archive2
S: f6 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive2 mailboxID=imap://alice@mail.example.net/Archive2
# LIST (SUBSCRIBED) "" "*" lists every subscription as well
C: g1 LIST (SUBSCRIBED) "" "*"
S: * LIST (\Subscribed) "." INBOX
S: g1 OK List completed.
E: -
C: g2 UNSUBSCRIBE Sent
S: g2 OK Unsubscribe completed.
E: -
C: g3 SUBSCRIBE Sent
S: g3 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Sent mailboxID=imap://alice@mail.example.net/Sent
# a partial LSUB changes nothing of that
C: g4 LSUB "" "Work*"
S: g4 OK Lsub completed.
C: g5 UNSUBSCRIBE Zzz
S: g5 OK Unsubscribe completed.
E: -
# a listing refused: the names it gave are subscribed all the same,
# the others are not known to be unsubscribed any better than before
C: g6 LSUB "" "*"
S: * LSUB () "." Zzz
S: g6 NO Lsub failed.
C: g7 UNSUBSCRIBE Zzz
S: g7 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Zzz mailboxID=imap://alice@mail.example.net/Zzz
