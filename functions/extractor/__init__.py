"""The extractor: on a schedule, the declared columns of rows past each dataset's watermark, read
from the platforms' read replicas and written as gzip CSV parts to the landing bucket."""
