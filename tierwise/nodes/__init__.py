"""One module per node. A node names its stage, builds its prompt, and reads/writes state."""
