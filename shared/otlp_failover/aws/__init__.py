"""AWS adapters: the only place boto3's errors are seen. Each takes its client in the
constructor and turns AWS errors into this project's own (``aws.errors`` maps them)."""
