"""Copies the stream pipeline's files from a source account's staging bucket into the hub's
landing bucket, converting DynamoDB's Kinesis-destination records into change envelopes."""
