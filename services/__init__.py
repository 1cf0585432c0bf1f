"""The four aap services; they meet only on the bus."""
