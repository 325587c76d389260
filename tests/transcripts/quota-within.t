# After a QuotaExceed, the first QUOTA response with every resource under
# its limit gives QuotaWithin, once per exceed.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 2 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: b1 OK [READ-WRITE] Ok
# a QUOTA response under the limits before any exceed: nothing
C: b2 GETQUOTAROOT INBOX
S: * QUOTAROOT INBOX ""
S: * QUOTA "" (STORAGE 100 512 MESSAGE 2 2)
S: b2 OK Getquotaroot completed.
E: -
C: b3 APPEND INBOX {2}
S: b3 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/INBOX messages=2 diskUsed=100 diskQuota=512 maxMessages=2
# still at a limit: nothing
C: b4 GETQUOTA ""
S: * QUOTA "" (STORAGE 100 512 MESSAGE 2 2)
S: b4 OK Getquota completed.
E: -
C: b5 FETCH 1 (UID)
S: * 1 FETCH (UID 7)
S: b5 OK Fetch completed.
C: b6 EXPUNGE
S: * 1 EXPUNGE
S: b6 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=7 messages=1
# other resources count too (RFC 9208)
C: b7 GETQUOTAROOT INBOX
S: * QUOTAROOT INBOX ""
S: * QUOTA "" (STORAGE 90 512 MESSAGE 1 2 MAILBOX 5 5)
S: b7 OK Getquotaroot completed.
E: -
C: b8 GETQUOTAROOT INBOX
S: * QUOTAROOT INBOX ""
S: * QUOTA "" (STORAGE 90 512 MESSAGE 1 2 MAILBOX 4 5)
S: b8 OK Getquotaroot completed.
E: QuotaWithin user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net messages=1 diskUsed=90 diskQuota=512 maxMessages=2
# reported once
C: b9 GETQUOTA ""
S: * QUOTA "" (STORAGE 90 512 MESSAGE 1 2)
S: b9 OK Getquota completed.
E: -
# a QUOTA response that does not read is not learned
C: b10 GETQUOTA ""
S: * QUOTA "" (STORAGE 90)
S: * QUOTA "" STORAGE 1 2
S: b10 OK Getquota completed.
E: -
C: b11 COPY 1 Archive
S: b11 NO [OVERQUOTA] Quota exceeded
E: QuotaExceed user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net mailboxID=imap://alice@mail.example.net/Archive messages=1 diskUsed=90 diskQuota=512 maxMessages=2
# unsolicited, with another command
C: b12 NOOP
S: * QUOTA "" (STORAGE 80 512 MESSAGE 1 2)
S: b12 OK Noop completed.
E: QuotaWithin user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net messages=1 diskUsed=80 diskQuota=512 maxMessages=2
