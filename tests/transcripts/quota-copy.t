# COPY, UID COPY and MOVE refused for quota: QuotaExceed with the
# destination mailbox.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 4 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: b1 OK [READ-WRITE] Ok
C: b2 GETQUOTA ""
S: * QUOTA "" (STORAGE 10 512)
S: b2 OK Getquota completed.
E: -
C: c1 COPY 1:4 Archive
S: c1 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Archive diskUsed=10 diskQuota=512
C: c2 UID COPY 1:* "Sent Items"
S: c2 NO Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Sent%20Items diskUsed=10 diskQuota=512
C: c3 UID MOVE 3 Trash
S: c3 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Trash diskUsed=10 diskQuota=512
# the destination as a literal
C: c4 COPY 1 {7}
S: + OK
C: Archive
S: c4 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Archive diskUsed=10 diskQuota=512
# refused for something else: nothing
C: c5 COPY 1:2 Nope
S: c5 NO [TRYCREATE] Mailbox doesn't exist: Nope
E: -
C: c6 MOVE 1:2 Nope
S: c6 BAD [OVERQUOTA] Error in IMAP command
E: -
