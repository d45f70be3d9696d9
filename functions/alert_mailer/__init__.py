"""The alert mailer: each notification of the account's alert topic as a readable email (SNS's
own email for a CloudWatch alarm is its raw JSON)."""
