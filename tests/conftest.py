from hypothesis import settings

# numba compiles on first call, far beyond Hypothesis' default 200 ms deadline
settings.register_profile("wmvtrust", deadline=None)
settings.load_profile("wmvtrust")
