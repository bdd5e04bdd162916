"""Swift (object storage) for the reference cloud: accounts, containers, objects, temp URLs."""
