"""The stream forwarder: a table's DynamoDB stream records, as change envelopes, to Kinesis."""
