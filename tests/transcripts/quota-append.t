# APPEND refused for quota (OVERQUOTA, RFC 9208): QuotaExceed with the
# target mailbox; usage and limits only once a QUOTA response told them.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
# no QUOTA response yet: no values
C: b1 APPEND Drafts {10}
S: + OK
C: 0123456789
C: 
S: b1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Drafts
# GETQUOTAROOT (RFC 9208 4.1.2): STORAGE in KiB, MESSAGE a count
C: b2 GETQUOTAROOT INBOX
S: * QUOTAROOT INBOX "User quota"
S: * QUOTA "User quota" (STORAGE 1024 1024 MESSAGE 90 100)
S: b2 OK Getquotaroot completed.
E: -
# refused before the literal: the mailbox name is known all the same
C: b3 APPEND INBOX (\Seen) {2000}
S: b3 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/INBOX messages=90 diskUsed=1024 diskQuota=1024 maxMessages=100
# an older server: no code, the text says quota
C: b4 APPEND "Sent Items" {2}
S: + OK
C: ab
C: 
S: b4 NO [ALERT] Mailbox is over quota
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Sent%20Items messages=90 diskUsed=1024 diskQuota=1024 maxMessages=100
# a NO for another reason: nothing
C: b5 APPEND Nope {2}
S: + OK
C: ab
C: 
S: b5 NO [TRYCREATE] Mailbox doesn't exist: Nope
E: -
# OVERQUOTA in an OK is a warning (soft quota): nothing
C: b6 APPEND INBOX {2}
S: + OK
C: ab
C: 
S: * NO [OVERQUOTA] Soft quota has been exceeded
S: b6 OK [APPENDUID 1 9] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=9 messageSize=2
# the mailbox name a literal the server refused: no mailboxID
C: b7 APPEND {5}
S: b7 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net messages=90 diskUsed=1024 diskQuota=1024 maxMessages=100
# a number beyond number64 (RFC 9208): the response is not learned
C: b8 GETQUOTA ""
S: * QUOTA "" (STORAGE 99999999999999999999 2048)
S: b8 OK Getquota completed.
C: b9 APPEND INBOX {2}
S: b9 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/INBOX messages=90 diskUsed=1024 diskQuota=1024 maxMessages=100
# a NO for another reason, whose text says "quota" only in the mailbox's
# name: the response code gives the reason, no QuotaExceed
C: b10 APPEND Quotas {2}
S: b10 NO [TRYCREATE] Mailbox doesn't exist: Quotas
E: -
C: b11 APPEND "Over quota" {2}
S: b11 NO [NONEXISTENT] Mailbox doesn't exist: Over quota
E: -
