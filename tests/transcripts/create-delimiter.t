# CREATE with a trailing hierarchy delimiter (RFC 9051 6.3.4) declares
# that names will be created under it; the server creates the name
# without it.  One trailing delimiter is left out once a LIST or LSUB
# response told the session the delimiter; before that the name is
# reported as sent.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 CREATE Foo.
S: b1 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Foo. mailboxID=imap://alice@mail.example.net/Foo.
# RFC 9051 6.3.9: LIST "" "" tells the delimiter
C: b2 LIST "" ""
S: * LIST (\Noselect) "." ""
S: b2 OK List completed.
E: -
C: b3 CREATE Bar.
S: b3 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Bar mailboxID=imap://alice@mail.example.net/Bar
C: b4 CREATE "Baz/"
S: b4 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Baz/ mailboxID=imap://alice@mail.example.net/Baz/
# one delimiter only
C: b5 CREATE {5}
S: + OK
C: Qux..
S: b5 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Qux. mailboxID=imap://alice@mail.example.net/Qux.
# the delimiter alone is a name as it is
C: b6 CREATE "."
S: b6 NO Invalid mailbox name
E: -
# other commands' names are not touched
C: b7 DELETE Bar.
S: b7 OK Delete completed.
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Bar. mailboxID=imap://alice@mail.example.net/Bar.
# another delimiter, from an LSUB response
C: c1 LSUB "" "*"
S: * LSUB () "/" Work/Sub
S: c1 OK Lsub completed.
C: c2 CREATE Work/
S: c2 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Work mailboxID=imap://alice@mail.example.net/Work
