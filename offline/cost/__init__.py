"""`make cost`: a monthly cost estimate of one stack from a mocked run of its real stack file.

`prices` loads the dated price table, `volumes` the stated workload, `rules` price each
resource type, `estimate` walks the graph, `render` prints it, `__main__` is the command.
"""
