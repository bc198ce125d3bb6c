"""The pure core: detection, mail reading, policies, planning, composition and their models.

Plain data in, plain data out: no I/O, no clock (time is a parameter), no provider, no store.
Everything here can be called from a test, a benchmark, the single-user runner or a worker of
the service alike, and decides the same way in each.
"""
