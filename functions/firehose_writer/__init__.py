"""The Firehose writer: the envelopes of a Kinesis stream, as lines, to its Firehose stream."""
