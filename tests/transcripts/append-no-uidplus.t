# A server without UIDPLUS: no UIDVALIDITY, no uidset.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 APPEND "Sent Items" (\Seen) {5+}
C: hello
S: b1 OK Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Sent%20Items mailboxID=imap://alice@mail.example.net/Sent%20Items messageSize=5 flagNames=\Seen
C: b2 APPEND INBOX {1+}
C: x {1+}
C- y
C: 
S: b2 OK Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX messageSize=1
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX mailboxID=imap://alice@mail.example.net/INBOX messageSize=1
# a refused APPEND: no MessageAppend (over quota: QuotaExceed, quota-append.t)
C: b3 APPEND INBOX {1+}
C- x
C: 
S: b3 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/INBOX
