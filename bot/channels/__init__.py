"""Channel adapters: each translates one platform to and from the core types, nothing else."""
