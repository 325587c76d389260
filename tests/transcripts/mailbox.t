# Mailbox management, a refused command, modified UTF-7, INBOX, literals.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 CREATE Projects
S: b1 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Projects mailboxID=imap://alice@mail.example.net/Projects
C: b2 CREATE Projects
S: b2 NO [ALREADYEXISTS] Mailbox already exists
E: -
C: b3 SUBSCRIBE "Projects"
S: b3 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Projects mailboxID=imap://alice@mail.example.net/Projects
C: b4 RENAME Projects "Old Stuff/2023"
S: b4 OK Rename completed.
E: MailboxRename user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Old%20Stuff/2023 mailboxID=imap://alice@mail.example.net/Old%20Stuff/2023 oldMailboxID=imap://alice@mail.example.net/Projects
C: b5 UNSUBSCRIBE Projects
S: b5 OK Unsubscribe completed.
E: MailboxUnSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Projects mailboxID=imap://alice@mail.example.net/Projects
C: b6 DELETE "Old Stuff/2023"
S: b6 OK Delete completed.
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Old%20Stuff/2023 mailboxID=imap://alice@mail.example.net/Old%20Stuff/2023
C: b7 DELETE Nope
S: b7 NO [NONEXISTENT] Mailbox doesn't exist: Nope
E: -
# 日本語 in modified UTF-7 (RFC 3501 5.1.3), as UTF-8 percent-encoded in the URL
C: b8 CREATE &ZeVnLIqe-
S: b8 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/%E6%97%A5%E6%9C%AC%E8%AA%9E mailboxID=imap://alice@mail.example.net/%E6%97%A5%E6%9C%AC%E8%AA%9E
# "&-" is "&"; "Caf&AOk-" is Café
C: b9 CREATE "R&-D/Caf&AOk-"
S: b9 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/R%26D/Caf%C3%A9 mailboxID=imap://alice@mail.example.net/R%26D/Caf%C3%A9
# not valid modified UTF-7: the name as it is
C: c1 CREATE "&Jjo!"
S: c1 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/%26Jjo%21 mailboxID=imap://alice@mail.example.net/%26Jjo%21
# INBOX is case-insensitive (RFC 9051 5.1)
C: c2 SUBSCRIBE inbox
S: c2 OK Subscribe completed.
E: MailboxSubscribe user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX
# a mailbox name as a synchronizing literal, and as a LITERAL+ one
C: c3 CREATE {8}
S: + OK
C: Lit Name
S: c3 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Lit%20Name mailboxID=imap://alice@mail.example.net/Lit%20Name
C: c4 RENAME {3+}
C: One {3+}
C: Two
S: c4 OK Rename completed.
E: MailboxRename user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Two mailboxID=imap://alice@mail.example.net/Two oldMailboxID=imap://alice@mail.example.net/One
# UID commands are tracked too (no events in this scope)
C: c5 UID FETCH 1:* (FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Seen))
S: c5 OK Fetch completed.
E: -
