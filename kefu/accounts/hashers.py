from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with cheap parameters, for tests and load-test fixtures only."""

    algorithm = "argon2"
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
