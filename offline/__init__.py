"""Run the real Pulumi program offline, under the SDK's mocks, with the real stack files."""
