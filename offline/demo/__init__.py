"""`make demo`: the whole platform on one machine, from the real stack files (offline/demo/run.py).

blueprint: what the mocked runs register (resources, functions, triggers); emulator: moto with
them in each account; samples and sources: the platforms' data, in SQLite and DynamoDB;
sqlite_replicas: the extractor's connector to those files; lambdas: the functions run in this
process; events: their triggers played; stages: the data paths; progress and summary: output.
"""
