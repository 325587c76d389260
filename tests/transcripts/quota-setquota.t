# SETQUOTA (RFC 9208 4.1.3) answered OK: QuotaChange with the limits set.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SETQUOTA "" (STORAGE 512 MESSAGE 100)
S: * QUOTA "" (STORAGE 10 512 MESSAGE 3 100)
S: b1 OK Setquota completed.
E: QuotaChange user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net diskQuota=512 maxMessages=100
C: b2 SETQUOTA user.bob (STORAGE 2048)
S: b2 OK Setquota completed.
E: QuotaChange user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net diskQuota=2048
# all limits removed
C: b3 SETQUOTA "" ()
S: b3 OK Setquota completed.
E: QuotaChange user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net
# refused: nothing
C: b4 SETQUOTA "" (STORAGE 512)
S: b4 NO [NOPERM] Permission denied
E: -
C: b5 SETQUOTA "" (STORAGE 512 MESSAGE)
S: b5 BAD Error in IMAP command
E: -
# a list that does not read: nothing
C: b6 SETQUOTA "" (STORAGE x)
S: b6 OK Setquota completed.
E: -
