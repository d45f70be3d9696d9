"""Code the stream pipeline's functions share: change envelopes, batching and retries."""
