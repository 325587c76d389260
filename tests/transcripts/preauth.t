# PREAUTH greeting: logged in, user unknown; no Login, no Logout.
S: * PREAUTH [CAPABILITY IMAP4rev1] Logged in as somebody
E: -
C: a1 CREATE Stuff
S: a1 OK Create completed.
E: MailboxCreate clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://mail.example.net/Stuff mailboxID=imap://mail.example.net/Stuff
END: abort
