"""Nova v2.1: flavors, servers and their actions, key pairs, quotas, availability zones."""
